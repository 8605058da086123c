/**
 * What the web role records into the Operations Dashboard's history each minute: one point
 * per running node (its heartbeat's stats, under its key `name@host`) and one per queue.
 * Pure: the caller reads the registry and the queue, and hands the points to
 * `OpsHistoryStore.record` (whose `rollup`, which the same caller runs each minute, prunes).
 */

import { queueRates } from '../../common/queue-figures.js';
import type { HistoryPoint } from '../../ports/ops-history.js';
import { MINUTE_MS, floorTo, queueComponent } from '../../ports/ops-history.js';
import type { NodeReport } from '../../ports/node-registry.js';
import type { QueueStats } from '../../ports/queue.js';
import { nodeKey } from '../../common/node-identity.js';
import { newestPerNode } from './ops-model.js';

export interface HistoryPointsOptions {
  /**
   * A node silent for longer than this gets no point: its last stats would otherwise be
   * drawn as a flat line for as long as it is down, where the chart should show a gap.
   * Default 30 s (`dashboard.down_after`'s default: pass the configured value).
   */
  maxSilenceMs?: number;
}

export const DEFAULT_MAX_SILENCE_MS = 30_000;

/**
 * The history points at `at` (ms since epoch, the time the registry and queue were read;
 * the points are at its minute). A node restarted on the same host (a new id) is one
 * component: the newest instance's stats are recorded; namesakes on other hosts are others. Queue metrics are `waiting`,
 * `in_flight` and `oldest_age_seconds` (0 for an empty queue; left out when the queue
 * cannot tell the age of the crashes waiting in it).
 */
export function historyPointsFrom(nodes: readonly NodeReport[], queues: readonly QueueStats[], at: number, options: HistoryPointsOptions = {}): HistoryPoint[] {
  const minute = floorTo(at, MINUTE_MS);
  const maxSilence = options.maxSilenceMs ?? DEFAULT_MAX_SILENCE_MS;
  const running = nodes.filter((node) => at - node.lastSeen <= maxSilence);
  const newest = newestPerNode(running);
  const points: HistoryPoint[] = newest.map((node) => ({ component: nodeKey(node), at: minute, metrics: nodeMetrics(node.stats) }));
  for (const queue of queues) {
    const metrics: Record<string, number> = { waiting: queue.waiting, in_flight: queue.inFlight };
    if (queue.oldestEnqueuedAt !== undefined) metrics.oldest_age_seconds = Math.max(0, Math.round((at - queue.oldestEnqueuedAt) / 1000));
    else if (queue.waiting === 0) metrics.oldest_age_seconds = 0;
    const rates = queueRates(newest, queue.queue);
    if (rates) {
      metrics.enqueued_per_second = rates.enqueuedPerSecond;
      metrics.dequeued_per_second = rates.dequeuedPerSecond;
    }
    points.push({ component: queueComponent(queue.queue), at: minute, metrics });
  }
  return points;
}

/**
 * A node's figures for its history: all but the queue's (`queue_*`), which every node
 * samples alike and which are kept once, under the queue's own component, instead of
 * twelve or more figures per node per minute.
 */
function nodeMetrics(stats: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).filter(([name]) => !name.startsWith('queue_')));
}
