import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { createCrashId } from '../../../src/common/crash-id.js';
import { applyRetention, retentionPlan, type RetentionSettings } from '../../../src/roles/scheduler/retention.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1, 15, 30);
const TODAY = Math.floor(NOW / DAY);
const log = pino({ level: 'silent' });
const settings = (over: Partial<RetentionSettings> = {}): RetentionSettings => ({ days: 0, protectedDays: 0, products: [], ...over });

describe('retention plan', () => {
  it('keeps everything forever by default', () => {
    const plan = retentionPlan(settings(), NOW);
    expect(plan.dropDaysBefore).toBeUndefined();
    expect(plan.dropRawDaysBefore).toBeUndefined();
    expect(plan.rules).toEqual([{ exceptProducts: [], crashesBefore: undefined, rawBefore: undefined }]);
  });

  it('counts days with today included, so every cut is the start of a day', () => {
    const plan = retentionPlan(settings({ days: 30, protectedDays: 7 }), NOW);
    expect(plan.rules[0]).toMatchObject({ crashesBefore: (TODAY - 29) * DAY, rawBefore: (TODAY - 6) * DAY });
    expect(plan.dropDaysBefore).toBe(TODAY - 29);
    expect(plan.dropRawDaysBefore).toBe(TODAY - 6);
    // A protected age longer than the crash's own changes nothing: the crash takes its raw crash.
    expect(retentionPlan(settings({ days: 7, protectedDays: 30 }), NOW).rules[0]!.rawBefore).toBe((TODAY - 6) * DAY);
    expect(retentionPlan(settings({ protectedDays: 3 }), NOW).rules[0]).toMatchObject({ crashesBefore: undefined, rawBefore: (TODAY - 2) * DAY });
  });

  it('drops whole days only as far as every product lets go of them', () => {
    const plan = retentionPlan(settings({ days: 30, products: [{ product: 'Long', days: 90, protectedDays: 0 }, { product: 'Short', days: 5, protectedDays: 2 }] }), NOW);
    expect(plan.rules).toEqual([
      { exceptProducts: ['Long', 'Short'], crashesBefore: (TODAY - 29) * DAY, rawBefore: (TODAY - 29) * DAY },
      { product: 'Long', crashesBefore: (TODAY - 89) * DAY, rawBefore: (TODAY - 89) * DAY },
      { product: 'Short', crashesBefore: (TODAY - 4) * DAY, rawBefore: (TODAY - 1) * DAY },
    ]);
    expect(plan.dropDaysBefore).toBe(TODAY - 89);
    const forever = retentionPlan(settings({ days: 30, products: [{ product: 'Kept', days: 0, protectedDays: 0 }] }), NOW);
    expect(forever.dropDaysBefore).toBeUndefined();
    // The last section for a product wins.
    expect(retentionPlan(settings({ products: [{ product: 'A', days: 3, protectedDays: 0 }, { product: 'A', days: 9, protectedDays: 0 }] }), NOW).rules[1]!.crashesBefore).toBe((TODAY - 8) * DAY);
  });
});

