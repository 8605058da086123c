import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgBugLinks } from '../../src/adapters/pg-bug-links.js';
import { SqliteBugLinks } from '../../src/adapters/sqlite-bug-links.js';
import { bugLinksContract } from './bug-links.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from './pg-support.js';

bugLinksContract('SQLite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bug-links-'));
  const store = SqliteBugLinks.open(join(dir, 'mayday.sqlite'), { now: clock.now });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

bugLinksContract(
  'PostgreSQL',
  async (clock) => {
    const schema = freshSchema();
    const store = await PgBugLinks.open({ connectionString: pgUrl, schema, now: clock.now });
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
