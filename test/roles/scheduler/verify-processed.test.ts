import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { createCrashId, THROTTLE_DEFER } from '../../../src/common/crash-id.js';
import { verifyProcessed } from '../../../src/roles/scheduler/verify-processed.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('verify processed', () => {
  it('queues accepted crashes that are neither processed nor queued, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-verify-'));
    dirs.push(dir);
    const rawCrashStore = await FsRawCrashStore.open(join(dir, 'raw'), { fsync: false });
    const processedCrashStore = await FsProcessedCrashStore.open(join(dir, 'processed'));
    const queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000, fsync: false });
    const now = Date.now();
    const store = async (submittedAt: number, throttle = 0): Promise<string> => {
      const id = createCrashId(new Date(submittedAt), throttle);
      const writer = await rawCrashStore.begin(id);
      const dump = await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP')]));
      await writer.commit({
        uuid: id,
        submitted_timestamp: new Date(submittedAt).toISOString(),
        annotations: { ProductName: 'Example' },
        metadata: { collector_notes: [], dumps: { upload_file_minidump: dump }, payload: 'multipart', payload_compressed: false, user_agent: '', throttle_result: throttle ? 'defer' : 'accept', throttle_rule: 't' },
      });
      return id;
    };
    const lost = await store(now - 3_600_000);
    const lostYesterday = await store(now - 86_400_000);
    const processed = await store(now - 3_600_000);
    await processedCrashStore.save({ uuid: processed });
    const waiting = await store(now - 3_600_000);
    await queue.enqueue(waiting);
    const deferred = await store(now - 3_600_000, THROTTLE_DEFER);
    const young = await store(now - 1000);
    const tooOld = await store(now - 5 * 86_400_000);

    const result = await verifyProcessed({ rawCrashStore, processedCrashStore, queue, days: 2, minimumAgeMs: 60_000, log: pino({ level: 'silent' }) }, now);
    expect(result.queued.sort()).toEqual([lost, lostYesterday].sort());
    expect(result.checked).toBe(6);
    const taken: string[] = [];
    for (let item = await queue.take(); item; item = await queue.take()) taken.push(item.crashId);
    expect(taken.sort()).toEqual([lost, lostYesterday, waiting].sort());
    expect(taken).not.toContain(deferred);
    expect(taken).not.toContain(young);
    expect(taken).not.toContain(tooOld);
    await queue.close();
  });
});
