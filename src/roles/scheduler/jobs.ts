import type { Logger } from 'pino';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import { SCHEDULED_JOBS } from '../../schema/scheduled-jobs.js';
import { verifyProcessed } from './verify-processed.js';
import type { ScheduledJob } from './scheduler.js';

/** The stores the jobs work on. */
export interface JobStores {
  readonly rawCrashStore: RawCrashStore;
  readonly processedCrashStore: ProcessedCrashStore;
  readonly queue: ProcessingQueue;
}

export interface JobSettings {
  /** verify-processed: how often, and how many days back (today included). */
  readonly verifyIntervalMs: number;
  readonly verifyDays: number;
}

/**
 * verify-processed (Socorro's job of that name): every accepted raw crash of the last days
 * that is neither processed nor queued goes back on the queue. It is what brings back a
 * crash whose queue entry was lost (a queue that does not flush every commit, a broker
 * that lost a message), so no acknowledged crash stays unprocessed.
 */
export function verifyProcessedJob(stores: JobStores, settings: JobSettings, log: Logger): ScheduledJob {
  return {
    name: 'verify-processed',
    description: SCHEDULED_JOBS['verify-processed'],
    intervalMs: settings.verifyIntervalMs,
    // A day's listing is read as it goes; an hour is far more than a day of crashes needs.
    timeoutMs: Math.max(settings.verifyIntervalMs, 60 * 60_000),
    async run() {
      const { checked, queued } = await verifyProcessed({ ...stores, days: settings.verifyDays, minimumAgeMs: 60_000, log });
      return `checked ${checked} crashes, queued ${queued.length}`;
    },
  };
}

/** Every job the scheduler role runs. */
export function scheduledJobs(stores: JobStores, settings: JobSettings, log: Logger): ScheduledJob[] {
  return [verifyProcessedJob(stores, settings, log)];
}
