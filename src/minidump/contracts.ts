/**
 * The contracts between the parts of the minidump engine: the reader produces these
 * shapes, the symbol layer and the stack walker consume them. Kept in one small file so
 * that each part can be built and tested on its own.
 *
 * The engine does no I/O: bytes come in, documents go out, and symbols arrive through
 * `SymbolSupplier`. Addresses are `bigint` because 64-bit addresses (kernel space, arm64
 * tagged pointers) do not fit in a double.
 */

export type Cpu = 'amd64' | 'x86' | 'arm64' | 'arm' | 'unknown';

/**
 * Registers of one thread at one frame, by Breakpad's register names (lowercase):
 * amd64 `rax`..`r15`, `rip`, `rsp`, `rbp`; x86 `eax`..`edi`, `eip`, `esp`, `ebp`, `efl`;
 * arm64 `x0`..`x28`, `fp` (x29), `lr` (x30), `sp`, `pc`; arm `r0`..`r12`, `sp`, `lr`, `pc`.
 * A register absent from `registers` is unknown at this frame: callee frames only know
 * the registers their unwinder could recover.
 */
export interface CpuContext {
  readonly cpu: Cpu;
  readonly registers: ReadonlyMap<string, bigint>;
}

/** A contiguous piece of the crashed process's memory that the dump captured. */
export interface MemoryRegion {
  readonly base: bigint;
  readonly bytes: Uint8Array;
}

/**
 * Reads little-endian values out of captured memory. Every read is bounds-checked and
 * answers `undefined` where the dump holds no byte for an address.
 */
export interface MemoryReader {
  readU8(address: bigint): number | undefined;
  readU16(address: bigint): number | undefined;
  readU32(address: bigint): number | undefined;
  readU64(address: bigint): bigint | undefined;
  /** The region holding `address`, if any. */
  regionAt(address: bigint): MemoryRegion | undefined;
}

/** A loaded module (executable or shared library) as the dump describes it. */
export interface CodeModule {
  readonly base: bigint;
  readonly size: bigint;
  /** Full path of the code file, as the OS loaded it. */
  readonly codeFile: string;
  /**
   * The code identifier exactly as Breakpad's minidump processor derives it, so that symbol
   * stores keyed by it (and Socorro's `code_id`) match: Windows `%08X%x` of the PE
   * timestamp and image size (uppercase timestamp, lowercase size: `5F7B0E1A2b3c000`); ELF
   * the *whole* GNU build id as lowercase hex (often 40 digits, unlike the 33-digit
   * debug id derived from its first 16 bytes); Mach-O and other platforms Breakpad's
   * placeholder `id`; empty when the platform is unknown.
   */
  readonly codeId: string;
  /**
   * Base name of the file the symbols are keyed by (the PDB on Windows, the code file on
   * ELF): Breakpad strips the directories that PDB records often carry
   * (`C:\build\foo.pdb` becomes `foo.pdb`), and so do we, since symbol stores are laid
   * out as `DEBUG_FILE/DEBUG_ID/...`.
   */
  readonly debugFile: string;
  /**
   * Breakpad's debug identifier: the GUID (PDB70; for ELF the first 16 bytes of the build
   * id, byte-swapped like a GUID) as 32 uppercase hex digits, followed by the age printed
   * with lowercase `%x` as Breakpad does: `...E1B6750` for ELF (age 0), `...E1B675a` for a
   * PDB of age 10, `...E1B67510` at age 16; hence not always 33 characters nor all
   * uppercase. PDB20: the 8-digit signature and the age the same way. Symbol stores and
   * uploads use exactly this text.
   */
  readonly debugId: string;
  readonly version: string;
}

/** Where a source line inlined into a function came from (Breakpad `INLINE` records). */
export interface InlineFrameInfo {
  readonly functionName: string;
  /** The call site's file and line in the caller. */
  readonly callFile?: string;
  readonly callLine?: number;
  /**
   * Where execution is *within* this inlined function at the looked-up address: the next
   * inner inline's call site, or the line record itself for the innermost inline. This is
   * the file/line a frame for this inlined function shows (Breakpad, rust-minidump).
   */
  readonly file?: string;
  readonly line?: number;
  /** Module-relative start of this inline's address range that holds the address. */
  readonly functionBase?: bigint;
}

/** The answer of a symbol lookup for one address (module-relative). */
export interface SymbolLookup {
  readonly functionName: string;
  /** The record carried Breakpad's `m` flag: the linker folded several functions here. */
  readonly isMultiple?: boolean;
  /** Module-relative address of the function (FUNC) or public symbol (PUBLIC). */
  readonly functionBase: bigint;
  /** Size of the FUNC record; absent for PUBLIC symbols. */
  readonly functionSize?: bigint;
  /**
   * Source location in the *outer* (non-inlined) function. Without inlines this is the
   * line record at the address; with inlines it is the outermost inline's call site,
   * as Breakpad reports it (the innermost location is then `inlines.at(-1).file/line`).
   */
  readonly file?: string;
  readonly line?: number;
  /** Module-relative address of the line record that holds the address. */
  readonly lineBase?: bigint;
  /** Inlined calls at this address, outermost first, each with the innermost's location last. */
  readonly inlines: readonly InlineFrameInfo[];
  /** Parameter size in bytes (x86 `FUNC`/`PUBLIC` records), used by `STACK WIN` unwinding. */
  readonly parameterSize: number;
  /**
   * A PUBLIC symbol named this address although the function holding it starts after that
   * symbol (its `STACK CFI INIT` record begins past the symbol's address): the address is in
   * an unexported function, and the name is only the nearest export below it. Breakpad
   * names the frame after the export all the same; signatures use `module@offset` instead.
   */
  readonly nearestExportOnly?: boolean;
}

/**
 * `STACK CFI` rules in force at one address: register name (or `.cfa`, `.ra`) to a
 * postfix expression, with the `INIT` rules overridden by every later row up to the
 * address. Expressions are kept as the text the symbol file holds.
 */
export type CfiRules = ReadonlyMap<string, string>;

/** One `STACK WIN` record (Windows x86 frame data). */
export interface WinFrameInfo {
  readonly type: number;
  readonly rva: bigint;
  readonly codeSize: number;
  readonly prologSize: number;
  readonly epilogSize: number;
  readonly parameterSize: number;
  readonly savedRegisterSize: number;
  readonly localSize: number;
  readonly maxStackSize: number;
  readonly hasProgramString: boolean;
  /** The program string (type 4, FrameData) or `allocatesBasePointer` flag (other types). */
  readonly programString?: string;
  readonly allocatesBasePointer: boolean;
}

/** Parsed, queryable symbols of one module. */
export interface ModuleSymbols {
  /**
   * Some records were malformed (the usable rest still answers lookups): Breakpad's
   * "corrupt symbols" warning for the module.
   */
  readonly corrupt?: boolean;
  lookup(moduleOffset: bigint): SymbolLookup | undefined;
  findCfi(moduleOffset: bigint): CfiRules | undefined;
  findWin(moduleOffset: bigint): WinFrameInfo | undefined;
}

export type SymbolResult =
  | { readonly status: 'loaded'; readonly symbols: ModuleSymbols }
  | { readonly status: 'missing' }
  | { readonly status: 'corrupt'; readonly error: string };

/** Finds symbols for a module; the engine's only window on the outside world. */
export interface SymbolSupplier {
  getSymbols(module: CodeModule): Promise<SymbolResult>;
}
