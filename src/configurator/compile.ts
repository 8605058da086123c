/**
 * Compiles a deployment's files into its model: each node file loaded the way `mayday run`
 * loads it (its includes first), then the graph of nodes and the resources they really
 * share. Resources are identified by what they are, not by how a file spells them: the
 * same bucket and prefix, the same broker and queue prefix, the same database, the same
 * absolute path on the same host; that identity is what the topology checks compare.
 *
 * Pure: the files are given as text, so the browser compiles with the same code.
 */

import { parseIni } from '../config/ini.js';
import { loadConfig, type ConfigFinding, type IncludeReader } from '../config/load.js';
import type { Config, Role } from '../config/schema.js';
import { LOCAL_HOST, type Deployment, type DeploymentFile, type DeploymentGraph, type DeploymentNode, type Edge, type Finding, type Flow, type Resource } from './deployment.js';
import { validateDeployment } from './validate.js';

export interface CompileOptions {
  /** Environment overrides to apply as `mayday run` would (`MAYDAY_SECTION_KEY`); none by default: a deployment is judged on its files. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function compileDeployment(files: readonly DeploymentFile[], options: CompileOptions = {}): Deployment {
  const byName = new Map(files.map((f) => [normalizePath('/', f.name), f]));
  const includedNames = new Set<string>();
  for (const file of files) {
    for (const include of parseIni(file.text).includes) includedNames.add(normalizePath('/', joinPath(dirname(file.name), include.path)));
  }
  const readInclude: IncludeReader = (path, from) => {
    const file = byName.get(normalizePath('/', joinPath(dirname(from), path)));
    if (!file) throw new Error(`${path} is not one of the deployment's files`);
    return { name: file.name, text: file.text };
  };

  const findings: Finding[] = [];
  const seen = new Set<string>();
  const nodes: DeploymentNode[] = [];
  for (const file of files) {
    if (includedNames.has(normalizePath('/', file.name))) continue;
    const loaded = loadConfig({ file: { name: file.name, text: file.text }, readInclude, env: options.env });
    for (const finding of loaded.findings) {
      // An included file's mistakes come once per node that includes it: report them once.
      const key = `${finding.source}:${finding.line}:${finding.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(schemaFinding(finding));
    }
    const config = loaded.partial;
    nodes.push({
      id: config.node.name,
      file: file.name,
      files: loaded.files,
      host: config.node.host ?? LOCAL_HOST,
      roles: [...config.node.roles] as Role[],
      config,
      origins: loaded.origins,
    });
  }

  const graph = buildGraph(nodes);
  const deployment: Deployment = { files: [...files], nodes, graph, findings };
  deployment.findings.push(...validateDeployment(deployment));
  return deployment;
}

function schemaFinding(finding: ConfigFinding): Finding {
  const option = /^([a-z_]+\.[a-z_0-9]+)[: ]/.exec(finding.message)?.[1] ?? /^unknown option ([a-z_]+\.[a-z_0-9]+)/.exec(finding.message)?.[1];
  return {
    layer: 'schema',
    code: schemaCode(finding.message),
    severity: finding.severity,
    file: finding.source,
    line: finding.line,
    message: finding.message,
    hint: schemaHint(finding.message),
    option,
  };
}

function schemaCode(message: string): string {
  if (message.startsWith('unknown section')) return 'unknown-section';
  if (message.startsWith('unknown option')) return 'unknown-option';
  if (/ is required/.test(message)) return 'required';
  if (/ needs | keeps its bookkeeping /.test(message)) return 'requirement';
  if (/include/.test(message)) return 'include';
  if (/^[a-z_]+\.[a-z_0-9]+: /.test(message)) return 'invalid-value';
  return 'syntax';
}

function schemaHint(message: string): string | undefined {
  if (message.includes('did you mean')) return 'correct the spelling; `mayday config explain SECTION.KEY` documents every option';
  if (message.startsWith('unknown option') || message.startsWith('unknown section')) return 'remove it, or see docs/configuration.md for the options that exist';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// The graph

/** What each role does with each resource: the edges of the graph. */
export function buildGraph(nodes: readonly DeploymentNode[]): DeploymentGraph {
  const resources = new Map<string, Resource>();
  const edges = new Map<string, Edge>();
  const add = (resource: Resource): string => {
    if (!resources.has(resource.id)) resources.set(resource.id, resource);
    return resource.id;
  };
  const flow = (from: string, to: string, what: Flow): void => {
    const id = `${from}->${to}`;
    const edge = edges.get(id) ?? { id, from, to, flows: [] };
    if (!edge.flows.includes(what)) edge.flows.push(what);
    edges.set(id, edge);
  };

  for (const node of nodes) {
    const r = nodeResources(node);
    const id = nodeId(node);
    const roles = new Set<Role>(node.roles);
    const raw = add(r.raw);
    const processed = add(r.processed);
    const queue = add(r.queue);
    const database = add(r.database);
    const symbols = add(r.symbols);
    if (roles.has('collector')) {
      flow(id, raw, 'raw crashes');
      flow(id, queue, 'crash ids');
    }
    if (roles.has('processor')) {
      flow(queue, id, 'crash ids');
      flow(raw, id, 'raw crashes');
      flow(id, processed, 'processed crashes');
      flow(id, database, 'index rows');
      flow(symbols, id, 'symbols');
      for (const upstream of r.upstreams) flow(add(upstream), id, 'symbols');
    }
    if (roles.has('web')) {
      flow(database, id, 'index rows');
      flow(raw, id, 'raw crashes');
      flow(processed, id, 'processed crashes');
      flow(id, symbols, 'symbols');
      flow(id, queue, 'crash ids');
    }
    if (roles.has('scheduler')) flow(id, queue, 'crash ids');
    flow(id, database, 'heartbeats');
  }

  // A resource no edge touches (a processed store of a collector-only node) is not drawn.
  const used = new Set([...edges.values()].flatMap((e) => [e.from, e.to]));
  const drawn = [...resources.values()].filter((r) => used.has(r.id));
  const hostIds = [...new Set([...nodes.map((n) => n.host), ...drawn.flatMap((r) => (r.host ? [r.host] : []))])];
  return {
    hosts: hostIds.map((host) => ({
      id: host,
      nodes: nodes.filter((n) => n.host === host).map(nodeId),
      resources: drawn.filter((r) => r.host === host).map((r) => r.id),
    })),
    nodes: nodes.map((n) => ({ id: nodeId(n), name: n.id, host: n.host, roles: n.roles, file: n.file, listen: listenAddress(n.config) })),
    resources: drawn,
    edges: [...edges.values()],
  };
}

export function nodeId(node: Pick<DeploymentNode, 'id'>): string {
  return `node:${node.id}`;
}

export function listenAddress(config: Config): string {
  const host = config.web.host.includes(':') ? `[${config.web.host}]` : config.web.host;
  return `${host}:${config.web.port}`;
}

export interface NodeResources {
  raw: Resource;
  processed: Resource;
  queue: Resource;
  database: Resource;
  symbols: Resource;
  /** Ids of every place a processor looks for symbols before upstream servers: the store, then the other directories of symbols.paths. */
  symbolSources: string[];
  upstreams: Resource[];
}

/** The resources one node's configuration points at, with their identities. */
export function nodeResources(node: Pick<DeploymentNode, 'config' | 'host'>): NodeResources {
  const { config, host } = node;
  const dataDir = normalizePath('/deployment', config.node.data_dir);
  const local = (p: string): string => normalizePath(dataDir, p);
  const s3 = (kind: 'raw-store' | 'processed-store', what: string, label: string): Resource => {
    const endpoint = config.storage.s3_endpoint ? stripCredentials(config.storage.s3_endpoint) : `aws:${config.storage.s3_region}`;
    const place = `${config.storage.s3_bucket ?? '?'}/${config.storage.s3_prefix}v1/${what}`;
    return { id: `s3:${endpoint}/${place}`, kind, label, detail: `s3://${place}${config.storage.s3_endpoint ? ` at ${endpoint}` : ''}`, backend: 's3' };
  };
  const fs = (kind: 'raw-store' | 'processed-store', path: string, label: string): Resource => ({ id: `fs:${host}:${local(path)}`, kind, label, detail: local(path), backend: 'fs', host });

  const raw = config.storage.backend === 's3' ? s3('raw-store', 'raw_crash', 'raw crashes') : fs('raw-store', config.storage.raw_path, 'raw crashes');
  const processed = config.storage.backend === 's3' ? s3('processed-store', 'processed_crash', 'processed crashes') : fs('processed-store', config.storage.processed_path, 'processed crashes');

  let queue: Resource;
  if (config.queue.backend === 'rabbitmq') {
    const broker = amqpIdentity(config.queue.url);
    queue = { id: `amqp:${broker}#${config.queue.prefix}`, kind: 'queue', label: `queues ${config.queue.prefix}*`, detail: `RabbitMQ ${broker}`, backend: 'rabbitmq' };
  } else {
    queue = { id: `sqlite:${host}:${local(config.queue.path)}`, kind: 'queue', label: 'embedded queue', detail: local(config.queue.path), backend: 'sqlite', host };
  }

  let database: Resource;
  if (config.database.backend === 'postgresql') {
    const where = postgresIdentity(config.database.url);
    const schema = config.database.schema ? ` schema ${config.database.schema}` : '';
    database = { id: `pg:${where}#${config.database.schema ?? ''}`, kind: 'database', label: 'crash index', detail: `PostgreSQL ${where}${schema}`, backend: 'postgresql' };
  } else {
    database = { id: `sqlite:${host}:${local(config.database.path)}`, kind: 'database', label: 'crash index', detail: local(config.database.path), backend: 'sqlite', host };
  }

  let symbols: Resource;
  if (config.symbols.store === 's3') {
    const endpoint = config.symbols.s3_endpoint ? stripCredentials(config.symbols.s3_endpoint) : `aws:${config.symbols.s3_region}`;
    const place = `${config.symbols.s3_bucket ?? '?'}/${config.symbols.s3_prefix}`;
    symbols = { id: `s3:${endpoint}/${place}#symbols`, kind: 'symbol-store', label: 'symbols', detail: `s3://${place}${config.symbols.s3_endpoint ? ` at ${endpoint}` : ''}`, backend: 's3' };
  } else {
    const first = local(config.symbols.paths[0] ?? 'symbols');
    symbols = { id: `fs:${host}:${first}`, kind: 'symbol-store', label: 'symbols', detail: first, backend: 'fs', host };
  }

  const upstreams = config.symbols.upstream_urls.map<Resource>((url) => {
    const clean = stripCredentials(url).replace(/\/+$/, '');
    return { id: `http:${clean}`, kind: 'symbol-upstream', label: 'symbol server', detail: clean, backend: 'http' };
  });
  const symbolSources = [symbols.id, ...config.symbols.paths.slice(config.symbols.store === 'fs' ? 1 : 0).map((p) => `fs:${host}:${local(p)}`)];
  return { raw, processed, queue, database, symbols, symbolSources, upstreams };
}

/** `host:port/vhost` of an AMQP URL, without credentials (the default port and vhost spelled out). */
function amqpIdentity(url: string | undefined): string {
  if (!url) return '?';
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'amqps:' ? '5671' : '5672');
    // The default vhost is "/" (an empty path); another is part of the identity.
    const vhost = decodeURIComponent(u.pathname.slice(1));
    return `${u.hostname.toLowerCase()}:${port}${vhost && vhost !== '/' ? `/${vhost}` : ''}`;
  } catch {
    return url;
  }
}

/** `host:port/database` of a PostgreSQL URL, without credentials. */
function postgresIdentity(url: string | undefined): string {
  if (!url) return '?';
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || 'postgres';
    return `${u.hostname.toLowerCase() || 'localhost'}:${u.port || '5432'}/${database}`;
  } catch {
    return url;
  }
}

export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

// ---------------------------------------------------------------------------------------
// POSIX paths without node:path (this module runs in the browser too)

export function dirname(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '.' : cut === 0 ? '/' : path.slice(0, cut);
}

export function joinPath(base: string, path: string): string {
  return path.startsWith('/') ? path : `${base}/${path}`;
}

/** `path` resolved against `base` and normalised (`.` and `..` folded, no trailing slash). */
export function normalizePath(base: string, path: string): string {
  const full = joinPath(base, path);
  const out: string[] = [];
  for (const part of full.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}
