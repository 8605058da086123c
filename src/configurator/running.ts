/**
 * The graph of a running deployment, drawn by the Operations Dashboard with the
 * Configurator's code: each node reports its effective configuration (secrets left out,
 * URLs without credentials) to the registry, and the same resource identities and edges
 * follow from it as from the files.
 */

import { listOptions, type Config, type Role } from '../config/schema.js';
import { buildGraph } from './compile.js';
import { LOCAL_HOST, type DeploymentGraph, type DeploymentNode } from './deployment.js';

export interface RunningNodeConfig {
  name: string;
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

export function runningGraph(nodes: readonly RunningNodeConfig[]): DeploymentGraph {
  const deploymentNodes = nodes.map<DeploymentNode>((n) => ({
    id: n.name,
    file: '(running)',
    files: [],
    host: n.host || LOCAL_HOST,
    roles: n.roles.filter((r): r is Role => ['collector', 'processor', 'web', 'scheduler'].includes(r)),
    config: configFromReport(n.config),
    origins: new Map(),
  }));
  return buildGraph(deploymentNodes);
}
