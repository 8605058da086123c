import { readMinidump } from '../minidump/reader/index.js';
import { processMinidump } from '../minidump/process/index.js';
import { toJsonDump } from '../minidump/output/index.js';
import { SymbolCache } from '../minidump/symbols/index.js';
import { fsSymbolLoader } from '../adapters/fs-symbol-supplier.js';
import type { Stackwalker } from '../roles/processor/rule.js';

/**
 * The processor's stackwalker: Mayday's own engine, in process, with one symbol cache
 * shared by every crash this node processes (warm symbols are what make it fast).
 */
export function createEngineStackwalker(options: { symbolPaths: readonly string[]; cacheBytes: number }): Stackwalker & { cache: SymbolCache } {
  const cache = new SymbolCache({ loader: fsSymbolLoader(options.symbolPaths), budgetBytes: options.cacheBytes });
  const stackwalk = async (bytes: Uint8Array) => {
    const dump = readMinidump(bytes);
    const state = await processMinidump(dump, cache);
    const errors = [...state.errors];
    if (state.fatal && !errors.includes(state.fatal)) errors.unshift(state.fatal);
    return { jsonDump: toJsonDump(state), errors };
  };
  return Object.assign(stackwalk, { cache });
}
