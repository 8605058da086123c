import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { createCrashId } from '../../../src/common/crash-id.js';
import { ProcessorWorker, type WorkerOptions } from '../../../src/roles/processor/worker.js';
import { rulesets } from '../../../src/roles/processor/rules.js';
import { ProcessorMetrics } from '../../../src/roles/processor/metrics.js';
import { CrashLimitError, type Stackwalker } from '../../../src/roles/processor/rule.js';
import type { CrashIndex } from '../../../src/ports/crash-index.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../../src/ports/processed-crash-store.js';
import { eventually } from '../../support/mayday-process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setUp(stackwalk: Stackwalker, overrides: Partial<WorkerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-worker-'));
  dirs.push(dir);
  const rawCrashStore = await FsRawCrashStore.open(join(dir, 'raw'), { fsync: false });
  const processedCrashStore = await FsProcessedCrashStore.open(join(dir, 'processed'));
  const queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
  const crashIndex = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  const registry = new Registry();
  const options: WorkerOptions = {
    queue,
    rawCrashStore,
    processedCrashStore,
    crashIndex,
    rulesets: rulesets(stackwalk),
    defaultRuleset: 'default',
    concurrency: 1,
    pollIntervalMs: 20,
    timeLimitMs: 10_000,
    maxAttempts: 3,
    retryBaseMs: 50,
    metrics: new ProcessorMetrics(registry),
    log: pino({ level: 'silent' }),
    ...overrides,
  };
  const submit = async (annotations: Record<string, string> = { ProductName: 'Example' }): Promise<string> => {
    const id = createCrashId();
    const writer = await rawCrashStore.begin(id);
    const dumps = { upload_file_minidump: await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP....')])) };
    await writer.commit({
      uuid: id,
      submitted_timestamp: new Date().toISOString(),
      annotations,
      metadata: { collector_notes: [], dumps, payload: 'multipart', payload_compressed: false, user_agent: '', throttle_result: 'accept', throttle_rule: 't' },
    });
    await queue.enqueue(id);
    return id;
  };
  return { options, queue, crashIndex, processedCrashStore, registry, submit };
}

const walker =
  (calls: { count: number } = { count: 0 }): Stackwalker =>
  async () => {
    calls.count++;
    return { jsonDump: { crash_info: { type: 'SIGSEGV', address: '0x0', crashing_thread: 0 }, threads: [{ frames: [{ function: 'crash_here(int)' }] }] }, errors: [] };
  };

