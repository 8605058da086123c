import type { Logger } from 'pino';
import type { CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue, QueueItem } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import { runRules, type ProcessingContext, type Rule } from './rule.js';

export interface WorkerOptions {
  queue: ProcessingQueue;
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  crashIndex: CrashIndex;
  rules: readonly Rule[];
  concurrency: number;
  pollIntervalMs: number;
  log: Logger;
}

/** Storage errors are retried after this delay, doubled per attempt, up to a minute. */
const RETRY_BASE_MS = 1000;

/**
 * The processor role: takes crash ids from the queue, runs the rules, saves and indexes
 * the result, then acknowledges. At least once: a crash is acknowledged only after it is
 * saved and indexed, and saving/indexing the same crash again replaces it.
 */
export class ProcessorWorker {
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  processed = 0;
  failed = 0;

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    for (let slot = 0; slot < this.options.concurrency; slot++) this.loops.push(this.loop(slot));
  }

  /** Finishes the crashes in hand (each is acknowledged or given back), then resolves. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async loop(slot: number): Promise<void> {
    const { queue, pollIntervalMs, log } = this.options;
    while (!this.stopping.signal.aborted) {
      let item: QueueItem | undefined;
      try {
        item = await queue.take();
      } catch (error) {
        log.error({ err: error, slot }, 'taking from the queue failed');
      }
      if (!item) {
        await queue.waitForWork(pollIntervalMs, this.stopping.signal);
        continue;
      }
      await this.handle(item);
    }
  }

  private async handle(item: QueueItem): Promise<void> {
    const { queue, log } = this.options;
    const started = performance.now();
    try {
      const outcome = await this.processOne(item.crashId);
      await queue.ack(item);
      if (outcome === 'missing') {
        log.error({ crashId: item.crashId }, 'queued crash has no raw crash; dropped from the queue');
        return;
      }
      this.processed++;
      log.info({ crashId: item.crashId, queue: item.queue, ms: Math.round(performance.now() - started) }, 'crash processed');
    } catch (error) {
      this.failed++;
      const delay = Math.min(60_000, RETRY_BASE_MS * 2 ** Math.max(0, item.attempts - 1));
      log.error({ err: error, crashId: item.crashId, attempts: item.attempts, retryInMs: delay }, 'processing failed; will retry');
      await queue.release(item, delay).catch((releaseError: unknown) => log.error({ err: releaseError }, 'releasing a crash failed'));
    }
  }

  /** Processes one crash; storage errors propagate (and are retried), rule errors become notes. */
  async processOne(crashId: string): Promise<'done' | 'missing'> {
    const { rawCrashStore, processedCrashStore, crashIndex, rules } = this.options;
    const raw = await rawCrashStore.get(crashId);
    if (!raw) return 'missing';
    const dumps = new Map<string, Uint8Array>();
    for (const name of Object.keys(raw.metadata.dumps)) {
      const bytes = await rawCrashStore.getDump(crashId, name);
      if (bytes) dumps.set(name, bytes);
    }
    const context: ProcessingContext = { crashId, raw, dumps, processed: {}, notes: [] };
    await runRules(rules, context);
    const processed: ProcessedCrash = { ...context.processed, uuid: crashId, processor_notes: context.notes.join('; '), success: true };
    await processedCrashStore.save(processed);
    await crashIndex.upsert({
      crashId,
      submittedAt: Date.parse(raw.submitted_timestamp),
      processedAt: Date.now(),
      product: str(processed.product),
      version: str(processed.version),
      releaseChannel: str(processed.release_channel),
      osName: str(processed.os_name),
      osVersion: str(processed.os_version),
      cpuArch: str(processed.cpu_arch),
      reason: str(processed.reason),
      address: str(processed.address),
      signature: str(processed.signature),
      hasErrors: context.notes.length > 0,
    });
    return 'done';
  }
}

function str(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}
