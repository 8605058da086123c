/**
 * The graph of a running deployment, drawn by the Operations Dashboard with the
 * Configurator's code: each node reports its effective configuration (secrets left out,
 * URLs without credentials) to the registry, and the same resource identities and edges
 * follow from it as from the files.
 *
 * Unlike a deployment's files, where `node.name` is unique (the topology checks say so),
 * running nodes are told apart by their key `name@host` (common/node-identity.ts): every
 * node is called `mayday` unless configured, and two machines' namesakes are two boxes.
 */

import { listOptions, type Config, type Role } from '../config/schema.js';
import { nodeKey } from '../common/node-identity.js';
import { buildGraph, nodeId } from './compile.js';
import { LOCAL_HOST, type DeploymentGraph, type DeploymentNode } from './deployment.js';

export interface RunningNodeConfig {
  name: string;
  /** The host the node is known by (`nodeHost`: `node.host`, else the machine's), as in its key. */
  host: string;
  roles: string[];
  /** As the node reported it: by section and option, secrets left out. */
  config: Record<string, Record<string, unknown>>;
}

/** A node's configuration from its report: what it reported over the defaults (rules are not needed for the graph and stay empty). */
export function configFromReport(shared: Record<string, Record<string, unknown>>): Config {
  const config: Record<string, Record<string, unknown>> = {};
  for (const { section, key, spec } of listOptions()) {
    const reported = spec.kind === 'rules' ? undefined : shared[section]?.[key];
    (config[section] ??= {})[key] = reported ?? spec.default;
  }
  return config as Config;
}

/** The graph id of a running node (`node:name@host`): what its box, its edges and its live figures are found by. */
export function runningNodeId(node: { name: string; host: string }): string {
  return nodeId({ id: nodeKey({ name: node.name, host: node.host || LOCAL_HOST }) });
}

export function runningGraph(nodes: readonly RunningNodeConfig[]): DeploymentGraph {
  const deploymentNodes = nodes.map<DeploymentNode>((n) => ({
    // The graph's id space is `node:<DeploymentNode.id>`: the key keeps namesakes apart.
    id: nodeKey({ name: n.name, host: n.host || LOCAL_HOST }),
    file: '(running)',
    files: [],
    host: n.host || LOCAL_HOST,
    roles: n.roles.filter((r): r is Role => ['collector', 'processor', 'web', 'scheduler'].includes(r)),
    config: configFromReport(n.config),
    origins: new Map(),
  }));
  const graph = buildGraph(deploymentNodes);
  // The box says the name: the host box around it already says the host.
  const names = new Map(nodes.map((n) => [runningNodeId(n), n.name]));
  for (const node of graph.nodes) node.name = names.get(node.id) ?? node.name;
  return graph;
}
