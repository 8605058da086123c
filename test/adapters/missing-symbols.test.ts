import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PgMissingSymbolsLog } from '../../src/adapters/pg-missing-symbols.js';
import { SqliteMissingSymbolsLog } from '../../src/adapters/sqlite-missing-symbols.js';
import type { MissingSymbolsLog } from '../../src/ports/symbol-store.js';
import { missingSymbolsContract } from './missing-symbols.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from './pg-support.js';

missingSymbolsContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-missing-symbols-'));
  const file = join(dir, 'mayday.sqlite');
  let log: MissingSymbolsLog = SqliteMissingSymbolsLog.open(file);
  return {
    log,
    reopen: async () => {
      await log.close();
      return (log = SqliteMissingSymbolsLog.open(file));
    },
    dispose: async () => {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

missingSymbolsContract(
  'PostgreSQL',
  async () => {
    const schema = freshSchema();
    let log: MissingSymbolsLog = await PgMissingSymbolsLog.open({ connectionString: pgUrl, schema });
    return {
      log,
      reopen: async () => {
        await log.close();
        return (log = await PgMissingSymbolsLog.open({ connectionString: pgUrl, schema }));
      },
      dispose: async () => {
        await log.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);

describe.skipIf(pgSkip !== false)(`PostgreSQL missing-symbols log${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('ends with one writer\'s rows when two processors record the same crash at once', async () => {
    const schema = freshSchema();
    const log = await PgMissingSymbolsLog.open({ connectionString: pgUrl, schema, poolSize: 8 });
    try {
      const modules = (prefix: string) => Array.from({ length: 50 }, (_, i) => ({ debugFile: `${prefix}${i}.so`, debugId: 'AB', codeFile: null, codeId: null }));
      for (let round = 0; round < 5; round++) {
        await Promise.all([log.record({ crashId: 'c1', submittedAt: 1, os: null, cpu: null }, modules('a')), log.record({ crashId: 'c1', submittedAt: 1, os: null, cpu: null }, modules('b'))]);
        const files = (await log.list({ since: 0, limit: 1000 })).map((r) => r.debugFile[0]);
        expect(files).toHaveLength(50);
        expect(new Set(files).size).toBe(1);
      }
    } finally {
      await log.close();
      await dropSchema(schema);
    }
  });
});
