import { isAbsolute, resolve } from 'node:path';
import type { Config } from './schema.js';

/** Absolute locations of a node's embedded storage, resolved against `node.data_dir`. */
export interface ResolvedPaths {
  dataDir: string;
  raw: string;
  processed: string;
  queue: string;
  database: string;
  symbols: string[];
}

export function resolvePaths(config: Config, cwd: string): ResolvedPaths {
  const dataDir = resolve(cwd, config.node.data_dir);
  const within = (p: string): string => (isAbsolute(p) ? p : resolve(dataDir, p));
  return {
    dataDir,
    raw: within(config.storage.raw_path),
    processed: within(config.storage.processed_path),
    queue: within(config.queue.path),
    database: within(config.database.path),
    symbols: config.symbols.paths.map(within),
  };
}
