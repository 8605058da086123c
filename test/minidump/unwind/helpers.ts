/** Hand-built stacks, modules and symbols for unwinder tests. */
import type { CfiRules, CodeModule, ModuleSymbols, SymbolLookup, SymbolResult, WinFrameInfo } from '../../../src/minidump/contracts.js';
import type { WalkEnv } from '../../../src/minidump/unwind/frame.js';
import { ModuleIndex } from '../../../src/minidump/unwind/modules.js';
import type { WordSize } from '../../../src/minidump/unwind/postfix.js';
import { regionMemory } from '../../../src/minidump/unwind/region-memory.js';

/** Builds a stack region word by word, starting at `base`. */
export class StackBuilder {
  private readonly words: bigint[] = [];
  constructor(readonly base: bigint, readonly wordSize: WordSize) {}
  /** Address the next pushed word will have. */
  get here(): bigint {
    return this.base + BigInt(this.words.length * this.wordSize);
  }
  push(...values: bigint[]): this {
    this.words.push(...values);
    return this;
  }
  fill(count: number, value = 0n): this {
    for (let i = 0; i < count; i++) this.words.push(value);
    return this;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.words.length * this.wordSize);
    const view = new DataView(out.buffer);
    this.words.forEach((w, i) => {
      if (this.wordSize === 8) view.setBigUint64(i * 8, w, true);
      else view.setUint32(i * 4, Number(w & 0xffffffffn), true);
    });
    return out;
  }
}

export function module(name: string, base: bigint, size: bigint): CodeModule {
  return { base, size, codeFile: `/lib/${name}`, codeId: '', debugFile: name, debugId: `${name.toUpperCase()}0`, version: '' };
}

export interface FakeFunction {
  readonly name: string;
  readonly base: bigint;
  readonly size: bigint;
  readonly parameterSize?: number;
}

/** Module symbols from a list of functions and CFI/WIN rows keyed by [start, end). */
export function fakeSymbols(
  functions: readonly FakeFunction[],
  cfi: ReadonlyArray<readonly [bigint, bigint, CfiRules]> = [],
  win: ReadonlyArray<readonly [bigint, bigint, WinFrameInfo]> = [],
): ModuleSymbols {
  return {
    lookup(offset): SymbolLookup | undefined {
      const f = functions.find((x) => offset >= x.base && offset < x.base + x.size);
      return f && { functionName: f.name, functionBase: f.base, functionSize: f.size, inlines: [], parameterSize: f.parameterSize ?? 0 };
    },
    findCfi: (offset) => cfi.find(([a, b]) => offset >= a && offset < b)?.[2],
    findWin: (offset) => win.find(([a, b]) => offset >= a && offset < b)?.[2],
  };
}

export function envFor(options: {
  wordSize: WordSize;
  stack: StackBuilder;
  modules: readonly CodeModule[];
  symbols?: ReadonlyMap<CodeModule, ModuleSymbols>;
  osShort?: string;
}): WalkEnv {
  return {
    wordSize: options.wordSize,
    stack: regionMemory({ base: options.stack.base, bytes: options.stack.bytes() }),
    modules: new ModuleIndex(options.modules),
    symbols: {
      get: (m): Promise<SymbolResult> => {
        const s = options.symbols?.get(m);
        return Promise.resolve(s ? { status: 'loaded', symbols: s } : { status: 'missing' });
      },
    },
    osShort: options.osShort ?? 'linux',
  };
}

export function regs(entries: Record<string, bigint>): Map<string, bigint> {
  return new Map(Object.entries(entries));
}
