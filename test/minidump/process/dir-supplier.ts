/**
 * Test-only symbol supplier over a Breakpad symbol store (`DIR/NAME/ID/NAME.sym`, `.pdb`
 * dropped from NAME as Breakpad's SimpleSymbolSupplier does). The production one is
 * `src/adapters/fs-symbol-supplier.ts`; this keeps the engine's tests independent of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SymbolResult, SymbolSupplier } from '../../../src/minidump/contracts.js';
import { parseSymbolFile } from '../../../src/minidump/symbols/index.js';

export function directorySupplier(dir: string): SymbolSupplier {
  return {
    getSymbols(module): Promise<SymbolResult> {
      const name = module.debugFile.split(/[\\/]/).pop() ?? '';
      const base = name.toLowerCase().endsWith('.pdb') ? name.slice(0, -4) : name;
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(join(dir, name, module.debugId, `${base}.sym`));
      } catch {
        return Promise.resolve({ status: 'missing' });
      }
      const parsed = parseSymbolFile(bytes, { allowMissingModule: true });
      return Promise.resolve(parsed.status === 'parsed' ? { status: 'loaded', symbols: parsed.symbols } : { status: 'corrupt', error: parsed.error });
    },
  };
}
