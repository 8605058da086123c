import pg from 'pg';
import { migrationsToApply, SCHEMA_MIGRATIONS_TABLE, type Migration } from './migrations.js';
import { NETWORK_ERROR_CODES } from './network-errors.js';

/**
 * Opens a PostgreSQL pool the way every Mayday store on PostgreSQL wants it (the
 * counterpart of `sqlite-database.ts`): the tables in one schema (created if missing), a
 * statement timeout on every statement, BIGINT and NUMERIC read as numbers, and the
 * caller's versioned migrations applied at start, recorded per component in
 * `schema_migrations` as on SQLite.
 *
 * It follows the conventions of `pg-crash-index.ts` (same options, same lock for
 * migrations), which keeps its own copy of these helpers for now.
 */
export type { Migration };

export interface PgStoreOptions {
  /** Where to connect, unless `pool` is given. */
  connectionString?: string;
  /**
   * A pool shared by a node's stores (`createPgPool`): one budget of connections per node
   * (`database.pool_size`) instead of one per store, which would exhaust the server's
   * `max_connections` with a few nodes. It ends when the last store using it closes.
   */
  pool?: pg.Pool;
  /** The schema holding Mayday's tables (created if missing); default: the connection's search_path. */
  schema?: string;
  /** Connections the store may hold (default 4). */
  poolSize?: number;
  /** The longest any statement may run, in ms, before PostgreSQL cancels it (default 30 s); migrations are not limited. */
  statementTimeoutMs?: number;
  /** How long getting a connection may take (default `CONNECT_TIMEOUT_MS`). */
  connectTimeoutMs?: number;
}

export const DEFAULT_POOL_SIZE = 4;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The advisory lock key pair under which migrations run: the same as `pg-crash-index`'s,
 * so that components of one schema starting together migrate one after the other (two
 * concurrent `CREATE TABLE IF NOT EXISTS schema_migrations` can otherwise both fail).
 */
export const MIGRATION_LOCK = [0x6d61, -1] as const;

/** Ids and ms timestamps are BIGINT, counts int8 or numeric: numbers here, as with SQLite (all far below 2^53). */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** PostgreSQL's `unique_violation`. */
export const UNIQUE_VIOLATION = '23505';

/** The SQLSTATE of a PostgreSQL error, if `error` is one. */
export function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/**
 * SQLSTATEs that say the server cannot serve anyone now, whatever the statement: class 08
 * (connection exceptions), the server shutting down or starting up (57P01 to 57P03), out
 * of connections (53300).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** What the pg driver says (plain errors, no code) when a connection ends or cannot be had in time. */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * Whether `error` (one error, not its causes) is how the pg driver reports a server it
 * cannot use now (down, restarting, unreachable, out of connections), rather than a fault
 * of the statement: the answer is then 503, and the work is tried again later. A network
 * error qualifies whatever raised it; callers that also talk to other servers tell those
 * apart first.
 */
export function isPgUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = pgErrorCode(error);
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || NETWORK_ERROR_CODES.has(code))) return true;
  return error instanceof Error && PG_CONNECTION_MESSAGES.test(error.message);
}

/**
 * How long getting a connection may take (connecting, or waiting for a free one in the
 * pool) before the query fails: a server that does not answer must turn a request into a
 * prompt 503, not hang it until the operating system gives up on the connection.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A pool on `options` with Mayday's settings (types, statement timeout, search path), not yet used by any store. */
export function createPgPool(options: PgStoreOptions): pg.Pool {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new Error(`invalid schema name "${options.schema}"`);
  if (options.connectionString === undefined) throw new Error('a PostgreSQL store needs a connection string or a pool');
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    types: TYPES,
    statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle connection the server drops (restart, failover) is reported here; without a
  // listener the process would exit. The next query reconnects or fails on its own.
  pool.on('error', () => undefined);
  return pool;
}

/** Stores using each pool: `closePool` ends a pool when its last store closes. */
const storesOf = new WeakMap<pg.Pool, number>();

/** The pool of `options` (the shared one, or a new one), with the schema created if needed and `component`'s migrations applied. */
export async function openPgPool(options: PgStoreOptions, component: string, migrations: readonly Migration[]): Promise<pg.Pool> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new Error(`invalid schema name "${options.schema}"`);
  const pool = options.pool ?? createPgPool(options);
  storesOf.set(pool, (storesOf.get(pool) ?? 0) + 1);
  try {
    await migratePg(pool, component, migrations, options.schema);
  } catch (error) {
    await closePool(pool);
    throw error;
  }
  return pool;
}

/**
 * Applies the migrations `component` still needs, under an advisory lock so that nodes
 * starting together apply each one once. The schema is created under the same lock, and
 * only when missing (`CREATE SCHEMA IF NOT EXISTS` needs the CREATE privilege on the
 * database even when the schema exists).
 */
export async function migratePg(pool: pg.Pool, component: string, migrations: readonly Migration[], schema?: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
    if (schema && (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 0) await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(SCHEMA_MIGRATIONS_TABLE);
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [component])).rows.map((r) => Number(r.version)));
    for (const migration of migrationsToApply(component, migrations, applied)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (component, version, description, applied_at) VALUES ($1, $2, $3, $4)', [
        component,
        migration.version,
        migration.description,
        new Date().toISOString(),
      ]);
    }
  });
}

/** The newest migration of `component` applied to the pool's schema (0 for none). */
export async function pgSchemaVersion(pool: pg.Pool, component: string): Promise<number> {
  const rows = (await pool.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = $1', [component])).rows;
  return Number(rows[0]!.v);
}

/**
 * A store is done with its pool: the pool ends when no store uses it any more. A second
 * call for an ended pool (a shutdown path run twice) does nothing.
 */
export async function closePool(pool: pg.Pool): Promise<void> {
  const stores = (storesOf.get(pool) ?? 1) - 1;
  storesOf.set(pool, Math.max(0, stores));
  if (stores <= 0 && !pool.ended && !pool.ending) await pool.end();
}

/**
 * Checks a connection out of the pool for `use`, and back in. While it is out, the pool does
 * not listen for its errors: a server that goes away between two of its queries (a restart,
 * an administrator's termination) would make it emit an unhandled 'error' and end the
 * process. The failing query reports the error to the caller; the event is only noted.
 */
export async function withPooledClient<T>(pool: pg.Pool, use: (client: pg.PoolClient, markBroken: (error: Error) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await use(client, (error) => {
      broken = error;
    });
  } finally {
    client.removeListener('error', onError);
    // A connection that failed is not given back to the pool.
    client.release(broken);
  }
}

/** Runs `work` in one transaction on one pooled connection: committed, or rolled back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withPooledClient(pool, async (client, markBroken) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is not given back to the pool.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => markBroken(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))));
      throw error;
    }
  });
}

