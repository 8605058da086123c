/**
 * The queryable form of one parsed symbol file: sorted typed-array tables whose text
 * fields are byte ranges into the file itself, which is kept (not copied) and decoded
 * only for the records a lookup returns. The lookups reproduce Breakpad's
 * `BasicSourceLineResolver::Module` (`LookupAddress`, `FindCFIFrameInfo`,
 * `FindWindowsFrameInfo`), including its choices for overlapping records.
 */

import type {
  CfiRules,
  InlineFrameInfo,
  ModuleSymbols,
  SymbolLookup,
  WinFrameInfo,
} from '../contracts.js';
import { applyCfiRules } from './cfi-rules.js';
import { FunctionDetails } from './function-details.js';
import type { FrozenIdTable } from './id-table.js';
import { findExclusive, findNested, lastStartAtOrBefore } from './range-sets.js';
import type { FrozenNestedRanges, FrozenRanges } from './range-sets.js';
import { MAX_SAFE_ADDRESS, RecordCursor } from './record-cursor.js';
import { parseStackWin, scratchRecords } from './records.js';

/** FUNC records that were stored, sorted by address; `ids` index the per-function columns. */
export interface FunctionTable extends FrozenRanges {
  readonly nameStart: Uint32Array;
  readonly nameEnd: Uint32Array;
  readonly parameterSize: Uint32Array;
  readonly multiple: Uint8Array;
  /** Byte range of the function's line and INLINE records, decoded on first use. */
  readonly blockStart: Uint32Array;
  readonly blockEnd: Uint32Array;
}

/** PUBLIC records sorted by address, one per address (the first in the file). */
export interface PublicTable {
  readonly addresses: Float64Array;
  readonly nameStart: Uint32Array;
  readonly nameEnd: Uint32Array;
  readonly parameterSize: Uint32Array;
  readonly multiple: Uint8Array;
}

/** `STACK CFI INIT` ranges (ids index `rulesStart/End`) and the delta rows, sorted, one per address. */
export interface CfiTable {
  readonly init: FrozenRanges;
  readonly initRulesStart: Uint32Array;
  readonly initRulesEnd: Uint32Array;
  readonly deltaAddresses: Float64Array;
  readonly deltaRulesStart: Uint32Array;
  readonly deltaRulesEnd: Uint32Array;
}

/** `STACK WIN` records of one type; ids index the byte range of the whole record line. */
export interface WinTable {
  readonly ranges: FrozenNestedRanges;
  readonly recordStart: Uint32Array;
  readonly recordEnd: Uint32Array;
}

export interface SymbolTables {
  readonly bytes: Uint8Array;
  readonly functions: FunctionTable;
  readonly publics: PublicTable;
  readonly files: FrozenIdTable;
  readonly inlineOrigins: FrozenIdTable;
  readonly cfi: CfiTable;
  /** Type 4 (FrameData) and type 0 (FPO): the only types Breakpad consults. */
  readonly winFrameData: WinTable;
  readonly winFpo: WinTable;
}

/** Decoded function details kept per module (lookups revisit the same few functions). */
const DETAILS_CACHE_SIZE = 64;

const decoder = new TextDecoder('utf-8');

function tableBytes(...arrays: ArrayBufferView[]): number {
  return arrays.reduce((sum, a) => sum + a.byteLength, 0);
}

export class BreakpadModuleSymbols implements ModuleSymbols {
  private readonly details = new Map<number, FunctionDetails>();
  private detailsBytes = 0;

  constructor(
    private readonly tables: SymbolTables,
    /** Some records were malformed (Breakpad's "corrupt symbols"). */
    readonly corrupt: boolean,
  ) {}

  get functionCount(): number {
    return this.tables.functions.starts.length;
  }

  get publicCount(): number {
    return this.tables.publics.addresses.length;
  }

  get cfiCount(): number {
    return this.tables.cfi.init.starts.length;
  }

