import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteMissingSymbolsLog } from '../../../src/adapters/sqlite-missing-symbols.js';
import { SqliteNodeRegistry } from '../../../src/adapters/sqlite-node-registry.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { STATUS_SAMPLE_RETENTION_MS } from '../../../src/ports/node-registry.js';
import { scheduledJobs, type JobSettings } from '../../../src/roles/scheduler/jobs.js';
import { SCHEDULED_JOBS } from '../../../src/schema/scheduled-jobs.js';

const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the scheduler\'s jobs', () => {
  it('are every job the schema names, and each does its housekeeping on real stores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-jobs-'));
    dirs.push(dir);
    const database = join(dir, 'mayday.sqlite');
    const stores = {
      rawCrashStore: await FsRawCrashStore.open(join(dir, 'raw'), { fsync: false }),
      processedCrashStore: await FsProcessedCrashStore.open(join(dir, 'processed')),
      queue: SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000, fsync: false }),
      crashIndex: SqliteCrashIndex.open(database),
      registry: SqliteNodeRegistry.open(database),
      missingSymbols: SqliteMissingSymbolsLog.open(database),
    };
    const now = Date.now();
    const sample = (at: number) => ({ at, waiting: {}, processed: 0, meanTimeToProcess: null, processorsWorking: 0, totals: {} });
    await stores.registry.recordSample(sample(now - STATUS_SAMPLE_RETENTION_MS - DAY));
    await stores.registry.recordSample(sample(now));
    const module = (debugFile: string) => ({ debugFile, debugId: 'ABCDEF0123456789ABCDEF01234567890', codeFile: debugFile, codeId: null });
    await stores.missingSymbols.record({ crashId: 'old', submittedAt: now - 400 * DAY, os: 'Linux', cpu: 'amd64' }, [module('libold.so')]);
    await stores.missingSymbols.record({ crashId: 'new', submittedAt: now - 1000, os: 'Linux', cpu: 'amd64' }, [module('libapp.so')]);
    const settings: JobSettings = { verifyIntervalMs: 60_000, verifyDays: 2, maintenanceIntervalMs: 60_000, retention: { days: 0, protectedDays: 0, products: [], intervalMs: 60_000 } };

    const jobs = scheduledJobs(stores, settings, pino({ level: 'silent' }));
    expect(jobs.map((j) => j.name).sort()).toEqual(Object.keys(SCHEDULED_JOBS).sort());
    const summaries = new Map<string, string>();
    for (const job of jobs) summaries.set(job.name, await job.run(new AbortController().signal, {}));

    expect(summaries.get('status-history-pruning')).toBe('removed 1 status samples');
    expect((await stores.registry.samples(0)).length).toBe(1);
    expect(summaries.get('missing-symbols')).toBe('since yesterday 1 modules missed symbols, most often libapp.so (1); forgot 1 old entries');
    expect(summaries.get('retention')).toMatch(/nothing to do: crashes are kept forever/);
    expect(summaries.get('index-maintenance')).toMatch(/daily counts agree with the crashes/);
    expect(summaries.get('verify-processed')).toBe('checked 0 crashes, queued 0');
    for (const store of [stores.crashIndex, stores.registry, stores.missingSymbols]) await store.close();
    await stores.queue.close();
  });
});
