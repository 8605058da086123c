/**
 * The processing queue: crash ids waiting for a processor, at least once. A taken item is
 * invisible to other takers until it is acknowledged (gone for good), released (back at
 * once, or after a delay), or its visibility timeout passes (its taker is presumed dead).
 * Three queues as in Socorro, taken in this order: a user is waiting for `priority`
 * crashes; `standard` comes from the collector; `reprocessing` is bulk work.
 */
export const QUEUE_NAMES = ['priority', 'standard', 'reprocessing'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface QueueItem {
  crashId: string;
  queue: QueueName;
  /** How many times this item has been handed out, this time included. */
  attempts: number;
  /** When the crash id entered the queue (ms since epoch). */
  enqueuedAt: number;
  /** Identifies this hand-out; acknowledging an item handed out again since is a no-op. */
  lease: string;
  /** The ruleset to process with (reprocessing may ask for one); the processor's default if absent. */
  ruleset?: string;
}

/** An item that failed too often to be retried; kept for an operator to inspect and retry. */
export interface DeadLetter {
  crashId: string;
  queue: QueueName;
  attempts: number;
  error: string;
  /** ms since epoch. */
  failedAt: number;
  ruleset?: string;
}

export interface QueueStats {
  queue: QueueName;
  waiting: number;
  inFlight: number;
  /** ms since epoch of the oldest waiting item, if any. */
  oldestEnqueuedAt?: number;
}

/**
 * What one queue instance did since it opened, per queue: counted in its process, so that
 * summed over a deployment's nodes each enqueue, hand-out and acknowledgement is counted
 * once, by the process that made it. The heartbeat makes the queues' rates from them.
 */
export interface QueueCounts {
  /** Crash ids put on the queue (an enqueue of an id already waiting there is not counted). */
  enqueued: number;
  /** Hand-outs, redeliveries included. */
  taken: number;
  /** Items acknowledged: processed, gone for good. */
  acked: number;
  /** Items moved to the dead letters. */
  deadLettered: number;
}

export interface ProcessingQueue {
  /** Durable when it resolves. Enqueuing an id already waiting in that queue is a no-op. */
  enqueue(crashId: string, queue?: QueueName, options?: { ruleset?: string }): Promise<void>;
  take(): Promise<QueueItem | undefined>;
  /** Whether the crash is waiting or being processed in any queue. */
  has(crashId: string): Promise<boolean>;
  ack(item: QueueItem): Promise<void>;
  /** Gives an item back, visible again after `delayMs`. */
  release(item: QueueItem, delayMs?: number): Promise<void>;
  /** Removes a taken item from the queue into the dead-letter list. */
  deadLetter(item: QueueItem, error: string): Promise<void>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** How many dead letters each queue has, counted by the store (every queue present, 0 when none). */
  deadLetterCounts(): Promise<Record<QueueName, number>>;
  /** Puts a dead letter back on its queue; false if there is none for that id. */
  retryDeadLetter(crashId: string): Promise<boolean>;
  /** Resolves when work may be available, after `timeoutMs` at the latest, or on abort. */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  stats(): Promise<QueueStats[]>;
  /** What this instance did since it opened (see QueueCounts): no I/O, cheap enough for every scrape. */
  counts(): Record<QueueName, QueueCounts>;
  check(): Promise<void>;
  close(): Promise<void>;
}
