import { parseIni, type IniDocument } from './ini.js';
import { checkRequirements } from './requirements.js';
import { RULE_NAME, parseRule, type NamedRule, type OptionSpec } from './option-types.js';
import { SCHEMA, findOption as findAnyOption, listOptions, type Config } from './schema.js';

/**
 * Loads one node's configuration: schema defaults, then the INI file, then
 * `MAYDAY_<SECTION>_<KEY>` environment variables, then command-line overrides. Pure: the
 * caller reads the file. Every problem is collected (not just the first) so an operator
 * can fix a file in one pass.
 */

export type Severity = 'error' | 'warning';

export interface ConfigFinding {
  /** The file, `environment`, or `command line`. */
  source: string;
  line?: number;
  severity: Severity;
  message: string;
}

export type ValueOrigin = { kind: 'default' } | { kind: 'file'; file: string; line: number } | { kind: 'env'; variable: string } | { kind: 'override' };

/** Reads a file named by `include = PATH` in `from`; throws an Error saying why it cannot. */
export type IncludeReader = (path: string, from: string) => { name: string; text: string };

export interface LoadInput {
  /** The INI text and the name to report it under; omit for defaults only. */
  file?: { name: string; text: string };
  /** Reads included files; without it an `include` line is an error. */
  readInclude?: IncludeReader;
  env?: Readonly<Record<string, string | undefined>>;
  /** `section.key` -> raw text, e.g. from `--port`. */
  overrides?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  /** Present when there are no errors. */
  config?: Config;
  /** The configuration as far as it could be read (a value in error keeps its default): for tools that show a file being edited. */
  partial: Config;
  findings: ConfigFinding[];
  origins: Map<string, ValueOrigin>;
  /** Every file read, included ones first, in the order their settings were applied. */
  files: string[];
}

/** How deep `include` may nest (a file including a file including ...). */
export const MAX_INCLUDE_DEPTH = 8;

export const ENV_PREFIX = 'MAYDAY_';

/**
 * Section and option names come from the file and the environment: only the schema's own
 * names count, never those every object inherits (`[web] toString = x`, `[constructor]`).
 */
function isSection(name: string): boolean {
  return Object.hasOwn(SCHEMA, name);
}

function findOption(section: string, key: string): OptionSpec<unknown> | undefined {
  return isSection(section) && Object.hasOwn(SCHEMA[section as keyof typeof SCHEMA], key) ? findAnyOption(section, key) : undefined;
}

export function loadConfig(input: LoadInput): LoadResult {
  const findings: ConfigFinding[] = [];
  const origins = new Map<string, ValueOrigin>();
  const values = new Map<string, unknown>();
  /** Options given a value that failed to parse: what they were given for is not reported as missing too. */
  const unparsed = new Set<string>();

  for (const { section, key, spec } of listOptions()) {
    if (spec.default !== undefined) {
      values.set(`${section}.${key}`, spec.default);
      origins.set(`${section}.${key}`, { kind: 'default' });
    }
  }

  const apply = (section: string, key: string, raw: string, origin: ValueOrigin, where: Omit<ConfigFinding, 'severity' | 'message'>): void => {
    const spec = findOption(section, key);
    if (!spec) return;
    try {
      values.set(`${section}.${key}`, spec.parse(raw));
      origins.set(`${section}.${key}`, origin);
    } catch (error) {
      unparsed.add(`${section}.${key}`);
      findings.push({ ...where, severity: 'error', message: `${section}.${key}: ${(error as Error).message}` });
    }
  };

  const files: string[] = [];
  if (input.file) applyFile(input.file, [], undefined);

  /**
   * One file's settings over what is already there: its included files first (in order,
   * each over the one before), then its own lines. A `rules` option set in a file replaces
   * the rules of the files it includes.
   */
  function applyFile(file: { name: string; text: string }, stack: string[], includedAt: { file: string; line: number } | undefined): void {
    const { name, text } = file;
    if (stack.includes(name)) {
      findings.push({ source: includedAt!.file, line: includedAt!.line, severity: 'error', message: `include of ${name} makes a cycle (${[...stack, name].join(' -> ')})` });
      return;
    }
    if (stack.length >= MAX_INCLUDE_DEPTH) {
      findings.push({ source: includedAt!.file, line: includedAt!.line, severity: 'error', message: `includes nest more than ${MAX_INCLUDE_DEPTH} deep` });
      return;
    }
    const doc = parseIni(text);
    for (const problem of doc.problems) findings.push({ source: name, line: problem.line, severity: 'error', message: problem.message });
    for (const include of doc.includes) {
      if (!input.readInclude) {
        findings.push({ source: name, line: include.line, severity: 'error', message: `include = ${include.path}: includes are read only from files on disk` });
        continue;
      }
      let included: { name: string; text: string };
      try {
        included = input.readInclude(include.path, name);
      } catch (error) {
        findings.push({ source: name, line: include.line, severity: 'error', message: `cannot include ${include.path}: ${(error as Error).message}` });
        continue;
      }
      applyFile(included, [...stack, name], { file: name, line: include.line });
    }
    files.push(name);
    const ruleSections = collectRuleSections(doc, name, findings);
    for (const [id, list] of ruleSections) {
      values.set(id, list.rules);
      origins.set(id, { kind: 'file', file: name, line: list.line });
    }
    for (const section of doc.sections) {
      if (ruleSectionTarget(section.name)) continue;
      if (!isSection(section.name)) {
        findings.push({ source: name, line: section.line, severity: 'error', message: `unknown section [${section.name}]${suggest(section.name, Object.keys(SCHEMA))}` });
      }
    }
    for (const entry of doc.entries) {
      if (!isSection(entry.section)) continue; // unknown sections and rule sections are handled above
      if (!findOption(entry.section, entry.key)) {
        const known = Object.keys(SCHEMA[entry.section as keyof typeof SCHEMA]);
        findings.push({ source: name, line: entry.line, severity: 'error', message: `unknown option ${entry.section}.${entry.key}${suggest(entry.key, known)}` });
        continue;
      }
      apply(entry.section, entry.key, entry.value, { kind: 'file', file: name, line: entry.line }, { source: name, line: entry.line });
    }
  }

  for (const [variable, raw] of Object.entries(input.env ?? {})) {
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const target = envTarget(variable);
    if (!target) {
      findings.push({ source: 'environment', severity: 'warning', message: `${variable} names no option (expected ${ENV_PREFIX}<SECTION>_<KEY>)` });
      continue;
    }
    apply(target.section, target.key, raw, { kind: 'env', variable }, { source: 'environment' });
  }

  for (const [id, raw] of Object.entries(input.overrides ?? {})) {
    const [section, key] = id.split('.');
    if (!findOption(section, key)) throw new Error(`internal: override of unknown option ${id}`);
    apply(section, key, raw, { kind: 'override' }, { source: 'command line' });
  }

  for (const { section, key, spec } of listOptions()) {
    if (spec.required && !values.has(`${section}.${key}`)) {
      findings.push({ source: input.file?.name ?? 'configuration', severity: 'error', message: `${section}.${key} is required: ${spec.description}` });
    }
  }

  findings.push(...checkRequirements(values, origins, input.file?.name ?? 'configuration', unparsed));

  const hasErrors = findings.some((f) => f.severity === 'error');
  const partial = build(values);
  return { config: hasErrors ? undefined : partial, partial, findings, origins, files };
}

