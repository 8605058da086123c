/** One option of the form: its input (by kind), doc, default, where its value comes from, and its findings. */

import type { OptionSpec } from '../../config/option-types.js';
import type { Finding } from '../deployment.js';
import { FindingLine } from './FindingsPanel.js';

/** Where the shown value is written, read from the files. */
export interface FieldValue {
  /** The text as written, or undefined when no file sets it (the default applies). */
  value: string | undefined;
  /** The file the value is read from (this file, or an included one). */
  source?: string;
  line?: number;
  /** Set in this file while an included file sets it too (this file overrides it). */
  overrides?: { file: string; line: number; value: string };
}

interface Props {
  option: string;
  spec: OptionSpec<unknown>;
  /** The file the form shows. */
  file: string;
  field: FieldValue;
  findings: Finding[];
  /** Writes `value` (undefined removes the key) into `target`. */
  onSet: (value: string | undefined, target: string) => void;
  onFinding: (finding: Finding) => void;
}

export function defaultText(spec: OptionSpec<unknown>): string | undefined {
  if (spec.default === undefined) return undefined;
  try {
    return spec.format(spec.default);
  } catch {
    return String(spec.default);
  }
}

export function inputId(file: string, option: string): string {
  return `opt-${file}-${option}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function Field({ option, spec, file, field, findings, onSet, onFinding }: Props) {
  const key = option.slice(option.indexOf('.') + 1);
  const inherited = field.source !== undefined && field.source !== file;
  // An inherited value is edited where it lives (the shared file), unless overridden here.
  const target = inherited ? field.source! : file;
  const severity = findings.some((f) => f.severity === 'error') ? 'error' : findings.length > 0 ? 'warning' : undefined;
  const fallback = defaultText(spec);
  const id = inputId(file, option);
  const set = (value: string | undefined): void => onSet(value === '' ? undefined : value, target);

  return (
    <div class={`cfg-field ${severity ?? ''}`} data-testid={`field-${option}`} data-state={severity ?? 'ok'} data-option-field={option}>
      <div class="cfg-field-head">
        <label for={id}>
          <code>{key}</code>
          {spec.required && <span class="cfg-required" title="required">*</span>}
          {spec.secret && <span class="badge" title="kept out of logs and config explain">secret</span>}
        </label>
        <span class="cfg-source" data-testid={`source-${option}`}>
          {inherited ? (
            <span class="badge inherited" title="Edits here change that file, for every node that includes it">
              from {field.source}:{field.line}
            </span>
          ) : field.value !== undefined ? (
            field.overrides ? (
              <span class="badge override" title={`${field.overrides.file}:${field.overrides.line} has ${spec.secret ? '(secret)' : field.overrides.value}`}>
                overrides {field.overrides.file}
              </span>
            ) : (
              <span class="muted small">line {field.line}</span>
            )
          ) : (
            <span class="muted small">{fallback !== undefined && fallback !== '' ? 'default' : 'not set'}</span>
          )}
        </span>
        <span class="cfg-spacer" />
        {inherited && (
          <label class="cfg-override small">
            <input type="checkbox" checked={false} data-testid={`override-${option}`} onChange={() => onSet(field.value, file)} />
            override in this node
          </label>
        )}
        {!inherited && field.overrides && (
          <label class="cfg-override small">
            <input type="checkbox" checked data-testid={`override-${option}`} onChange={() => onSet(undefined, file)} />
            override in this node
          </label>
        )}
        {!inherited && !field.overrides && field.value !== undefined && spec.kind !== 'list' && (
          <button type="button" class="link small" title="Remove the line: the default applies" data-testid={`reset-${option}`} onClick={() => onSet(undefined, file)}>
            reset
          </button>
        )}
      </div>
      <Input id={id} option={option} spec={spec} value={field.value} placeholder={fallback} onSet={set} invalid={severity === 'error'} />
      <div class="cfg-doc">
        {spec.description}
        {fallback !== undefined && fallback !== '' && (
          <span class="muted">
            {' '}
            Default: <code>{fallback}</code>.
          </span>
        )}
        {spec.kind === 'list' && !spec.values && <span class="muted"> Comma-separated.</span>}
      </div>
      {findings.map((f, i) => (
        <FindingLine key={i} finding={f} onClick={() => onFinding(f)} compact />
      ))}
    </div>
  );
}

function Input(props: { id: string; option: string; spec: OptionSpec<unknown>; value: string | undefined; placeholder: string | undefined; invalid: boolean; onSet: (value: string | undefined) => void }) {
  const { id, option, spec, value, placeholder, invalid, onSet } = props;
  const common = { id, 'data-option': option, 'aria-invalid': invalid ? ('true' as const) : undefined };

  if (spec.kind === 'boolean') {
    let checked = false;
    try {
      checked = Boolean(spec.parse(value ?? placeholder ?? 'false'));
    } catch {
      checked = false;
    }
    return (
      <label class="cfg-check">
        <input type="checkbox" {...common} checked={checked} onChange={(e) => onSet(e.currentTarget.checked ? 'true' : 'false')} />
        {checked ? 'yes' : 'no'}
        {value !== undefined && value !== 'true' && value !== 'false' && <span class="muted"> (written as "{value}")</span>}
      </label>
    );
  }

  if (spec.kind === 'enum' && spec.values) {
    const known = value === undefined || spec.values.includes(value);
    return (
      <select {...common} value={value ?? ''} onChange={(e) => onSet(e.currentTarget.value || undefined)}>
        <option value="">{placeholder !== undefined ? `default (${placeholder})` : '(unset)'}</option>
        {spec.values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
        {!known && <option value={value}>{value} (not allowed)</option>}
      </select>
    );
  }

  if (spec.kind === 'list' && spec.values) {
    const items = (value ?? placeholder ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const values = spec.values;
    return (
      <div class="cfg-checks" id={id} data-option={option} tabIndex={-1}>
        {values.map((v) => (
          <label key={v} class="cfg-check">
            <input
              type="checkbox"
              checked={items.includes(v)}
              data-testid={`${option}-${v}`}
              onChange={(e) => {
                const on = e.currentTarget.checked;
                const next = values.filter((x) => (x === v ? on : items.includes(x)));
                // Items the schema does not know stay, so the finding about them stays visible.
                const unknown = items.filter((x) => !values.includes(x));
                onSet([...next, ...unknown].join(', '));
              }}
            />
            {v}
          </label>
        ))}
      </div>
    );
  }

  const text = {
    ...common,
    spellcheck: false,
    value: value ?? '',
    placeholder,
    onInput: (e: { currentTarget: HTMLInputElement }) => onSet(e.currentTarget.value),
  };
  // Secrets are masked on screen; they are still written in the file as typed.
  return spec.secret ? <input type="password" autoComplete="new-password" {...text} /> : <input type="text" autoComplete="off" {...text} />;
}
