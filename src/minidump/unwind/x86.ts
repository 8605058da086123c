/**
 * x86 unwinding (Breakpad `StackwalkerX86`): Windows frame data (`STACK WIN`, with its
 * program strings or the FPO defaults), then `STACK CFI`, then the `%ebp` chain, falling
 * back to stack scanning. The `STACK WIN` path keeps Breakpad's heuristics, because
 * Windows x86 stacks are full of frame-pointer-omitted functions and the reference output
 * depends on them:
 * - `.raSearchStart` is where the return address should be (`esp` + callee parameters +
 *   locals + saved registers), nudged to the first plausible return address within three
 *   words, and moved to `ebp + 4` when the program aligns the stack (`@`);
 * - when the program's `$eip` is not in any module, a scan from `.raSearchStart + 4`
 *   replaces it (trust `cfi_scan`);
 * - a recovered `%ebp` that cannot be a frame pointer is searched for among the saved
 *   registers.
 */
import type { CpuContext } from '../contracts.js';
import { findCallerRegisters } from './cfi.js';
import {
  loadedSymbols,
  readWord,
  scanForReturnAddress,
  scanWords,
  shouldTerminate,
  type FrameTrust,
  type WalkEnv,
  type WalkedFrame,
  type WinInfoOnFrame,
} from './frame.js';
import { PostfixEvaluator } from './postfix.js';
import { callerRegistersFromCfi, cfiRulesFor, reg, type Unwinder } from './unwinder.js';

