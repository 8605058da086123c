/**
 * The back ends a node's configuration chooses, one table per option: `storage.backend`,
 * `queue.backend`, `database.backend`. A back end is its adapter file plus one entry here;
 * the tables are keyed by the option's own values, so the compiler refuses a value without
 * an entry.
 */
import type { Config } from '../config/schema.js';
import type { ResolvedPaths } from '../config/resolve.js';
import { UserError } from '../common/errors.js';
import { FsProcessedCrashStore } from '../adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../adapters/fs-raw-crash-store.js';
import { SqliteCrashIndex } from '../adapters/sqlite-crash-index.js';
import { SqliteQueue } from '../adapters/sqlite-queue.js';
import type { S3StoreOptions } from '../adapters/s3-client.js';
import { S3ProcessedCrashStore } from '../adapters/s3-processed-crash-store.js';
import { S3RawCrashStore } from '../adapters/s3-raw-crash-store.js';
import type { CrashIndex } from '../ports/crash-index.js';
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
}

type CrashStorage = Pick<Adapters, 'rawCrashStore' | 'processedCrashStore'>;

/** A back end named in the schema whose adapter is not in this build yet: said at start, never a silent fallback. */
function notYet(option: string, value: string): () => never {
  return () => {
    throw new UserError(`${option} = ${value} is not available in this version of Mayday yet`);
  };
}

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

const QUEUE: Record<Config['queue']['backend'], (context: Context) => Promise<ProcessingQueue>> = {
  sqlite: async ({ config, paths }) => SqliteQueue.open(paths.queue, { visibilityTimeoutMs: config.queue.visibility_timeout, fsync: config.queue.fsync }),
  rabbitmq: notYet('queue.backend', 'rabbitmq'),
};

const CRASH_INDEX: Record<Config['database']['backend'], (context: Context) => Promise<CrashIndex>> = {
  sqlite: async ({ paths }) => SqliteCrashIndex.open(paths.database),
  postgresql: notYet('database.backend', 'postgresql'),
};

export async function buildAdapters(config: Config, paths: ResolvedPaths): Promise<Adapters> {
  const context = { config, paths };
  const crashIndex = await CRASH_INDEX[config.database.backend](context);
  const storage = await STORAGE[config.storage.backend](context);
  const queue = await QUEUE[config.queue.backend](context);
  return { ...storage, queue, crashIndex };
}
