/**
 * Turns walked (physical) frames into the frames a report shows: inline frames expanded
 * from `INLINE` records, and every frame's function, source line and base addresses made
 * absolute, as Breakpad's `StackFrame` holds them.
 */
import type { CodeModule, CpuContext } from '../contracts.js';
import type { FrameTrust } from '../unwind/frame.js';
import type { SymbolizedFrame } from '../unwind/walk.js';

export interface ReportFrame {
  readonly trust: FrameTrust;
  /**
   * The address a report prints offsets from (Breakpad `ReturnAddress()`): the instruction
   * pointer register of a physical frame, the lookup address (`instruction`) of an inline
   * one (Breakpad copies inline frames as plain `StackFrame`s, whose `ReturnAddress()` is
   * `instruction`).
   */
  readonly returnAddress: bigint;
  readonly instruction: bigint;
  readonly module?: CodeModule;
  readonly moduleIsUnloaded: boolean;
  readonly functionName?: string;
  /** Absolute address of the function (or, for an inline frame, of its inlined range). */
  readonly functionBase?: bigint;
  readonly sourceFile?: string;
  readonly sourceLine?: number;
  /** Absolute address of the source line record. */
  readonly sourceLineBase?: bigint;
  /** Registers of a physical frame; absent on inline frames. */
  readonly context?: CpuContext;
  /** True when the frame's module had symbols but nothing covered the address, or had none. */
  readonly missingSymbols: boolean;
  /** The name is only the nearest exported symbol below the address (`SymbolLookup.nearestExportOnly`). */
  readonly functionIsNearestExport?: boolean;
}

const IP_REGISTER: Readonly<Record<string, string>> = { amd64: 'rip', x86: 'eip', arm64: 'pc', arm: 'pc' };

/** Expands one physical frame into its inline frames (innermost first) and itself. */
export function reportFrames(frame: SymbolizedFrame): ReportFrame[] {
  const ip = frame.context.registers.get(IP_REGISTER[frame.context.cpu] ?? '') ?? frame.instruction;
  const module = frame.module;
  const base = module?.base ?? 0n;
  const lookup = frame.lookup;
  const missingSymbols = module !== undefined && !frame.moduleIsUnloaded && frame.symbolStatus !== 'loaded';
  const common = { instruction: frame.instruction, module, moduleIsUnloaded: frame.moduleIsUnloaded === true, missingSymbols };
  if (!lookup || lookup.functionName === '') {
    return [{ ...common, trust: frame.trust, returnAddress: ip, context: frame.context }];
  }
  const lineBase = lookup.lineBase !== undefined ? base + lookup.lineBase : undefined;
  const physical = {
    ...common,
    trust: frame.trust,
    returnAddress: ip,
    context: frame.context,
    functionName: lookup.functionName,
    functionBase: base + lookup.functionBase,
    sourceLineBase: lineBase,
  };
  const physicalFrame: ReportFrame = {
    ...physical,
    sourceFile: lookup.file,
    sourceLine: lookup.line,
    ...(lookup.nearestExportOnly ? { functionIsNearestExport: true } : {}),
  };
  // `inlines` is outermost first and each carries the location *inside* it; reports list
  // the innermost first, then the physical frame (which shows the outermost call site).
  const out: ReportFrame[] = [];
  for (let i = lookup.inlines.length - 1; i >= 0; i--) {
    const inline = lookup.inlines[i];
    out.push({
      ...common,
      trust: 'inline',
      returnAddress: frame.instruction,
      functionName: inline.functionName,
      functionBase: base + (inline.functionBase ?? 0n),
      sourceFile: inline.file,
      sourceLine: inline.line,
      sourceLineBase: lineBase,
    });
  }
  out.push(physicalFrame);
  return out;
}
