import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertRecord, AlertStateStore } from '../../src/ports/alert-state.js';

/** The alert state store's promises, for every back end. */
export function alertStateContract(name: string, open: () => Promise<{ store: AlertStateStore; dispose(): Promise<void> }>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`alert state contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let store: AlertStateStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await open());
    });
    afterEach(async () => {
      await dispose();
    });

    const record = (key: string, version: number, extra: Partial<AlertRecord> = {}): AlertRecord => ({
      key,
      rule: key.split(':')[0],
      subject: key.split(':')[1],
      severity: 'critical',
      status: 'pending',
      message: `message of ${key}`,
      since: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000 + version,
      version,
      ...extra,
    });

    it('creates a record once: of two writers of version 1, one wins', async () => {
      expect(await store.list()).toEqual([]);
      expect(await store.put(record('down:p2', 1))).toBe(true);
      expect(await store.put(record('down:p2', 1, { message: 'the other scheduler' }))).toBe(false);
      expect(await store.list()).toEqual([record('down:p2', 1)]);
    });

    it('updates only from the version it read, keeping every field, optional ones included', async () => {
      await store.put(record('down:p2', 1));
      const firing = record('down:p2', 2, {
        status: 'firing',
        firedAt: 1_700_000_030_000,
        lastNotifiedAt: 1_700_000_030_000,
        notice: { kind: 'firing', at: 1_700_000_030_000, targets: ['abc', 'def'], attempts: 1, lastAttemptAt: 1_700_000_030_001, lastError: 'webhook h#1: HTTP 500' },
      });
      expect(await store.put(firing)).toBe(true);
      // A writer that read version 1 too late, and one that skips a version.
      expect(await store.put(record('down:p2', 2, { status: 'inactive' }))).toBe(false);
      expect(await store.put(record('down:p2', 4, { status: 'inactive' }))).toBe(false);
      expect(await store.list()).toEqual([firing]);
      const resolved = record('down:p2', 3, { status: 'resolved', firedAt: 1_700_000_030_000, lastNotifiedAt: 1_700_000_030_000, resolvedAt: 1_700_000_090_000 });
      expect(await store.put(resolved)).toBe(true);
      // The notice is gone, and with it its column.
      expect(await store.list()).toEqual([resolved]);
    });

    it('lists every record by key, and prunes only old resolved or inactive ones that owe nothing', async () => {
      await store.put(record('b:x', 1, { status: 'firing', updatedAt: 10 }));
      await store.put(record('a:y', 1, { status: 'resolved', updatedAt: 10 }));
      await store.put(record('c:z', 1, { status: 'inactive', updatedAt: 10 }));
      await store.put(record('d:w', 1, { status: 'resolved', updatedAt: 10, notice: { kind: 'resolved', at: 10, targets: ['t'], attempts: 3 } }));
      await store.put(record('e:v', 1, { status: 'resolved', updatedAt: 1000 }));
      await store.put(record('f:u', 1, { status: 'pending', updatedAt: 10 }));
      expect((await store.list()).map((r) => r.key)).toEqual(['a:y', 'b:x', 'c:z', 'd:w', 'e:v', 'f:u']);
      expect(await store.prune(500)).toBe(2);
      expect((await store.list()).map((r) => r.key)).toEqual(['b:x', 'd:w', 'e:v', 'f:u']);
      // A pruned key starts again at version 1.
      expect(await store.put(record('a:y', 1))).toBe(true);
    });

    it('keeps counter samples once per node and time, lists them by time, and prunes old ones', async () => {
      await store.recordCounters([]);
      await store.recordCounters([
        { nodeId: 'p1@h:1', nodeName: 'p1', at: 2000, processed: 10, failed: 1 },
        { nodeId: 'p2@h:2', nodeName: 'p2', at: 1000, processed: 5, failed: 0 },
      ]);
      await store.recordCounters([
        { nodeId: 'p1@h:1', nodeName: 'p1', at: 2000, processed: 99, failed: 99 },
        { nodeId: 'p1@h:1', nodeName: 'p1', at: 3000, processed: 20_000_000_000, failed: 2 },
      ]);
      expect(await store.counters(0)).toEqual([
        { nodeId: 'p2@h:2', nodeName: 'p2', at: 1000, processed: 5, failed: 0 },
        { nodeId: 'p1@h:1', nodeName: 'p1', at: 2000, processed: 10, failed: 1 },
        { nodeId: 'p1@h:1', nodeName: 'p1', at: 3000, processed: 20_000_000_000, failed: 2 },
      ]);
      expect((await store.counters(2000)).map((s) => s.at)).toEqual([2000, 3000]);
      expect(await store.pruneCounters(2500)).toBe(2);
      expect((await store.counters(0)).map((s) => s.at)).toEqual([3000]);
    });

    it('can be closed twice', async () => {
      await store.close();
      await store.close();
    });
  });
}
