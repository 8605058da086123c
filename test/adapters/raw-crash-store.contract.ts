import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrashId } from '../../src/common/crash-id.js';
import type { RawCrash, RawCrashStore } from '../../src/ports/raw-crash-store.js';

/**
 * The raw crash store contract: the filesystem and S3 stores must both pass exactly these
 * tests, so that the collector, the processor and the sweepers may not tell them apart.
 */

export interface RawCrashStoreSubject {
  store: RawCrashStore;
  /** A store of the same kind whose bucket (or directory) does not exist. */
  missing(): Promise<RawCrashStore>;
  /** Takes the back end away under `store`: stops the server, removes the directory. */
  takeDown(): Promise<void>;
  /** What `check()` rejects with in each case: words that say what is wrong. */
  checkErrors: { missing: RegExp; down: RegExp };
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

const DAY_A = new Date(Date.UTC(2026, 10, 28));
const DAY_B = new Date(Date.UTC(2026, 10, 29));

export function rawCrash(uuid: string, extra: Partial<RawCrash['metadata']> = {}): RawCrash {
  return {
    uuid,
    submitted_timestamp: '2026-11-28T12:00:00.000Z',
    annotations: { ProductName: 'Example', Version: '1.0', Notes: 'ünïcode ✓' },
    metadata: {
      collector_notes: ['a note'],
      dumps: {},
      payload: 'multipart',
      payload_compressed: false,
      user_agent: 'contract/1',
      throttle_result: 'accept',
      throttle_rule: 'test',
      ...extra,
    },
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** `total` bytes in `chunk`-sized pieces, generated as read (never whole in memory), deterministic. */
function generated(total: number, chunk = 64 * 1024, failAfter?: number): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let resolveDigest!: (digest: string) => void;
  const digest = new Promise<string>((resolve) => (resolveDigest = resolve));
  async function* pieces(): AsyncGenerator<Buffer> {
    let sent = 0;
    let counter = 0;
    while (sent < total) {
      if (failAfter !== undefined && sent >= failAfter) throw new Error('client went away mid-dump');
      const piece = Buffer.alloc(Math.min(chunk, total - sent));
      for (let i = 0; i < piece.length; i++) piece[i] = (Math.imul(counter++, 2654435761) >>> 24) & 0xff;
      hash.update(piece);
      sent += piece.length;
      yield piece;
    }
    resolveDigest(hash.digest('hex'));
  }
  return { stream: Readable.from(pieces(), { objectMode: false }), sha256: digest };
}

export function rawCrashStoreContract(name: string, make: () => Promise<RawCrashStoreSubject>): void {
  describe(`${name} raw crash store (contract)`, () => {
    const subjects: RawCrashStoreSubject[] = [];
    const subject = async (): Promise<RawCrashStoreSubject> => {
      const made = await make();
      subjects.push(made);
      return made;
    };
    afterEach(async () => {
      for (const made of subjects.splice(0)) await made.dispose();
    });

    it('streams dumps in, commits, and reads the crash and each dump back', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      const main = Buffer.from('MDMP' + 'x'.repeat(100_000));
      const browser = Buffer.from('MDMP-browser');
      const mainInfo = await writer.addDump('upload_file_minidump', Readable.from([main.subarray(0, 50), main.subarray(50)]));
      const browserInfo = await writer.addDump('upload_file_minidump_browser', Readable.from([browser]));
      expect(mainInfo).toEqual({ size: main.length, sha256: sha256(main) });
      expect(browserInfo).toEqual({ size: browser.length, sha256: sha256(browser) });
      await expect(writer.addDump('upload_file_minidump', Readable.from([browser]))).rejects.toThrow(/already added/);
      const crash = rawCrash(id, { dumps: { upload_file_minidump: mainInfo, upload_file_minidump_browser: browserInfo } });
      await writer.commit(crash);
      expect(await store.get(id)).toEqual(crash);
      expect(await store.getDump(id, 'upload_file_minidump')).toEqual(main);
      expect(await store.getDump(id, 'upload_file_minidump_browser')).toEqual(browser);
      expect(await store.getDump(id, 'missing')).toBeUndefined();
      expect(await store.getDump(id, 'constructor')).toBeUndefined();
      expect(await store.get(createCrashId(DAY_A))).toBeUndefined();
      await expect(writer.commit(crash)).rejects.toThrow(/already committed/);
    });

    it('stores an empty dump as an empty dump', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      expect(await writer.addDump('upload_file_minidump', Readable.from([]))).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      await writer.commit(rawCrash(id));
      expect(await store.getDump(id, 'upload_file_minidump')).toEqual(Buffer.alloc(0));
    });

    it('shows nothing of a crash before it is committed', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('MDMP-early')]));
      expect(await store.get(id)).toBeUndefined();
      expect(await store.getDump(id, 'upload_file_minidump')).toBeUndefined();
      expect(await collect(store.listDay('20261128'))).toEqual([]);
      await writer.commit(rawCrash(id));
      expect(await store.getDump(id, 'upload_file_minidump')).toEqual(Buffer.from('MDMP-early'));
      expect(await collect(store.listDay('20261128'))).toEqual([id]);
    });

    it('discards an aborted crash, and aborting twice is harmless', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('abc')]));
      await writer.abort();
      await writer.abort();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.getDump(id, 'upload_file_minidump')).toBeUndefined();
      expect(await collect(store.listDay('20261128'))).toEqual([]);
      await expect(writer.addDump('other', Readable.from([Buffer.from('x')]))).rejects.toThrow(/committed or aborted/);
      await expect(writer.commit(rawCrash(id))).rejects.toThrow(/committed or aborted/);
    });

    it('leaves a committed crash alone when aborted afterwards', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      await writer.addDump('upload_file_minidump', Readable.from([Buffer.from('kept')]));
      await writer.commit(rawCrash(id));
      await writer.abort();
      expect((await store.get(id))?.uuid).toBe(id);
      expect(await store.getDump(id, 'upload_file_minidump')).toEqual(Buffer.from('kept'));
    });

    for (const [what, total, failAfter] of [
      ['a small dump', 200_000, 64 * 1024],
      ['a dump past the first 5 MiB', 12 * 1024 * 1024, 6 * 1024 * 1024],
    ] as const) {
      it(`rejects addDump when the stream of ${what} fails mid-way, and the crash can then be aborted`, async () => {
        const { store } = await subject();
        const id = createCrashId(DAY_A);
        const writer = await store.begin(id);
        await writer.addDump('upload_file_minidump_extra', Readable.from([Buffer.from('fine')]));
        await expect(writer.addDump('upload_file_minidump', generated(total, 64 * 1024, failAfter).stream)).rejects.toThrow(/client went away/);
        await writer.abort();
        await writer.abort();
        expect(await store.get(id)).toBeUndefined();
        expect(await store.getDump(id, 'upload_file_minidump_extra')).toBeUndefined();
        expect(await collect(store.listDay('20261128'))).toEqual([]);
      });
    }

    it('aborts without waiting for a dump that is still streaming in', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      const stalled = new PassThrough();
      stalled.write(Buffer.from('MDMP-and-then-nothing'));
      const pending = writer.addDump('upload_file_minidump', stalled);
      pending.catch(() => undefined);
      const started = Date.now();
      await writer.abort();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await store.get(id)).toBeUndefined();
      expect(await store.getDump(id, 'upload_file_minidump')).toBeUndefined();
      stalled.destroy();
    });

    it('lists only the committed crashes of the day asked for', async () => {
      const { store } = await subject();
      const commit = async (day: Date): Promise<string> => {
        const id = createCrashId(day);
        const writer = await store.begin(id);
        await writer.addDump('upload_file_minidump', Readable.from([Buffer.from(id)]));
        await writer.commit(rawCrash(id));
        return id;
      };
      const dayA = [await commit(DAY_A), await commit(DAY_A), await commit(DAY_A)].sort();
      const dayB = [await commit(DAY_B)];
      const uncommitted = await store.begin(createCrashId(DAY_A));
      await uncommitted.addDump('upload_file_minidump', Readable.from([Buffer.from('pending')]));
      const aborted = await store.begin(createCrashId(DAY_A));
      await aborted.addDump('upload_file_minidump', Readable.from([Buffer.from('gone')]));
      await aborted.abort();
      expect((await collect(store.listDay('20261128'))).sort()).toEqual(dayA);
      expect(await collect(store.listDay('20261129'))).toEqual(dayB);
      expect(await collect(store.listDay('20261127'))).toEqual([]);
      expect(await collect(store.listDay('2026112'))).toEqual([]);
      expect(await collect(store.listDay('../etc'))).toEqual([]);
      await uncommitted.abort();
    });

    it('lists its days and deletes crashes whole, dumps included (retention)', async () => {
      const { store } = await subject();
      const commit = async (day: Date, dumps: string[]): Promise<string> => {
        const id = createCrashId(day);
        const writer = await store.begin(id);
        for (const name of dumps) await writer.addDump(name, Readable.from([Buffer.from(`${name} of ${id}`)]));
        await writer.commit(rawCrash(id));
        return id;
      };
      const a1 = await commit(DAY_A, ['upload_file_minidump', 'upload_file_minidump_browser']);
      const a2 = await commit(DAY_A, ['upload_file_minidump']);
      const b1 = await commit(DAY_B, []);
      expect(await store.days()).toEqual(['20261128', '20261129']);
      await store.delete([a1, createCrashId(DAY_A)]);
      expect(await store.get(a1)).toBeUndefined();
      expect(await store.getDump(a1, 'upload_file_minidump')).toBeUndefined();
      expect(await store.getDump(a1, 'upload_file_minidump_browser')).toBeUndefined();
      expect(await collect(store.listDay('20261128'))).toEqual([a2]);
      expect(await store.getDump(a2, 'upload_file_minidump')).toEqual(Buffer.from(`upload_file_minidump of ${a2}`));
      await store.delete([a2]);
      await store.delete([a2]);
      expect(await store.days()).toEqual(['20261129']);
      expect(await store.get(b1)).toBeDefined();
      // A day emptied by retention takes crashes again.
      const a3 = await commit(DAY_A, ['upload_file_minidump']);
      expect(await collect(store.listDay('20261128'))).toEqual([a3]);
      await expect(store.delete(['../../etc/passwd'])).rejects.toThrow();
    });

    it('round-trips a 12 MB dump streamed in small chunks, with its sha256', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      const total = 12 * 1024 * 1024 + 123;
      const dump = generated(total);
      const info = await writer.addDump('upload_file_minidump', dump.stream);
      const expected = await dump.sha256;
      expect(info).toEqual({ size: total, sha256: expected });
      await writer.commit(rawCrash(id, { dumps: { upload_file_minidump: info } }));
      const back = await store.getDump(id, 'upload_file_minidump');
      expect(back?.length).toBe(total);
      expect(sha256(back!)).toBe(expected);
    }, 60_000);

    it('refuses unsafe dump names and crash ids', async () => {
      const { store } = await subject();
      const id = createCrashId(DAY_A);
      const writer = await store.begin(id);
      await expect(writer.addDump('../escape', Readable.from([Buffer.from('x')]))).rejects.toThrow(/unsafe dump name/);
      await expect(writer.addDump('a/b', Readable.from([Buffer.from('x')]))).rejects.toThrow(/unsafe dump name/);
      await writer.abort();
      expect(await store.getDump(id, '../../etc/passwd')).toBeUndefined();
      await expect(store.get('../../etc')).rejects.toThrow(/not a crash id/);
      await expect(store.begin('../../../../tmp/x-0000-0000-0000-000000000000')).rejects.toThrow(/not a crash id/);
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
