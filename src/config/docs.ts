import { envVariableName } from './load.js';
import { listOptions } from './schema.js';
import type { RuleFields } from './option-types.js';

/** `docs/configuration.md`, generated from the option schema so the two cannot drift. */
export function configurationReference(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; a test fails when it is stale. -->',
    '',
    'Each Mayday node reads one INI file (`mayday run --config NODE.ini`, or `mayday start --config FILE`).',
    'Sections are namespaces; every option below may also be set by the environment variable shown,',
    'which wins over the file (and `mayday start --port/--data-dir` win over both). Durations are',
    'written `500ms`, `30s`, `5m`, `2h`, `7d`; sizes `512KB`, `20MB`, `1GB`; lists are comma-separated.',
    'Relative paths are resolved against `node.data_dir`.',
    '',
    'A file may build on shared files: `include = common.ini` (several comma-separated, before the first',
    'section, relative to the including file) applies their settings first, then the file\'s own; a',
    '`[throttle.rules.NAME]`-style rules option set in the file replaces the included rules. `mayday config',
    'validate` checks a set of node files against each other (docs/configurator.md).',
    '',
    'Errors are reported as `file:line: error: message`, all of them at once, and stop start-up.',
  ];
  let section = '';
  const ruleTables: string[][] = [];
  for (const { section: name, key, spec } of listOptions()) {
    if (name !== section) {
      for (const table of ruleTables.splice(0)) out.push(...table);
      section = name;
      out.push('', `## [${name}]`, '', '| option | type | default | environment | description |', '|---|---|---|---|---|');
    }
    const type = spec.values ? `${spec.kind}: ${spec.values.join(' \\| ')}` : spec.kind;
    const range = spec.min !== undefined || spec.max !== undefined ? ` (${spec.min ?? ''}..${spec.max ?? ''})` : '';
    const fallback = spec.default === undefined ? '—' : `\`${spec.format(spec.default)}\``;
    out.push(`| \`${key}\` | ${type}${range} | ${fallback} | \`${envVariableName(name, key)}\` | ${spec.description} |`);
    if (spec.ruleFields) ruleTables.push(ruleFieldsTable(name, key, spec.ruleFields));
  }
  for (const table of ruleTables) out.push(...table);
  return out.join('\n') + '\n';
}

/** The fields of a `rules` option's sections, with an example of one rule. */
function ruleFieldsTable(section: string, key: string, spec: RuleFields): string[] {
  const out = [
    '',
    `### [${section}.${key}.NAME]`,
    '',
    `Each rule of \`${section}.${key}\` is a section of its own, named \`[${section}.${key}.NAME]\`; rules are tried in the order of their sections.`,
    `In the environment (\`${envVariableName(section, key)}\`) the whole list is one JSON array: \`[{"name": "NAME", "FIELD": "VALUE", ...}]\`.`,
    '',
    '| field | type | required | description |',
    '|---|---|---|---|',
  ];
  for (const [name, field] of Object.entries(spec.fields)) {
    const type = field.values ? `${field.kind}: ${field.values.join(' \\| ')}` : field.kind;
    const range = field.min !== undefined || field.max !== undefined ? ` (${field.min ?? ''}..${field.max ?? ''})` : '';
    out.push(`| \`${name}\` | ${type}${range} | ${field.required ? 'yes' : 'no'} | ${field.description} |`);
  }
  for (const [family, field] of Object.entries(spec.families ?? {})) {
    out.push(`| \`${family}.NAME\` | ${field.kind} | no | ${field.description} |`);
  }
  return out;
}
