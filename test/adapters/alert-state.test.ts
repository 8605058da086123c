import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgAlertState } from '../../src/adapters/pg-alert-state.js';
import { SqliteAlertState } from '../../src/adapters/sqlite-alert-state.js';
import { alertStateContract } from './alert-state.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from './pg-support.js';

alertStateContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-alert-state-'));
  const store = SqliteAlertState.open(join(dir, 'mayday.sqlite'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

alertStateContract(
  'PostgreSQL',
  async () => {
    const schema = freshSchema();
    const store = await PgAlertState.open({ connectionString: pgUrl, schema });
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);
