import { QUEUE_NAMES, type QueueCounts, type QueueName } from '../ports/queue.js';

/** The in-process counters behind `ProcessingQueue.counts()`, shared by the queue adapters. */
export class QueueCounters {
  private readonly values = Object.fromEntries(QUEUE_NAMES.map((q) => [q, { enqueued: 0, taken: 0, acked: 0, deadLettered: 0 }])) as Record<QueueName, QueueCounts>;

  add(queue: QueueName, kind: keyof QueueCounts, n = 1): void {
    this.values[queue][kind] += n;
  }

  /** A copy: the caller may keep it while the counters move on. */
  snapshot(): Record<QueueName, QueueCounts> {
    return Object.fromEntries(QUEUE_NAMES.map((q) => [q, { ...this.values[q] }])) as Record<QueueName, QueueCounts>;
  }
}

/** Per-queue counts from `GROUP BY queue` rows, every queue present. */
export function countsByQueue(rows: readonly { queue: string; n: number | string }[]): Record<QueueName, number> {
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, Number(rows.find((r) => r.queue === q)?.n ?? 0)])) as Record<QueueName, number>;
}
