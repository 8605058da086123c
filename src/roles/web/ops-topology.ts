/**
 * The running topology the overview sends: the graph of the nodes that reported their
 * configuration (configurator/running.ts), where each really listens, and the crashes per
 * second along its edges. Boxes are the nodes' keys (`node:name@host`), so two machines'
 * `mayday` nodes are two boxes with their own addresses and rates. Pure.
 */

import { runningGraph, runningNodeId } from '../../configurator/running.js';
import type { DeploymentGraph } from '../../configurator/deployment.js';
import { edgeRates, type ComponentView } from './ops-model.js';

export interface RunningTopology {
  topology: DeploymentGraph;
  /** By edge id (see ops-model.ts `edgeRates`). */
  edgeRates: Record<string, number>;
}

/** `configOf` gives what a component reported of its configuration (none: the node is not drawn). */
export function runningTopology(components: readonly ComponentView[], configOf: (c: ComponentView) => Record<string, Record<string, unknown>> | undefined): RunningTopology {
  const topology = runningGraph(
    components.flatMap((c) => {
      const config = configOf(c);
      return config ? [{ name: c.name, host: c.host, roles: c.roles, config }] : [];
    }),
  );
  // Where each node really listens (a configured port 0 is chosen at start), from its URL.
  const urls = new Map(components.map((c) => [runningNodeId(c), c.url]));
  for (const node of topology.nodes) {
    const url = urls.get(node.id);
    if (url) node.listen = new URL(url).host;
  }
  const running = new Map(components.filter((c) => c.status !== 'down').map((c) => [runningNodeId(c), c.stats]));
  return { topology, edgeRates: edgeRates(topology.edges, running) };
}
