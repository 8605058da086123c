/**
 * The stack walk loop (Breakpad `Stackwalker::Walk`): start from the context frame,
 * symbolize each frame, ask the CPU's unwinder for its caller, until the unwinder gives up
 * or a limit is reached.
 */
import type { Cpu, CpuContext, SymbolResult } from '../contracts.js';
import { amd64Unwinder } from './amd64.js';
import { arm64Unwinder } from './arm64.js';
import { armUnwinder } from './arm.js';
import type { WalkEnv, WalkedFrame } from './frame.js';
import type { Unwinder } from './unwinder.js';
import { x86Unwinder } from './x86.js';

export interface WalkLimits {
  /** Most frames to produce (default 1024); the walk is marked truncated beyond. */
  readonly maxFrames?: number;
  /**
   * After this many frames found by scanning, scanning is no longer tried (Breakpad's
   * `max_frames_scanned`, default 1024 here as in rust-minidump).
   */
  readonly maxScannedFrames?: number;
  /**
   * Time (`performance.now()` scale) after which the walk stops where it is and reports
   * `timedOut`. Checked between frames: a processor's per-crash time limit must be
   * cooperative because the walk runs on the processor's own thread.
   */
  readonly deadline?: number;
}

export interface SymbolizedFrame extends WalkedFrame {
  /** How the frame's module's symbols turned out, when the frame has a loaded module. */
  symbolStatus?: SymbolResult['status'];
}

export interface WalkResult {
  readonly frames: SymbolizedFrame[];
  /** True when `maxFrames` (or the deadline) cut the walk short. */
  readonly truncated: boolean;
  /** True when the deadline cut the walk short. */
  readonly timedOut?: boolean;
}

export const DEFAULT_MAX_FRAMES = 1024;

export function unwinderFor(cpu: Cpu): Unwinder | undefined {
  switch (cpu) {
    case 'amd64':
      return amd64Unwinder;
    case 'x86':
      return x86Unwinder;
    case 'arm64':
      return arm64Unwinder;
    case 'arm':
      return armUnwinder;
    default:
      return undefined;
  }
}

/** Fills a frame's module and symbol answer (Breakpad `FillSourceLineInfo`). */
export async function symbolizeFrame(env: WalkEnv, frame: SymbolizedFrame): Promise<void> {
  const loaded = env.modules.find(frame.instruction);
  if (!loaded) {
    const unloaded = env.unloadedModules?.find(frame.instruction);
    if (unloaded) {
      frame.module = unloaded;
      frame.moduleIsUnloaded = true;
    }
    return;
  }
  frame.module = loaded;
  const result = await env.symbols.get(loaded);
  frame.symbolStatus = result.status;
  if (result.status === 'loaded') frame.lookup = result.symbols.lookup(frame.instruction - loaded.base);
}

export async function walkStack(context: CpuContext, env: WalkEnv, limits: WalkLimits = {}): Promise<WalkResult> {
  const unwinder = unwinderFor(context.cpu);
  if (!unwinder) return { frames: [], truncated: false };
  const maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
  const maxScanned = limits.maxScannedFrames ?? DEFAULT_MAX_FRAMES;
  const frames: SymbolizedFrame[] = [];
  let scanned = 0;
  let frame: SymbolizedFrame | undefined = unwinder.contextFrame(context, env);
  while (frame) {
    if (limits.deadline !== undefined && performance.now() > limits.deadline) return { frames, truncated: true, timedOut: true };
    await symbolizeFrame(env, frame);
    if (frame.trust === 'scan' || frame.trust === 'cfi_scan' || frame.trust === 'none') scanned++;
    frames.push(frame);
    if (frames.length >= maxFrames) return { frames, truncated: true };
    frame = await unwinder.callerFrame(frames, scanned < maxScanned, env);
  }
  return { frames, truncated: false };
}
