/**
 * The interface every per-CPU unwinder implements, plus lookups they share.
 */
import type { CfiRules, CpuContext } from '../contracts.js';
import { loadedSymbols, type WalkEnv, type WalkedFrame } from './frame.js';

export interface Unwinder {
  /** The innermost frame, straight from the thread's (or exception's) context. */
  contextFrame(context: CpuContext, env: WalkEnv): WalkedFrame;
  /**
   * The caller of `frames[frames.length - 1]` (inline frames excluded), or `undefined` at
   * the end of the stack. `scanAllowed` is false once too many frames were found by
   * scanning (Breakpad's `max_frames_scanned`).
   */
  callerFrame(frames: readonly WalkedFrame[], scanAllowed: boolean, env: WalkEnv): Promise<WalkedFrame | undefined>;
}

/** `STACK CFI` rules covering the frame's instruction, if its module has symbols. */
export async function cfiRulesFor(env: WalkEnv, frame: WalkedFrame): Promise<CfiRules | undefined> {
  if (!frame.module || frame.moduleIsUnloaded) return undefined;
  const symbols = await loadedSymbols(env, frame.module);
  return symbols?.findCfi(frame.instruction - frame.module.base);
}

/** A frame's register, `undefined` when the unwinder could not recover it. */
export function reg(frame: WalkedFrame, name: string): bigint | undefined {
  return frame.context.registers.get(name);
}

/**
 * The caller's registers from what CFI recovered: each register CFI gives a rule for
 * (`recovered` looks it up, under whatever names the CPU's CFI uses), else, for a
 * callee-saved register CFI does not mention, the callee's own value, since a callee that
 * does not save a callee-saved register never changed it. Other registers stay unknown.
 */
export function callerRegistersFromCfi(
  names: Iterable<string>,
  recovered: (name: string) => bigint | undefined,
  calleeSaved: ReadonlySet<string>,
  last: WalkedFrame,
): Map<string, bigint> {
  const caller = new Map<string, bigint>();
  for (const name of names) {
    const value = recovered(name);
    if (value !== undefined) caller.set(name, value);
    else if (calleeSaved.has(name) && last.context.registers.has(name)) caller.set(name, last.context.registers.get(name)!);
  }
  return caller;
}
