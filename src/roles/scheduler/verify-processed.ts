import type { Logger } from 'pino';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';

export interface VerifyProcessedOptions {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  queue: ProcessingQueue;
  /** How far back to look, in days (today included). */
  days: number;
  /** Crashes younger than this are left alone: the collector may still be queueing them. */
  minimumAgeMs: number;
  log: Logger;
}

/**
 * Socorro's "verify processed" job: every accepted raw crash of the last days that has no
 * processed version is put (back) on the standard queue. Enqueueing an id already waiting
 * is a no-op, so this is safe to run at any time; it is what makes a queue entry lost to a
 * power failure (the queue does not flush every commit, the raw store does) come back.
 * Deferred crashes (throttle digit 1) are stored on purpose without processing.
 */
export async function verifyProcessed(options: VerifyProcessedOptions, now = Date.now()): Promise<{ checked: number; queued: string[] }> {
  const queued: string[] = [];
  let checked = 0;
  for (let back = options.days - 1; back >= 0; back--) {
    const day = new Date(now - back * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    for await (const crashId of options.rawCrashStore.listDay(day)) {
      checked++;
      if (crashId.at(-7) === '1') continue;
      if ((await options.processedCrashStore.exists(crashId)) || (await options.queue.has(crashId))) continue;
      const raw = await options.rawCrashStore.get(crashId);
      if (!raw || now - Date.parse(raw.submitted_timestamp) < options.minimumAgeMs) continue;
      await options.queue.enqueue(crashId, 'standard');
      queued.push(crashId);
    }
  }
  if (queued.length > 0) options.log.warn({ count: queued.length, crashIds: queued.slice(0, 20) }, 'verify-processed: queued accepted crashes that were neither processed nor queued');
  return { checked, queued };
}
