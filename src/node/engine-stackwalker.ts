import { readMinidump } from '../minidump/reader/index.js';
import { processMinidump } from '../minidump/process/index.js';
import { toJsonDump } from '../minidump/output/index.js';
import { SymbolCache, type SymbolLoader } from '../minidump/symbols/index.js';
import { fsSymbolLoader } from '../adapters/fs-symbol-supplier.js';
import type { Stackwalker } from '../roles/processor/rule.js';
import { Gauge, type Registry } from 'prom-client';

/**
 * The processor's stackwalker: Mayday's own engine, in process, with one symbol cache
 * shared by every crash this node processes (warm symbols are what make it fast).
 *
 * Symbols come from `loader` (the node chains its configured sources: store, extra
 * directories, upstream servers) or, for tools and tests, from plain `symbolPaths`.
 * Misses are remembered for `negativeTtlMs` (default: for ever); an upload in this
 * process calls `cache.invalidate` so that the next crash sees the new file at once.
 */
export function createEngineStackwalker(options: {
  symbolPaths?: readonly string[];
  loader?: SymbolLoader;
  cacheBytes: number;
  negativeTtlMs?: number;
  onLoadError?: (module: { debugFile: string; debugId: string }, error: unknown) => void;
}): Stackwalker & { cache: SymbolCache } {
  const loader = options.loader ?? fsSymbolLoader(options.symbolPaths ?? []);
  const cache = new SymbolCache({ loader, budgetBytes: options.cacheBytes, negativeTtlMs: options.negativeTtlMs, onLoadError: options.onLoadError });
  const stackwalk = async (bytes: Uint8Array, walkOptions: { deadline?: number } = {}) => {
    const dump = readMinidump(bytes);
    const state = await processMinidump(dump, cache, { deadline: walkOptions.deadline });
    const errors = [...state.errors];
    if (state.fatal && !errors.includes(state.fatal)) errors.unshift(state.fatal);
    return { jsonDump: toJsonDump(state), errors };
  };
  return Object.assign(stackwalk, { cache });
}

/** Symbol cache hits, misses and size as Prometheus gauges, read when scraped. */
export function registerSymbolCacheMetrics(registry: Registry, cache: SymbolCache): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('mayday_symbol_cache_hits', 'Symbol lookups answered from the cache since start.', () => cache.stats.hits);
  gauge('mayday_symbol_cache_misses', 'Symbol lookups that loaded a file since start.', () => cache.stats.misses);
  gauge('mayday_symbol_cache_evictions', 'Parsed symbol files evicted from the cache since start.', () => cache.stats.evictions);
  gauge('mayday_symbol_cache_entries', 'Modules held in the symbol cache.', () => cache.stats.entries);
  gauge('mayday_symbol_cache_bytes', 'Estimated memory held by the symbol cache.', () => cache.stats.bytes);
}
