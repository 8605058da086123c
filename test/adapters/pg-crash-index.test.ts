import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgCrashIndex } from '../../src/adapters/pg-crash-index.js';
import { crashIndexContract } from './crash-index.contract.js';

/**
 * The crash index contract on PostgreSQL. With MAYDAY_TEST_POSTGRES_URL set (CI sets it),
 * the server must answer: a connection failure fails the tests. Without it, a server on
 * the default local address is used if one answers, else the suite is skipped.
 */
const configured = process.env.MAYDAY_TEST_POSTGRES_URL;
const url = configured ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const skip = configured === undefined && !(await reachable()) ? `MAYDAY_TEST_POSTGRES_URL is not set and no PostgreSQL answers at ${url}` : false;

crashIndexContract(
  'PostgreSQL',
  async () => {
    // A schema of its own per run: parallel runs never see each other's rows.
    const schema = `mayday_test_${randomBytes(6).toString('hex')}`;
    const index = await PgCrashIndex.open({ connectionString: url, schema });
    return {
      index,
      dispose: async () => {
        await index.close();
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  },
  skip,
);
