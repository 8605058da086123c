/**
 * Memoizes a `SymbolSupplier` per module for the walker, which asks for the same module's
 * symbols for every frame and every scanned word. One instance can serve several dumps (the
 * CLI shares one), since the key is the module's identity, not its load address.
 */
import type { CodeModule, SymbolResult, SymbolSupplier } from '../contracts.js';
import type { SymbolSource } from '../unwind/frame.js';

export class MemoizedSymbols implements SymbolSource {
  private readonly results = new Map<string, Promise<SymbolResult>>();
  /** Messages of suppliers that threw; such modules count as missing symbols. */
  readonly errors: string[] = [];

  constructor(private readonly supplier: SymbolSupplier) {}

  get(module: CodeModule): Promise<SymbolResult> {
    const key = `${module.codeFile}\u0000${module.debugFile}\u0000${module.debugId}`;
    let result = this.results.get(key);
    if (!result) {
      result = this.supplier.getSymbols(module).catch((error: unknown): SymbolResult => {
        this.errors.push(`symbols for ${module.debugFile} ${module.debugId}: ${String(error)}`);
        return { status: 'missing' };
      });
      this.results.set(key, result);
    }
    return result;
  }
}

/** A supplier that never has symbols: walking then relies on frame pointers and scanning. */
export const noSymbols: SymbolSupplier = {
  getSymbols: () => Promise.resolve({ status: 'missing' }),
};
