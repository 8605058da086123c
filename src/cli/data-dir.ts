/**
 * Finding the data directory of a node for the commands that work on it directly
 * (`tokens`, `users`, `reprocess`): from `--data-dir` or `--config`, as `mayday start`
 * finds it. Every such command says on stderr which directory it used, and refuses a
 * directory that holds no data (no database file), with a hint, rather than quietly
 * making a new one beside the one the running server uses.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../common/errors.js';
import type { Config } from '../config/schema.js';
import { resolvePaths, type ResolvedPaths } from '../config/resolve.js';
import { loadNodeConfig } from './load-node-config.js';

export interface WhereOptions {
  dataDir?: string;
  config?: string;
}

export interface NodeData {
  config: Config;
  paths: ResolvedPaths;
}

export interface OpenDataOptions {
  /** The command may start a new database (the first administrator is made before the first start). */
  mayCreate?: boolean;
  /** Where messages go (stderr). */
  err?: (text: string) => void;
  cwd?: string;
}

/** The hint that follows "holds no data": where the right directory is to be found. */
export function noDataHint(command: string, paths: ResolvedPaths, options: WhereOptions): string {
  const given = options.dataDir !== undefined ? `--data-dir ${options.dataDir}` : options.config !== undefined ? `--config ${options.config}` : 'the default data directory (./var)';
  return (
    `mayday ${command}: no Mayday data in ${paths.dataDir} (no database ${paths.database}; from ${given}).\n` +
    `  Give the data directory of your node with --data-dir DIR (the "data:" line that \`mayday start\` prints), or its --config FILE.`
  );
}

/** Loads the node's configuration, says which data it works on, and checks there is some. */
export function openNodeData(command: string, options: WhereOptions, open: OpenDataOptions = {}): NodeData {
  const err = open.err ?? ((text: string) => process.stderr.write(text));
  const overrides: Record<string, string> = {};
  if (options.dataDir !== undefined) overrides['node.data_dir'] = options.dataDir;
  const config = loadNodeConfig(options.config, overrides);
  const paths = resolvePaths(config, open.cwd ?? process.cwd());
  if (config.database.backend !== 'sqlite') {
    err(`mayday ${command}: using the ${config.database.backend} database of ${options.config ?? 'the configuration'} (data directory ${paths.dataDir})\n`);
    return { config, paths };
  }
  if (!existsSync(paths.database)) {
    if (!open.mayCreate) throw new UserError(noDataHint(command, paths, options));
    err(`mayday ${command}: data directory ${paths.dataDir} holds no database yet; creating ${paths.database} (start the node with the same --data-dir)\n`);
    return { config, paths };
  }
  err(`mayday ${command}: using data directory ${paths.dataDir}\n`);
  return { config, paths };
}
