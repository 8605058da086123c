/**
 * Which record a line of a symbol file is. Like Breakpad, a keyword only counts when it
 * is followed by a space, and every line that starts with no keyword is taken for a line
 * record (`addr size line filenum`) of the current function.
 */

export enum RecordKind {
  Module,
  Info,
  File,
  Func,
  Public,
  Stack,
  Inline,
  InlineOrigin,
  /** Anything else: a line record (or garbage, which the line-record parser rejects). */
  Line,
}

function startsWith(bytes: Uint8Array, start: number, end: number, prefix: string): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[start + i] !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/** Classify the line `bytes[start, end)` by its leading keyword. */
export function recordKind(bytes: Uint8Array, start: number, end: number): RecordKind {
  switch (bytes[start]) {
    case 0x46: // F
      if (startsWith(bytes, start, end, 'FUNC ')) return RecordKind.Func;
      if (startsWith(bytes, start, end, 'FILE ')) return RecordKind.File;
      break;
    case 0x50: // P
      if (startsWith(bytes, start, end, 'PUBLIC ')) return RecordKind.Public;
      break;
    case 0x53: // S
      if (startsWith(bytes, start, end, 'STACK ')) return RecordKind.Stack;
      break;
    case 0x49: // I
      if (startsWith(bytes, start, end, 'INLINE ')) return RecordKind.Inline;
      if (startsWith(bytes, start, end, 'INLINE_ORIGIN ')) return RecordKind.InlineOrigin;
      if (startsWith(bytes, start, end, 'INFO ')) return RecordKind.Info;
      break;
    case 0x4d: // M
      if (startsWith(bytes, start, end, 'MODULE ')) return RecordKind.Module;
      break;
  }
  return RecordKind.Line;
}

/**
 * Calls `visit(start, end, lineNumber)` for each non-empty line of `bytes[from, to)`,
 * without its `\n` / `\r\n` terminator. Line numbers count from `firstLine`.
 */
export function forEachLine(
  bytes: Uint8Array,
  from: number,
  to: number,
  firstLine: number,
  visit: (start: number, end: number, lineNumber: number) => void,
): void {
  let pos = from;
  let lineNumber = firstLine;
  while (pos < to) {
    let newline = bytes.indexOf(0x0a, pos);
    if (newline < 0 || newline > to) newline = to;
    let end = newline;
    while (end > pos && bytes[end - 1] === 0x0d) end--;
    if (end > pos) visit(pos, end, lineNumber);
    pos = newline + 1;
    lineNumber++;
  }
}
