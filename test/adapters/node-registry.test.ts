import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PgNodeRegistry } from '../../src/adapters/pg-node-registry.js';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';
import { nodeRegistryContract } from './node-registry.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl, withSchema } from './pg-support.js';

nodeRegistryContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-registry-'));
  const file = join(dir, 'mayday.sqlite');
  const registry = SqliteNodeRegistry.open(file);
  return {
    registry,
    openAnother: async () => SqliteNodeRegistry.open(file),
    dispose: async () => {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

nodeRegistryContract(
  'PostgreSQL',
  async () => {
    const schema = freshSchema();
    const registry = await PgNodeRegistry.open({ connectionString: pgUrl, schema });
    return {
      registry,
      openAnother: () => PgNodeRegistry.open({ connectionString: pgUrl, schema }),
      dispose: async () => {
        await registry.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);

describe.skipIf(pgSkip !== false)(`PostgreSQL node registry${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('gives up on a statement that runs past the statement timeout', async () => {
    const schema = freshSchema();
    const registry = await PgNodeRegistry.open({ connectionString: pgUrl, schema, statementTimeoutMs: 200, poolSize: 1 });
    try {
      await registry.report({ id: 'a@h:1', name: 'a', host: 'h', pid: 1, roles: [], version: '1', url: 'http://h', startedAt: 0, lastSeen: Date.now(), stats: {} });
      await withSchema(schema, async (client) => {
        // Another session holds the node's row: the update waits, then is cancelled.
        await client.query('BEGIN');
        await client.query("SELECT * FROM registry_nodes WHERE id = 'a@h:1' FOR UPDATE");
        const started = Date.now();
        await expect(registry.forget('a@h:1')).rejects.toThrow(/statement timeout/);
        expect(Date.now() - started).toBeLessThan(5_000);
        await client.query('ROLLBACK');
      });
      // The pool's connection is still good afterwards.
      expect((await registry.nodes(60_000)).map((n) => n.id)).toEqual(['a@h:1']);
    } finally {
      await registry.close();
      await dropSchema(schema);
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(PgNodeRegistry.open({ connectionString: pgUrl, schema: 'x; DROP TABLE y' })).rejects.toThrow(/invalid schema name/);
  });
});
