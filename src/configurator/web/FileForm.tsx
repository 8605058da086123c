/**
 * The middle column: the selected file as a form generated from the option schema (one
 * fieldset per section, essential options first, the rest under "Advanced"), or as text.
 * Values are read from the files' text; a node's value inherited from the shared file is
 * shown with its origin and edited there unless overridden in the node.
 */

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { readIniValue } from '../../config/ini-edit.js';
import { ROLES, listOptions, type OptionInfo, type Role } from '../../config/schema.js';
import { nodeId } from '../compile.js';
import type { Deployment, DeploymentFile, Finding } from '../deployment.js';
import type { FocusRequest } from './App.js';
import { applies, ESSENTIAL, SECTION_TITLES, sectionApplies } from './essential.js';
import { defaultText, Field, type FieldValue } from './Field.js';
import { FindingLine } from './FindingsPanel.js';
import { fileText, findingOption, replaceText, setOption } from './model.js';
import { RulesEditor } from './RulesEditor.js';

interface Props {
  file: string;
  files: DeploymentFile[];
  deployment: Deployment | undefined;
  shared: string[];
  focus: FocusRequest | undefined;
  onFiles: (change: (files: DeploymentFile[]) => DeploymentFile[]) => void;
  onFocusFinding: (finding: Finding) => void;
}

const SECTIONS: { section: string; options: OptionInfo[] }[] = (() => {
  const out = new Map<string, OptionInfo[]>();
  for (const info of listOptions()) out.set(info.section, [...(out.get(info.section) ?? []), info]);
  return [...out].map(([section, options]) => ({ section, options }));
})();

function read(text: string, section: string, key: string): { value: string; line: number } | undefined {
  try {
    return readIniValue(text, section, key);
  } catch {
    return undefined;
  }
}

