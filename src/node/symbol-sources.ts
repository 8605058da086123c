/**
 * Builds the symbol store and the processor's symbol sources from the `[symbols]`
 * section, in priority order: the store (where uploads go: the first of `paths`, or a
 * bucket), the other directories of `paths`, then each upstream symbol server (with its
 * on-disk cache under `upstream_cache_path`).
 */

import path from 'node:path';

import type { Config } from '../config/schema.js';
import type { ResolvedPaths } from '../config/resolve.js';
import { FsSymbolSource, FsSymbolStore } from '../adapters/fs-symbol-store.js';
import { HttpSymbolSource, type HttpSymbolSourceOptions } from '../adapters/http-symbol-source.js';
import type { S3SymbolStoreOptions } from '../adapters/s3-symbol-store.js';
import type { SymbolKey, SymbolSource, SymbolStore } from '../ports/symbol-store.js';

/**
 * Where the processor finds symbols, as plain data: what a stackwalk worker thread needs
 * to build the same sources as the node (it cannot be handed the node's objects).
 */
export interface SymbolSourcesOptions {
  readonly store: { readonly kind: 'fs'; readonly dir: string } | { readonly kind: 's3'; readonly options: S3SymbolStoreOptions };
  /** Read-only directories searched after the store. */
  readonly directories: readonly string[];
  /** Upstream symbol servers, each with its own on-disk cache directory (shared by every worker). */
  readonly upstream: readonly HttpSymbolSourceOptions[];
}

export function symbolSourcesOptions(config: Config, paths: ResolvedPaths): SymbolSourcesOptions {
  const c = config.symbols;
  const cacheRoot = path.resolve(paths.dataDir, c.upstream_cache_path);
  return {
    store: storeOptions(config, paths),
    directories: c.store === 'fs' ? paths.symbols.slice(1) : paths.symbols,
    upstream: c.upstream_urls.map((url, i) => ({
      baseUrl: url,
      // One cache folder per server: two servers may disagree about a file.
      cacheDir: path.join(cacheRoot, `${i}-${new URL(url).host.replace(/[^A-Za-z0-9.-]/g, '_')}`),
      negativeTtlMs: c.negative_cache_ttl,
      timeoutMs: c.upstream_timeout,
    })),
  };
}

function storeOptions(config: Config, paths: ResolvedPaths): SymbolSourcesOptions['store'] {
  const c = config.symbols;
  if (c.store === 's3') {
    if (!c.s3_bucket) throw new Error('symbols.store is s3 but symbols.s3_bucket is not set');
    return {
      kind: 's3',
      options: {
        bucket: c.s3_bucket,
        prefix: c.s3_prefix,
        endpoint: c.s3_endpoint,
        region: c.s3_region,
        accessKeyId: c.s3_access_key_id,
        secretAccessKey: c.s3_secret_access_key,
        forcePathStyle: c.s3_force_path_style,
        timeoutMs: c.upstream_timeout,
      },
    };
  }
  const first = paths.symbols[0];
  if (first === undefined) throw new Error('symbols.store is fs but symbols.paths is empty: uploads need a directory');
  return { kind: 'fs', dir: first };
}

export function buildSymbolStore(config: Config, paths: ResolvedPaths): SymbolStore {
  return symbolStoreFrom(storeOptions(config, paths));
}

function symbolStoreFrom(options: SymbolSourcesOptions['store']): SymbolStore {
  return options.kind === 's3' ? lazyS3SymbolStore(options.options) : new FsSymbolStore(options.dir);
}

/**
 * The S3 store, its SDK loaded on first use: loading it costs about 0.6 s of CPU, paid by
 * every stackwalk thread at start (and by its replacement after a limit) for nothing when
 * the store is on disk.
 */
function lazyS3SymbolStore(options: S3SymbolStoreOptions): SymbolStore {
  let loaded: Promise<SymbolStore> | undefined;
  const store = (): Promise<SymbolStore> => (loaded ??= import('../adapters/s3-symbol-store.js').then((m) => new m.S3SymbolStore(options)));
  return {
    name: `s3://${options.bucket}/${options.prefix ?? ''}`,
    fetch: async (key) => (await store()).fetch(key),
    putFile: async (key, localPath) => (await store()).putFile(key, localPath),
    has: async (key) => (await store()).has(key),
    check: async () => (await store()).check(),
  };
}

/** Where uploads are staged: next to an fs store (so storing is a rename), else in the data dir. */
export function symbolStagingDir(config: Config, paths: ResolvedPaths): string {
  const first = paths.symbols[0];
  return config.symbols.store === 'fs' && first !== undefined ? path.join(first, '.incoming') : path.join(paths.dataDir, 'tmp', 'symbol-uploads');
}

/** The processor's symbol sources, in priority order (built where they are used: in each stackwalk thread). */
export function symbolSourcesFrom(options: SymbolSourcesOptions): SymbolSource[] {
  return [symbolStoreFrom(options.store), ...options.directories.map((dir) => new FsSymbolSource(dir)), ...options.upstream.map((upstream) => new HttpSymbolSource(upstream))];
}

/**
 * One loader over several sources: the first that has the file wins. A source that
 * fails (I/O error, timeout) does not stop the search; but if no later source has the
 * file, the failure is thrown rather than answered as "missing", so the symbol cache
 * does not remember a miss that may not be one.
 */
export function chainSources(sources: readonly SymbolSource[]): (key: SymbolKey) => Promise<Uint8Array | undefined> {
  return async (key) => {
    let failure: unknown;
    for (const source of sources) {
      try {
        const bytes = await source.fetch(key);
        if (bytes !== undefined) return bytes;
      } catch (error) {
        failure ??= new Error(`${source.name}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (failure !== undefined) throw failure;
    return undefined;
  };
}
