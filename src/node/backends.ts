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
  s3: notYet('storage.backend', 's3'),
};

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
