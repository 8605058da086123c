/**
 * The Operations Dashboard's view of the running deployment, from what the nodes report
 * to the registry and what the queue says: each component's status (up, stale, down by
 * the age of its last heartbeat), its figures, and the problems an operator should see
 * first. Pure: the routes feed it registry rows, queue stats and the time.
 */

import type { NodeReport } from '../../ports/node-registry.js';
import type { QueueStats } from '../../ports/queue.js';

export type ComponentStatus = 'up' | 'stale' | 'down';

export interface OpsThresholds {
  /** No heartbeat for this long: `stale` (one beat late is not yet a problem). */
  staleAfterMs: number;
  /** No heartbeat for this long: `down`. */
  downAfterMs: number;
}

export interface ComponentView {
  /** The registry id of the running instance (`name@machine:pid`): what an operator removes. */
  id: string;
  name: string;
  host: string;
  roles: string[];
  status: ComponentStatus;
  pid: number;
  version: string;
  url: string;
  startedAt: number;
  lastSeen: number;
  uptimeSeconds: number;
  /** Seconds since the last heartbeat. */
  silentSeconds: number;
  configHash?: string;
  /** Its configuration differs from that of most nodes with the same roles. */
  configDiffers: boolean;
  /** What the node reported, as it reported it (see src/node/heartbeat.ts for the names). */
  stats: Record<string, number>;
}

export interface QueueView {
  queue: string;
  waiting: number;
  inFlight: number;
  oldestAgeSeconds: number | null;
  /** Over the last QUEUE_TREND_MINUTES (from the history): +N when it grew at every point. */
  growingFor?: number;
}

/** A dependency (database, queue, storage) as the running nodes see it, from their probes. */
export interface DependencyView {
  /** The probe's name: crash_index, node_registry, queue, raw_crash_store, processed_crash_store, symbol_store. */
  name: string;
  /** Nodes that reached it at their last report. */
  reachableFrom: string[];
  /** Nodes that did not. */
  unreachableFrom: string[];
  /** Median of the nodes' probe times, ms. */
  latencyMs: number | null;
}

export interface JobView {
  job: string;
  lastRunAt: number | null;
  lastOutcome: string | null;
  lastError: string | null;
  failuresInARow: number;
  nextRunAt: number | null;
  running: boolean;
}

export interface Problem {
  severity: 'critical' | 'warning';
  /** A stable kind, for tests and alert rules: node-down, node-stale, config-differs, processor-failing, queue-old. */
  kind: string;
  subject: string;
  message: string;
}

/**
 * A node restarted gets a new id (its pid): of the reports that `keyOf` says are one node,
 * the newest instance's, by start time, then by last heartbeat.
 */
export function newestInstances(nodes: readonly NodeReport[], keyOf: (node: NodeReport) => string): NodeReport[] {
  const newest = new Map<string, NodeReport>();
  for (const node of nodes) {
    const key = keyOf(node);
    const seen = newest.get(key);
    if (!seen || node.startedAt > seen.startedAt || (node.startedAt === seen.startedAt && node.lastSeen > seen.lastSeen)) newest.set(key, node);
  }
  return [...newest.values()];
}

export function componentsView(nodes: readonly NodeReport[], now: number, thresholds: OpsThresholds): ComponentView[] {
  const views = newestInstances(nodes, (node) => `${node.name}\u0000${node.deploymentHost ?? node.host}`).map<ComponentView>((node) => {
    const silent = Math.max(0, now - node.lastSeen);
    return {
      id: node.id,
      name: node.name,
      host: node.deploymentHost ?? node.host,
      roles: node.roles,
      status: silent >= thresholds.downAfterMs ? 'down' : silent >= thresholds.staleAfterMs ? 'stale' : 'up',
      pid: node.pid,
      version: node.version,
      url: node.url,
      startedAt: node.startedAt,
      lastSeen: node.lastSeen,
      uptimeSeconds: Math.max(0, Math.round((node.lastSeen - node.startedAt) / 1000)),
      silentSeconds: Math.round(silent / 1000),
      configHash: node.configHash,
      configDiffers: false,
      stats: node.stats,
    };
  });
  markDifferingConfigs(views);
  return views.sort((a, b) => a.name.localeCompare(b.name) || a.host.localeCompare(b.host));
}

