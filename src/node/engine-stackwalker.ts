import { readMinidump } from '../minidump/reader/index.js';
import { processMinidump } from '../minidump/process/index.js';
import { toJsonDump } from '../minidump/output/index.js';
import { SymbolCache, type SymbolLoader } from '../minidump/symbols/index.js';
import { fsSymbolLoader } from '../adapters/fs-symbol-supplier.js';
import type { Stackwalker } from '../roles/processor/rule.js';

/**
 * Mayday's own engine as a stackwalker, in the calling thread, with one symbol cache shared
 * by every dump it walks (warm symbols are what make it fast). The processor runs one in
 * each thread of its pool (`stackwalk-pool.ts`); tools and tests use it directly.
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
