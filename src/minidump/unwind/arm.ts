/**
 * 32-bit ARM unwinding (Breakpad `StackwalkerARM`): CFI (except on iOS, whose symbol files
 * carry none Breakpad trusts), then the frame-pointer chain only where a frame-pointer
 * register is part of the ABI (iOS: `r7`), then stack scanning.
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

const MASK = 0xffff_ffffn;
const REGISTERS = [...Array.from({ length: 13 }, (_, i) => `r${i}`), 'sp', 'lr', 'pc'];
/** r4..r11: preserved across calls. */
const CALLEE_SAVED = new Set(Array.from({ length: 8 }, (_, i) => `r${4 + i}`));

/** The frame-pointer register, if the OS's ABI has one (Breakpad: iOS only). */
function framePointerRegister(env: WalkEnv): string | undefined {
  return env.osShort === 'ios' ? 'r7' : undefined;
}

function frameOf(trust: FrameTrust, registers: Map<string, bigint>): WalkedFrame {
  const pc = registers.get('pc') ?? 0n;
  return { trust, context: { cpu: 'arm', registers }, instruction: trust === 'context' ? pc : (pc - 2n) & MASK };
}

async function byCfi(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rules = await cfiRulesFor(env, last);
  if (!rules) return undefined;
  const recovered = findCallerRegisters(rules, last.context.registers, env.stack, 4);
  if (!recovered) return undefined;
  const caller = callerRegistersFromCfi(REGISTERS, (name) => recovered.get(name), CALLEE_SAVED, last);
  if (!caller.has('pc') && recovered.has('.ra')) {
    if (framePointerRegister(env) === undefined) {
      caller.set('pc', recovered.get('.ra')!);
    } else {
      // With a frame-pointer ABI, `.ra` is the caller's saved lr and the callee's lr is the pc.
      const lastLr = reg(last, 'lr');
      if (lastLr !== undefined) {
        caller.set('lr', recovered.get('.ra')!);
        caller.set('pc', lastLr);
      }
    }
  }
  if (!caller.has('sp') && recovered.has('.cfa')) caller.set('sp', recovered.get('.cfa')!);
  if (!caller.has('pc') || !caller.has('sp')) return undefined;
  return frameOf('cfi', caller);
}

function byFramePointer(env: WalkEnv, last: WalkedFrame): WalkedFrame | undefined {
  const fpName = framePointerRegister(env);
  if (!fpName) return undefined;
  const fp = reg(last, fpName);
  const lr = reg(last, 'lr');
  const sp = reg(last, 'sp');
  if (fp === undefined || lr === undefined || sp === undefined) return undefined;
  let callerFp = 0n;
  let callerLr = 0n;
  if (fp !== 0n) {
    const savedFp = readWord(env, fp);
    const savedLr = readWord(env, (fp + 4n) & MASK);
    if (savedFp === undefined || savedLr === undefined) return undefined;
    callerFp = savedFp;
    callerLr = savedLr;
  }
  const callerSp = fp !== 0n ? (fp + 8n) & MASK : sp;
  return frameOf('frame_pointer', new Map([['pc', lr], ['lr', callerLr], [fpName, callerFp], ['sp', callerSp]]));
}

async function byScan(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const sp = reg(last, 'sp');
  if (sp === undefined) return undefined;
  const found = await scanForReturnAddress(env, sp, scanWords(last.trust === 'context'));
  if (!found) return undefined;
  return frameOf('scan', new Map([['pc', found.value], ['sp', (found.location + 4n) & MASK]]));
}

export const armUnwinder: Unwinder = {
  contextFrame(context: CpuContext): WalkedFrame {
    return frameOf('context', new Map(context.registers));
  },

  async callerFrame(frames, scanAllowed, env) {
    const last = frames[frames.length - 1];
    let caller = env.osShort === 'ios' ? undefined : await byCfi(env, last);
    if (!caller) caller = byFramePointer(env, last);
    if (!caller && scanAllowed) caller = await byScan(env, last);
    if (!caller) return undefined;
    if (shouldTerminate(reg(caller, 'pc')!, reg(caller, 'sp')!, reg(last, 'sp') ?? 0n, last.trust === 'context')) {
      return undefined;
    }
    return caller;
  },
};
