import type { Logger } from 'pino';
import type { PendingCrashes } from '../../ports/pending-crashes.js';
import type { ProcessingQueue } from '../../ports/queue.js';

/**
 * Queues the crashes the collector stored but could not queue (see PendingCrashes). Run
 * at start-up and then every `intervalMs`; a crash leaves the journal only after the queue
 * took it, so a sweep interrupted by SIGKILL is simply done again. Enqueueing twice is
 * harmless: the queue ignores an id already waiting, and processing is idempotent.
 */
export class PendingSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly options: { pending: PendingCrashes; queue: ProcessingQueue; intervalMs: number; log?: Pick<Logger, 'info' | 'warn'>; onQueued?: (count: number) => void; batch?: number },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many crashes were queued. Concurrent calls share one pass. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const { pending, queue, log } = this.options;
    let queued = 0;
    for (;;) {
      let batch;
      try {
        batch = await pending.list(this.options.batch ?? 500);
      } catch (error) {
        log?.warn({ err: error }, 'reading the pending-crash journal failed');
        return queued;
      }
      if (batch.length === 0) break;
      for (const crash of batch) {
        try {
          await queue.enqueue(crash.crashId, crash.queue);
          await pending.remove(crash.crashId);
          queued++;
        } catch (error) {
          // The queue is still down: try again on the next pass.
          log?.warn({ err: error, crashId: crash.crashId }, 'queueing a pending crash failed; will retry');
          if (queued > 0) this.options.onQueued?.(queued);
          return queued;
        }
      }
    }
    if (queued > 0) {
      log?.info({ queued }, 'queued crashes that had been stored while the queue failed');
      this.options.onQueued?.(queued);
    }
    return queued;
  }
}
