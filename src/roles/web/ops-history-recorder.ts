/**
 * What the web role records into the Operations Dashboard's history each minute: one point
 * per running node (its heartbeat's stats, under its name) and one per queue. Pure: the
 * caller reads the registry and the queue, and hands the points to `OpsHistoryStore.record`.
 */

import type { HistoryPoint } from '../../ports/ops-history.js';
import { MINUTE_MS, floorTo } from '../../ports/ops-history.js';
import type { NodeReport } from '../../ports/node-registry.js';
import type { QueueStats } from '../../ports/queue.js';
import { newestInstances } from './ops-model.js';

/** How a queue is named among the history's components (nodes go by their plain name). */
export function queueComponent(queue: string): string {
  return `queue:${queue}`;
}

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
 * the points are at its minute). A node restarted under the same name (a new id) is one
 * component: the newest instance's stats are recorded. Queue metrics are `waiting`,
 * `in_flight` and `oldest_age_seconds` (0 for an empty queue; left out when the queue
 * cannot tell the age of the crashes waiting in it).
 */
export function historyPointsFrom(nodes: readonly NodeReport[], queues: readonly QueueStats[], at: number, options: HistoryPointsOptions = {}): HistoryPoint[] {
  const minute = floorTo(at, MINUTE_MS);
  const maxSilence = options.maxSilenceMs ?? DEFAULT_MAX_SILENCE_MS;
  const running = nodes.filter((node) => at - node.lastSeen <= maxSilence);
  // The history's component is the node's name.
  const points: HistoryPoint[] = newestInstances(running, (node) => node.name).map((node) => ({ component: node.name, at: minute, metrics: { ...node.stats } }));
  for (const queue of queues) {
    const metrics: Record<string, number> = { waiting: queue.waiting, in_flight: queue.inFlight };
    if (queue.oldestEnqueuedAt !== undefined) metrics.oldest_age_seconds = Math.max(0, Math.round((at - queue.oldestEnqueuedAt) / 1000));
    else if (queue.waiting === 0) metrics.oldest_age_seconds = 0;
    points.push({ component: queueComponent(queue.queue), at: minute, metrics });
  }
  return points;
}
