/**
 * What the unwinders share: the frame they produce, the environment they walk in, and
 * Breakpad's generic helpers (stack scanning, end-of-stack test, "does this look like
 * code" test).
 */
import type {
  CodeModule,
  CpuContext,
  MemoryReader,
  ModuleSymbols,
  SymbolLookup,
  SymbolResult,
  WinFrameInfo,
} from '../contracts.js';
import type { ModuleIndex } from './modules.js';
import type { WordSize } from './postfix.js';

/**
 * How a frame was found, best first, as rust-minidump names them. `leaf` is Breakpad's
 * "simulating a return from leaf function" (Windows amd64 only); `inline` frames come from
 * `INLINE` records, not from unwinding.
 */
export type FrameTrust =
  | 'context'
  | 'prewalked'
  | 'cfi'
  | 'leaf'
  | 'frame_pointer'
  | 'cfi_scan'
  | 'scan'
  | 'inline'
  | 'none';

/** x86 frame data remembered on a frame for its caller's `STACK WIN` unwinding. */
export interface WinInfoOnFrame {
  /** The full record, or absent when only a FUNC/PUBLIC parameter size was known. */
  readonly record?: WinFrameInfo;
  readonly parameterSize: number;
}

/** One physical frame of a walked stack. */
export interface WalkedFrame {
  readonly trust: FrameTrust;
  /** Registers known at this frame (only those the unwinder could recover). */
  readonly context: CpuContext;
  /**
   * The address used for module and symbol lookup: the instruction pointer for the context
   * frame, the return address minus one (x86/amd64), two (arm) or four (arm64) for callers,
   * so that it falls inside the call instruction even after a no-return call.
   */
  readonly instruction: bigint;
  /** Module holding `instruction` (an unloaded module when no loaded one does). */
  module?: CodeModule;
  moduleIsUnloaded?: boolean;
  /** Symbol answer for `instruction`, when the module's symbols loaded. */
  lookup?: SymbolLookup;
  /** x86 only: frame data found for this frame while unwinding its caller. */
  winInfo?: WinInfoOnFrame;
}

/** Caches symbols per module for one walk (or many: share one across threads/dumps). */
export interface SymbolSource {
  /** Settles to the module's symbols; the same promise for the same module. */
  get(module: CodeModule): Promise<SymbolResult>;
}

export interface WalkEnv {
  readonly wordSize: WordSize;
  /** The thread's stack memory: the only memory unwinding reads. */
  readonly stack: MemoryReader;
  readonly modules: ModuleIndex;
  readonly unloadedModules?: ModuleIndex;
  readonly symbols: SymbolSource;
  /** Breakpad's `os_short` ("windows", "mac", "linux", "ios", ...): a few rules depend on it. */
  readonly osShort: string;
}

/** Breakpad's `kRASearchWords`: how far a scan looks for a return address. */
export const RA_SEARCH_WORDS = 40;

export async function loadedSymbols(env: WalkEnv, module: CodeModule): Promise<ModuleSymbols | undefined> {
  const result = await env.symbols.get(module);
  return result.status === 'loaded' ? result.symbols : undefined;
}

/**
 * Breakpad `InstructionAddressSeemsValid`: inside a loaded module and, when that module's
 * symbols are available, inside a known function or public symbol. Modules without symbols
 * get the benefit of the doubt; corrupt ones do not (Breakpad still consults what it
 * could parse, and we parse nothing of a corrupt file).
 */
export async function instructionSeemsValid(env: WalkEnv, address: bigint): Promise<boolean> {
  const module = env.modules.find(address) ?? env.unloadedModules?.find(address);
  if (!module) return false;
  const result = await env.symbols.get(module);
  if (result.status === 'missing') return true;
  if (result.status === 'corrupt') return false;
  const lookup = result.symbols.lookup(address - module.base);
  return lookup !== undefined && lookup.functionName !== '';
}

export function readWord(env: WalkEnv, address: bigint): bigint | undefined {
  if (env.wordSize === 8) return env.stack.readU64(address);
  const v = env.stack.readU32(address);
  return v === undefined ? undefined : BigInt(v);
}

/**
 * Breakpad `ScanForReturnAddress`: walks up the stack from `start`, one word at a time, for
 * at most `words` words past it, and answers the first word that points just past a call
 * (`value - 1` inside a module and plausible code). Stops at the end of stack memory.
 */
export async function scanForReturnAddress(
  env: WalkEnv,
  start: bigint,
  words: number,
): Promise<{ location: bigint; value: bigint } | undefined> {
  const size = BigInt(env.wordSize);
  const mask = env.wordSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  const last = (start + BigInt(words) * size) & mask;
  for (let location = start; location <= last; location = location + size) {
    const value = readWord(env, location);
    if (value === undefined) break;
    const candidate = (value - 1n) & mask;
    if (env.modules.find(candidate) && (await instructionSeemsValid(env, candidate))) {
      return { location, value };
    }
  }
  return undefined;
}

/** Search depth of a scan: the context frame's caller may lie much further down. */
export function scanWords(calleeIsContext: boolean): number {
  return calleeIsContext ? RA_SEARCH_WORDS * 4 : RA_SEARCH_WORDS;
}

/**
 * Breakpad `TerminateWalk`: an instruction pointer below 4096 is the end of the stack, and
 * the stack pointer must grow from callee to caller (it may stay equal on the first unwind,
 * for leaf functions of architectures with a link register).
 */
export function shouldTerminate(callerIp: bigint, callerSp: bigint, calleeSp: bigint, firstUnwind: boolean): boolean {
  if (callerIp < 4096n) return true;
  return firstUnwind ? callerSp < calleeSp : callerSp <= calleeSp;
}

/** Makes a context from a name → value list, for the unwinders. */
export function contextOf(cpu: CpuContext['cpu'], registers: Map<string, bigint>): CpuContext {
  return { cpu, registers };
}
