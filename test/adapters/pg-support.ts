import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for the adapter tests, as `pg-crash-index.test.ts` finds it: with
 * MAYDAY_TEST_POSTGRES_URL set (CI sets it), the server must answer, and a connection
 * failure fails the tests. Without it, a server on the default local address is used if
 * one answers, else the PostgreSQL suites are skipped, saying why.
 */
const configured = process.env.MAYDAY_TEST_POSTGRES_URL;
export const pgUrl = configured ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 2000 });
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

/** False when the PostgreSQL suites run; otherwise why they are skipped. */
export const pgSkip: string | false = configured === undefined && !(await reachable()) ? `MAYDAY_TEST_POSTGRES_URL is not set and no PostgreSQL answers at ${pgUrl}` : false;

/** A schema name of its own per subject: parallel runs never see each other's rows. */
export function freshSchema(): string {
  return `mayday_test_${randomBytes(6).toString('hex')}`;
}

/** Runs SQL on a connection of its own, with `schema` first on the search path. */
export async function withSchema<T>(schema: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
