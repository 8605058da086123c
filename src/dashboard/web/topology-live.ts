/**
 * The live figures drawn on the running topology: each node's status and throughput, each
 * queue's depth and oldest age, the crashes per second along each edge. Pure: the graph's
 * layout reserves `liveLines` and `liveEdges` for them once, and they are redrawn in place on
 * every update.
 */

import { LOCAL_HOST, type DeploymentGraph } from '../../configurator/deployment.js';
import type { LiveAnnotations, LiveEdgeFigure, LiveLine, LiveStatus } from '../../configurator/graph/svg.js';
import { digits, formatAgo, formatDuration, formatFigure } from './format.js';
import { TOPOLOGY_FIGURES, hasRole } from './stats.js';
import type { ComponentView, QueueView } from './types.js';

/** How many lines each box needs: a status line and one figure per role on nodes, two on queues. */
export function liveLinesOf(graph: DeploymentGraph): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const node of graph.nodes) lines[node.id] = 1 + TOPOLOGY_FIGURES.filter((def) => hasRole(node.roles, def)).length;
  for (const resource of graph.resources) if (resource.kind === 'queue') lines[resource.id] = 2;
  return lines;
}

/**
 * The edges whose throughput the server can measure (ops-model.ts `edgeRates`): raw crashes
 * and crash ids a collector sends, those a processor takes, the processed crashes and index
 * rows a processor writes. Their labels keep room for the rate; decided from the structure
 * alone, so that the layout does not change when a figure first arrives.
 */
export function liveEdgesOf(graph: DeploymentGraph): string[] {
  const roles = new Map(graph.nodes.map((n) => [n.id, n.roles as readonly string[]]));
  const has = (id: string, role: string): boolean => roles.get(id)?.includes(role) ?? false;
  return graph.edges
    .filter((edge) => {
      const taken = edge.flows.includes('raw crashes') || edge.flows.includes('crash ids');
      const written = edge.flows.includes('processed crashes') || edge.flows.includes('index rows');
      return (taken && (has(edge.from, 'collector') || has(edge.to, 'processor'))) || (written && has(edge.from, 'processor'));
    })
    .map((edge) => edge.id);
}

/** Crashes per second as the graph shows them: `4.2/s`, `27/s`, `1.3k/s`, `0/s`. */
export function formatRate(rate: number): string {
  if (rate <= 0) return '0/s';
  if (rate < 0.01) return '<0.01/s';
  if (rate >= 1000) return `${digits(rate / 1000)}k/s`;
  return `${digits(rate)}/s`;
}

/** Lines a little thicker with throughput (1.5 px idle, 4 px from about 20/s), on a log scale: a hint, not a chart. */
export function rateWidth(rate: number): number {
  return Math.round((1.5 + Math.min(2.5, 0.6 * Math.log2(1 + Math.max(0, rate)))) * 10) / 10;
}

export function edgeFigures(graph: DeploymentGraph, rates: Readonly<Record<string, number>>): Record<string, LiveEdgeFigure> {
  const figures: Record<string, LiveEdgeFigure> = {};
  for (const edge of graph.edges) {
    const rate = rates[edge.id];
    if (rate === undefined || !Number.isFinite(rate)) continue;
    figures[edge.id] = rate > 0 ? { text: formatRate(rate), width: rateWidth(rate) } : { text: formatRate(0), tone: 'muted' };
  }
  return figures;
}

/** What decides the layout: a change in it lays the graph out again; anything else is redrawn in place. */
export function structureKey(graph: DeploymentGraph): string {
  return JSON.stringify([graph.hosts, graph.nodes, graph.resources.map((r) => [r.id, r.kind, r.label, r.detail, r.host ?? '']), graph.edges]);
}

/**
 * The component a box of the running graph stands for: same name and same host (its key;
 * running.ts `runningNodeId`). Never by name alone: namesakes on two hosts are two boxes,
 * and one must not show the other's status.
 */
export function componentOf(node: { name: string; host: string }, components: readonly ComponentView[]): ComponentView | undefined {
  return components.find((c) => c.name === node.name && (c.host || LOCAL_HOST) === node.host);
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

export function liveAnnotations(graph: DeploymentGraph, components: readonly ComponentView[], queues: readonly QueueView[], edgeRates: Readonly<Record<string, number>> = {}): LiveAnnotations {
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
  return { status, lines, edges: edgeFigures(graph, edgeRates) };
}
