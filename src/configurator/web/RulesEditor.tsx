/**
 * Ordered named rules (`[throttle.rules.NAME]`, `[retention.products.NAME]`): one section
 * per rule, in file order. Listed, added, removed, renamed and edited field by field in
 * the file that holds them (the node file, or the shared file it includes).
 */

import { useState } from 'preact/hooks';
import { parseIni } from '../../config/ini.js';
import { ensureIniSection, removeIniSection, renameIniSection, setIniValue } from '../../config/ini-edit.js';
import { RULE_NAME, type OptionSpec } from '../../config/option-types.js';
import type { DeploymentFile, Finding } from '../deployment.js';
import { defaultText } from './Field.js';
import { FindingLine } from './FindingsPanel.js';
import { fileText, replaceText } from './model.js';

interface Props {
  option: string;
  spec: OptionSpec<unknown>;
  /** The file shown in the form, and the files it includes (load order). */
  file: string;
  includes: string[];
  files: DeploymentFile[];
  findings: Finding[];
  onFiles: (change: (files: DeploymentFile[]) => DeploymentFile[]) => void;
  onFinding: (finding: Finding) => void;
}

interface Rule {
  name: string;
  line: number;
  entries: { key: string; value: string; line: number }[];
}

function rulesIn(text: string, prefix: string): Rule[] {
  let doc;
  try {
    doc = parseIni(text);
  } catch {
    return [];
  }
  return doc.sections
    .filter((s) => s.name.startsWith(prefix))
    .map((s) => ({ name: s.name.slice(prefix.length), line: s.line, entries: doc.entries.filter((e) => e.section === s.name) }));
}

