import { nodeKey } from '../../../common/node-identity.js';
import { probeReadings } from '../../../common/probe-figures.js';
import type { AlertSeverity, CounterSample } from '../../../ports/alert-state.js';
import { growingRun } from '../../../ports/ops-history.js';
import type { AlertRule } from './rules.js';

/**
 * Which alerts' conditions hold now: a pure function of the rules and what the job read
 * from the ports (no I/O, no clock). Whether an alert is pending, fires or repeats is the
 * state machine's business (`state.ts`); this only says which conditions hold.
 */

/**
 * A process of the registry, as the rules see it. A node is its `name@host` (`nodeKey`):
 * several processes may be one node (a restarted node), and namesakes on other hosts are
 * other nodes, each alerted on its own.
 */
export interface ComponentSnapshot {
  /** `name@machine:pid`: one process. */
  readonly id: string;
  readonly name: string;
  /** The machine's host name, as the registry stores it. */
  readonly host: string;
  /** `node.host`, when configured: the node's host in its key. */
  readonly deploymentHost?: string;
  readonly roles: readonly string[];
  /** ms since epoch of its last heartbeat. */
  readonly lastSeen: number;
  readonly startedAt?: number;
  readonly stats: Readonly<Record<string, number>>;
}

export interface QueueSnapshot {
  readonly queue: string;
  readonly waiting: number;
  /** ms since epoch of the oldest waiting crash. */
  readonly oldestEnqueuedAt?: number;
}

export interface JobSnapshot {
  readonly job: string;
  readonly failuresInARow: number;
  readonly lastError?: string;
  /** ms since epoch when its last run ended. */
  readonly lastRunAt?: number;
}

export interface EvaluationInput {
  readonly rules: readonly AlertRule[];
  readonly now: number;
  readonly components: readonly ComponentSnapshot[];
  readonly queues: readonly QueueSnapshot[];
  readonly jobs: readonly JobSnapshot[];
  /** Processors' earlier counter samples (at least the longest failure_rate window back), any order. */
  readonly counters: readonly CounterSample[];
  /**
   * A node silent this long is down (`dashboard.down_after`; default 30 s): it is not
   * running for nodes_below, and its last probes no longer count for dependency_unreachable.
   */
  readonly downAfterMs?: number;
  /** queue_growing: each queue's recent one-minute history points (`queue:NAME`'s `waiting`), oldest first. */
  readonly queueHistory?: readonly QueueHistory[];
}

export interface QueueHistory {
  readonly queue: string;
  readonly points: readonly { readonly at: number; readonly waiting: number }[];
}

export const DEFAULT_DOWN_AFTER_MS = 30_000;

/** A condition that holds now: the alert `key` (`RULE:SUBJECT`) and what to say about it. */
export interface Condition {
  readonly key: string;
  readonly rule: string;
  readonly subject: string;
  readonly severity: AlertSeverity;
  readonly message: string;
}

export const alertKey = (rule: string, subject: string): string => `${rule}:${subject}`;

export function evaluate(input: EvaluationInput): Condition[] {
  const out: Condition[] = [];
  for (const rule of input.rules) {
    for (const { subject, message } of conditionsOf(rule, input)) {
      out.push({ key: alertKey(rule.name, subject), rule: rule.name, subject, severity: rule.severity, message });
    }
  }
  return out;
}

function conditionsOf(rule: AlertRule, input: EvaluationInput): { subject: string; message: string }[] {
  switch (rule.kind) {
    case 'node_down':
      return nodeDown(rule, input);
    case 'queue_age':
      return queueAge(rule, input);
    case 'failure_rate':
      return failureRate(rule, input);
    case 'job_failed':
      return jobFailed(rule, input);
    case 'dependency_unreachable':
      return dependencyUnreachable(rule, input);
    case 'queue_growing':
      return queueGrowing(rule, input);
    case 'nodes_below':
      return nodesBelow(rule, input);
  }
}

/**
 * Nodes by key (`name@host`): the processes of one key are one node (a restart is the same
 * node coming back); a rule's `node` list names nodes by name (every host) or by key.
 */
export function nodesByKey(rule: Pick<AlertRule, 'nodes' | 'roles'>, components: readonly ComponentSnapshot[]): Map<string, ComponentSnapshot[]> {
  const out = new Map<string, ComponentSnapshot[]>();
  for (const c of components) {
    const key = nodeKey(c);
    if (rule.nodes && !rule.nodes.includes(c.name) && !rule.nodes.includes(key)) continue;
    if (rule.roles && !c.roles.some((r) => rule.roles!.includes(r))) continue;
    out.set(key, [...(out.get(key) ?? []), c]);
  }
  return out;
}