export function FileForm({ file, files, deployment, shared, focus, onFiles, onFocusFinding }: Props) {
  const [tab, setTab] = useState<'form' | 'text'>('form');
  const [openAdvanced, setOpenAdvanced] = useState<Set<string>>(new Set());
  const root = useRef<HTMLDivElement>(null);
  const text = fileText(files, file);
  const node = deployment?.nodes.find((n) => n.file === file);
  const isShared = shared.includes(file);
  // The files this node loads before its own, in order: the last one setting a key wins.
  const includes = useMemo(() => (node ? node.files.filter((f) => f !== file) : []), [node, file]);

  const valueOf = (section: string, key: string): FieldValue => {
    const own = read(text, section, key);
    let inherited: { file: string; line: number; value: string } | undefined;
    for (const name of includes) {
      const found = read(fileText(files, name), section, key);
      if (found) inherited = { file: name, ...found };
    }
    if (own) return { value: own.value, source: file, line: own.line, overrides: inherited };
    if (inherited) return { value: inherited.value, source: inherited.file, line: inherited.line };
    return { value: undefined };
  };
  const effective = (option: string): string | undefined => {
    const [section, key] = option.split('.');
    const info = SECTIONS.find((s) => s.section === section)?.options.find((o) => o.key === key);
    return valueOf(section, key).value ?? (info ? defaultText(info.spec) : undefined);
  };
  const roles: Role[] | undefined = isShared && !node ? undefined : (effective('node.roles') ?? '').split(',').map((r) => r.trim()).filter((r): r is Role => (ROLES as readonly string[]).includes(r));

  const me = node ? nodeId(node) : undefined;
  const aboutMe = (f: Finding): boolean => me !== undefined && (f.targets ?? []).some((t) => t === me || t.startsWith(`${me}->`) || t.endsWith(`->${me}`));
  const findings = (deployment?.findings ?? []).filter((f) => f.file === file || (includes.includes(f.file) && aboutMe(f)));
  const optionOf = new Map(findings.map((f) => [f, findingOption(f, files)]));

  const shownOptions = new Set<string>();
  const sections = SECTIONS.filter(({ section }) => sectionApplies(section, roles)).map(({ section, options }) => {
    const visible = options.filter((o) => applies(`${o.section}.${o.key}`, effective));
    for (const o of visible) shownOptions.add(`${o.section}.${o.key}`);
    return { section, essential: visible.filter((o) => ESSENTIAL.has(`${o.section}.${o.key}`)), advanced: visible.filter((o) => !ESSENTIAL.has(`${o.section}.${o.key}`)) };
  });
  const fieldFindings = (option: string, field: FieldValue): Finding[] => findings.filter((f) => optionOf.get(f) === option && (f.file === file || f.file === field.source));
  const unplaced = findings.filter((f) => !shownOptions.has(optionOf.get(f) ?? ''));

  // A finding clicked elsewhere: show its field (opening "Advanced" if need be) and focus it.
  useEffect(() => {
    if (!focus) return;
    setTab('form');
    const option = focus.option;
    if (option && !ESSENTIAL.has(option)) setOpenAdvanced((s) => new Set([...s, option.split('.')[0]]));
    const timer = setTimeout(() => {
      const target = (option && root.current?.querySelector<HTMLElement>(`[data-option="${CSS.escape(option)}"]`)) || root.current?.querySelector<HTMLElement>('.cfg-unplaced, .cfg-file-head');
      if (!target) return;
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
      const box = target.closest<HTMLElement>('.cfg-field') ?? target;
      box.classList.remove('flash');
      void box.offsetWidth;
      box.classList.add('flash');
    }, 30);
    return () => clearTimeout(timer);
  }, [focus?.seq]);

  const set = (section: string, key: string) => (value: string | undefined, target: string) =>
    onFiles((fs) => {
      try {
        return setOption(fs, target, section, key, value);
      } catch (error) {
        // ini-edit refuses what the parser could not read back (a line break): keep the file as it was.
        console.warn(error);
        return fs;
      }
    });

  const renderOption = (o: OptionInfo) => {
    const option = `${o.section}.${o.key}`;
    if (o.spec.kind === 'rules') {
      return <RulesEditor key={option} option={option} spec={o.spec} file={file} includes={includes} files={files} findings={findings.filter((f) => optionOf.get(f) === option)} onFiles={onFiles} onFinding={onFocusFinding} />;
    }
    const field = valueOf(o.section, o.key);
    return <Field key={option} option={option} spec={o.spec} file={file} field={field} findings={fieldFindings(option, field)} onSet={set(o.section, o.key)} onFinding={onFocusFinding} />;
  };

  return (
    <div class="cfg-form card" ref={root} data-testid="file-form" data-file={file}>
      <div class="cfg-file-head" tabIndex={-1}>
        <h2>
          <code>{file}</code>
        </h2>
        <span class="muted small">
          {node ? `node ${node.id} on ${node.host}${includes.length > 0 ? `, includes ${includes.join(', ')}` : ''}` : isShared ? 'shared: included by node files' : ''}
        </span>
        <span class="cfg-spacer" />
        <div class="cfg-tabs" role="tablist">
          <button type="button" role="tab" class={tab === 'form' ? 'on' : ''} aria-selected={tab === 'form'} data-testid="tab-form" onClick={() => setTab('form')}>
            Form
          </button>
          <button type="button" role="tab" class={tab === 'text' ? 'on' : ''} aria-selected={tab === 'text'} data-testid="tab-text" onClick={() => setTab('text')}>
            Text
          </button>
        </div>
      </div>
      {unplaced.length > 0 && (
        <div class="cfg-unplaced" tabIndex={-1} data-testid="file-findings">
          {unplaced.map((f, i) => (
            <FindingLine key={i} finding={f} onClick={() => onFocusFinding(f)} compact />
          ))}
        </div>
      )}
      {tab === 'text' ? (
        <TextTab text={text} findings={findings.filter((f) => f.file === file)} onText={(t) => onFiles((fs) => replaceText(fs, file, t))} />
      ) : (
        <div class="cfg-sections">
          {isShared && <p class="muted small">Settings here apply to every node that includes {file}, unless a node file sets them itself.</p>}
          {sections.map(({ section, essential, advanced }) => (
            <fieldset key={section} class="cfg-section" data-testid={`section-${section}`}>
              <legend>
                <code>[{section}]</code> <span class="muted">{SECTION_TITLES[section] ?? ''}</span>
              </legend>
              {essential.map(renderOption)}
              {advanced.length > 0 && (
                <details
                  open={openAdvanced.has(section)}
                  data-testid={`advanced-${section}`}
                  onToggle={(e) => {
                    const open = e.currentTarget.open;
                    setOpenAdvanced((s) => {
                      if (open === s.has(section)) return s;
                      const next = new Set(s);
                      if (open) next.add(section);
                      else next.delete(section);
                      return next;
                    });
                  }}
                >
                  <summary>
                    Advanced ({advanced.length})
                    {advanced.some((o) => findings.some((f) => optionOf.get(f) === `${o.section}.${o.key}`)) && <span class="badge err">problems</span>}
                  </summary>
                  {openAdvanced.has(section) && advanced.map(renderOption)}
                </details>
              )}
            </fieldset>
          ))}
        </div>
      )}
    </div>
  );
}

function TextTab({ text, findings, onText }: { text: string; findings: Finding[]; onText: (text: string) => void }) {
  return (
    <div class="cfg-text">
      <textarea class="mono" spellcheck={false} value={text} rows={Math.min(40, Math.max(12, text.split('\n').length + 2))} data-testid="text-editor" onInput={(e) => onText(e.currentTarget.value)} />
      {findings.length > 0 && (
        <ul class="cfg-text-findings">
          {[...findings]
            .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
            .map((f, i) => (
              <li key={i} class={f.severity}>
                <b>line {f.line ?? '?'}</b>: {f.message}
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}
