/**
 * arm64 unwinding (Breakpad `StackwalkerARM64`): CFI, then the frame-pointer chain
 * (`x29` → saved `x29`, `x30`), then stack scanning.
 *
 * Pointer authentication: return addresses saved on the stack (and `lr`) may carry a
 * signature in their high bits. Breakpad strips them with a mask covering every address
 * up to the end of the highest module, keeping the stripped value only if it then falls in
 * a module; we do the same.
 */
import type { CpuContext } from '../contracts.js';
import { findCallerRegisters } from './cfi.js';
import {
  readWord,
  scanForReturnAddress,
  scanWords,
  shouldTerminate,
  type FrameTrust,
  type WalkEnv,
  type WalkedFrame,
} from './frame.js';
import { callerRegistersFromCfi, cfiRulesFor, reg, type Unwinder } from './unwinder.js';

/** Contract register name ↔ the DWARF/Breakpad CFI name. */
const CFI_NAME: ReadonlyMap<string, string> = new Map([
  ...Array.from({ length: 29 }, (_, i) => [`x${i}`, `x${i}`] as [string, string]),
  ['fp', 'x29'],
  ['lr', 'x30'],
  ['sp', 'sp'],
  ['pc', 'pc'],
]);
/** x19..x28 and fp: preserved across calls, so still valid in the caller if CFI is silent. */
const CALLEE_SAVED = new Set([...Array.from({ length: 10 }, (_, i) => `x${19 + i}`), 'fp']);

/** Mask keeping every bit an address below the end of the highest module can use. */
export function addressRangeMask(env: WalkEnv): bigint {
  const modules = env.modules.modules;
  if (modules.length === 0) return 0xffff_ffff_ffff_ffffn;
  const high = modules[modules.length - 1];
  let mask = high.base + high.size;
  for (const shift of [1n, 2n, 4n, 8n, 16n, 32n]) mask |= mask >> shift;
  return mask;
}

/** Strips pointer-authentication bits when the stripped address lands in a module. */
export function stripPointerAuth(env: WalkEnv, ptr: bigint): bigint {
  const stripped = ptr & addressRangeMask(env);
  return env.modules.find(stripped) ? stripped : ptr;
}

function frameOf(trust: FrameTrust, registers: Map<string, bigint>): WalkedFrame {
  const pc = registers.get('pc') ?? 0n;
  return { trust, context: { cpu: 'arm64', registers }, instruction: trust === 'context' ? pc : pc - 4n };
}

async function byCfi(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rules = await cfiRulesFor(env, last);
  if (!rules) return undefined;
  const callee = new Map<string, bigint>();
  for (const [name, value] of last.context.registers) callee.set(CFI_NAME.get(name) ?? name, value);
  const recovered = findCallerRegisters(rules, callee, env.stack, 8);
  if (!recovered) return undefined;
  const caller = callerRegistersFromCfi(CFI_NAME.keys(), (name) => recovered.get(CFI_NAME.get(name)!) ?? recovered.get(name), CALLEE_SAVED, last);
  if (!caller.has('pc') && recovered.has('.ra')) caller.set('pc', recovered.get('.ra')!);
  if (!caller.has('sp') && recovered.has('.cfa')) caller.set('sp', recovered.get('.cfa')!);
  if (!caller.has('pc') || !caller.has('sp')) return undefined;
  caller.set('pc', stripPointerAuth(env, caller.get('pc')!));
  return frameOf('cfi', caller);
}

/**
 * Breakpad `CorrectRegLRByFramePointer`: when CFI did not recover `lr` but this frame's
 * `fp` is the one its callee saved, the caller's `lr` sits next to that saved `fp`.
 */
function correctedLr(env: WalkEnv, frames: readonly WalkedFrame[], last: WalkedFrame): bigint | undefined {
  const fp = reg(last, 'fp');
  const sp = reg(last, 'sp');
  if (frames.length < 2 || fp === undefined || sp === undefined || fp <= sp) return undefined;
  const lastLastFp = reg(frames[frames.length - 2], 'fp');
  if (!lastLastFp) return undefined;
  if (readWord(env, lastLastFp) !== fp) return undefined;
  const lr = readWord(env, lastLastFp + 8n);
  return lr === undefined ? undefined : stripPointerAuth(env, lr);
}

function byFramePointer(env: WalkEnv, frames: readonly WalkedFrame[], last: WalkedFrame): WalkedFrame | undefined {
  const lr = reg(last, 'lr') ?? correctedLr(env, frames, last);
  const fp = reg(last, 'fp');
  const sp = reg(last, 'sp');
  // Breakpad would carry on with a stale register value here; we stop instead.
  if (lr === undefined || fp === undefined || sp === undefined) return undefined;
  let callerFp = 0n;
  let callerLr = 0n;
  if (fp !== 0n) {
    const savedFp = readWord(env, fp);
    const savedLr = readWord(env, fp + 8n);
    if (savedFp === undefined || savedLr === undefined) return undefined;
    callerFp = savedFp;
    callerLr = stripPointerAuth(env, savedLr);
  }
  const callerSp = fp !== 0n ? fp + 16n : sp;
  return frameOf(
    'frame_pointer',
    new Map([['pc', lr], ['lr', callerLr], ['fp', callerFp], ['sp', callerSp]]),
  );
}

async function byScan(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const sp = reg(last, 'sp');
  if (sp === undefined) return undefined;
  const found = await scanForReturnAddress(env, sp, scanWords(last.trust === 'context'));
  if (!found) return undefined;
  return frameOf('scan', new Map([['pc', found.value], ['sp', found.location + 8n]]));
}

export const arm64Unwinder: Unwinder = {
  contextFrame(context: CpuContext, env: WalkEnv): WalkedFrame {
    const registers = new Map(context.registers);
    const lr = registers.get('lr');
    if (lr !== undefined) registers.set('lr', stripPointerAuth(env, lr));
    return frameOf('context', registers);
  },

  async callerFrame(frames, scanAllowed, env) {
    const last = frames[frames.length - 1];
    let caller = await byCfi(env, last);
    if (!caller) caller = byFramePointer(env, frames, last);
    if (!caller && scanAllowed) caller = await byScan(env, last);
    if (!caller) return undefined;
    if (shouldTerminate(reg(caller, 'pc')!, reg(caller, 'sp')!, reg(last, 'sp') ?? 0n, last.trust === 'context')) {
      return undefined;
    }
    return caller;
  },
};
