/**
 * The back ends a node's configuration chooses, one table per option: `storage.backend`,
 * `queue.backend`, `database.backend`. A back end is its adapter file plus one entry here;
 * the tables are keyed by the option's own values, so the compiler refuses a value without
 * an entry.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ResolvedPaths } from '../config/resolve.js';
import { UserError } from '../common/errors.js';
import { FsProcessedCrashStore } from '../adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../adapters/fs-raw-crash-store.js';
import pg from 'pg';
import { SqliteCrashIndex } from '../adapters/sqlite-crash-index.js';
import { SqliteNodeRegistry } from '../adapters/sqlite-node-registry.js';
import { SqliteMissingSymbolsLog } from '../adapters/sqlite-missing-symbols.js';
import { SqliteJobLedger } from '../adapters/sqlite-job-ledger.js';
import { createPgPool } from '../adapters/pg-database.js';
import { PgCrashIndex } from '../adapters/pg-crash-index.js';
import { PgNodeRegistry } from '../adapters/pg-node-registry.js';
import { PgMissingSymbolsLog } from '../adapters/pg-missing-symbols.js';
import { PgJobLedger } from '../adapters/pg-job-ledger.js';
import { PgAlertState } from '../adapters/pg-alert-state.js';
import { SqliteAlertState } from '../adapters/sqlite-alert-state.js';
import { PgOpsHistory } from '../adapters/pg-ops-history.js';
import { SqliteOpsHistory } from '../adapters/sqlite-ops-history.js';
import { PgBugLinks } from '../adapters/pg-bug-links.js';
import { SqliteBugLinks } from '../adapters/sqlite-bug-links.js';
import { SqliteTokenStore } from '../auth/token-store.js';
import { SqliteAccountStore } from '../auth/account-store.js';
import { PgTokenStore } from '../auth/pg-token-store.js';
import { PgAccountStore } from '../auth/pg-account-store.js';
import type { NodeRegistry } from '../ports/node-registry.js';
import type { MissingSymbolsLog } from '../ports/symbol-store.js';
import type { TokenStore } from '../ports/token-store.js';
import type { AccountStore } from '../ports/account-store.js';
import type { JobLedger } from '../ports/job-ledger.js';
import type { AlertStateStore } from '../ports/alert-state.js';
import type { OpsHistoryStore } from '../ports/ops-history.js';
import type { BugLinkStore } from '../ports/bug-links.js';
import { SqliteQueue } from '../adapters/sqlite-queue.js';
import { RabbitMqQueue } from '../adapters/rabbitmq-queue.js';
import type { S3StoreOptions } from '../adapters/s3-client.js';
import { S3ProcessedCrashStore } from '../adapters/s3-processed-crash-store.js';
import { S3RawCrashStore } from '../adapters/s3-raw-crash-store.js';
import type { CrashIndex } from '../ports/crash-index.js';
import { FieldCatalogError, fieldCatalogFromConfig, type FieldCatalog } from '../schema/field-catalog.js';
import type { ProcessedCrashStore } from '../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../ports/queue.js';
import type { RawCrashStore } from '../ports/raw-crash-store.js';

/** The adapters a node built from its configuration; roles receive them as ports. */
export interface Adapters {
  rawCrashStore: RawCrashStore;
  processedCrashStore: ProcessedCrashStore;
  queue: ProcessingQueue;
  crashIndex: CrashIndex;
}

interface Context {
  readonly config: Config;
  readonly paths: ResolvedPaths;
  readonly roles: ReadonlySet<string>;
  readonly log?: Logger;
  /** The node's fields (`[annotations.fields.*]` beside the built-in ones): the crash index keeps the declared ones. */
  readonly fields: FieldCatalog;
}

/**
 * What the database back end holds besides the crash index. Tokens and accounts exist on
 * nodes with the web role, the job ledger on nodes with the web or scheduler role.
 */
