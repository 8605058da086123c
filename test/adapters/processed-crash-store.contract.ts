import { afterEach, describe, expect, it } from 'vitest';
import { createCrashId } from '../../src/common/crash-id.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../src/ports/processed-crash-store.js';

/**
 * The processed crash store contract: the filesystem and S3 stores must both pass exactly
 * these tests (the processor saves, reprocessing replaces, the web app reads).
 */

export interface ProcessedCrashStoreSubject {
  store: ProcessedCrashStore;
  /** A store of the same kind whose bucket (or directory) does not exist. */
  missing(): Promise<ProcessedCrashStore>;
  /** Takes the back end away under `store`: stops the server, removes the directory. */
  takeDown(): Promise<void>;
  /** What `check()` rejects with in each case. */
  checkErrors: { missing: RegExp; down: RegExp };
  dispose(): Promise<void>;
}

function processed(uuid: string, fields: Record<string, unknown> = {}): ProcessedCrash {
  return {
    uuid,
    signature: 'mozilla::Crash | ünïcode ✓',
    success: true,
    json_dump: { crashing_thread: 0, threads: [{ frames: [{ frame: 0, module: 'libxul.so', offset: '0x1234' }] }] },
    processor_notes: ['one', 'two'],
    uptime: 12.5,
    ...fields,
  };
}

export function processedCrashStoreContract(name: string, make: () => Promise<ProcessedCrashStoreSubject>): void {
  describe(`${name} processed crash store (contract)`, () => {
    const subjects: ProcessedCrashStoreSubject[] = [];
    const subject = async (): Promise<ProcessedCrashStoreSubject> => {
      const made = await make();
      subjects.push(made);
      return made;
    };
    afterEach(async () => {
      for (const made of subjects.splice(0)) await made.dispose();
    });

    it('saves a processed crash and reads it back; a missing one is undefined', async () => {
      const { store } = await subject();
      const id = createCrashId();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.exists(id)).toBe(false);
      const crash = processed(id);
      await store.save(crash);
      expect(await store.get(id)).toEqual(crash);
      expect(await store.exists(id)).toBe(true);
      const other = createCrashId();
      expect(await store.exists(other)).toBe(false);
      expect(await store.get(other)).toBeUndefined();
    });

    it('replaces a crash whole when it is saved again (reprocessing)', async () => {
      const { store } = await subject();
      const id = createCrashId();
      await store.save(processed(id, { only_in_first: 1 }));
      const second = processed(id, { signature: 'reprocessed', processor_notes: ['again'] });
      await store.save(second);
      const back = await store.get(id);
      expect(back).toEqual(second);
      expect(back).not.toHaveProperty('only_in_first');
      expect(await store.exists(id)).toBe(true);
    });

    it('deletes crashes (retention); deleting a missing one is harmless', async () => {
      const { store } = await subject();
      const [a, b] = [createCrashId(), createCrashId()];
      await store.save(processed(a));
      await store.save(processed(b));
      await store.delete([a, createCrashId()]);
      expect(await store.exists(a)).toBe(false);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.get(b)).toEqual(processed(b));
      await store.delete([a]);
      await store.save(processed(a, { signature: 'again' }));
      expect((await store.get(a))?.signature).toBe('again');
      await expect(store.delete(['../x'])).rejects.toThrow();
    });

    it('keeps crashes apart', async () => {
      const { store } = await subject();
      const ids = [createCrashId(), createCrashId(new Date(Date.UTC(2025, 0, 1))), createCrashId(new Date(Date.UTC(2026, 5, 30)))];
      for (const id of ids) await store.save(processed(id, { mine: id }));
      for (const id of ids) expect((await store.get(id))?.mine).toBe(id);
    });

    it('refuses ids that are not crash ids', async () => {
      const { store } = await subject();
      await expect(store.get('../../etc/passwd')).rejects.toThrow(/not a crash id/);
      await expect(store.save(processed('../x'))).rejects.toThrow(/not a crash id/);
    });

    it('passes its check when it works, and fails it, quickly and in words, when the store is missing or down', async () => {
      const made = await subject();
      await made.store.check();
      await expect((await made.missing()).check()).rejects.toThrow(made.checkErrors.missing);
      await made.takeDown();
      const started = Date.now();
      await expect(made.store.check()).rejects.toThrow(made.checkErrors.down);
      expect(Date.now() - started).toBeLessThan(15_000);
    }, 30_000);
  });
}