/** `processor-2 on vm-3`: how a message names the node of a key. */
function named(processes: readonly ComponentSnapshot[]): string {
  const p = processes[0];
  return `${p.name} on ${p.deploymentHost ?? p.host}`;
}

function nodeDown(rule: AlertRule, { components, now }: EvaluationInput): { subject: string; message: string }[] {
  const out: { subject: string; message: string }[] = [];
  for (const [key, processes] of nodesByKey(rule, components)) {
    const lastSeen = Math.max(...processes.map((p) => p.lastSeen));
    const silentMs = now - lastSeen;
    if (silentMs >= rule.threshold * 1000) {
      const roles = [...new Set(processes.flatMap((p) => p.roles))].join(', ');
      out.push({ subject: key, message: `node ${named(processes)} (${roles}) has sent no heartbeat for ${duration(silentMs)} (last at ${new Date(lastSeen).toISOString()})` });
    }
  }
  return out;
}

function queueAge(rule: AlertRule, { queues, now }: EvaluationInput): { subject: string; message: string }[] {
  const out: { subject: string; message: string }[] = [];
  for (const q of queues) {
    if (rule.queues && !rule.queues.includes(q.queue)) continue;
    if (q.oldestEnqueuedAt === undefined || q.waiting === 0) continue;
    const ageMs = now - q.oldestEnqueuedAt;
    if (ageMs > rule.threshold * 1000) out.push({ subject: q.queue, message: `the oldest crash waiting in queue ${q.queue} has waited ${duration(ageMs)} (${q.waiting} waiting)` });
  }
  return out;
}

/**
 * Failed over processed + failed during the rule's window, per node (key): for each process,
 * the difference between its totals now and its last sample at or before the window's start
 * (else its earliest sample in the window; else zero, if it started within the window).
 */
export function failureCounts(rule: Pick<AlertRule, 'windowMs'>, input: Pick<EvaluationInput, 'now' | 'counters'>, processes: readonly ComponentSnapshot[]): { processed: number; failed: number } {
  const start = input.now - rule.windowMs;
  let processed = 0;
  let failed = 0;
  for (const p of processes) {
    const now = { processed: p.stats.processed, failed: p.stats.failed };
    if (typeof now.processed !== 'number' || typeof now.failed !== 'number') continue;
    const samples = input.counters.filter((s) => s.nodeId === p.id && s.at <= input.now).sort((a, b) => a.at - b.at);
    const before = samples.filter((s) => s.at <= start).at(-1);
    const base = before ?? samples.find((s) => s.at > start) ?? (p.startedAt !== undefined && p.startedAt >= start ? { processed: 0, failed: 0 } : undefined);
    if (!base) continue;
    const dp = now.processed - base.processed;
    const df = now.failed - base.failed;
    if (dp < 0 || df < 0) continue; // not the same process's counters
    processed += dp;
    failed += df;
  }
  return { processed, failed };
}

function failureRate(rule: AlertRule, input: EvaluationInput): { subject: string; message: string }[] {
  const out: { subject: string; message: string }[] = [];
  const live = input.components.filter((c) => typeof c.stats.processed === 'number' && typeof c.stats.failed === 'number');
  for (const [key, processes] of nodesByKey(rule, live)) {
    const { processed, failed } = failureCounts(rule, input, processes);
    const total = processed + failed;
    if (total === 0) continue;
    const percent = (failed / total) * 100;
    if (percent > rule.threshold) {
      out.push({ subject: key, message: `node ${named(processes)} failed ${failed} of ${total} crashes (${percent.toFixed(1)}%, over ${rule.threshold}%) in the last ${duration(rule.windowMs)}` });
    }
  }
  return out;
}

function jobFailed(rule: AlertRule, { jobs }: EvaluationInput): { subject: string; message: string }[] {
  const out: { subject: string; message: string }[] = [];
  const needed = Math.max(1, rule.threshold);
  for (const j of jobs) {
    if (rule.jobs && !rule.jobs.includes(j.job)) continue;
    if (j.failuresInARow >= needed) {
      const runs = j.failuresInARow === 1 ? 'its last run' : `its last ${j.failuresInARow} runs`;
      out.push({ subject: j.job, message: `scheduler job ${j.job}: ${runs} failed${j.lastError ? `: ${j.lastError}` : ''}` });
    }
  }
  return out;
}

