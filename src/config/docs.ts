import { envVariableName } from './load.js';
import { listOptions } from './schema.js';

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
    'Errors are reported as `file:line: error: message`, all of them at once, and stop start-up.',
  ];
  let section = '';
  for (const { section: name, key, spec } of listOptions()) {
    if (name !== section) {
      section = name;
      out.push('', `## [${name}]`, '', '| option | type | default | environment | description |', '|---|---|---|---|---|');
    }
    const type = spec.values ? `${spec.kind}: ${spec.values.join(' \\| ')}` : spec.kind;
    const range = spec.min !== undefined || spec.max !== undefined ? ` (${spec.min ?? ''}..${spec.max ?? ''})` : '';
    const fallback = spec.default === undefined ? '—' : `\`${spec.format(spec.default)}\``;
    out.push(`| \`${key}\` | ${type}${range} | ${fallback} | \`${envVariableName(name, key)}\` | ${spec.description} |`);
  }
  return out.join('\n') + '\n';
}
