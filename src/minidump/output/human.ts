/**
 * Breakpad `minidump_stackwalk`'s human-readable report (without `-s` stack contents):
 * system, crash reason, every thread's frames with their known registers and how each
 * frame was found, then the module list with symbol warnings.
 */
import type { ReportFrame } from '../process/frames.js';
import type { ProcessState } from '../process/process.js';
import { baseName, hex, offset } from './format.js';

const TRUST_TEXT: Readonly<Record<string, string>> = {
  context: 'given as instruction pointer in context',
  prewalked: 'recovered by external stack walker',
  cfi: 'call frame info',
  cfi_scan: 'call frame info with scanning',
  frame_pointer: "previous frame's frame pointer",
  scan: 'stack scanning',
  inline: 'inline record',
  leaf: 'simulating a return from leaf function',
  none: 'unknown',
};

/** Registers in Breakpad's print order, with the names it prints them under. */
const REGISTER_ORDER: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  amd64: ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'].map((r) => [r, r] as const),
  x86: ['eip', 'esp', 'ebp', 'ebx', 'esi', 'edi'].map((r) => [r, r] as const),
  arm: [
    ...['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r12'].map((r) => [r, r] as const),
    ['r11', 'fp'],
    ['sp', 'sp'],
    ['lr', 'lr'],
    ['pc', 'pc'],
  ],
  arm64: [...Array.from({ length: 29 }, (_, i) => [`x${i}`, `x${i}`] as const), ['fp', 'fp'], ['lr', 'lr'], ['sp', 'sp'], ['pc', 'pc']],
};
const X86_FULL = ['eip', 'esp', 'ebp', 'ebx', 'esi', 'edi', 'eax', 'ecx', 'edx', 'efl'];

function frameHeader(frame: ReportFrame, index: number): string {
  let text = `${String(index).padStart(2)}  `;
  const at = frame.returnAddress;
  if (!frame.module) return text + hex(at);
  text += baseName(frame.module.codeFile);
  if (!frame.functionName) return text + ` + ${hex(offset(at, frame.module.base))}`;
  text += `!${frame.functionName}`;
  if (frame.sourceFile) {
    return text + ` [${baseName(frame.sourceFile)} : ${frame.sourceLine ?? 0} + ${hex(offset(at, frame.sourceLineBase ?? 0n))}]`;
  }
  return text + ` + ${hex(offset(at, frame.functionBase ?? 0n))}`;
}

function registerLines(frame: ReportFrame): string {
  const context = frame.context;
  if (!context) return '';
  const wide = context.cpu === 'amd64' || context.cpu === 'arm64';
  let names = REGISTER_ORDER[context.cpu] ?? [];
  // Breakpad prints x86's volatile registers only for the context frame (all valid).
  if (context.cpu === 'x86' && X86_FULL.every((r) => r === 'efl' || context.registers.has(r)) && frame.trust === 'context') {
    names = [...names, ['eax', 'eax'], ['ecx', 'ecx'], ['edx', 'edx'], ['efl', 'efl']];
  }
  let out = '';
  let column = 0;
  for (const [name, label] of names) {
    const value = context.registers.get(name) ?? (name === 'efl' ? 0n : undefined);
    if (value === undefined) continue;
    const cell = ` ${label.padStart(5)} = 0x${value.toString(16).padStart(wide ? 16 : 8, '0')}`;
    if (column + cell.length > 80) {
      out += '\n ';
      column = 0;
    }
    out += cell;
    column += cell.length;
  }
  return out;
}

function stackText(frames: readonly ReportFrame[]): string {
  if (frames.length === 0) return ' <no frames>\n';
  return frames
    .map((frame, i) => `${frameHeader(frame, i)}\n ${registerLines(frame)}\n    Found by: ${TRUST_TEXT[frame.trust] ?? 'unknown'}\n`)
    .join('');
}

export function toHumanReadable(state: ProcessState): string {
  const si = state.systemInfo;
  let out = `Operating system: ${si?.os ?? ''}\n                  ${si?.osVersion ?? ''}\n`;
  out += `CPU: ${si?.cpuName ?? ''}\n`;
  if (si?.cpuInfo) out += `     ${si.cpuInfo}\n`;
  const count = si?.cpuCount ?? 0;
  out += `     ${count} CPU${count !== 1 ? 's' : ''}\n\nGPU: UNKNOWN\n\n`;
  if (state.crashed) out += `Crash reason:  ${state.crashReason ?? ''}\nCrash address: ${hex(state.crashAddress ?? 0n)}\n`;
  else out += 'No crash\n';
  if (state.assertion) out += `Assertion: ${state.assertion}\n`;
  const stamp = state.timeDateStamp ?? 0;
  const created = state.processCreateTime ?? 0;
  out += stamp !== 0 && created !== 0 && stamp >= created ? `Process uptime: ${stamp - created} seconds\n` : 'Process uptime: not available\n';
  const req = state.requestingThread;
  if (req !== -1) {
    out += `\nThread ${req} (${state.crashed ? 'crashed' : 'requested dump, did not crash'})\n`;
    out += stackText(state.threads[req].frames);
  }
  state.threads.forEach((thread, i) => {
    if (i === req) return;
    out += `\nThread ${i}\n${stackText(thread.frames)}`;
  });
  out += '\nLoaded modules:\n';
  const main = state.mainModule;
  for (const m of state.modules.modules) {
    const status = state.symbolStatus.get(m);
    let warning = '';
    if (status === 'missing') warning = `  (WARNING: No symbols, ${baseName(m.debugFile)}, ${m.debugId})`;
    else if (status === 'corrupt') warning = `  (WARNING: Corrupt symbols, ${baseName(m.debugFile)}, ${m.debugId})`;
    out += `${hex(m.base, 8)} - ${hex(m.base + m.size - 1n, 8)}  ${baseName(m.codeFile)}  ${m.version || '???'}${main && m.base === main.base ? '  (main)' : ''}${warning}\n`;
  }
  return out;
}
