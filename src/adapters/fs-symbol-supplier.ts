/**
 * Symbol files from local directories in Breakpad's symbol-store layout:
 * `DIR/DEBUG_FILE/DEBUG_ID/NAME.sym`, where NAME is the debug file with a `.pdb` extension
 * stripped (`foo.pdb/ID/foo.sym`) and otherwise the debug file itself
 * (`libc.so.6/ID/libc.so.6.sym`), as Breakpad's `SimpleSymbolSupplier` lays it out.
 *
 * This is the I/O half of symbol supply: it only returns bytes. The engine's
 * `SymbolCache` (in `minidump/symbols`) parses and caches them; the node wires the two
 * together: `new SymbolCache({ loader: fsSymbolLoader(dirs), budgetBytes })`.
 *
 * Module names come from the minidump, i.e. from whoever crashed, so they are untrusted.
 * Like Breakpad, a debug file given as a full path (`C:\build\foo.pdb`, common in PDB
 * records) is reduced to its last component; what remains must be a plain file name, and
 * the debug id plain letters and digits, or the module simply has no symbols here.
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { CodeModule } from '../minidump/contracts.js';
import { symbolStorePath } from '../ports/symbol-store.js';

/** The module fields the store layout needs. */
export type SymbolStoreKey = Pick<CodeModule, 'debugFile' | 'debugId'>;

/** The store layout's path rules live with the symbol store port; re-exported for callers of this module. */
export { symbolStorePath };

function isMissingFileError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A `SymbolLoader` over `directories`, searched in order: the first that holds the file
 * wins. Resolves `undefined` when none does; rejects on other I/O errors (permissions,
 * a directory where the file should be), which the cache reports and does not remember.
 */
export function fsSymbolLoader(directories: readonly string[]): (module: SymbolStoreKey) => Promise<Uint8Array | undefined> {
  const roots = directories.map((dir) => path.resolve(dir));
  return async (module) => {
    const relative = symbolStorePath(module);
    if (relative === undefined) return undefined;
    for (const root of roots) {
      try {
        return await readFile(path.join(root, relative));
      } catch (error) {
        if (!isMissingFileError(error)) throw error;
      }
    }
    return undefined;
  };
}