export function RulesEditor({ option, spec, file, includes, files, findings, onFiles, onFinding }: Props) {
  const prefix = `${option}.`;
  const [newName, setNewName] = useState('');
  const [family, setFamily] = useState<Record<string, string>>({});
  const ruleFields = spec.ruleFields;
  if (!ruleFields) return null;

  // The loader takes the rules of the last file that has any: edit them there.
  const holder = rulesIn(fileText(files, file), prefix).length > 0 ? file : ([...includes].reverse().find((f) => rulesIn(fileText(files, f), prefix).length > 0) ?? file);
  const rules = rulesIn(fileText(files, holder), prefix);
  const edit = (change: (text: string) => string): void => {
    onFiles((fs) => {
      try {
        return replaceText(fs, holder, change(fileText(fs, holder)));
      } catch (error) {
        alert(error instanceof Error ? error.message : String(error));
        return fs;
      }
    });
  };
  const nameProblem = newName === '' ? undefined : !RULE_NAME.test(newName) ? 'letters, digits, "_" and "-"' : rules.some((r) => r.name === newName) ? 'a rule of that name exists' : undefined;
  const firstRequired = Object.entries(ruleFields.fields).find(([, s]) => s.required);
  const families = Object.keys(ruleFields.families ?? {});
  const severity = findings.some((f) => f.severity === 'error') ? 'error' : findings.length > 0 ? 'warning' : undefined;

  return (
    <div class={`cfg-field cfg-rules ${severity ?? ''}`} data-testid={`field-${option}`} data-state={severity ?? 'ok'} data-option-field={option}>
      <div class="cfg-field-head">
        <label>
          <code>{option.slice(option.indexOf('.') + 1)}</code>
        </label>
        {holder !== file && <span class="badge inherited">from {holder}</span>}
      </div>
      <div class="cfg-doc">{spec.description}</div>
      {findings.map((f, i) => (
        <FindingLine key={i} finding={f} onClick={() => onFinding(f)} compact />
      ))}
      {rules.length === 0 && <div class="muted small">No rules.</div>}
      <ol class="cfg-rule-list" data-option={option} tabIndex={-1}>
        {rules.map((rule) => {
          const section = `${prefix}${rule.name}`;
          const ruleFindings = findings.filter((f) => f.file === holder && f.line !== undefined && (f.line === rule.line || rule.entries.some((e) => e.line === f.line)));
          const extra = rule.entries.filter((e) => !Object.hasOwn(ruleFields.fields, e.key));
          return (
            <li key={rule.name} class={`cfg-rule ${ruleFindings.length > 0 ? 'has-findings' : ''}`} data-testid={`rule-${rule.name}`}>
              <div class="cfg-row">
                <input
                  class="mono cfg-rule-name"
                  value={rule.name}
                  title="Rule name"
                  data-testid={`rule-name-${rule.name}`}
                  onChange={(e) => {
                    const to = e.currentTarget.value.trim();
                    if (to !== rule.name && RULE_NAME.test(to)) edit((t) => renameIniSection(t, section, `${prefix}${to}`));
                    else e.currentTarget.value = rule.name;
                  }}
                />
                <span class="muted small">line {rule.line}</span>
                <span class="cfg-spacer" />
                <button type="button" class="link danger" data-testid={`rule-remove-${rule.name}`} onClick={() => edit((t) => removeIniSection(t, section))}>
                  remove
                </button>
              </div>
              <div class="cfg-rule-fields">
                {Object.entries(ruleFields.fields).map(([key, fieldSpec]) => {
                  const current = rule.entries.find((e) => e.key === key)?.value;
                  const set = (value: string): void => edit((t) => setIniValue(t, section, key, value === '' ? undefined : value));
                  return (
                    <label key={key} class="cfg-label" title={fieldSpec.description}>
                      <span>
                        {key}
                        {fieldSpec.required && <span class="cfg-required">*</span>}
                      </span>
                      {fieldSpec.kind === 'enum' && fieldSpec.values ? (
                        <select value={current ?? ''} data-testid={`rule-${rule.name}-${key}`} onChange={(e) => set(e.currentTarget.value)}>
                          <option value="">(unset)</option>
                          {fieldSpec.values.map((v) => (
                            <option key={v} value={v}>
                              {v}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <input value={current ?? ''} placeholder={defaultText(fieldSpec) ?? ''} spellcheck={false} data-testid={`rule-${rule.name}-${key}`} onInput={(e) => set(e.currentTarget.value)} />
                      )}
                    </label>
                  );
                })}
                {extra.map((entry) => (
                  <label key={entry.key} class="cfg-label">
                    <span>
                      {entry.key}{' '}
                      <button type="button" class="link danger small" onClick={() => edit((t) => setIniValue(t, section, entry.key, undefined))}>
                        ✕
                      </button>
                    </span>
                    <input value={entry.value} spellcheck={false} onInput={(e) => edit((t) => setIniValue(t, section, entry.key, e.currentTarget.value === '' ? undefined : e.currentTarget.value))} />
                  </label>
                ))}
              </div>
              {families.length > 0 && (
                <div class="cfg-row small">
                  <span class="muted">{families[0]}.</span>
                  <input
                    class="mono"
                    placeholder="ProcessType"
                    value={family[rule.name] ?? ''}
                    onInput={(e) => setFamily((f) => ({ ...f, [rule.name]: e.currentTarget.value.trim() }))}
                  />
                  <button
                    type="button"
                    class="secondary small"
                    disabled={!/^[A-Za-z0-9_]+$/.test(family[rule.name] ?? '')}
                    onClick={() => {
                      edit((t) => setIniValue(t, section, `${families[0]}.${family[rule.name]}`, '.*'));
                      setFamily((f) => ({ ...f, [rule.name]: '' }));
                    }}
                  >
                    + condition
                  </button>
                </div>
              )}
              {ruleFindings.map((f, i) => (
                <FindingLine key={i} finding={f} onClick={() => onFinding(f)} compact />
              ))}
            </li>
          );
        })}
      </ol>
      <div class="cfg-row">
        <input class="mono" placeholder="new_rule_name" value={newName} onInput={(e) => setNewName(e.currentTarget.value.trim())} data-testid={`rule-new-${option}`} />
        <button
          type="button"
          class="secondary small"
          disabled={newName === '' || nameProblem !== undefined}
          data-testid={`rule-add-${option}`}
          onClick={() => {
            const section = `${prefix}${newName}`;
            const [key, fieldSpec] = firstRequired ?? [];
            edit((t) => {
              const withSection = ensureIniSection(t, section);
              if (!key || !fieldSpec) return withSection;
              // A new rule needs its required field to load; the first choice is a start.
              return setIniValue(withSection, section, key, fieldSpec.values?.[0] ?? newName);
            });
            setNewName('');
          }}
        >
          + rule
        </button>
        {nameProblem && <span class="cfg-error">{nameProblem}</span>}
      </div>
    </div>
  );
}
