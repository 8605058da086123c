/** Small formatting helpers shared by the Breakpad text layouts. */
import type { ReportFrame } from '../process/frames.js';

/** Breakpad `PathnameStripper::File`: the part after the last `/` or `\`. */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/** `0x` + lowercase hex, at least `width` digits (C's `0x%0*llx`). */
export function hex(value: bigint, width = 0): string {
  return `0x${value.toString(16).padStart(width, '0')}`;
}

/** Wraps an offset subtraction to 64 bits like Breakpad's unsigned arithmetic. */
export function offset(a: bigint, b: bigint): bigint {
  return (a - b) & 0xffff_ffff_ffff_ffffn;
}

/** The frame's (function, file, line, offset) as Breakpad prints them. */
export function frameLocation(frame: ReportFrame): { module?: string; fn?: string; file?: string; line?: number; offset: bigint } {
  const at = frame.returnAddress;
  if (!frame.module) return { offset: at };
  const module = baseName(frame.module.codeFile);
  if (!frame.functionName) return { module, offset: offset(at, frame.module.base) };
  if (frame.sourceFile) {
    return { module, fn: frame.functionName, file: frame.sourceFile, line: frame.sourceLine ?? 0, offset: offset(at, frame.sourceLineBase ?? 0n) };
  }
  return { module, fn: frame.functionName, offset: offset(at, frame.functionBase ?? 0n) };
}
