import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { inTransaction, withPooledClient } from '../../src/adapters/pg-database.js';
import { pgSkip, pgUrl } from './pg-support.js';

/**
 * A connection checked out of the pool has no error listener of the pool's: when the server
 * ends it between two of its queries (PostgreSQL stopped, an administrator's
 * `pg_terminate_backend`), it emits 'error', which ended processors before. Here the server
 * ends one in the middle of a transaction; the caller gets the error from its next query,
 * nothing is thrown at the process, and the pool serves the next caller on a new connection.
 */
describe.skipIf(pgSkip)(`a pooled connection ended by the server${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('fails the transaction, not the process, and is not given back to the pool', async () => {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 1 });
    pool.on('error', () => undefined);
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    try {
      let endedPid = 0;
      await expect(
        inTransaction(pool, async (client) => {
          endedPid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
          await admin.query('SELECT pg_terminate_backend($1)', [endedPid]);
          // The termination arrives while no query runs on the connection.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await client.query('SELECT 1');
        }),
      ).rejects.toThrow(/terminat|Connection/i);
      const next = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      expect(next).not.toBe(endedPid);
      // Outside a transaction too.
      await expect(
        withPooledClient(pool, async (client) => {
          await admin.query('SELECT pg_terminate_backend($1)', [next]);
          await new Promise((resolve) => setTimeout(resolve, 300));
          return client.query('SELECT 1');
        }),
      ).rejects.toThrow(/terminat|Connection/i);
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