describe('applying retention to real stores', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function stores() {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-retention-'));
    dirs.push(dir);
    return {
      rawCrashStore: await FsRawCrashStore.open(join(dir, 'raw'), { fsync: false }),
      processedCrashStore: await FsProcessedCrashStore.open(join(dir, 'processed')),
      crashIndex: SqliteCrashIndex.open(join(dir, 'index.sqlite')),
    };
  }

  it('deletes what each product\'s ages let go of, raw crashes first, and a second run finds nothing more', async () => {
    const s = await stores();
    const crashes = new Map<string, { product: string; daysAgo: number; indexed: boolean }>();
    const add = async (product: string, daysAgo: number, indexed = true): Promise<string> => {
      const at = NOW - daysAgo * DAY;
      const id = createCrashId(new Date(at));
      const writer = await s.rawCrashStore.begin(id);
      const dump = await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP')]));
      await writer.commit({
        uuid: id,
        submitted_timestamp: new Date(at).toISOString(),
        annotations: { ProductName: product, Email: 'someone@example.com' },
        metadata: { collector_notes: [], dumps: { upload_file_minidump: dump }, payload: 'multipart', payload_compressed: false, user_agent: '', throttle_result: 'accept', throttle_rule: 't' },
      });
      if (indexed) {
        const processed = { uuid: id, product, signature: `sig_${product}`, submitted_timestamp: new Date(at).toISOString(), date_processed: new Date(at + 1000).toISOString() };
        await s.processedCrashStore.save(processed);
        await s.crashIndex.upsert(processed);
      }
      crashes.set(id, { product, daysAgo, indexed });
      return id;
    };
    for (const product of ['App', 'Beta']) for (const daysAgo of [40, 35, 10, 2, 0]) await add(product, daysAgo);
    const neverIndexed = await add('App', 36, false);

    const config = settings({ days: 30, protectedDays: 7, products: [{ product: 'Beta', days: 5, protectedDays: 7 }] });
    const plan = retentionPlan(config, NOW);
    const report = await applyRetention(s, plan, { signal: new AbortController().signal, log });

    const expectations: [string, { raw: boolean; processed: boolean; indexed: boolean }][] = [...crashes.entries()].map(([id, c]) => {
      const crashKept = c.daysAgo < (c.product === 'Beta' ? 5 : 30);
      return [id, { raw: crashKept && c.daysAgo < 7, processed: crashKept && c.indexed, indexed: crashKept && c.indexed }];
    });
    for (const [id, expected] of expectations) {
      const got = { raw: (await s.rawCrashStore.get(id)) !== undefined, processed: await s.processedCrashStore.exists(id), indexed: (await s.crashIndex.get(id)) !== undefined };
      expect(got, `${id} ${JSON.stringify(crashes.get(id))}`).toEqual(expected);
    }
    expect(await s.rawCrashStore.getDump(neverIndexed, 'upload_file_minidump')).toBeUndefined();
    // Days 40 and 35 went whole; Beta's 10-day-old crash row by row; App's 10-day-old raw crash after its protected age.
    expect(report).toEqual({ daysDropped: 2, crashesRemoved: 5, rawCrashesRemoved: 2 });
    expect(await s.crashIndex.daysBefore(TODAY - 29)).toEqual([]);
    expect((await s.rawCrashStore.days()).every((d) => d >= new Date((TODAY - 6) * DAY).toISOString().slice(0, 10).replaceAll('-', ''))).toBe(true);
    const top = await s.crashIndex.topCrashers({ range: { from: NOW - 45 * DAY, to: NOW + DAY }, limit: 10 });
    expect(top).toEqual(await s.crashIndex.topCrashers({ range: { from: NOW - 45 * DAY, to: NOW + DAY }, limit: 10 }, 'raw'));
    expect(top.total).toBe(5);

    const again = await applyRetention(s, retentionPlan(config, NOW + 60_000), { signal: new AbortController().signal, log, previous: plan });
    expect(again).toEqual({ daysDropped: 0, crashesRemoved: 0, rawCrashesRemoved: 0 });
    await s.crashIndex.close();
  });

  it('deletes a product\'s raw crashes past their protected age, and the next run looks only at what aged since', async () => {
    const s = await stores();
    const add = async (daysAgo: number): Promise<string> => {
      const at = NOW - daysAgo * DAY;
      const id = createCrashId(new Date(at));
      const writer = await s.rawCrashStore.begin(id);
      await writer.commit({ uuid: id, submitted_timestamp: new Date(at).toISOString(), annotations: { ProductName: 'Private' }, metadata: { collector_notes: [], dumps: {}, payload: 'multipart', payload_compressed: false, user_agent: '', throttle_result: 'accept', throttle_rule: 't' } });
      const processed = { uuid: id, product: 'Private', submitted_timestamp: new Date(at).toISOString() };
      await s.processedCrashStore.save(processed);
      await s.crashIndex.upsert(processed);
      return id;
    };
    const old = await add(10);
    const recent = await add(1);
    const config = settings({ products: [{ product: 'Private', days: 0, protectedDays: 3 }] });
    const plan = retentionPlan(config, NOW);
    expect(plan.dropRawDaysBefore).toBeUndefined();
    const signal = new AbortController().signal;
    expect(await applyRetention(s, plan, { signal, log })).toEqual({ daysDropped: 0, crashesRemoved: 0, rawCrashesRemoved: 1 });
    expect(await s.rawCrashStore.get(old)).toBeUndefined();
    expect(await s.processedCrashStore.exists(old)).toBe(true);
    expect(await s.crashIndex.get(old)).toBeDefined();
    expect(await s.rawCrashStore.get(recent)).toBeDefined();
    // Without the previous run's plan the old crash is listed (and deleted) again; with it, not.
    const later = retentionPlan(config, NOW + 3_600_000);
    expect((await applyRetention(s, later, { signal, log })).rawCrashesRemoved).toBe(1);
    expect((await applyRetention(s, later, { signal, log, previous: plan })).rawCrashesRemoved).toBe(0);
    await s.crashIndex.close();
  });

  it('stops between batches when its time is up', async () => {
    const s = await stores();
    const controller = new AbortController();
    controller.abort(new Error('retention ran longer than its time limit'));
    await expect(applyRetention(s, retentionPlan(settings({ days: 1 }), NOW), { signal: controller.signal, log })).rejects.toThrow(/time limit/);
    await s.crashIndex.close();
  });
});