  /**
   * Estimated memory this module keeps alive: the file's bytes (names and rules point into
   * them), the tables, and the function details decoded so far. Used as the cache cost.
   */
  get retainedBytes(): number {
    const { functions: f, publics: p, cfi, winFrameData, winFpo } = this.tables;
    const win = (w: WinTable) =>
      tableBytes(w.ranges.starts, w.ranges.ends, w.ranges.ids, w.ranges.parents, w.recordStart, w.recordEnd);
    return (
      this.tables.bytes.byteLength +
      tableBytes(f.starts, f.ends, f.ids, f.nameStart, f.nameEnd, f.parameterSize, f.multiple, f.blockStart, f.blockEnd) +
      tableBytes(p.addresses, p.nameStart, p.nameEnd, p.parameterSize, p.multiple) +
      tableBytes(cfi.init.starts, cfi.init.ends, cfi.init.ids, cfi.initRulesStart, cfi.initRulesEnd) +
      tableBytes(cfi.deltaAddresses, cfi.deltaRulesStart, cfi.deltaRulesEnd) +
      win(winFrameData) +
      win(winFpo) +
      this.tables.files.retainedBytes +
      this.tables.inlineOrigins.retainedBytes +
      this.detailsBytes
    );
  }

  lookup(moduleOffset: bigint): SymbolLookup | undefined {
    const address = toAddress(moduleOffset);
    if (address === undefined) return undefined;
    const { functions, publics } = this.tables;
    // Breakpad's RetrieveNearestRange: the function holding the address, else the one
    // before it, which bounds how far a PUBLIC symbol below it may reach.
    const nearest = lastStartAtOrBefore(functions.starts, address);
    if (nearest >= 0 && address < functions.ends[nearest]) return this.functionLookup(nearest, address);
    const p = lastStartAtOrBefore(publics.addresses, address);
    // A PUBLIC symbol at or below the last FUNC's start would claim addresses past that
    // function's end, which belong to no symbol we know: Breakpad answers nothing then.
    if (p < 0 || (nearest >= 0 && publics.addresses[p] <= functions.starts[nearest])) return undefined;
    return {
      functionName: this.text(publics.nameStart[p], publics.nameEnd[p]),
      functionBase: BigInt(publics.addresses[p]),
      parameterSize: publics.parameterSize[p],
      isMultiple: publics.multiple[p] === 1,
      inlines: [],
      ...(this.startsAfter(address, publics.addresses[p]) ? { nearestExportOnly: true } : {}),
    };
  }

  /**
   * Whether the unwind record (`STACK CFI INIT`, one per function in stripped system
   * libraries) holding `address` starts after `symbolAddress`: then the function at
   * `address` is not the one the symbol names.
   */
  private startsAfter(address: number, symbolAddress: number): boolean {
    const i = findExclusive(this.tables.cfi.init, address);
    return i >= 0 && this.tables.cfi.init.starts[i] > symbolAddress;
  }

  private functionLookup(index: number, address: number): SymbolLookup {
    const f = this.tables.functions;
    const id = f.ids[index];
    const details = this.detailsOf(id);
    const hit = details.lineAt(address);
    let file = hit ? this.fileName(hit.fileId) : undefined;
    let line = hit?.line;
    // Inline frames, innermost first. Each frame shows where execution is *inside* it:
    // the innermost shows the line record; each outer one the call site of the inline
    // just inside it; the function itself the call site of the outermost inline.
    const calls = details.inlinesAt(address);
    const inlines: InlineFrameInfo[] = [];
    for (const { call, base } of calls) {
      const callFile = call.callFileId >= 0 ? this.fileName(call.callFileId) : undefined;
      const origin = this.tables.inlineOrigins.get(call.originId);
      inlines.push({
        functionName: origin ? this.text(origin[0], origin[1]) : '<name omitted>',
        callFile,
        callLine: call.callLine,
        file,
        line,
        functionBase: BigInt(base),
      });
      file = callFile;
      line = call.callLine;
    }
    inlines.reverse();
    return {
      functionName: this.text(f.nameStart[id], f.nameEnd[id]),
      functionBase: BigInt(f.starts[index]),
      functionSize: BigInt(f.ends[index] - f.starts[index]),
      file,
      line,
      lineBase: hit ? BigInt(hit.base) : undefined,
      parameterSize: f.parameterSize[id],
      isMultiple: f.multiple[id] === 1,
      inlines,
    };
  }