export interface DatabaseStores {
  readonly crashIndex: CrashIndex;
  readonly registry: NodeRegistry;
  readonly missingSymbols: MissingSymbolsLog;
  readonly tokens?: TokenStore;
  readonly accounts?: AccountStore;
  readonly jobLedger?: JobLedger;
  /** Alerts and their notices: on nodes with the scheduler (which evaluates them) or web role (the Dashboard lists them). */
  readonly alertState?: AlertStateStore;
  /** The Dashboard's history of component figures: recorded and read by web nodes, read by the scheduler (queue_growing alerts). */
  readonly opsHistory?: OpsHistoryStore;
  /** Links between signatures and bugs: shown and edited by web nodes. */
  readonly bugLinks?: BugLinkStore;
  /** The node's PostgreSQL pool, when the database is PostgreSQL (the RabbitMQ queue keeps its bookkeeping there). */
  readonly pgPool?: pg.Pool;
}

type CrashStorage = Pick<Adapters, 'rawCrashStore' | 'processedCrashStore'>;

const STORAGE: Record<Config['storage']['backend'], (context: Context) => Promise<CrashStorage>> = {
  fs: async ({ config, paths }) => ({
    rawCrashStore: await FsRawCrashStore.open(paths.raw, { fsync: config.storage.fsync }),
    processedCrashStore: await FsProcessedCrashStore.open(paths.processed),
  }),
  s3: async ({ config }) => {
    const options = s3CrashStoreOptions(config);
    return { rawCrashStore: new S3RawCrashStore(options), processedCrashStore: new S3ProcessedCrashStore(options) };
  },
};

/** The S3 options of the crash stores, named as the symbol store's (`storage.s3_*`). */
function s3CrashStoreOptions(config: Config): S3StoreOptions {
  const c = config.storage;
  // The configuration's requirements refuse backend = s3 without a bucket before this runs.
  if (!c.s3_bucket) throw new UserError('storage.backend = s3 needs storage.s3_bucket');
  return {
    bucket: c.s3_bucket,
    prefix: c.s3_prefix,
    endpoint: c.s3_endpoint,
    region: c.s3_region,
    accessKeyId: c.s3_access_key_id,
    secretAccessKey: c.s3_secret_access_key,
    forcePathStyle: c.s3_force_path_style,
  };
}

const QUEUE: Record<Config['queue']['backend'], (context: Context, database: DatabaseStores) => Promise<ProcessingQueue>> = {
  sqlite: async ({ config, paths }) => SqliteQueue.open(paths.queue, { visibilityTimeoutMs: config.queue.visibility_timeout, fsync: config.queue.fsync }),
  rabbitmq: async ({ config, roles, log }, database) => {
    const c = config.queue;
    // The configuration's requirements refuse rabbitmq without a URL or on SQLite before this runs.
    if (!c.url) throw new UserError('queue.backend = rabbitmq needs queue.url');
    if (!database.pgPool) throw new UserError('queue.backend = rabbitmq keeps its bookkeeping in PostgreSQL: set database.backend = postgresql');
    return RabbitMqQueue.open({
      url: c.url,
      prefix: c.prefix,
      prefetch: c.prefetch,
      pg: database.pgPool,
      connectionName: config.node.name,
      consume: roles.has('processor'),
      // An operator looking at a node's log should see the broker go and come back.
      onConnectionChange: ({ link, connected, error }) =>
        connected ? log?.info({ link }, 'connected to RabbitMQ') : log?.warn({ link, err: error }, 'lost the connection to RabbitMQ; reconnecting'),
    });
  },
};