describe('processor worker', () => {
  it('processes, saves, indexes and acknowledges each crash once', async () => {
    const { options, queue, crashIndex, processedCrashStore, registry, submit } = await setUp(walker());
    const ids = [await submit(), await submit()];
    const worker = new ProcessorWorker(options);
    worker.start();
    await eventually(async () => (worker.counts.processed === 2 ? true : undefined), 5000, 'two crashes');
    await worker.stop();
    for (const id of ids) expect(await processedCrashStore.get(id)).toMatchObject({ uuid: id, reason: 'SIGSEGV', signature: 'crash_here', success: true, ruleset: 'default' });
    expect(await crashIndex.count()).toBe(2);
    expect((await queue.stats()).every((s) => s.waiting === 0 && s.inFlight === 0)).toBe(true);
    expect(await registry.getSingleMetricAsString('mayday_processor_crashes_total')).toContain('outcome="processed",queue="standard"} 2');
  });

  it('is idempotent: processing a crash again replaces it, one row in the index', async () => {
    const { options, crashIndex, submit } = await setUp(walker());
    const id = await submit();
    const worker = new ProcessorWorker(options);
    await worker.processOne(id);
    await worker.processOne(id);
    expect(await crashIndex.count()).toBe(1);
    expect((await crashIndex.get(id))?.signature).toBe('crash_here');
  });

  it('retries storage failures with backoff, then moves the crash to the dead letters', async () => {
    const setup = await setUp(walker(), { maxAttempts: 3 });
    let saves = 0;
    const failing: ProcessedCrashStore = {
      save: async () => {
        saves++;
        throw new Error('disk full');
      },
      get: (id) => setup.processedCrashStore.get(id),
      exists: (id) => setup.processedCrashStore.exists(id),
      delete: (ids) => setup.processedCrashStore.delete(ids),
      check: async () => undefined,
    };
    const id = await setup.submit();
    const worker = new ProcessorWorker({ ...setup.options, processedCrashStore: failing });
    worker.start();
    await eventually(async () => (worker.counts.deadLettered === 1 ? true : undefined), 5000, 'the dead letter');
    await worker.stop();
    expect(saves).toBe(3);
    expect(worker.counts.retried).toBe(2);
    expect(await setup.queue.deadLetters(10)).toMatchObject([{ crashId: id, queue: 'standard', attempts: 3, error: 'disk full' }]);

    // An operator retries it once storage is back.
    expect(await setup.queue.retryDeadLetter(id)).toBe(true);
    const healthy = new ProcessorWorker(setup.options);
    healthy.start();
    await eventually(async () => (healthy.counts.processed === 1 ? true : undefined), 5000, 'the retried crash');
    await healthy.stop();
    expect(await setup.queue.deadLetters(10)).toEqual([]);
  });

  it('waits out a storage outage past max_attempts instead of dead-lettering the crash', async () => {
    // Found by the distributed fault tests: a 15 s S3 outage sent every crash in hand to
    // the dead letters, for a person to retry.
    const setup = await setUp(walker(), { maxAttempts: 2 });
    let saves = 0;
    const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    const recovering: ProcessedCrashStore = {
      save: async (crash) => {
        if (++saves <= 4) throw refused();
        return setup.processedCrashStore.save(crash);
      },
      get: (id) => setup.processedCrashStore.get(id),
      exists: (id) => setup.processedCrashStore.exists(id),
      delete: (ids) => setup.processedCrashStore.delete(ids),
      check: async () => undefined,
    };
    const id = await setup.submit();
    const worker = new ProcessorWorker({
      ...setup.options,
      processedCrashStore: recovering,
      outage: (error) => ((error as { code?: string }).code === 'ECONNREFUSED' ? 'storage' : undefined),
    });
    worker.start();
    await eventually(async () => (worker.counts.processed === 1 ? true : undefined), 10_000, 'the crash processed once storage is back');
    await worker.stop();
    expect(saves).toBe(5);
    expect(worker.counts).toMatchObject({ retried: 4, deadLettered: 0 });
    expect(await setup.queue.deadLetters(10)).toEqual([]);
    expect(await setup.crashIndex.count()).toBe(1);
    expect(await setup.processedCrashStore.get(id)).toMatchObject({ uuid: id, success: true });
  });

  it('still dead-letters a crash whose failures are not an outage', async () => {
    const setup = await setUp(walker(), { maxAttempts: 2 });
    const failing: ProcessedCrashStore = {
      save: async () => {
        throw new Error('disk full');
      },
      get: (id) => setup.processedCrashStore.get(id),
      exists: (id) => setup.processedCrashStore.exists(id),
      delete: (ids) => setup.processedCrashStore.delete(ids),
      check: async () => undefined,
    };
    await setup.submit();
    const worker = new ProcessorWorker({ ...setup.options, processedCrashStore: failing, outage: () => undefined });
    worker.start();
    await eventually(async () => (worker.counts.deadLettered === 1 ? true : undefined), 5000, 'the dead letter');
    await worker.stop();
    expect(worker.counts.retried).toBe(1);
  });

  it('records a crash over the time limit as failed, with a note, and does not retry it', async () => {
    const slow: Stackwalker = async (_bytes, options) => {
      while (performance.now() < (options?.deadline ?? 0) + 20) {
        // Burns CPU past the deadline, as a pathological dump would.
      }
      return { jsonDump: {}, errors: ['time limit exceeded'] };
    };
    const { options, queue, processedCrashStore, submit } = await setUp(slow, { timeLimitMs: 100 });
    const id = await submit();
    const worker = new ProcessorWorker(options);
    worker.start();
    await eventually(async () => (worker.counts.failed === 1 ? true : undefined), 5000, 'the failed crash');
    await worker.stop();
    const crash = await processedCrashStore.get(id);
    expect(crash?.success).toBe(false);
    expect(crash?.processor_notes).toContain('exceeded the time limit of 100 ms');
    expect((await queue.stats()).every((s) => s.waiting === 0 && s.inFlight === 0)).toBe(true);
  });

  it('regenerates only the signature with the signature ruleset, from the stored crash', async () => {
    const calls = { count: 0 };
    const { options, queue, processedCrashStore, submit } = await setUp(walker(calls));
    const id = await submit();
    const worker = new ProcessorWorker(options);
    await queue.ack((await queue.take())!);
    await worker.processOne(id);
    expect(calls.count).toBe(1);
    await queue.enqueue(id, 'reprocessing', { ruleset: 'signature' });
    const item = await queue.take();
    expect(item).toMatchObject({ crashId: id, queue: 'reprocessing', ruleset: 'signature' });
    expect(await worker.processOne(id, item!.ruleset)).toBe('processed');
    expect(calls.count).toBe(1); // no second stackwalk
    expect(await processedCrashStore.get(id)).toMatchObject({ signature: 'crash_here', ruleset: 'signature', reason: 'SIGSEGV' });
  });

  it('hands back nothing half-done when stopped: in-flight crashes finish first', async () => {
    const slowWalker: Stackwalker = async () => {
      await new Promise((r) => setTimeout(r, 200));
      return { jsonDump: {}, errors: [] };
    };
    const { options, queue, submit } = await setUp(slowWalker);
    await submit();
    const worker = new ProcessorWorker(options);
    worker.start();
    await eventually(async () => (worker.inFlight.size === 1 ? true : undefined), 5000, 'work in flight');
    await worker.stop();
    expect(worker.counts.processed).toBe(1);
    expect((await queue.stats()).every((s) => s.waiting === 0 && s.inFlight === 0)).toBe(true);
  });

  it('saves a crash whose stackwalk was stopped by a hard limit as failed, with the limit in a note, and acknowledges it', async () => {
    const stopped: Stackwalker = async () => {
      throw new CrashLimitError('memory', 'stackwalk stopped: its worker thread went over processor.worker_memory_limit and was ended');
    };
    const { options, queue, processedCrashStore, registry, submit } = await setUp(stopped);
    const id = await submit();
    const worker = new ProcessorWorker(options);
    worker.start();
    await eventually(async () => (worker.counts.failed === 1 ? true : undefined), 5000, 'the failed crash');
    await worker.stop();
    const crash = await processedCrashStore.get(id);
    expect(crash).toMatchObject({ success: false, signature: expect.any(String) });
    expect(crash?.processor_notes).toContain('rule stackwalk failed: stackwalk stopped: its worker thread went over processor.worker_memory_limit');
    expect(worker.counts).toMatchObject({ processed: 0, failed: 1, retried: 0, deadLettered: 0 });
    expect((await queue.stats()).every((s) => s.waiting === 0 && s.inFlight === 0)).toBe(true);
    expect(await registry.getSingleMetricAsString('mayday_processor_limits_exceeded_total')).toContain('limit="memory"} 1');
    expect(await registry.getSingleMetricAsString('mayday_processor_crashes_total')).toContain('outcome="failed",queue="standard"} 1');
  });
});

