/**
 * The deployment model: what the Configurator compiles a set of node INI files into, and
 * what the validator, the graph renderers, the diff, the CLI and the web tool share. Pure
 * data: no I/O, no Node built-ins, so that the browser runs the same code as the CLI.
 */

import type { ValueOrigin } from '../config/load.js';
import type { Config, Role } from '../config/schema.js';

/** One file of a deployment, as the user wrote it. */
export interface DeploymentFile {
  /** The name findings are reported under (a path relative to the deployment, e.g. `collector-1.ini`). */
  name: string;
  text: string;
  /** Unix permission bits when the file came from disk (the security layer reads them). */
  mode?: number;
}

/** The host a node without `node.host` runs on: the machine that runs it. */
export const LOCAL_HOST = 'localhost';

export interface DeploymentNode {
  /** `node.name`; unique within a deployment (the topology layer reports duplicates). */
  id: string;
  /** The node file (not an included one). */
  file: string;
  /** Files this node's configuration came from, the node file last. */
  files: string[];
  host: string;
  roles: Role[];
  config: Config;
  origins: Map<string, ValueOrigin>;
}

export type ResourceKind = 'raw-store' | 'processed-store' | 'queue' | 'database' | 'symbol-store' | 'symbol-upstream';

export interface Resource {
  /** Identity: two nodes naming the same thing get the same id (same bucket and prefix, same broker and queue, same database, same absolute path on the same host). */
  id: string;
  kind: ResourceKind;
  /** What it is, in a few words: `raw crashes`, `queues mayday.*`, `crash index`. */
  label: string;
  /** Where it is: the URL (without credentials), bucket, or host:path. */
  detail: string;
  backend: 'fs' | 's3' | 'sqlite' | 'rabbitmq' | 'postgresql' | 'http';
  /** Set for host-local resources (files, SQLite): the host they live on. */
  host?: string;
}

export type Flow = 'raw crashes' | 'crash ids' | 'processed crashes' | 'index rows' | 'symbols' | 'heartbeats';

/** One edge per (from, to) pair, carrying every flow between them. */
export interface Edge {
  /** `from->to`. */
  id: string;
  /** A node or resource id; data flows from `from` to `to`. */
  from: string;
  to: string;
  flows: Flow[];
}

export interface DeploymentGraph {
  hosts: { id: string; nodes: string[]; resources: string[] }[];
  /** `id` is `node:NAME` in a deployment's files, `node:NAME@HOST` in the running graph (configurator/running.ts: namesakes on two hosts); `name` is `node.name`; `listen` is `HOST:PORT` as the node binds it. */
  nodes: { id: string; name: string; host: string; roles: Role[]; file: string; listen: string }[];
  resources: Resource[];
  edges: Edge[];
}

export type Layer = 'schema' | 'topology' | 'security' | 'environment';
export const LAYERS: readonly Layer[] = ['schema', 'topology', 'security', 'environment'];

export interface Finding {
  layer: Layer;
  /** A stable name of the kind of mistake (`queue-unconsumed`), for tests and tools. */
  code: string;
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  message: string;
  /** How to fix it. */
  hint?: string;
  /** The option at fault (`queue.prefix`), when there is one: the web form marks its field. */
  option?: string;
  /** Graph elements (node, resource or edge ids) the finding is about: drawn in its colour. */
  targets?: string[];
}

/** What compiling a deployment gives: the nodes that loaded, their graph, and every finding. */
export interface Deployment {
  files: DeploymentFile[];
  nodes: DeploymentNode[];
  graph: DeploymentGraph;
  findings: Finding[];
}

/** `file:line: severity: message`, the loader's format, with the hint on the next line. */
export function formatFinding(finding: Finding): string {
  const where = finding.line !== undefined ? `${finding.file}:${finding.line}` : finding.file;
  const head = `${where}: ${finding.severity}: ${finding.message} [${finding.layer}/${finding.code}]`;
  return finding.hint ? `${head}\n  hint: ${finding.hint}` : head;
}
