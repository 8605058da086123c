import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobLedger } from '../../src/adapters/sqlite-job-ledger.js';
import { jobLedgerContract } from './job-ledger.contract.js';

jobLedgerContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-job-ledger-'));
  const ledger = SqliteJobLedger.open(join(dir, 'mayday.sqlite'));
  return {
    ledger,
    dispose: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
