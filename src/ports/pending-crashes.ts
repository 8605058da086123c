import type { QueueName } from './queue.js';

/**
 * Crashes stored but not yet queued: the collector's journal for the case where the raw
 * crash was saved but the queue failed. The client still gets its CrashID (the crash is
 * durable), and a sweeper queues the crash later, at start-up and periodically. Without
 * this journal a crash saved during a queue outage would sit in storage unprocessed.
 */
export interface PendingCrash {
  crashId: string;
  queue: QueueName;
}

export interface PendingCrashes {
  /** Durable when it resolves. Adding a crash already pending is a no-op. */
  add(crash: PendingCrash): Promise<void>;
  /** Removing a crash that is not pending is a no-op. */
  remove(crashId: string): Promise<void>;
  /** Oldest first, at most `limit`. */
  list(limit: number): Promise<PendingCrash[]>;
}