/** Among running nodes with the same roles, those whose configuration hash is not the most common one. */
function markDifferingConfigs(views: ComponentView[]): void {
  const groups = new Map<string, ComponentView[]>();
  for (const view of views) {
    if (view.status === 'down' || view.configHash === undefined) continue;
    const key = [...view.roles].sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), view]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const counts = new Map<string, number>();
    for (const view of group) counts.set(view.configHash!, (counts.get(view.configHash!) ?? 0) + 1);
    const [top, second] = [...counts.values()].sort((a, b) => b - a);
    // With no majority (two nodes, two hashes) every one of them is flagged: which is right is the operator's call.
    const common = [...counts.entries()].find(([, count]) => count === top)![0];
    for (const view of group) if (view.configHash !== common || top === second) view.configDiffers = true;
  }
}

export function queuesView(stats: readonly QueueStats[], now: number): QueueView[] {
  return stats.map((s) => ({
    queue: s.queue,
    waiting: s.waiting,
    inFlight: s.inFlight,
    oldestAgeSeconds: s.oldestEnqueuedAt === undefined ? null : Math.max(0, Math.round((now - s.oldestEnqueuedAt) / 1000)),
  }));
}

/** Each dependency any up or stale node probes, with who reaches it. */
export function dependenciesView(components: readonly ComponentView[]): DependencyView[] {
  const byName = new Map<string, DependencyView & { times: number[] }>();
  for (const c of components) {
    if (c.status === 'down') continue;
    for (const [key, value] of Object.entries(c.stats)) {
      const match = /^probe_(.+)_ok$/.exec(key);
      if (!match) continue;
      const view = byName.get(match[1]) ?? { name: match[1], reachableFrom: [], unreachableFrom: [], latencyMs: null, times: [] };
      (value === 1 ? view.reachableFrom : view.unreachableFrom).push(c.name);
      const ms = c.stats[`probe_${match[1]}_ms`];
      if (value === 1 && ms !== undefined) view.times.push(ms);
      byName.set(match[1], view);
    }
  }
  return [...byName.values()]
    .map(({ times, ...view }) => ({ ...view, latencyMs: times.length === 0 ? null : [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** How many minutes of history decide that a queue is growing. */
export const QUEUE_TREND_MINUTES = 10;

/** Minutes a queue has grown at every history point, ending now (0 when its last point did not grow). */
export function growingMinutes(points: readonly { at: number; waiting: number }[]): number {
  let minutes = 0;
  for (let i = points.length - 1; i > 0; i--) {
    if (points[i].waiting > points[i - 1].waiting) minutes += Math.round((points[i].at - points[i - 1].at) / 60_000);
    else break;
  }
  return minutes;
}

/** Failed share of a processor's crashes since the last heartbeat at which it is flagged. */
export const FAILING_RATIO = 0.2;

export function problemsOf(
  components: readonly ComponentView[],
  queues: readonly QueueView[],
  options: { queueAgeWarningSeconds: number },
  more: { dependencies?: readonly DependencyView[]; jobs?: readonly JobView[] } = {},
): Problem[] {
  const problems: Problem[] = [];
  for (const d of more.dependencies ?? []) {
    if (d.unreachableFrom.length > 0) {
      problems.push({ severity: 'critical', kind: 'dependency-unreachable', subject: d.name, message: `${d.unreachableFrom.join(', ')} cannot reach the ${d.name.replaceAll('_', ' ')}` });
    }
  }
  for (const j of more.jobs ?? []) {
    if (j.failuresInARow > 0) problems.push({ severity: 'warning', kind: 'job-failed', subject: j.job, message: `the scheduler job ${j.job} failed${j.failuresInARow > 1 ? ` ${j.failuresInARow} times in a row` : ''}${j.lastError ? `: ${j.lastError}` : ''}` });
  }
  for (const c of components) {
    if (c.status === 'down') problems.push({ severity: 'critical', kind: 'node-down', subject: c.name, message: `${c.name} on ${c.host} is down: no heartbeat for ${formatSeconds(c.silentSeconds)}` });
    else if (c.status === 'stale') problems.push({ severity: 'warning', kind: 'node-stale', subject: c.name, message: `${c.name} on ${c.host} is late: no heartbeat for ${formatSeconds(c.silentSeconds)}` });
    if (c.configDiffers) problems.push({ severity: 'warning', kind: 'config-differs', subject: c.name, message: `${c.name} runs a configuration that differs from its peers' (${c.roles.join(', ')})` });
    const processed = c.stats.processed_per_second ?? 0;
    const failed = c.stats.failed_per_second ?? 0;
    if (c.status !== 'down' && failed > 0 && failed / (processed + failed) >= FAILING_RATIO) {
      problems.push({ severity: 'warning', kind: 'processor-failing', subject: c.name, message: `${c.name} fails ${Math.round((100 * failed) / (processed + failed))}% of its crashes` });
    }
  }
  for (const q of queues) {
    if ((q.growingFor ?? 0) >= QUEUE_TREND_MINUTES) {
      problems.push({ severity: 'warning', kind: 'queue-growing', subject: q.queue, message: `the ${q.queue} queue has grown for ${q.growingFor} minutes (${q.waiting} waiting)` });
    }
    if (q.oldestAgeSeconds !== null && q.oldestAgeSeconds >= options.queueAgeWarningSeconds) {
      problems.push({ severity: 'warning', kind: 'queue-old', subject: q.queue, message: `the oldest crash in the ${q.queue} queue has waited ${formatSeconds(q.oldestAgeSeconds)}` });
    }
  }
  return problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}

export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/**
 * Crashes per second along each edge of the running topology, from the figures of the node
 * at one end: what a collector accepts goes to its raw store and its queue; what a processor
 * takes comes from the queue and the raw store, and what it processes goes to the processed
 * store and the index. Edges no figure measures (a web node's reads) have none.
 */
export function edgeRates(edges: readonly { id: string; from: string; to: string; flows: readonly string[] }[], components: readonly ComponentView[]): Record<string, number> {
  const byNode = new Map(components.filter((c) => c.status !== 'down').map((c) => [`node:${c.name}`, c.stats]));
  const rates: Record<string, number> = {};
  for (const edge of edges) {
    const fromNode = byNode.get(edge.from);
    const toNode = byNode.get(edge.to);
    const stats = fromNode ?? toNode;
    if (!stats) continue;
    const accepted = stats.collector_accepted_per_second ?? 0;
    const stored = accepted + (stats.collector_deferred_per_second ?? 0);
    const processed = stats.processed_per_second ?? 0;
    const taken = processed + (stats.failed_per_second ?? 0);
    let rate: number | undefined;
    if (fromNode && edge.flows.includes('raw crashes') && stats.collector_accepted_per_second !== undefined) rate = stored;
    else if (fromNode && edge.flows.includes('crash ids') && stats.collector_accepted_per_second !== undefined) rate = accepted;
    else if (toNode && (edge.flows.includes('crash ids') || edge.flows.includes('raw crashes')) && stats.processed_per_second !== undefined) rate = taken;
    else if (fromNode && (edge.flows.includes('processed crashes') || edge.flows.includes('index rows')) && stats.processed_per_second !== undefined) rate = processed;
    if (rate !== undefined) rates[edge.id] = Math.round(rate * 100) / 100;
  }
  return rates;
}
