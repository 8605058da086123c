/**
 * `mayday config init|validate|graph|explain|diff`: the Configurator's command-line twin.
 * It runs the same compiler and validator as the web tool at /configurator; only reading
 * files, probing the environment and writing PNGs are its own.
 *
 * Exit codes of `validate` (and of `graph`, which validates too): 0 without errors
 * (warnings allowed); otherwise the first layer with an error decides: 3 schema,
 * 4 topology, 5 security, 6 environment. 2 is a usage error (an unreadable file). The
 * security layer only warns today, so 5 is kept for a check that may one day refuse.
 *
 * `--env` judges the files as `mayday run` would start them on this machine: with the
 * MAYDAY_SECTION_KEY variables of this process applied to every node, as the loader
 * applies them (operators keep secrets there rather than in files).
 */

import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import { parseIni } from '../../config/ini.js';
import { envVariableName, suggest } from '../../config/load.js';
import { listOptions } from '../../config/schema.js';
import { compileDeployment, type CompileOptions } from '../../configurator/compile.js';
import { LAYERS, formatFinding, type Deployment, type DeploymentFile, type Finding, type Layer } from '../../configurator/deployment.js';
import { diffDeployments, formatDiff, isEmptyDiff } from '../../configurator/diff.js';
import { presetFiles, type Preset } from '../../configurator/presets.js';

export const EXIT_CODES: Record<Layer, number> = { schema: 3, topology: 4, security: 5, environment: 6 };

/** `mayday config init`. */
export async function configInit(dir: string, options: { preset: Preset; hosts?: string; force?: boolean }): Promise<void> {
  const hosts = options.hosts?.split(',').map((h) => h.trim()).filter(Boolean) ?? [];
  const files = presetFiles(options.preset, hosts);
  const deployment = compileDeployment(files);
  const errors = deployment.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) throw new UserError(`the ${options.preset} preset does not validate for these hosts:\n${errors.map(formatFinding).join('\n')}`);
  await mkdir(dir, { recursive: true });
  const existing = files.filter((f) => existsSync(join(dir, f.name)));
  if (existing.length > 0 && !options.force) throw new UserError(`${existing.map((f) => join(dir, f.name)).join(', ')} already exist${existing.length === 1 ? 's' : ''}: use --force to overwrite`);
  for (const file of files) {
    const path = join(dir, file.name);
    await writeFile(path, file.text, { mode: file.mode ?? 0o644 });
    if (file.mode !== undefined) await chmod(path, file.mode);
  }
  const nodeFiles = deployment.nodes.map((n) => n.file);
  process.stdout.write(
    `wrote ${files.length} file${files.length === 1 ? '' : 's'} to ${dir}: ${files.map((f) => f.name).join(', ')}\n` +
      `check them: mayday config validate ${dir}\n` +
      `start each node: ${nodeFiles.map((f) => `mayday run --config ${join(dir, f)}`).join('; ')}\n`,
  );
}

/** With `--env`, this process's environment, which the loader filters to MAYDAY_* as `mayday run` does; otherwise the files alone. */
export function compileOptions(options: { env?: boolean }): CompileOptions {
  return options.env ? { env: process.env } : {};
}

/** `mayday config validate`. */
export async function configValidate(paths: string[], options: { format: 'text' | 'json'; environment: boolean; env?: boolean; baseDir?: string }): Promise<void> {
  const files = await readDeployment(paths);
  const deployment = compileDeployment(files, compileOptions(options));
  if (options.environment) {
    // Loaded only when used: its clients (pg, amqplib, the AWS SDK) are heavy.
    const { checkEnvironment } = await import('../../configurator/environment.js');
    deployment.findings.push(...(await checkEnvironment(deployment, { baseDir: options.baseDir ?? dirname(resolve(files[0].name)) })));
  }
  const code = exitCode(deployment.findings);
  if (options.format === 'json') {
    process.stdout.write(JSON.stringify({ exitCode: code, nodes: deployment.graph.nodes, findings: sortFindings(deployment.findings) }, null, 2) + '\n');
  } else {
    process.stdout.write(report(deployment, options.environment));
  }
  process.exitCode = code;
}

export type GraphFormat = 'svg' | 'png' | 'dot' | 'mermaid' | 'json';

/** `mayday config graph`. */
export async function configGraph(paths: string[], options: { format: GraphFormat; output?: string; env?: boolean }): Promise<void> {
  const deployment = compileDeployment(await readDeployment(paths), compileOptions(options));
  const output = await renderGraph(deployment, options.format);
  if (options.format === 'png' && !options.output && process.stdout.isTTY) throw new UserError('a PNG is binary: give -o FILE, or redirect standard output');
  if (options.output) await writeFile(options.output, output);
  else process.stdout.write(output);
  for (const finding of deployment.findings.filter((f) => f.severity === 'error')) process.stderr.write(formatFinding(finding) + '\n');
  process.exitCode = exitCode(deployment.findings);
}

/** `mayday config diff`: exit 0 when A and B are the same deployment, 1 when not, whatever the format. */
export async function configDiff(a: string, b: string, options: { format?: 'text' | 'json'; env?: boolean } = {}): Promise<void> {
  const [da, db] = [compileDeployment(await readDeployment([a]), compileOptions(options)), compileDeployment(await readDeployment([b]), compileOptions(options))];
  const diff = diffDeployments(da, db);
  // The JSON is the DeploymentDiff itself: secrets are already masked in its option changes.
  process.stdout.write(options.format === 'json' ? JSON.stringify(diff, null, 2) + '\n' : formatDiff(diff));
  process.exitCode = isEmptyDiff(diff) ? 0 : 1;
}