/**
 * A section `[SECTION.KEY.NAME]` where `SECTION.KEY` is a `rules` option is one named rule
 * of that option (see `rules()` in option-types).
 */
function ruleSectionTarget(sectionName: string): { option: string; rule: string } | undefined {
  const match = /^([^.]+)\.([^.]+)\.(.+)$/.exec(sectionName);
  if (!match) return undefined;
  return findOption(match[1], match[2])?.kind === 'rules' ? { option: `${match[1]}.${match[2]}`, rule: match[3] } : undefined;
}

/** Every rules option set in the file, its rules in the order of their sections. */
function collectRuleSections(doc: IniDocument, file: string, findings: ConfigFinding[]): Map<string, { line: number; rules: NamedRule[] }> {
  const out = new Map<string, { line: number; rules: NamedRule[] }>();
  for (const section of doc.sections) {
    const target = ruleSectionTarget(section.name);
    if (!target) continue;
    const [sectionName, key] = target.option.split('.');
    const spec = findOption(sectionName, key)!;
    if (!RULE_NAME.test(target.rule)) {
      findings.push({ source: file, line: section.line, severity: 'error', message: `rule name "${target.rule}" in [${section.name}]: use letters, digits, "_" and "-"` });
      continue;
    }
    const nameProblem = spec.checkRuleName?.(target.rule);
    if (nameProblem) {
      findings.push({ source: file, line: section.line, severity: 'error', message: `[${section.name}]: ${nameProblem}` });
      continue;
    }
    const entries = doc.entries.filter((e) => e.section === section.name);
    const { rule, problems } = parseRule(target.rule, entries, spec.ruleFields!);
    for (const problem of problems) {
      const line = entries.find((e) => e.key === problem.key)?.line ?? section.line;
      findings.push({ source: file, line, severity: 'error', message: `[${section.name}]: ${problem.message}` });
    }
    rule.line = section.line;
    const list = out.get(target.option) ?? { line: section.line, rules: [] };
    list.rules.push(rule);
    out.set(target.option, list);
  }
  return out;
}

/** `MAYDAY_QUEUE_VISIBILITY_TIMEOUT` -> queue.visibility_timeout (section names hold no `_`). */
export function envTarget(variable: string): { section: string; key: string } | undefined {
  const rest = variable.slice(ENV_PREFIX.length).toLowerCase();
  const cut = rest.indexOf('_');
  if (cut < 0) return undefined;
  const section = rest.slice(0, cut);
  const key = rest.slice(cut + 1);
  return findOption(section, key) ? { section, key } : undefined;
}

export function envVariableName(section: string, key: string): string {
  return `${ENV_PREFIX}${section.toUpperCase()}_${key.toUpperCase()}`;
}

export function formatFinding(finding: ConfigFinding): string {
  const where = finding.line !== undefined ? `${finding.source}:${finding.line}` : finding.source;
  return `${where}: ${finding.severity}: ${finding.message}`;
}

function build(values: Map<string, unknown>): Config {
  const config: Record<string, Record<string, unknown>> = {};
  for (const { section, key } of listOptions()) {
    config[section] ??= {};
    config[section][key] = values.get(`${section}.${key}`);
  }
  return config as Config;
}

export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
