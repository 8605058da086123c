/**
 * The live figures drawn on the running topology: each node's status and throughput, each
 * queue's depth and oldest age. Pure: the graph's layout reserves `liveLines` for them once,
 * and these lines are redrawn in place on every update.
 */

import type { DeploymentGraph } from '../../configurator/deployment.js';
import type { LiveAnnotations, LiveLine, LiveStatus } from '../../configurator/graph/svg.js';
import { formatAgo, formatDuration, formatFigure } from './format.js';
import { TOPOLOGY_FIGURES, hasRole } from './stats.js';
import type { ComponentView, QueueView } from './types.js';

/** How many lines each box needs: a status line and one figure per role on nodes, two on queues. */
export function liveLinesOf(graph: DeploymentGraph): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const node of graph.nodes) lines[node.id] = 1 + TOPOLOGY_FIGURES.filter((def) => hasRole(node.roles, def)).length;
  for (const resource of graph.resources) if (resource.kind === 'queue') lines[resource.id] = 2;
  return lines;
}

/** What decides the layout: a change in it lays the graph out again; anything else is redrawn in place. */
export function structureKey(graph: DeploymentGraph): string {
  return JSON.stringify([graph.hosts, graph.nodes, graph.resources.map((r) => [r.id, r.kind, r.label, r.detail, r.host ?? '']), graph.edges]);
}

export function componentOf(node: { name: string; host: string }, components: readonly ComponentView[]): ComponentView | undefined {
  return components.find((c) => c.name === node.name && c.host === node.host) ?? components.find((c) => c.name === node.name);
}

export function statusLine(component: ComponentView | undefined): LiveLine {
  if (!component) return { text: '● not reporting', tone: 'muted' };
  if (component.status === 'up') return { text: `● up · beat ${formatAgo(component.silentSeconds)}`, tone: 'up' };
  return { text: `● ${component.status.toUpperCase()} · silent ${formatDuration(component.silentSeconds)}`, tone: component.status };
}

export function queueLines(queues: readonly QueueView[]): LiveLine[] {
  const waiting = queues.reduce((sum, q) => sum + q.waiting, 0);
  const inFlight = queues.reduce((sum, q) => sum + q.inFlight, 0);
  const ages = queues.flatMap((q) => (q.oldestAgeSeconds === null ? [] : [q.oldestAgeSeconds]));
  const oldest = ages.length ? Math.max(...ages) : undefined;
  return [
    { text: `${waiting.toLocaleString('en-GB')} waiting · ${inFlight.toLocaleString('en-GB')} in flight` },
    oldest === undefined ? { text: 'nothing waiting', tone: 'muted' } : { text: `oldest waiting ${formatDuration(oldest)}` },
  ];
}

export function liveAnnotations(graph: DeploymentGraph, components: readonly ComponentView[], queues: readonly QueueView[]): LiveAnnotations {
  const status: Record<string, LiveStatus> = {};
  const lines: Record<string, LiveLine[]> = {};
  for (const node of graph.nodes) {
    const component = componentOf(node, components);
    if (component) status[node.id] = component.status;
    const figures = TOPOLOGY_FIGURES.filter((def) => hasRole(node.roles, def)).map<LiveLine>((def) => {
      const value = component?.status === 'down' ? undefined : component?.stats[def.key];
      const text = formatFigure(value, def.unit, def.short ?? def.label);
      return value === undefined ? { text, tone: 'muted' } : { text };
    });
    lines[node.id] = [statusLine(component), ...figures];
  }
  // The queue stats are those of the queue this web node reads; a deployment has one queue resource.
  for (const resource of graph.resources) if (resource.kind === 'queue') lines[resource.id] = queueLines(queues);
  return { status, lines };
}
