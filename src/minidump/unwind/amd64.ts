/**
 * amd64 unwinding (Breakpad `StackwalkerAMD64`): CFI, then on Windows a simulated return
 * for a leaf context frame, then (not on Windows, where MSVC and LLVM code does not keep
 * frame pointers) the `%rbp` chain, then stack scanning.
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

const REGISTERS = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const;
/** Registers a callee must preserve: still the caller's value if CFI does not mention them. */
const CALLEE_SAVED = new Set(['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15']);
/** Registers CFI may also recover under a pseudo-register name. */
const ALTERNATE: Readonly<Record<string, string>> = { rsp: '.cfa', rip: '.ra' };

function frameOf(trust: FrameTrust, registers: Map<string, bigint>): WalkedFrame {
  const rip = registers.get('rip') ?? 0n;
  return { trust, context: { cpu: 'amd64', registers }, instruction: trust === 'context' ? rip : rip - 1n };
}

/** x86-64 canonical form: a return address outside it cannot be real. */
function isNonCanonical(ptr: bigint): boolean {
  return ptr > 0x7fff_ffff_ffffn && ptr < 0xffff_8000_0000_0000n;
}

async function byCfi(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rules = await cfiRulesFor(env, last);
  if (!rules) return undefined;
  const callee = new Map<string, bigint>();
  for (const [name, value] of last.context.registers) callee.set(`$${name}`, value);
  const recovered = findCallerRegisters(rules, callee, env.stack, 8);
  if (!recovered) return undefined;
  const caller = callerRegistersFromCfi(REGISTERS, (name) => recovered.get(name) ?? (ALTERNATE[name] ? recovered.get(ALTERNATE[name]) : undefined), CALLEE_SAVED, last);
  const rip = caller.get('rip');
  const rsp = caller.get('rsp');
  if (!rip || !rsp) return undefined; // missing or zero: unusable
  return frameOf('cfi', caller);
}

async function bySimulatedReturn(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rsp = reg(last, 'rsp');
  if (rsp === undefined) return undefined;
  const found = await scanForReturnAddress(env, rsp, 1);
  if (!found) return undefined;
  const registers = new Map(last.context.registers);
  registers.set('rip', found.value);
  registers.set('rsp', found.location + 8n);
  return frameOf('leaf', registers);
}

function byFramePointer(env: WalkEnv, last: WalkedFrame): WalkedFrame | undefined {
  const rbp = reg(last, 'rbp');
  if (rbp === undefined || rbp % 8n !== 0n) return undefined;
  const callerRip = readWord(env, rbp + 8n);
  const callerRbp = readWord(env, rbp);
  if (callerRip === undefined || callerRbp === undefined) return undefined;
  const callerRsp = (rbp + 16n) & 0xffff_ffff_ffff_ffffn;
  if (isNonCanonical(callerRip)) return undefined;
  if (callerRsp <= rbp || callerRbp < callerRsp) return undefined;
  if (readWord(env, callerRbp) === undefined) return undefined;
  return frameOf('frame_pointer', new Map([['rip', callerRip], ['rsp', callerRsp], ['rbp', callerRbp]]));
}

async function byScan(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rsp = reg(last, 'rsp');
  if (rsp === undefined) return undefined;
  const found = await scanForReturnAddress(env, rsp, scanWords(last.trust === 'context'));
  if (!found) return undefined;
  const registers = new Map<string, bigint>([['rip', found.value], ['rsp', found.location + 8n]]);
  // Other unwinders need %rbp: pass a plausible value on (Breakpad's heuristic).
  const rbp = reg(last, 'rbp');
  if (rbp !== undefined) {
    if (found.location - 8n === rbp) {
      const saved = readWord(env, rbp);
      if (saved !== undefined && saved > found.location) registers.set('rbp', saved);
    } else if (rbp >= found.location + 8n) {
      registers.set('rbp', rbp);
    }
  }
  return frameOf('scan', registers);
}

export const amd64Unwinder: Unwinder = {
  contextFrame(context: CpuContext): WalkedFrame {
    return frameOf('context', new Map(context.registers));
  },

  async callerFrame(frames, scanAllowed, env) {
    const last = frames[frames.length - 1];
    let caller = await byCfi(env, last);
    if (!caller && last.trust === 'context' && env.osShort === 'windows') caller = await bySimulatedReturn(env, last);
    if (!caller && env.osShort !== 'windows') caller = byFramePointer(env, last);
    if (!caller && scanAllowed) caller = await byScan(env, last);
    if (!caller) return undefined;
    const rip = reg(caller, 'rip')!;
    const rsp = reg(caller, 'rsp')!;
    if (shouldTerminate(rip, rsp, reg(last, 'rsp') ?? 0n, last.trust === 'context')) return undefined;
    return caller;
  },
};
