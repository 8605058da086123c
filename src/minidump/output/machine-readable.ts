/**
 * Breakpad `minidump_stackwalk -m`: pipe-separated lines, so that scripts (and our
 * differential tests) can compare results field by field.
 *
 * ```
 * OS|Linux|0.0.0 Linux ...
 * CPU|amd64|family 25 model 17 stepping 1|1
 * GPU|||
 * Crash|SIGSEGV /SEGV_MAPERR|0x0|0          (reason|address|requesting thread)
 * Module|file|version|debug file|debug id|0xbase|0xend|main?
 *
 * thread|frame|module|function|file|line|offset
 * ```
 * The requesting thread's frames come first. Fields lose any `|` or newline they contain.
 */
import type { ProcessState } from '../process/process.js';
import { baseName, frameLocation, hex } from './format.js';

function strip(text: string): string {
  return text.replace(/[|\n]/g, '');
}

export function toMachineReadable(state: ProcessState): string {
  const lines: string[] = [];
  const si = state.systemInfo;
  lines.push(`OS|${strip(si?.os ?? '')}|${strip(si?.osVersion ?? '')}`);
  lines.push(`CPU|${strip(si?.cpuName ?? '')}|${strip(si?.cpuInfo ?? '')}|${si?.cpuCount ?? 0}`);
  lines.push('GPU|||');
  let crash: string;
  if (state.crashed) crash = `${strip(state.crashReason ?? '')}|${hex(state.crashAddress ?? 0n)}|`;
  else if (state.assertion) crash = `${strip(state.assertion)}||`;
  else crash = 'No crash||';
  lines.push(`Crash|${crash}${state.requestingThread !== -1 ? state.requestingThread : ''}`);
  const main = state.mainModule;
  for (const m of state.modules.modules) {
    lines.push(
      [
        'Module',
        strip(baseName(m.codeFile)),
        strip(m.version),
        strip(baseName(m.debugFile)),
        strip(m.debugId),
        hex(m.base, 8),
        hex(m.base + m.size - 1n, 8),
        main !== undefined && m.base === main.base ? '1' : '0',
      ].join('|'),
    );
  }
  lines.push('');
  const order = state.threads.map((_, i) => i);
  if (state.requestingThread !== -1) {
    order.splice(state.requestingThread, 1);
    order.unshift(state.requestingThread);
  }
  for (const t of order) {
    state.threads[t].frames.forEach((frame, i) => {
      const loc = frameLocation(frame);
      const fields = [String(t), String(i), strip(loc.module ?? ''), strip(loc.fn ?? ''), strip(loc.file ?? ''), loc.line !== undefined ? String(loc.line) : '', hex(loc.offset)];
      lines.push(fields.join('|'));
    });
  }
  return lines.join('\n') + '\n';
}
