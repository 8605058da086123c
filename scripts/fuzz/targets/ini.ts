/**
 * The configuration loader on hostile files: an input is INI text, and after a NUL byte,
 * environment variables (`NAME=value` lines). Contract (src/config/load.ts): never throws;
 * every problem is a finding with a message, and those from the file carry a line of the
 * file; a config exists exactly when there is no error, and each of its values survives
 * `format` then `parse`. For the parser alone: what it read, written back by `formatIni`,
 * reads back the same.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { formatIni, parseIni } from '../../../src/config/ini.js';
import { formatFinding, loadConfig } from '../../../src/config/load.js';
import type { NamedRule } from '../../../src/config/option-types.js';
import { SCHEMA, listOptions } from '../../../src/config/schema.js';
import { PROJECT_ROOT, invariant, type FuzzTarget } from '../target.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const FILE = 'node.ini';

function split(input: Uint8Array): { text: string; env: Record<string, string> } {
  const text = decoder.decode(input);
  const nul = text.indexOf('\0');
  if (nul < 0) return { text, env: {} };
  const env: Record<string, string> = {};
  for (const line of text.slice(nul + 1).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { text: text.slice(0, nul), env };
}

/** Every option at its default, as `config init` would write them. */
function defaultsFile(): string {
  const sections = new Map<string, { key: string; value: string }[]>();
  for (const { section, key, spec } of listOptions()) {
    if (spec.default === undefined || spec.kind === 'rules') continue;
    const list = sections.get(section) ?? [];
    list.push({ key, value: spec.format(spec.default) });
    sections.set(section, list);
  }
  return formatIni([...sections].map(([name, entries]) => ({ name, entries })));
}

/** The ```ini examples of the documentation. */
function documentedFiles(): string[] {
  const out: string[] = [];
  const dir = join(PROJECT_ROOT, 'docs');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/```ini\n([\s\S]*?)```/g)) out.push(match[1]);
  }
  return out;
}

const HAND_MADE = [
  '[web]\nport = 8000\nhost: 0.0.0.0\n',
  '; comment\n# comment\n[node]\nroles = collector, web\nname = "  spaced  "\n[queue]\nvisibility_timeout = 30s\n',
  '[throttle]\nproducts = Firefox\n[throttle.rules.old]\nversion = ^0\\.\naction = reject\n[throttle.rules.half]\nsample = 50\nannotation.ProcessType = ^gpu$\naction = defer\n',
  '[collector]\nmax_request_size = 20MB\nmax_dumps = 4\nbody_timeout = 500ms\n\0MAYDAY_WEB_PORT=9000\nMAYDAY_NODE_ROLES=web\nMAYDAY_THROTTLE_RULES=[{"name":"x","action":"accept"}]\n',
  '\uFEFF[web]\r\nport = 1\r\n[web]\r\nport = 2\r\n[bad name!]\r\nx = 1\r\n[ok\r\n',
];

export const target: FuzzTarget = {
  name: 'ini',
  maxLength: 8 * 1024,
  text: true,
  dictionary: [
    ...Object.keys(SCHEMA).map((s) => `[${s}]\n`),
    ...listOptions().map((o) => `${o.key} = `),
    '[throttle.rules.',
    'annotation.',
    ' = ',
    ': ',
    '"',
    "'",
    '\r\n',
    '\0MAYDAY_',
    'MAYDAY_',
    '[]',
    '[{"name":"a","action":"reject"}]',
    'ms',
    's',
    'd',
    'KB',
    'GiB',
    '1.5',
    'true',
    'off',
    '\uFEFF',
    'constructor',
    '__proto__',
    'toString',
    'prototype',
  ],
  seeds() {
    return [defaultsFile(), ...documentedFiles(), ...HAND_MADE].map((t) => encoder.encode(t));
  },
  execute(input) {
    const { text, env } = split(input);
    const lineCount = text.replace(/^\uFEFF/, '').split(/\r?\n/).length;

    const doc = parseIni(text);
    for (const p of doc.problems) invariant(Number.isInteger(p.line) && p.line >= 1 && p.line <= lineCount, `INI problem at line ${p.line} of ${lineCount}`);
    // What was read, written back, reads back the same.
    const bySection = new Map<string, { key: string; value: string }[]>();
    for (const e of doc.entries) bySection.set(e.section, [...(bySection.get(e.section) ?? []), { key: e.key, value: e.value }]);
    const again = parseIni(formatIni([...bySection].map(([name, entries]) => ({ name, entries }))));
    invariant(again.problems.length === 0, () => `formatIni wrote what parseIni refuses: ${again.problems[0].message}`);
    // A section written twice comes back as one: compare the entries, not their order.
    const entries = (d: typeof doc): string[] => d.entries.map((e) => JSON.stringify([e.section, e.key, e.value])).sort();
    invariant(isDeepStrictEqual(entries(again), entries(doc)), 'formatIni then parseIni changed the entries');

    const result = loadConfig({ file: { name: FILE, text }, env });
    const errors = result.findings.filter((f) => f.severity === 'error');
    invariant((result.config === undefined) === errors.length > 0, 'a config exists although there are errors, or none although there are none');
    for (const f of result.findings) {
      invariant(f.message.length > 0, 'a finding without a message');
      // A TypeError's text in a finding is the loader's own bug dressed as the operator's.
      invariant(!/is not a function|Cannot read propert|undefined \(reading/.test(f.message), () => `an internal error reported as a finding: ${f.message}`);
      if (f.source === FILE) invariant(f.line !== undefined && f.line >= 1 && f.line <= lineCount, () => `finding "${formatFinding(f)}" has no line in the file`);
    }
    // Every section that names nothing is reported (only rule sections may be outside the schema).
    for (const section of doc.sections) {
      if (Object.hasOwn(SCHEMA, section.name) || /^[^.]+\.[^.]+\..+$/.test(section.name)) continue;
      invariant(
        result.findings.some((f) => f.line === section.line && f.message.startsWith('unknown section')),
        () => `section [${section.name}] names no part of the schema but is not reported`,
      );
    }
    if (result.config) {
      const config = result.config as unknown as Record<string, Record<string, unknown>>;
      // Every line of a rule section read from the file is in its rule (no condition is lost).
      for (const { section, key, spec } of listOptions()) {
        if (spec.kind !== 'rules' || result.origins.get(`${section}.${key}`)?.kind !== 'file') continue;
        for (const rule of config[section][key] as NamedRule[]) {
          for (const entry of doc.entries.filter((e) => e.section === `${section}.${key}.${rule.name}`)) {
            const dot = entry.key.indexOf('.');
            const kept = Object.hasOwn(rule.fields, entry.key) || (dot > 0 && Object.hasOwn(rule.families[entry.key.slice(0, dot)] ?? {}, entry.key.slice(dot + 1)));
            invariant(kept, () => `rule ${rule.name}: "${entry.key}" (line ${entry.line}) is neither in the rule nor reported`);
          }
        }
      }
      for (const { section, key, spec } of listOptions()) {
        const value = config[section][key];
        // Rules read from a file also remember their line, which their text form has not.
        if (value === undefined || spec.kind === 'rules') continue;
        invariant(isDeepStrictEqual(spec.parse(spec.format(value)), value), () => `${section}.${key}: ${JSON.stringify(value)} does not survive format then parse`);
      }
    }
  },
};
