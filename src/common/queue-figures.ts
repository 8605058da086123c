/**
 * A queue's figures in a node's heartbeat stats (`queue_<queue>_<figure>`): named here, once,
 * for the node that reports them (src/node/queue-metrics.ts) and the Dashboard that reads
 * and sums them. Pure.
 */

/** Facts of the queue itself, the same from every node that samples it (as of its last heartbeat). */
export const QUEUE_SAMPLE_FIGURES = ['waiting', 'in_flight', 'oldest_age_seconds', 'dead_letters'] as const;

/**
 * What one node's queue instance did since it started (`ProcessingQueue.counts()`), as
 * totals (`<event>_total`) and per-second rates over the last heartbeat interval
 * (`<event>_per_second`). Each event is counted by the one process that made it, so a
 * deployment's rate is the sum over its nodes.
 */
export const QUEUE_EVENTS = ['enqueued', 'taken', 'acked', 'dead_lettered'] as const;

export type QueueEvent = (typeof QUEUE_EVENTS)[number];
export type QueueFigure = (typeof QUEUE_SAMPLE_FIGURES)[number] | `${QueueEvent}_total` | `${QueueEvent}_per_second`;

export function queueStatKey(queue: string, figure: QueueFigure): string {
  return `queue_${queue}_${figure}`;
}

export interface QueueRates {
  /** Crash ids put on the queue per second. */
  enqueuedPerSecond: number;
  /** Crash ids that left it for good per second: acknowledged (processed) or dead-lettered. Redeliveries are not counted. */
  dequeuedPerSecond: number;
}

/**
 * A queue's rates in the deployment: the sum of the nodes' rates, over the nodes that are
 * not down (a dead node's last rates are not happening any more). Undefined when no such
 * node reports them (nodes from before the figures existed).
 */
export function queueRates(nodes: readonly { status?: string; stats: Readonly<Record<string, number>> }[], queue: string): QueueRates | undefined {
  let reported = false;
  const sum = { enqueuedPerSecond: 0, dequeuedPerSecond: 0 };
  for (const { status, stats } of nodes) {
    if (status === 'down') continue;
    const enqueued = stats[queueStatKey(queue, 'enqueued_per_second')];
    if (enqueued === undefined) continue;
    reported = true;
    sum.enqueuedPerSecond += enqueued;
    sum.dequeuedPerSecond += (stats[queueStatKey(queue, 'acked_per_second')] ?? 0) + (stats[queueStatKey(queue, 'dead_lettered_per_second')] ?? 0);
  }
  return reported ? sum : undefined;
}
