import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MissingModule, MissingSymbolsLog } from '../../src/ports/symbol-store.js';

/**
 * The missing-symbols log contract: every adapter (SQLite, PostgreSQL) must pass exactly
 * these tests, so that the missing-symbols report and its reprocessing mean the same
 * whichever database holds the log.
 */

export interface MissingSymbolsSubject {
  log: MissingSymbolsLog;
  /** Closes the log and opens it again on the same database. */
  reopen(): Promise<MissingSymbolsLog>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

const DAY = 86_400_000;
const ID = '0123456789ABCDEF0123456789ABCDEF0';
const mod = (debugFile: string, extra: Partial<MissingModule> = {}): MissingModule => ({ debugFile, debugId: ID, codeFile: debugFile, codeId: 'C0DE', ...extra });

export function missingSymbolsContract(name: string, open: () => Promise<MissingSymbolsSubject>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`missing-symbols log contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let subject: MissingSymbolsSubject;
    let log: MissingSymbolsLog;
    beforeEach(async () => {
      subject = await open();
      log = subject.log;
    });
    afterEach(async () => {
      await subject?.dispose();
    });

    it('lists modules most frequent first, within the window', async () => {
      const now = Date.now();
      await log.record({ crashId: 'c1', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libb.so')]);
      await log.record({ crashId: 'c2', submittedAt: now - 1000, os: 'Linux', cpu: 'amd64' }, [mod('libb.so')]);
      await log.record({ crashId: 'c3', submittedAt: now - 10 * DAY, os: 'Linux', cpu: 'amd64' }, [mod('libold.so'), mod('liba.so'), mod('liba.so')]);
      const rows = await log.list({ since: now - 7 * DAY, limit: 10 });
      expect(rows.map((r) => [r.debugFile, r.crashCount])).toEqual([['libb.so', 2], ['liba.so', 1]]);
      expect(rows[0]).toEqual({ debugFile: 'libb.so', debugId: ID, codeFile: 'libb.so', codeId: 'C0DE', os: 'Linux', cpu: 'amd64', crashCount: 2, lastSeen: now });
      expect((await log.list({ since: 0, limit: 1, offset: 1 })).map((r) => r.debugFile)).toEqual(['libb.so']);
      expect(await log.crashesMissing({ debugFile: 'liba.so', debugId: ID }, now - 7 * DAY, 100)).toEqual(['c1']);
      expect(await log.crashesMissing({ debugFile: 'liba.so', debugId: ID }, 0, 100)).toEqual(['c1', 'c3']);
      expect(await log.crashesMissing({ debugFile: 'liba.so', debugId: ID }, 0, 1)).toEqual(['c1']);
      expect(await log.crashesMissing({ debugFile: 'liba.so', debugId: 'F'.repeat(33) }, 0, 100)).toEqual([]);
    });

    it('forgets crashes submitted before a time (pruning)', async () => {
      const now = Date.now();
      await log.record({ crashId: 'c1', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libb.so')]);
      await log.record({ crashId: 'c2', submittedAt: now - 400 * DAY, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libc.so')]);
      expect(await log.prune(now - 365 * DAY)).toBe(2);
      expect((await log.list({ since: 0, limit: 10 })).map((r) => [r.debugFile, r.crashCount])).toEqual([['liba.so', 1], ['libb.so', 1]]);
      expect(await log.prune(now - 365 * DAY)).toBe(0);
    });

    it('breaks ties by the newest crash, then by debug file and id in byte order', async () => {
      await log.record({ crashId: 'c1', submittedAt: 1000, os: null, cpu: null }, [mod('b.so'), mod('_.so'), mod('B.so'), mod('a.so', { debugId: 'B' }), mod('a.so', { debugId: 'A' })]);
      await log.record({ crashId: 'c2', submittedAt: 2000, os: null, cpu: null }, [mod('z.so')]);
      expect((await log.list({ since: 0, limit: 10 })).map((r) => `${r.debugFile}/${r.debugId}`)).toEqual([`z.so/${ID}`, `B.so/${ID}`, `_.so/${ID}`, 'a.so/A', 'a.so/B', `b.so/${ID}`]);
    });

    it('replaces a crash\'s rows when it is recorded again (reprocessing)', async () => {
      await log.record({ crashId: 'c1', submittedAt: 1, os: null, cpu: null }, [mod('liba.so'), mod('libb.so')]);
      await log.record({ crashId: 'c2', submittedAt: 2, os: null, cpu: null }, [mod('libb.so')]);
      await log.record({ crashId: 'c1', submittedAt: 1, os: null, cpu: null }, [mod('libb.so')]);
      expect((await log.list({ since: 0, limit: 10 })).map((r) => [r.debugFile, r.crashCount])).toEqual([['libb.so', 2]]);
      await log.record({ crashId: 'c1', submittedAt: 1, os: null, cpu: null }, []);
      await log.record({ crashId: 'c2', submittedAt: 2, os: null, cpu: null }, []);
      expect(await log.list({ since: 0, limit: 10 })).toEqual([]);
    });

    it('keeps one row per crash and module, the last one given', async () => {
      await log.record({ crashId: 'c1', submittedAt: 5, os: 'Windows NT', cpu: 'x86' }, [mod('app.pdb', { codeFile: 'old.exe', codeId: 'OLD' }), mod('app.pdb', { codeFile: 'app.exe', codeId: null })]);
      expect(await log.list({ since: 0, limit: 10 })).toEqual([{ debugFile: 'app.pdb', debugId: ID, codeFile: 'app.exe', codeId: null, os: 'Windows NT', cpu: 'x86', crashCount: 1, lastSeen: 5 }]);
    });

    it('keeps no module whose key holds a NUL, and drops NULs from the other names', async () => {
      await log.record({ crashId: 'c1', submittedAt: 5, os: 'Li\u0000nux', cpu: '\u0000arm64' }, [
        mod('evil\u0000.so'),
        mod('evil.so', { debugId: 'AB\u0000' }),
        mod('good.so', { codeFile: 'good\u0000.so', codeId: 'C0\u0000DE' }),
      ]);
      expect(await log.list({ since: 0, limit: 10 })).toEqual([{ debugFile: 'good.so', debugId: ID, codeFile: 'good.so', codeId: 'C0DE', os: 'Linux', cpu: 'arm64', crashCount: 1, lastSeen: 5 }]);
      expect(await log.crashesMissing({ debugFile: 'evil\u0000.so', debugId: ID }, 0, 10)).toEqual([]);
    });

    it('keeps its rows across a restart', async () => {
      await log.record({ crashId: 'c1', submittedAt: 5, os: null, cpu: null }, [mod('liba.so')]);
      log = await subject.reopen();
      expect((await log.list({ since: 0, limit: 10 })).map((r) => r.debugFile)).toEqual(['liba.so']);
    });

    it('answers its health check, and closing twice is harmless', async () => {
      await log.check();
      await log.close();
      await log.close();
    });
  });
}
