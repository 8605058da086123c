import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { CrashIndex } from '../../ports/crash-index.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue, QueueItem } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import { runRules, type ProcessingContext } from './rule.js';
import type { Ruleset } from './rules.js';
import type { ProcessorMetrics } from './metrics.js';

export interface WorkerOptions {
  queue: ProcessingQueue;
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  crashIndex: CrashIndex;
  rulesets: ReadonlyMap<string, Ruleset>;
  /** Ruleset for items that do not name one. */
  defaultRuleset: string;
  concurrency: number;
  pollIntervalMs: number;
  /**
   * Per-crash time limit; a crash over it is saved as failed, with a note, and not retried.
   * The rules check it as a deadline; the stackwalker may also enforce it (and a memory
   * limit) by stopping the walk, a `CrashLimitError`, with the same outcome.
   */
  timeLimitMs: number;
  /** Attempts after which a crash that keeps failing (storage errors) goes to the dead letters. */
  maxAttempts: number;
  /** First retry delay after a failure; doubled per attempt, up to a minute (default 1 s). */
  retryBaseMs?: number;
  /**
   * Names the service whose outage an error reports (the database, the storage, the
   * queue), or undefined when the error may be this crash's own. A crash that failed for
   * an outage is retried however many attempts it took, with its delay capped at
   * `OUTAGE_MAX_RETRY_DELAY_MS`: the dead letters are for crashes that cannot be
   * processed, and an outage longer than the attempts' backoff (15 s with the defaults)
   * would otherwise send every crash in hand there, for a person to retry.
   */
  outage?: (error: unknown) => string | undefined;
  metrics?: ProcessorMetrics;
  log: Logger;
}


export type Outcome = 'processed' | 'failed' | 'missing';

/** Longest retry delay of a crash that failed for an outage: once the service is back, its crashes follow within this. */
export const OUTAGE_MAX_RETRY_DELAY_MS = 10_000;

/**
 * The processor role: takes crash ids from the queue, runs a ruleset, saves and indexes
 * the result, then acknowledges. At least once: a crash is acknowledged only after it is
 * saved and indexed, and saving/indexing the same crash again replaces it, so a crash
 * handed out twice (after a crash of the processor) ends up once in the index.
 */
export class ProcessorWorker {
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  /** Counters since start, for the status page and tests. */
  readonly counts = { processed: 0, failed: 0, retried: 0, deadLettered: 0 };
  /** Sums since start, for means on the status page: seconds from submission to indexed, and waiting in the queue. */
  readonly sums = { submissionToProcessedSeconds: 0, firstProcessed: 0, queueWaitSeconds: 0, taken: 0 };
  /** Crashes being processed now (crash id -> start time), for the dashboard. */
  readonly inFlight = new Map<string, number>();
  lastCompleted: { crashId: string; at: number } | undefined;

  private readonly indexWrites: GroupedIndexWrites;

  constructor(private readonly options: WorkerOptions) {
    if (!options.rulesets.has(options.defaultRuleset)) throw new Error(`unknown ruleset ${options.defaultRuleset}`);
    this.indexWrites = new GroupedIndexWrites(options.crashIndex);
  }

  start(): void {
    // Every idle slot waits for work on this signal: as many listeners as slots is expected.
    setMaxListeners(this.options.concurrency + 10, this.stopping.signal);
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
    const { queue, log, metrics, maxAttempts } = this.options;
    const started = performance.now();
    const waited = Math.max(0, Date.now() - item.enqueuedAt) / 1000;
    metrics?.queueWaitSeconds.observe({ queue: item.queue }, waited);
    this.sums.queueWaitSeconds += waited;
    this.sums.taken++;
    this.inFlight.set(item.crashId, Date.now());
    try {
      const { outcome, submittedAt } = await this.processCrash(item.crashId, item.ruleset);
      await queue.ack(item);
      // Time to process is a first-processing figure: reprocessing old crashes would swamp it.
      if (submittedAt !== undefined && item.queue !== 'reprocessing') {
        this.sums.submissionToProcessedSeconds += (Date.now() - submittedAt) / 1000;
        this.sums.firstProcessed++;
      }
      metrics?.crashes.inc({ outcome, queue: item.queue });
      metrics?.processingSeconds.observe({ queue: item.queue }, (performance.now() - started) / 1000);
      if (outcome === 'missing') {
        log.error({ crashId: item.crashId }, 'queued crash has no raw crash; dropped from the queue');
        return;
      }
      if (outcome === 'failed') this.counts.failed++;
      else this.counts.processed++;
      this.lastCompleted = { crashId: item.crashId, at: Date.now() };
      log.info({ crashId: item.crashId, queue: item.queue, outcome, ms: Math.round(performance.now() - started) }, 'crash processed');
    } catch (error) {
      const message = (error as Error).message;
      const outage = this.options.outage?.(error);
      if (outage === undefined && item.attempts >= maxAttempts) {
        this.counts.deadLettered++;
        metrics?.crashes.inc({ outcome: 'dead_lettered', queue: item.queue });
        log.error({ err: error, crashId: item.crashId, attempts: item.attempts }, 'processing keeps failing; moved to the dead letters');
        await queue.deadLetter(item, message).catch((e: unknown) => log.error({ err: e }, 'dead-lettering a crash failed'));
        return;
      }
      this.counts.retried++;
      metrics?.crashes.inc({ outcome: 'retried', queue: item.queue });
      const delay = Math.min(outage === undefined ? 60_000 : OUTAGE_MAX_RETRY_DELAY_MS, (this.options.retryBaseMs ?? 1000) * 2 ** Math.max(0, item.attempts - 1));
      log.error({ err: error, crashId: item.crashId, attempts: item.attempts, retryInMs: delay, ...(outage !== undefined ? { unavailable: outage } : {}) }, 'processing failed; will retry');
      await queue.release(item, delay).catch((releaseError: unknown) => log.error({ err: releaseError }, 'releasing a crash failed'));
    } finally {
      this.inFlight.delete(item.crashId);
    }
  }

