/**
 * What the web tool does to a deployment's files. The text of each file is the source of
 * truth: every change is an edit of that text through `ini-edit` (so comments, order and
 * spelling the user wrote stay), and the deployment is compiled again from the text.
 * Pure functions of the files: the components call them and keep the result.
 */

import { formatIni, parseIni } from '../../config/ini.js';
import { readIniValue, setIniIncludes, setIniValue } from '../../config/ini-edit.js';
import { findOption, type Role } from '../../config/schema.js';
import { dirname, joinPath, normalizePath } from '../compile.js';
import { LOCAL_HOST, type Deployment, type DeploymentFile, type DeploymentNode, type Finding } from '../deployment.js';

/** Files that other files include (`include = common.ini`): the deployment's shared settings. */
export function sharedFileNames(files: readonly DeploymentFile[]): string[] {
  const included = new Set<string>();
  for (const file of files) {
    for (const include of safeParse(file.text).includes) included.add(normalizePath('/', joinPath(dirname(file.name), include.path)));
  }
  return files.filter((f) => included.has(normalizePath('/', f.name))).map((f) => f.name);
}

function safeParse(text: string): ReturnType<typeof parseIni> {
  try {
    return parseIni(text);
  } catch {
    return { sections: [], entries: [], includes: [], problems: [] };
  }
}

export interface HostGroup {
  host: string;
  nodes: DeploymentNode[];
}

/** Hosts in the order they first appear, then hosts the user added that have no node yet. */
export function hostGroups(deployment: Deployment | undefined, extraHosts: readonly string[]): HostGroup[] {
  const groups = new Map<string, DeploymentNode[]>();
  for (const node of deployment?.nodes ?? []) {
    const list = groups.get(node.host) ?? [];
    list.push(node);
    groups.set(node.host, list);
  }
  for (const host of extraHosts) if (!groups.has(host)) groups.set(host, []);
  return [...groups].map(([host, nodes]) => ({ host, nodes }));
}

/** The first port above those used on `host` (8100 and up), so a new node does not clash. */
export function freePort(deployment: Deployment | undefined, host: string): number {
  const used = new Set((deployment?.nodes ?? []).filter((n) => n.host === host).map((n) => n.config.web.port));
  const all = (deployment?.nodes ?? []).map((n) => n.config.web.port).filter((p) => p >= 8100 && p < 9000);
  let port = all.length > 0 ? Math.max(...all) + 1 : 8101;
  while (used.has(port)) port++;
  return port;
}

/** `collector-2`, `processor-3`: the first name of that pattern no node or file has. */
export function suggestName(deployment: Deployment | undefined, files: readonly DeploymentFile[], role: string): string {
  const taken = new Set([...(deployment?.nodes ?? []).map((n) => n.id), ...files.map((f) => f.name.replace(/\.ini$/, ''))]);
  // processor-1 and processor-2 exist: the next is processor-3, not a bare "processor".
  const numbers = [...taken].map((name) => new RegExp(`^${role.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(name)?.[1]).filter((n): n is string => n !== undefined).map(Number);
  if (!taken.has(role) && numbers.length === 0) return role;
  for (let i = Math.max(2, ...numbers.map((n) => n + 1)); ; i++) if (!taken.has(`${role}-${i}`)) return `${role}-${i}`;
}

export interface NewNode {
  name: string;
  host: string;
  roles: Role[];
  port: number;
}

/** The address a node on `host` listens on: the host itself, so the other hosts reach it, or loopback on this machine. */
function listenHost(host: string): string {
  return host === LOCAL_HOST ? '127.0.0.1' : host;
}

/** A new node file (including the shared file when there is one) appended to the deployment. */
export function addNode(files: readonly DeploymentFile[], plan: NewNode): { files: DeploymentFile[]; file: string } {
  const name = `${plan.name}.ini`;
  if (files.some((f) => f.name === name)) throw new Error(`there is already a file ${name}`);
  const text = formatIni([
    {
      name: 'node',
      comment: `${name}: added with the Configurator.\nStart it with: mayday run --config ${name}`,
      entries: [
        { key: 'name', value: plan.name },
        ...(plan.host === LOCAL_HOST ? [] : [{ key: 'host', value: plan.host }]),
        { key: 'roles', value: plan.roles.join(', ') },
        { key: 'data_dir', value: `./var/${plan.name}` },
      ],
    },
    { name: 'web', entries: [{ key: 'host', value: listenHost(plan.host) }, { key: 'port', value: String(plan.port) }] },
  ]);
  const shared = sharedFileNames(files);
  const withInclude = shared.length > 0 ? setIniIncludes(text, shared) : text;
  return { files: [...files, { name, text: withInclude }], file: name };
}

export function removeFile(files: readonly DeploymentFile[], name: string): DeploymentFile[] {
  return files.filter((f) => f.name !== name);
}

/** Replaces one file's text (a no-op edit returns the same array, so nothing recompiles). */
export function replaceText(files: readonly DeploymentFile[], name: string, text: string): DeploymentFile[] {
  const current = files.find((f) => f.name === name);
  if (!current || current.text === text) return files as DeploymentFile[];
  return files.map((f) => (f.name === name ? { ...f, text } : f));
}

export function fileText(files: readonly DeploymentFile[], name: string): string {
  return files.find((f) => f.name === name)?.text ?? '';
}

/** Sets (or, with undefined, removes) `section.key` in one file. */
export function setOption(files: readonly DeploymentFile[], file: string, section: string, key: string, value: string | undefined): DeploymentFile[] {
  return replaceText(files, file, setIniValue(fileText(files, file), section, key, value));
}

/**
 * Moves a node to another host: `node.host` changes, and so does `web.host` when it named
 * the old host (the node listens on its own host's address).
 */
export function moveNode(files: readonly DeploymentFile[], node: DeploymentNode, host: string): DeploymentFile[] {
  let text = fileText(files, node.file);
  text = setIniValue(text, 'node', 'host', host === LOCAL_HOST ? undefined : host);
  const listen = readIniValue(text, 'web', 'host');
  if (listen && (listen.value === node.host || (node.host === LOCAL_HOST && listen.value === '127.0.0.1'))) text = setIniValue(text, 'web', 'host', listenHost(host));
  return replaceText(files, node.file, text);
}

/** The `section.key` a finding is about: its `option`, else the entry on its line. */
export function findingOption(finding: Finding, files: readonly DeploymentFile[]): string | undefined {
  if (finding.option) return finding.option;
  if (finding.line === undefined) return undefined;
  const entry = safeParse(fileText(files, finding.file)).entries.find((e) => e.line === finding.line);
  if (!entry) return undefined;
  // A rule's entry (`[throttle.rules.old] action = ...`) belongs to the rules option.
  const parts = entry.section.split('.');
  if (parts.length >= 3) return `${parts[0]}.${parts[1]}`;
  return findOption(entry.section, entry.key) ? `${entry.section}.${entry.key}` : undefined;
}

/** A file name the deployment does not have yet, ending in `.ini`. */
export function cleanFileName(name: string): string {
  const base = name.trim().replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9_.-]/g, '-');
  if (base === '') return 'node.ini';
  return /\.ini$/i.test(base) ? base : `${base}.ini`;
}

/** Adds or replaces files by name (an import of files the deployment already has replaces them). */
export function mergeFiles(files: readonly DeploymentFile[], added: readonly DeploymentFile[]): DeploymentFile[] {
  const names = new Set(added.map((f) => f.name));
  return [...files.filter((f) => !names.has(f.name)), ...added];
}
