/**
 * The Operations Dashboard's view of the running deployment, from what the nodes report
 * to the registry and what the queue says: each component's status (up, stale, down by
 * the age of its last heartbeat), its figures, and the problems an operator should see
 * first. Pure: the routes feed it registry rows, queue stats and the time.
 */

import { nodeHost, nodeKey } from '../../common/node-identity.js';
import { probeReadings } from '../../common/probe-figures.js';
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
  /** `name@host` (common/node-identity.ts): the node across restarts, in problems, alerts, history and page URLs. */
  key: string;
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
  /**
   * Minutes the queue has grown at every one-minute history point, ending now: set only
   * once that reaches `dashboard.queue_growing_minutes`, the same value that makes the
   * `queue-growing` problem, so the row's badge and the problem agree.
   */
  growingFor?: number;
  /** Crash ids put on the queue per second, summed over the nodes that are not down (see `queueRates`). */
  enqueuedPerSecond?: number;
  /** Crash ids that left it for good per second: acknowledged or dead-lettered. */
  dequeuedPerSecond?: number;
  /** Crashes the processors gave up on, in this queue. */
  deadLetters?: number;
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
  /**
   * A stable kind, for tests and alert rules: node-down, node-stale, duplicate-name,
   * config-differs, processor-failing, queue-growing, queue-old, dependency-unreachable,
   * job-failed, alerts-overdue (docs/operations.md says what to do about each).
   */
  kind: string;
  /** A node's key (`name@host`), a duplicated name, a queue, a dependency or a job. */
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

/** The newest instance of each node (by `nodeKey`): what the table, the history and the alerts look at. */
export function newestPerNode(nodes: readonly NodeReport[]): NodeReport[] {
  return newestInstances(nodes, nodeKey);
}