  /** Processes one crash; storage errors propagate (and are retried), rule errors become notes. */
  async processOne(crashId: string, rulesetName?: string): Promise<Outcome> {
    return (await this.processCrash(crashId, rulesetName)).outcome;
  }

  private async processCrash(crashId: string, rulesetName?: string): Promise<{ outcome: Outcome; submittedAt?: number }> {
    const { rawCrashStore, processedCrashStore, crashIndex, rulesets, metrics } = this.options;
    const raw = await rawCrashStore.get(crashId);
    if (!raw) return { outcome: 'missing' };
    let ruleset = rulesets.get(rulesetName ?? this.options.defaultRuleset) ?? rulesets.get(this.options.defaultRuleset)!;
    const previous = ruleset.fromProcessed ? await processedCrashStore.get(crashId) : undefined;
    // A refining ruleset needs an earlier version; a crash never processed gets the full one.
    if (ruleset.fromProcessed && !previous) ruleset = rulesets.get(this.options.defaultRuleset)!;
    const dumps = new Map<string, Uint8Array>();
    if (!ruleset.fromProcessed) {
      for (const name of Object.keys(raw.metadata.dumps)) {
        const bytes = await rawCrashStore.getDump(crashId, name);
        if (bytes) dumps.set(name, bytes);
      }
    }
    const startedAt = new Date();
    const deadline = performance.now() + this.options.timeLimitMs;
    const context: ProcessingContext = {
      crashId,
      raw,
      annotations: { ...raw.annotations },
      dumps,
      processed: previous ? structuredClone(previous) : {},
      notes: [],
      startedAt,
      deadline,
    };
    const timings = await runRules(ruleset.rules, context);
    for (const timing of timings) metrics?.ruleSeconds.observe({ rule: timing.rule }, timing.seconds);
    const timedOut = performance.now() > deadline;
    if (timedOut && !context.limitExceeded) context.notes.push(`processing exceeded the time limit of ${this.options.timeLimitMs} ms; the result is partial`);
    // A hard limit (a walk whose thread was ended) fails the crash for good: it is saved,
    // noted and acknowledged, since another attempt would meet the same limit.
    const failed = timedOut || context.limitExceeded !== undefined;
    if (context.limitExceeded) metrics?.limitsExceeded.inc({ limit: context.limitExceeded });
    const success = !failed && timings.every((t) => !t.failed);

    const processed: ProcessedCrash = {
      ...context.processed,
      uuid: crashId,
      processor_notes: context.notes.join('; '),
      success,
      ruleset: ruleset.name,
      completed_datetime: new Date().toISOString(),
    };
    await processedCrashStore.save(processed);
    await this.indexWrites.upsert(processed);
    return { outcome: failed ? 'failed' : 'processed', submittedAt: Date.parse(raw.submitted_timestamp) };
  }
}

/**
 * Indexes the crashes that reach the index in the same turn of the event loop in one
 * transaction. Each commit of the embedded index is an fsync that blocks the node's
 * thread (and holds the database's write lock, which every processor of the machine
 * shares), and was the largest part of that thread's time per crash once stackwalks moved
 * to worker threads.
 */
export class GroupedIndexWrites {
  private pending: { crash: ProcessedCrash; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Transactions and crashes written since start (for tests and measurements). */
  readonly counts = { transactions: 0, crashes: 0 };

  constructor(private readonly index: CrashIndex) {}

  upsert(crash: ProcessedCrash): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ crash, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    try {
      this.counts.transactions++;
      this.counts.crashes += batch.length;
      await this.index.upsertMany(batch.map((entry) => entry.crash));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      // One crash the index refuses must not fail the others: each on its own.
      for (const entry of batch) this.index.upsert(entry.crash).then(entry.resolve, entry.reject);
    }
  }
}