/**
 * The running nodes among `processes` by key, each as its newest process: a node whose
 * newest heartbeat is younger than `downAfterMs` (the Dashboard's `down`). A stale node, one
 * beat late, still runs: counting it out would make nodes_below flap with every late beat.
 */
function runningByKey(byKey: ReadonlyMap<string, readonly ComponentSnapshot[]>, now: number, downAfterMs: number): Map<string, ComponentSnapshot> {
  const out = new Map<string, ComponentSnapshot>();
  for (const [key, processes] of byKey) {
    const newest = processes.reduce((a, b) => (b.lastSeen > a.lastSeen ? b : a));
    if (now - newest.lastSeen < downAfterMs) out.set(key, newest);
  }
  return out;
}

/**
 * A dependency (the database's stores, the queue, a storage: each probe a node makes at its
 * heartbeat, `probe_NAME_ok` 1 or 0) that at least `threshold` running nodes could not reach
 * at their last heartbeat. Subject: the dependency's probe name, so one alert covers every
 * node that lost it, and the message says which.
 */
function dependencyUnreachable(rule: AlertRule, { components, now, downAfterMs }: EvaluationInput): { subject: string; message: string }[] {
  const running = runningByKey(nodesByKey(rule, components), now, downAfterMs ?? DEFAULT_DOWN_AFTER_MS);
  const byDependency = new Map<string, { unreachable: string[]; reachable: number }>();
  for (const [key, node] of running) {
    for (const { name, reached } of probeReadings(node.stats)) {
      if (reached === undefined || (rule.dependencies && !rule.dependencies.includes(name))) continue;
      const seen = byDependency.get(name) ?? { unreachable: [], reachable: 0 };
      if (reached) seen.reachable++;
      else seen.unreachable.push(key);
      byDependency.set(name, seen);
    }
  }
  const needed = Math.max(1, rule.threshold);
  const out: { subject: string; message: string }[] = [];
  for (const [name, { unreachable, reachable }] of [...byDependency].sort(([a], [b]) => a.localeCompare(b))) {
    if (unreachable.length < needed) continue;
    const from = unreachable.sort();
    const probed = from.length + reachable;
    const scope = reachable === 0 ? `every running node that probes it (${probed})` : `${from.length} of the ${probed} running nodes that probe it`;
    out.push({ subject: name, message: `the ${name.replaceAll('_', ' ')} is unreachable from ${scope}: ${from.join(', ')}` });
  }
  return out;
}

/**
 * A queue whose waiting count grew at every one-minute history point for `threshold`
 * minutes: the Dashboard's `queue-growing`, counted by the same function (`growingRun`).
 */
function queueGrowing(rule: AlertRule, { queueHistory }: EvaluationInput): { subject: string; message: string }[] {
  const needed = Math.max(1, rule.threshold);
  const out: { subject: string; message: string }[] = [];
  for (const { queue, points } of queueHistory ?? []) {
    if (rule.queues && !rule.queues.includes(queue)) continue;
    const ordered = [...points].sort((a, b) => a.at - b.at);
    const { minutes, points: grown } = growingRun(ordered);
    if (minutes < needed) continue;
    const from = ordered[ordered.length - 1 - grown].waiting;
    out.push({ subject: queue, message: `queue ${queue} has grown at every minute for ${minutes} min, from ${from} to ${ordered.at(-1)!.waiting} waiting` });
  }
  return out;
}

/**
 * Fewer than `threshold` running nodes with the rule's role (each role of the rule on its
 * own; subject: the role). A node stopped cleanly removes itself from the registry, so no
 * node_down alert covers it: a fleet stopped by mistake is seen here, not by node_down.
 */
function nodesBelow(rule: AlertRule, { components, now, downAfterMs }: EvaluationInput): { subject: string; message: string }[] {
  const out: { subject: string; message: string }[] = [];
  const limit = downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
  for (const role of rule.roles ?? []) {
    const byKey = nodesByKey({ nodes: rule.nodes, roles: [role] }, components);
    const running = [...runningByKey(byKey, now, limit).keys()].sort();
    if (running.length >= rule.threshold) continue;
    const down = [...byKey.keys()].filter((k) => !running.includes(k)).sort();
    const count = running.length === 0 ? `no ${role} node is running` : `only ${running.length} ${role} node${running.length === 1 ? ' is' : 's are'} running (${running.join(', ')})`;
    out.push({ subject: role, message: `${count}, fewer than ${rule.threshold}${down.length > 0 ? `; down: ${down.join(', ')}` : ''} (a node stopped cleanly leaves the registry and is not listed)` });
  }
  return out;
}

/** `45 s`, `12 min`, `3.5 h`, `2.0 d`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