describe('indexing', () => {
  /** The real index, counting the transactions the worker asks of it. */
  function countingIndex(index: CrashIndex, refuse?: string): { index: CrashIndex; writes: { transactions: number; crashes: number } } {
    const writes = { transactions: 0, crashes: 0 };
    const check = (crashes: readonly ProcessedCrash[]): void => {
      writes.transactions++;
      writes.crashes += crashes.length;
      if (refuse && crashes.some((c) => c.uuid === refuse)) throw new Error('the index refuses this crash');
    };
    return {
      writes,
      index: Object.assign(Object.create(index) as CrashIndex, {
        upsert: async (crash: ProcessedCrash) => (check([crash]), index.upsert(crash)),
        upsertMany: async (crashes: readonly ProcessedCrash[]) => (check(crashes), index.upsertMany(crashes)),
      }),
    };
  }

  it('indexes crashes that finish together in one transaction', async () => {
    const setup = await setUp(walker(), { concurrency: 8 });
    const { index, writes } = countingIndex(setup.crashIndex);
    for (let i = 0; i < 16; i++) await setup.submit();
    const worker = new ProcessorWorker({ ...setup.options, crashIndex: index });
    worker.start();
    await eventually(async () => (worker.counts.processed === 16 ? true : undefined), 5000, 'sixteen crashes');
    await worker.stop();
    expect(await setup.crashIndex.count()).toBe(16);
    expect(writes.crashes).toBe(16);
    expect(writes.transactions).toBeLessThan(16);
  });

  it('does not let a crash the index refuses fail the others indexed with it', async () => {
    const setup = await setUp(walker(), { concurrency: 8, maxAttempts: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await setup.submit());
    const { index, writes } = countingIndex(setup.crashIndex, ids[3]);
    const worker = new ProcessorWorker({ ...setup.options, crashIndex: index });
    worker.start();
    await eventually(async () => (worker.counts.processed + worker.counts.deadLettered === 8 ? true : undefined), 5000, 'eight crashes');
    await worker.stop();
    expect(writes.transactions).toBeGreaterThan(1);
    expect(worker.counts).toMatchObject({ processed: 7, deadLettered: 1 });
    expect(await setup.crashIndex.count()).toBe(7);
    expect(await setup.queue.deadLetters(10)).toMatchObject([{ crashId: ids[3], error: 'the index refuses this crash' }]);
  });
});