const MASK = 0xffff_ffffn;
/** Breakpad `kMaxReasonableGapBetweenFrames`: a scanned `%ebp` chain link must be closer than this. */
const MAX_REASONABLE_GAP = 128n * 1024n;
const REGISTERS = ['eip', 'esp', 'ebp', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi'] as const;
const CALLEE_SAVED = new Set(['ebp', 'ebx', 'esi', 'edi']);
const ALTERNATE: Readonly<Record<string, string>> = { esp: '.cfa', eip: '.ra' };

function frameOf(trust: FrameTrust, registers: Map<string, bigint>): WalkedFrame {
  const eip = registers.get('eip') ?? 0n;
  return { trust, context: { cpu: 'x86', registers }, instruction: trust === 'context' ? eip : (eip - 1n) & MASK };
}

/**
 * Frame data for a frame: its `STACK WIN` record or, failing that, the parameter size of
 * the `FUNC` holding it (Breakpad returns such a partial record: useless for unwinding this
 * frame, but it tells the caller's unwinding how many parameter bytes to skip).
 */
async function winInfoFor(env: WalkEnv, frame: WalkedFrame): Promise<WinInfoOnFrame | undefined> {
  if (!frame.module || frame.moduleIsUnloaded) return undefined;
  const symbols = await loadedSymbols(env, frame.module);
  if (!symbols) return undefined;
  const offset = frame.instruction - frame.module.base;
  const record = symbols.findWin(offset);
  if (record) return { record, parameterSize: record.parameterSize };
  const lookup = symbols.lookup(offset);
  if (lookup && lookup.functionSize !== undefined && offset - lookup.functionBase < lookup.functionSize && offset >= lookup.functionBase) {
    return { parameterSize: lookup.parameterSize };
  }
  return undefined;
}

async function byWinFrameInfo(
  env: WalkEnv,
  frames: readonly WalkedFrame[],
  info: WinInfoOnFrame,
  scanAllowed: boolean,
): Promise<WalkedFrame | undefined> {
  const last = frames[frames.length - 1];
  const record = info.record;
  if (!record) return undefined;
  const isContext = last.trust === 'context';

  // Breakpad walks every earlier frame and keeps the *innermost* one's parameter size (its
  // loop has no break); we keep that quirk so that results match.
  let calleeParameterSize = 0;
  for (let i = frames.length - 2; i >= 0; i--) {
    const w = frames[i].winInfo;
    if (w) calleeParameterSize = w.parameterSize;
  }

  const esp = reg(last, 'esp') ?? 0n;
  const ebp = reg(last, 'ebp') ?? 0n;
  const eip = reg(last, 'eip') ?? 0n;
  const dictionary = new Map<string, bigint>([
    ['$ebp', ebp],
    ['$esp', esp],
  ]);
  const ebx = reg(last, 'ebx');
  if (ebx !== undefined) dictionary.set('$ebx', ebx);
  dictionary.set('.cbCalleeParams', BigInt(calleeParameterSize));
  dictionary.set('.cbSavedRegs', BigInt(record.savedRegisterSize));
  dictionary.set('.cbLocals', BigInt(record.localSize));

  let raSearchStart = (esp + BigInt(calleeParameterSize) + BigInt(record.localSize) + BigInt(record.savedRegisterSize)) & MASK;
  const raSearchStartOld = raSearchStart;
  const first = await scanForReturnAddress(env, raSearchStart, 3);
  if (first) {
    raSearchStart = first.location;
    // A context frame's own return address may be the instruction pointer itself (an FPO
    // function that crashed calling through a bad pointer): look one word further.
    if (isContext && record.type === 0 && raSearchStartOld === raSearchStart && first.value === eip) {
      raSearchStart += 4n;
      const again = await scanForReturnAddress(env, raSearchStart, 3);
      if (again) raSearchStart = again.location;
    }
  }
  dictionary.set('.cbParams', BigInt(record.parameterSize));

  let program: string;
  let recoverEbp = true;
  let trust: FrameTrust = 'cfi';
  if (record.programString) {
    program = record.programString;
  } else if (record.allocatesBasePointer) {
    program = '$eip .raSearchStart ^ = $ebp $esp .cbCalleeParams + .cbSavedRegs + 8 - ^ = $esp .raSearchStart 4 + =';
  } else {
    program = '$eip .raSearchStart ^ = $esp .raSearchStart 4 + =';
    if (ebx !== undefined) program += ' $ebx $ebx =';
    recoverEbp = false;
  }
  if (reg(last, 'ebp') !== undefined && program.includes('@')) raSearchStart = (ebp + 4n) & MASK;
  dictionary.set('.raSearchStart', raSearchStart);
  dictionary.set('.raSearch', raSearchStart);

  const evaluator = new PostfixEvaluator(dictionary, { wordSize: 4, memory: env.stack });
  const assigned = new Set<string>();
  const ok = evaluator.evaluate(program, assigned);
  const get = (name: string): bigint => dictionary.get(name) ?? 0n;
  if (!ok || !assigned.has('$eip') || !assigned.has('$esp')) {
    const found = scanAllowed ? await scanForReturnAddress(env, esp, scanWords(isContext)) : undefined;
    if (!found) return undefined;
    dictionary.set('$eip', found.value);
    dictionary.set('$esp', (found.location + 4n) & MASK);
    trust = 'scan';
  }

  if (get('$eip') !== 0n || get('$ebp') !== 0n) {
    let offset = 0n;
    if (!env.modules.find(get('$eip'))) {
      const start = (get('.raSearchStart') + 4n) & MASK;
      const found = scanAllowed ? await scanForReturnAddress(env, start, scanWords(isContext)) : undefined;
      if (found) {
        dictionary.set('$eip', found.value);
        dictionary.set('$esp', (found.location + 4n) & MASK);
        offset = found.location - start;
        trust = 'cfi_scan';
      }
    }
    if (recoverEbp) {
      const recovered = get('$ebp');
      const skippedFrames = trust !== 'cfi' && recovered <= raSearchStart + offset;
      if (skippedFrames || readWord(env, recovered) === undefined) {
        // Search the saved-register area for a value that points into the stack.
        const end = (esp + BigInt(calleeParameterSize)) & MASK;
        for (let location = end + BigInt(record.savedRegisterSize) + offset; location >= end; location -= 4n) {
          const candidate = readWord(env, location);
          if (candidate === undefined) break;
          if (readWord(env, candidate) !== undefined) {
            dictionary.set('$ebp', candidate);
            break;
          }
        }
      }
    }
  }

  const registers = new Map<string, bigint>([
    ['eip', get('$eip') & MASK],
    ['esp', get('$esp') & MASK],
    ['ebp', get('$ebp') & MASK],
  ]);
  for (const name of ['ebx', 'esi', 'edi']) {
    if (assigned.has(`$${name}`)) registers.set(name, get(`$${name}`) & MASK);
  }
  return frameOf(trust, registers);
}

async function byCfi(env: WalkEnv, last: WalkedFrame): Promise<WalkedFrame | undefined> {
  const rules = await cfiRulesFor(env, last);
  if (!rules) return undefined;
  const callee = new Map<string, bigint>();
  for (const [name, value] of last.context.registers) callee.set(`$${name}`, value);
  const recovered = findCallerRegisters(rules, callee, env.stack, 4);
  if (!recovered) return undefined;
  const caller = callerRegistersFromCfi(REGISTERS, (name) => recovered.get(name) ?? (ALTERNATE[name] ? recovered.get(ALTERNATE[name]) : undefined), CALLEE_SAVED, last);
  if (!caller.has('eip') || !caller.has('esp') || !caller.has('ebp')) return undefined;
  return frameOf('cfi', caller);
}

async function byEbpAtBase(env: WalkEnv, last: WalkedFrame, scanAllowed: boolean): Promise<WalkedFrame | undefined> {
  const esp = reg(last, 'esp') ?? 0n;
  const ebp = reg(last, 'ebp') ?? 0n;
  const callerEip = readWord(env, (ebp + 4n) & MASK);
  const savedEbp = readWord(env, ebp);
  if (callerEip !== undefined && savedEbp !== undefined) {
    return frameOf('frame_pointer', new Map([['eip', callerEip], ['esp', (ebp + 8n) & MASK], ['ebp', savedEbp]]));
  }
  const found = scanAllowed ? await scanForReturnAddress(env, esp, scanWords(last.trust === 'context')) : undefined;
  if (!found) return undefined;
  const callerEsp = (found.location + 4n) & MASK;
  // The caller's %ebp may have been pushed just below the return address.
  const chain = (callerEsp - 8n) & MASK;
  let callerEbp = readWord(env, chain);
  if (callerEbp === undefined || callerEbp <= chain || callerEbp - chain > MAX_REASONABLE_GAP) callerEbp = ebp;
  return frameOf('scan', new Map([['eip', found.value], ['esp', callerEsp], ['ebp', callerEbp]]));
}

export const x86Unwinder: Unwinder = {
  contextFrame(context: CpuContext): WalkedFrame {
    return frameOf('context', new Map(context.registers));
  },

  async callerFrame(frames, scanAllowed, env) {
    const last = frames[frames.length - 1];
    let caller: WalkedFrame | undefined;
    const info = await winInfoFor(env, last);
    if (info) {
      last.winInfo = info;
      caller = await byWinFrameInfo(env, frames, info, scanAllowed);
    }
    if (!caller) caller = await byCfi(env, last);
    if (!caller) caller = await byEbpAtBase(env, last, scanAllowed);
    if (!caller) return undefined;
    if (shouldTerminate(reg(caller, 'eip')!, reg(caller, 'esp')!, reg(last, 'esp') ?? 0n, last.trust === 'context')) {
      return undefined;
    }
    return caller;
  },
};
