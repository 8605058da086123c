import { describe, expect, it } from 'vitest';
import { PgMissingSymbolsLog } from '../../src/adapters/pg-missing-symbols.js';
import { PgNodeRegistry } from '../../src/adapters/pg-node-registry.js';
import { PgAccountStore } from '../../src/auth/pg-account-store.js';
import { PgTokenStore } from '../../src/auth/pg-token-store.js';
import { accountStoreContract } from './account-store.contract.js';
import { openPgAuth, openSqliteAuth } from './auth-subjects.js';
import { dropSchema, freshSchema, pgSkip, pgUrl, withSchema } from './pg-support.js';

accountStoreContract('SQLite', openSqliteAuth);
accountStoreContract('PostgreSQL', openPgAuth, pgSkip);

describe.skipIf(pgSkip !== false)(`PostgreSQL stores' migrations${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('lets nodes starting together on a new schema create it and migrate each component once', async () => {
    const schema = freshSchema();
    const options = { connectionString: pgUrl, schema, poolSize: 1 };
    try {
      const stores = await Promise.all([
        PgAccountStore.open(options),
        PgTokenStore.open(options),
        PgAccountStore.open(options),
        PgTokenStore.open(options),
        PgNodeRegistry.open(options),
        PgNodeRegistry.open(options),
        PgMissingSymbolsLog.open(options),
        PgMissingSymbolsLog.open(options),
      ]);
      for (const store of stores) await store.close();
      const applied = await withSchema(schema, async (client) => (await client.query('SELECT component, version FROM schema_migrations ORDER BY component, version')).rows);
      expect(applied).toEqual([
        { component: 'auth', version: 1 },
        { component: 'auth', version: 2 },
        { component: 'auth', version: 3 },
        { component: 'registry', version: 1 },
        { component: 'symbols', version: 1 },
      ]);
      // The default groups were made once.
      expect(await withSchema(schema, async (client) => (await client.query('SELECT count(*)::int AS n FROM groups')).rows[0].n)).toBe(3);
    } finally {
      await dropSchema(schema);
    }
  });

  it('refuses a database migrated by a newer Mayday', async () => {
    const schema = freshSchema();
    try {
      await (await PgAccountStore.open({ connectionString: pgUrl, schema })).close();
      await withSchema(schema, (client) => client.query("INSERT INTO schema_migrations VALUES ('auth', 4, 'from the future', '2030-01-01')"));
      await expect(PgTokenStore.open({ connectionString: pgUrl, schema })).rejects.toThrow(/auth schema version 4 in the database is newer than this Mayday knows \(3\)/);
    } finally {
      await dropSchema(schema);
    }
  });
});