const DATABASE: Record<Config['database']['backend'], (context: Context) => Promise<DatabaseStores>> = {
  sqlite: async ({ paths, roles, fields }) => {
    const file = paths.database;
    return {
      crashIndex: SqliteCrashIndex.open(file, { fields }),
      registry: SqliteNodeRegistry.open(file),
      missingSymbols: SqliteMissingSymbolsLog.open(file),
      tokens: roles.has('web') ? SqliteTokenStore.open(file) : undefined,
      accounts: roles.has('web') ? SqliteAccountStore.open(file) : undefined,
      jobLedger: roles.has('web') || roles.has('scheduler') ? SqliteJobLedger.open(file) : undefined,
      alertState: roles.has('web') || roles.has('scheduler') ? SqliteAlertState.open(file) : undefined,
      opsHistory: roles.has('web') || roles.has('scheduler') ? SqliteOpsHistory.open(file) : undefined,
      bugLinks: roles.has('web') ? SqliteBugLinks.open(file) : undefined,
    };
  },
  postgresql: async ({ config, roles, fields }) => {
    const c = config.database;
    // The configuration's requirements refuse backend = postgresql without a URL before this runs.
    if (!c.url) throw new UserError('database.backend = postgresql needs database.url');
    // One pool for all of the node's stores: `database.pool_size` connections per node.
    const pool = createPgPool({ connectionString: c.url, schema: c.schema, poolSize: c.pool_size, statementTimeoutMs: c.statement_timeout });
    const options = { pool, schema: c.schema, statementTimeoutMs: c.statement_timeout };
    return {
      crashIndex: await PgCrashIndex.open({ ...options, fields }),
      registry: await PgNodeRegistry.open(options),
      missingSymbols: await PgMissingSymbolsLog.open(options),
      tokens: roles.has('web') ? await PgTokenStore.open(options) : undefined,
      accounts: roles.has('web') ? await PgAccountStore.open(options) : undefined,
      jobLedger: roles.has('web') || roles.has('scheduler') ? await PgJobLedger.open(options) : undefined,
      alertState: roles.has('web') || roles.has('scheduler') ? await PgAlertState.open(options) : undefined,
      opsHistory: roles.has('web') || roles.has('scheduler') ? await PgOpsHistory.open(options) : undefined,
      bugLinks: roles.has('web') ? await PgBugLinks.open(options) : undefined,
      pgPool: pool,
    };
  },
};

/** The pool options of the configured PostgreSQL database (for a store opened on its own, as the CLI does). */
function pgOptions(config: Config): { connectionString: string; schema?: string; poolSize: number; statementTimeoutMs: number } {
  const c = config.database;
  if (!c.url) throw new UserError('database.backend = postgresql needs database.url');
  return { connectionString: c.url, schema: c.schema, poolSize: 2, statementTimeoutMs: c.statement_timeout };
}

/** The API token store of the configured database, on its own (the `tokens` command). */
export async function openTokenStore(config: Config, paths: ResolvedPaths): Promise<TokenStore> {
  return config.database.backend === 'postgresql' ? PgTokenStore.open(pgOptions(config)) : SqliteTokenStore.open(paths.database);
}

/** The account store of the configured database, on its own (the `users` command). */
export async function openAccountStore(config: Config, paths: ResolvedPaths): Promise<AccountStore> {
  return config.database.backend === 'postgresql' ? PgAccountStore.open(pgOptions(config)) : SqliteAccountStore.open(paths.database);
}

export interface Backends extends DatabaseStores {
  readonly adapters: Adapters;
  /** The node's fields, built-in and declared (`[annotations.fields.*]`), for every role that reads or writes them. */
  readonly fields: FieldCatalog;
  /** Closes every store (each once), the database last. */
  close(): Promise<void>;
}

/** The node's field catalog; a field declared twice is the operator's mistake, told in one line. */
function nodeFieldCatalog(config: Config): FieldCatalog {
  try {
    return fieldCatalogFromConfig(config.annotations.fields);
  } catch (error) {
    if (error instanceof FieldCatalogError) throw new UserError(`annotations.fields: ${error.message}`);
    throw error;
  }
}

export async function buildBackends(config: Config, paths: ResolvedPaths, roles: ReadonlySet<string>, log?: Logger): Promise<Backends> {
  const fields = nodeFieldCatalog(config);
  const context = { config, paths, roles, log, fields };
  const database = await DATABASE[config.database.backend](context);
  const storage = await STORAGE[config.storage.backend](context);
  const queue = await QUEUE[config.queue.backend](context, database);
  const adapters = { ...storage, queue, crashIndex: database.crashIndex };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await queue.close();
      await storage.rawCrashStore.close?.();
      await storage.processedCrashStore.close?.();
      await database.jobLedger?.close();
      await database.alertState?.close();
      await database.opsHistory?.close();
      await database.bugLinks?.close();
      await database.missingSymbols.close();
      await database.tokens?.close();
      await database.accounts?.close();
      await database.registry.close();
      await database.crashIndex.close();
    })());
  return { ...database, adapters, fields, close };
}