export function componentsView(nodes: readonly NodeReport[], now: number, thresholds: OpsThresholds): ComponentView[] {
  const views = newestPerNode(nodes).map<ComponentView>((node) => {
    const silent = Math.max(0, now - node.lastSeen);
    return {
      id: node.id,
      key: nodeKey(node),
      name: node.name,
      host: nodeHost(node),
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
    for (const { name, reached, ms } of probeReadings(c.stats)) {
      if (reached === undefined) continue;
      const view = byName.get(name) ?? { name, reachableFrom: [], unreachableFrom: [], latencyMs: null, times: [] };
      (reached ? view.reachableFrom : view.unreachableFrom).push(c.name);
      if (reached && ms !== undefined) view.times.push(ms);
      byName.set(name, view);
    }
  }
  return [...byName.values()]
    .map(({ times, ...view }) => ({ ...view, latencyMs: times.length === 0 ? null : [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What makes a problem of a figure: the `[dashboard]` options, in the units the model uses. */
export interface ProblemSettings {
  /** The oldest waiting crash older than this is a problem (`queue_age_warning`). */
  queueAgeWarningSeconds: number;
  /** A queue grown at every minute point for this long is a problem, and badged in its row (`queue_growing_minutes`). */
  queueGrowingMinutes: number;
  /** A processor whose failed share of its crashes in the window is at least this (0..1) is failing (`failing_share`). */
  failingShare: number;
  /** ...once it handled at least this many crashes in the window: one failure of one is not a trend (`failing_min_crashes`). */
  failingMinCrashes: number;
  /** The window the failed share is computed over, ms (`failing_window`). */
  failingWindowMs: number;
}

/** The defaults of the `[dashboard]` options, for callers without a configuration (tests, tools). */
export const DEFAULT_PROBLEM_SETTINGS: ProblemSettings = { queueAgeWarningSeconds: 300, queueGrowingMinutes: 10, failingShare: 0.2, failingMinCrashes: 10, failingWindowMs: 10 * 60_000 };

/** The `[dashboard]` section (structurally: roles do not import the configuration) as problem settings. */
export function problemSettings(dashboard: { readonly queue_age_warning: number; readonly queue_growing_minutes: number; readonly failing_share: number; readonly failing_min_crashes: number; readonly failing_window: number }): ProblemSettings {
  return {
    queueAgeWarningSeconds: Math.round(dashboard.queue_age_warning / 1000),
    queueGrowingMinutes: dashboard.queue_growing_minutes,
    failingShare: dashboard.failing_share / 100,
    failingMinCrashes: dashboard.failing_min_crashes,
    failingWindowMs: dashboard.failing_window,
  };
}

/** A processor's crashes processed and failed over the failing window. */
export interface FailureCounts {
  processed: number;
  failed: number;
}

/**
 * Crashes a processor processed and failed since `windowStart`: its running totals now
 * (`processed`, `failed` of its heartbeat) minus those of its earliest history point in the
 * window (the web node records every node's heartbeat each minute). A point with larger
 * totals is an earlier process of the node (a restart starts from zero): the totals of a
 * process started within the window count whole. Undefined when nothing is known of the
 * window yet (no earlier point, a process started before it).
 */
export function failureCountsOf(component: Pick<ComponentView, 'stats' | 'startedAt'>, points: readonly { at: number; processed?: number; failed?: number }[], windowStart: number): FailureCounts | undefined {
  const processed = component.stats.processed;
  const failed = component.stats.failed;
  if (processed === undefined || failed === undefined) return undefined;
  const base = [...points]
    .filter((p) => p.at >= windowStart && p.at >= component.startedAt && p.processed !== undefined && p.failed !== undefined && p.processed <= processed && p.failed <= failed)
    .sort((a, b) => a.at - b.at)[0];
  if (base) return { processed: processed - base.processed!, failed: failed - base.failed! };
  return component.startedAt >= windowStart ? { processed, failed } : undefined;
}

/** A job due longer than this ago and not running is overdue (schedulers look for due jobs every few seconds). */
export const JOB_OVERDUE_AFTER_MS = 60_000;

export function problemsOf(
  components: readonly ComponentView[],
  queues: readonly QueueView[],
  settings: Partial<ProblemSettings>,
  more: { dependencies?: readonly DependencyView[]; jobs?: readonly JobView[]; failures?: ReadonlyMap<string, FailureCounts>; now?: number } = {},
): Problem[] {
  const options = { ...DEFAULT_PROBLEM_SETTINGS, ...settings };
  const problems: Problem[] = [];
  for (const d of more.dependencies ?? []) {
    if (d.unreachableFrom.length > 0) {
      problems.push({ severity: 'critical', kind: 'dependency-unreachable', subject: d.name, message: `${d.unreachableFrom.join(', ')} cannot reach the ${d.name.replaceAll('_', ' ')}` });
    }
  }
  for (const j of more.jobs ?? []) {
    if (j.failuresInARow > 0) problems.push({ severity: 'warning', kind: 'job-failed', subject: j.job, message: `the scheduler job ${j.job} failed${j.failuresInARow > 1 ? ` ${j.failuresInARow} times in a row` : ''}${j.lastError ? `: ${j.lastError}` : ''}` });
    // The alerts job not run: no scheduler evaluates the rules, so nothing would page anyone.
    if (j.job === 'alerts' && more.now !== undefined && j.nextRunAt !== null && !j.running && more.now - j.nextRunAt > JOB_OVERDUE_AFTER_MS) {
      problems.push({ severity: 'critical', kind: 'alerts-overdue', subject: j.job, message: `the alerts job is overdue by ${formatSeconds(Math.round((more.now - j.nextRunAt) / 1000))}: no scheduler is evaluating the alert rules, so nothing would page anyone` });
    }
  }
  // One name on two machines: each is its own node (name@host), but names in logs, the topology and older links are ambiguous.
  const hostsByName = new Map<string, Set<string>>();
  for (const c of components) if (c.status !== 'down') hostsByName.set(c.name, (hostsByName.get(c.name) ?? new Set()).add(c.host));
  for (const [name, hosts] of hostsByName) {
    if (hosts.size > 1) problems.push({ severity: 'warning', kind: 'duplicate-name', subject: name, message: `${hosts.size} running nodes are named ${name} (on ${[...hosts].sort().join(', ')}): give each its own node.name` });
  }
  for (const c of components) {
    if (c.status === 'down') problems.push({ severity: 'critical', kind: 'node-down', subject: c.key, message: `${c.name} on ${c.host} is down: no heartbeat for ${formatSeconds(c.silentSeconds)}` });
    else if (c.status === 'stale') problems.push({ severity: 'warning', kind: 'node-stale', subject: c.key, message: `${c.name} on ${c.host} is late: no heartbeat for ${formatSeconds(c.silentSeconds)}` });
    if (c.configDiffers) problems.push({ severity: 'warning', kind: 'config-differs', subject: c.key, message: `${c.name} on ${c.host} runs a configuration that differs from its peers' (${c.roles.join(', ')})` });
    const counts = more.failures?.get(c.key);
    const total = counts ? counts.processed + counts.failed : 0;
    if (c.status !== 'down' && counts && total >= options.failingMinCrashes && counts.failed / total >= options.failingShare) {
      problems.push({ severity: 'warning', kind: 'processor-failing', subject: c.key, message: `${c.name} on ${c.host} failed ${counts.failed} of its ${total} crashes (${Math.round((100 * counts.failed) / total)}%) in the last ${formatSeconds(Math.round(options.failingWindowMs / 1000))}` });
    }
  }
  for (const q of queues) {
    if ((q.growingFor ?? 0) >= options.queueGrowingMinutes) {
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
 * `running` maps each box's id in the graph to the figures of the node drawn there, for the
 * nodes that are not down (a dead node's last rates are over).
 */
export function edgeRates(edges: readonly { id: string; from: string; to: string; flows: readonly string[] }[], running: ReadonlyMap<string, Readonly<Record<string, number>>>): Record<string, number> {
  const byNode = running;
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
