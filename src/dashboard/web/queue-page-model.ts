/**
 * What the queue page shows besides the overview's row (pure: the unit tests run it in
 * Node): the history charts of a queue, and the nodes that put crashes on it
 * or take them off, from their heartbeats' `queue_<queue>_*` figures.
 */

import { queueStatKey } from '../../common/queue-figures.js';
import type { ChartDef, StatDef } from './stats.js';
import type { ComponentStatus, ComponentView } from './types.js';

// The figures the recorder keeps for a queue each minute (ops-history-recorder.ts `historyPointsFrom`).
const WAITING: StatDef = { key: 'waiting', label: 'Waiting', unit: 'count' };
const IN_FLIGHT: StatDef = { key: 'in_flight', label: 'In flight', unit: 'count' };
const OLDEST: StatDef = { key: 'oldest_age_seconds', label: 'Oldest waiting crash', unit: 'seconds' };
const IN: StatDef = { key: 'enqueued_per_second', label: 'In (put on)', unit: 'per_second' };
const OUT: StatDef = { key: 'dequeued_per_second', label: 'Out (processed or dead-lettered)', unit: 'per_second' };

/**
 * The queue page's history charts, in order: depth, age, flow (in above out for long is a
 * growing queue). Waiting and in flight have a chart each: thousands can wait while a few
 * are in flight (a processor's concurrency), and on one axis in flight is a flat line.
 */
export const QUEUE_CHARTS: readonly ChartDef[] = [
  { id: 'waiting', title: 'Waiting', unit: 'count', series: [WAITING] },
  { id: 'in-flight', title: 'In flight', unit: 'count', series: [IN_FLIGHT] },
  { id: 'oldest', title: 'Oldest waiting crash', unit: 'seconds', series: [OLDEST] },
  { id: 'flow', title: 'In and out', unit: 'per_second', series: [IN, OUT] },
];

export interface QueueNodeRow {
  key: string;
  name: string;
  host: string;
  status: ComponentStatus;
  isProcessor: boolean;
  /** Crash ids this node put on the queue per second, over its last heartbeat interval. */
  enqueuedPerSecond?: number;
  /** Crash ids it acknowledged (processed) per second. */
  ackedPerSecond?: number;
  /** Crash ids it gave up on per second. */
  deadLetteredPerSecond?: number;
  /** Crashes the node is working on now (processors; every queue together). */
  inFlight?: number;
}

/**
 * The nodes that work on a queue: every processor (they take from every queue, so one idle
 * or down is part of the story), and any other node that reports putting crashes on it.
 * Down nodes last: their figures are from their last heartbeat.
 */
export function queueNodes(components: readonly ComponentView[], queue: string): QueueNodeRow[] {
  return components
    .filter((c) => c.roles.includes('processor') || c.stats[queueStatKey(queue, 'enqueued_per_second')] !== undefined)
    .map((c) => ({
      key: c.key,
      name: c.name,
      host: c.host,
      status: c.status,
      isProcessor: c.roles.includes('processor'),
      enqueuedPerSecond: c.stats[queueStatKey(queue, 'enqueued_per_second')],
      ackedPerSecond: c.stats[queueStatKey(queue, 'acked_per_second')],
      deadLetteredPerSecond: c.stats[queueStatKey(queue, 'dead_lettered_per_second')],
      inFlight: c.roles.includes('processor') ? c.stats.in_flight : undefined,
    }))
    .sort((a, b) => Number(a.status === 'down') - Number(b.status === 'down') || a.key.localeCompare(b.key));
}

/** What the processors say about a queue that does not drain (docs/operations.md, "Growing"). */
export function processorsSummary(rows: readonly QueueNodeRow[]): { text: string; bad: boolean } {
  const running = rows.filter((r) => r.isProcessor && r.status !== 'down');
  if (running.length === 0) return { text: 'No processor is running: nothing takes crashes from this queue. Start one.', bad: true };
  return { text: `${running.length} ${running.length === 1 ? 'processor' : 'processors'} running.`, bad: false };
}