  findCfi(moduleOffset: bigint): CfiRules | undefined {
    const address = toAddress(moduleOffset);
    if (address === undefined) return undefined;
    const cfi = this.tables.cfi;
    const i = findExclusive(cfi.init, address);
    if (i < 0) return undefined;
    const id = cfi.init.ids[i];
    const rules = new Map<string, string>();
    if (!applyCfiRules(this.text(cfi.initRulesStart[id], cfi.initRulesEnd[id]), rules)) return undefined;
    // Every delta row from the INIT's start up to and including the address, in order.
    // Like Breakpad, the rows are looked up by address alone, not by the INIT they follow.
    let d = lastStartAtOrBefore(cfi.deltaAddresses, cfi.init.starts[i] - 1) + 1;
    for (; d < cfi.deltaAddresses.length && cfi.deltaAddresses[d] <= address; d++) {
      applyCfiRules(this.text(cfi.deltaRulesStart[d], cfi.deltaRulesEnd[d]), rules);
    }
    return rules;
  }

  findWin(moduleOffset: bigint): WinFrameInfo | undefined {
    const address = toAddress(moduleOffset);
    if (address === undefined) return undefined;
    // FrameData (type 4) carries its own program string and is preferred over FPO (type 0).
    for (const table of [this.tables.winFrameData, this.tables.winFpo]) {
      const [innermost] = findNested(table.ranges, address);
      if (innermost === undefined) continue;
      const id = table.ranges.ids[innermost];
      return this.decodeWin(table.recordStart[id], table.recordEnd[id]);
    }
    return undefined;
  }

  private decodeWin(start: number, end: number): WinFrameInfo | undefined {
    const cursor = new RecordCursor().reset(this.tables.bytes, start, end);
    cursor.next(); // STACK
    cursor.next(); // WIN
    const win = scratchRecords().win;
    if (parseStackWin(cursor, win) !== undefined) return undefined; // validated at parse time
    const last = this.text(win.last.start, win.last.end);
    return {
      type: win.type,
      rva: BigInt(win.rva),
      codeSize: win.codeSize,
      prologSize: win.prologSize,
      epilogSize: win.epilogSize,
      parameterSize: win.parameterSize,
      savedRegisterSize: win.savedRegisterSize,
      localSize: win.localSize,
      maxStackSize: win.maxStackSize,
      hasProgramString: win.hasProgramString,
      programString: win.hasProgramString ? last : undefined,
      allocatesBasePointer: !win.hasProgramString && parseInt(last, 16) > 0,
    };
  }

  private detailsOf(id: number): FunctionDetails {
    const cached = this.details.get(id);
    if (cached) {
      // Refresh recency: Map iteration order is insertion order.
      this.details.delete(id);
      this.details.set(id, cached);
      return cached;
    }
    const f = this.tables.functions;
    const details = FunctionDetails.decode(this.tables.bytes, f.blockStart[id], f.blockEnd[id]);
    this.details.set(id, details);
    this.detailsBytes += details.retainedBytes;
    if (this.details.size > DETAILS_CACHE_SIZE) {
      const [oldestId, oldest] = this.details.entries().next().value as [number, FunctionDetails];
      this.details.delete(oldestId);
      this.detailsBytes -= oldest.retainedBytes;
    }
    return details;
  }

  private fileName(fileId: number): string | undefined {
    const range = this.tables.files.get(fileId);
    return range ? this.text(range[0], range[1]) : undefined;
  }

  private text(start: number, end: number): string {
    return decoder.decode(this.tables.bytes.subarray(start, end));
  }
}

/** A module offset as a table key, or undefined when no record can hold it. */
function toAddress(moduleOffset: bigint): number | undefined {
  if (moduleOffset < 0n || moduleOffset > BigInt(MAX_SAFE_ADDRESS)) return undefined;
  return Number(moduleOffset);
}