export function exitCode(findings: readonly Finding[]): number {
  for (const layer of LAYERS) if (findings.some((f) => f.layer === layer && f.severity === 'error')) return EXIT_CODES[layer];
  return 0;
}

function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((x, y) => x.file.localeCompare(y.file) || (x.line ?? 0) - (y.line ?? 0) || LAYERS.indexOf(x.layer) - LAYERS.indexOf(y.layer));
}

function report(deployment: Deployment, environment: boolean): string {
  const lines = sortFindings(deployment.findings).map(formatFinding);
  const errors = deployment.findings.filter((f) => f.severity === 'error').length;
  const warnings = deployment.findings.length - errors;
  const hosts = deployment.graph.hosts.length;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    `${plural(deployment.nodes.length, 'node')} on ${plural(hosts, 'host')} in ${plural(deployment.files.length, 'file')}: ${errors === 0 && warnings === 0 ? 'no findings' : `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`}` +
      (environment ? '' : ' (environment not checked)'),
  );
  return lines.join('\n') + '\n';
}

/**
 * The files of a deployment: each path a file or a directory of `*.ini`, plus every file
 * they include (so that validating one node file checks it as `mayday run` would load it).
 */
export async function readDeployment(paths: readonly string[]): Promise<DeploymentFile[]> {
  const files = new Map<string, DeploymentFile>();
  const add = async (path: string, includedFrom?: string): Promise<void> => {
    const key = resolve(path);
    if ([...files.values()].some((f) => resolve(f.name) === key)) return;
    let text: string;
    let mode: number;
    try {
      text = await readFile(path, 'utf8');
      mode = (await stat(path)).mode & 0o777;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UserError(includedFrom ? `${includedFrom}: cannot read the included file ${path}: ${code}` : `${path}: cannot read: ${code}`);
    }
    files.set(key, { name: path, text, mode });
    for (const include of parseIni(text).includes) await add(join(dirname(path), include.path), path);
  };
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (error) {
      throw new UserError(`${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (isDirectory) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.ini')).sort();
      if (names.length === 0) throw new UserError(`${path}: no .ini files in this directory`);
      for (const name of names) await add(join(path, name));
    } else await add(path);
  }
  return [...files.values()];
}

async function renderGraph(deployment: Deployment, format: 'svg' | 'png' | 'dot' | 'mermaid' | 'json'): Promise<string | Buffer> {
  switch (format) {
    case 'json':
      return JSON.stringify({ graph: deployment.graph, findings: deployment.findings }, null, 2) + '\n';
    case 'dot': {
      const { renderDot } = await import('../../configurator/graph/dot.js');
      return renderDot(deployment.graph, deployment.findings);
    }
    case 'mermaid': {
      const { renderMermaid } = await import('../../configurator/graph/mermaid.js');
      return renderMermaid(deployment.graph, deployment.findings);
    }
    default: {
      const { layoutDeployment } = await import('../../configurator/graph/layout.js');
      const { renderSvg } = await import('../../configurator/graph/svg.js');
      const svg = renderSvg(await layoutDeployment(deployment.graph, deployment.findings), { title: basename(resolve(dirname(deployment.files[0]?.name ?? '.'))) });
      if (format === 'svg') return svg;
      const { renderPng } = await import('../../configurator/graph/png.js');
      return renderPng(svg);
    }
  }
}

/** `config explain`: the schema's own words about an option (or every option of a section). */
export function explain(option: string): string {
  const [section, key] = option.split('.');
  const options = listOptions().filter((o) => o.section === section && (key === undefined || o.key === key));
  if (options.length === 0) {
    const sections = [...new Set(listOptions().map((o) => o.section))];
    const candidates = key === undefined ? sections : listOptions().map((o) => `${o.section}.${o.key}`);
    throw new UserError(`${option}: no such option${suggest(option, candidates)}; sections: ${sections.join(', ')}`);
  }
  return options
    .map(({ section: s, key: k, spec }) => {
      const lines = [`${s}.${k} (${spec.kind}${spec.secret ? ', secret' : ''}${spec.required ? ', required' : ''})`, `  ${spec.description}`];
      if (spec.default !== undefined) lines.push(`  default: ${spec.format(spec.default) || '(empty)'}`);
      else if (!spec.required) lines.push('  default: unset');
      if (spec.values) lines.push(`  values: ${spec.values.join(', ')}`);
      if (spec.min !== undefined || spec.max !== undefined) lines.push(`  range: ${spec.min ?? '-'} .. ${spec.max ?? '-'}`);
      if (spec.ruleFields) {
        lines.push(`  set in [${s}.${k}.NAME] sections, with:`);
        for (const [field, f] of Object.entries(spec.ruleFields.fields)) lines.push(`    ${field} (${f.kind}${f.required ? ', required' : ''}): ${f.description}`);
        for (const [family, f] of Object.entries(spec.ruleFields.families ?? {})) lines.push(`    ${family}.NAME (${f.kind}): ${f.description}`);
      } else lines.push(`  environment: ${envVariableName(s, k)}`);
      return lines.join('\n');
    })
    .join('\n\n') + '\n';
}
