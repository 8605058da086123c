/**
 * Validating a Breakpad `.sym` fed in chunks, without holding the file: the check
 * `parseSymbolFile` makes (same record parsers, same messages, same line numbers, same
 * errors counted), for a symbol upload that may be gigabytes. No I/O: the caller pushes
 * the bytes as they come (from a socket, a file, a zip entry).
 *
 * Memory is one partial line plus 12 bytes per PUBLIC record (duplicate PUBLIC
 * addresses are errors, and they may be anywhere in the file). A line longer than
 * `maxLineBytes` is an error of its own, skipped without being held: no real symbol name
 * comes close to the default, and buffering it would put the file back in memory.
 *
 * What it does not do is build the lookup tables: whether a FUNC overlaps another (then
 * dropped silently, as in Breakpad) does not change validity, so only "is there a
 * current FUNC for the line records that follow" is tracked.
 */

import { GrowableColumn, stableOrder } from './compact-arrays.js';
import { MAX_REPORTED_ERRORS, type SymbolFileModule, type SymbolParseError } from './parse-symbol-file.js';
import { RecordCursor } from './record-cursor.js';
import { RecordKind, recordKind } from './record-kind.js';
import {
  parseFile,
  parseFunc,
  parseInfo,
  parseInline,
  parseInlineOrigin,
  parseLine,
  parseModule,
  parsePublic,
  parseStackCfi,
  parseStackWin,
  scratchRecords,
} from './records.js';

export type SymbolFileValidation =
  | { readonly status: 'valid'; readonly module: SymbolFileModule; readonly errors: readonly SymbolParseError[]; readonly errorCount: number }
  | { readonly status: 'corrupt'; readonly error: string };

export interface SymbolFileValidatorOptions {
  /** Longest line held to be checked; a longer one is reported as an error. Default 1 MiB. */
  readonly maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** As `parseSymbolFile`: offsets into the file are 32-bit there, so larger files are corrupt. */
const MAX_FILE_SIZE = 0xffffffff;
const LF = 0x0a;
const CR = 0x0d;

const decoder = new TextDecoder('utf-8');

export class SymbolFileValidator {
  private readonly maxLineBytes: number;
  private readonly cursor = new RecordCursor();
  private readonly scratch = scratchRecords();

  /** The start of a line not yet ended by `\n` (copied: the caller may reuse its chunk). */
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  /** The current line is over `maxLineBytes`: its bytes are dropped up to its `\n`. */
  private skippingLongLine = false;
  private lineNumber = 1;
  private totalBytes = 0;

  private module: SymbolFileModule | undefined;
  private fatal: string | undefined;
  private inFunction = false;
  private readonly errors: SymbolParseError[] = [];
  private errorCount = 0;
  private readonly publicAddresses = new GrowableColumn('f64');
  private readonly publicLines = new GrowableColumn('u32');

  constructor(options: SymbolFileValidatorOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Whether the file is already known to be corrupt (the rest need not be read). */
  get failed(): boolean {
    return this.fatal !== undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.fatal !== undefined) return;
    this.totalBytes += chunk.length;
    if (this.totalBytes > MAX_FILE_SIZE) {
      this.fatal = 'symbol file larger than 4 GiB';
      return;
    }
    let pos = 0;
    while (pos < chunk.length && this.fatal === undefined) {
      const newline = chunk.indexOf(LF, pos);
      if (newline < 0) {
        this.hold(chunk.subarray(pos));
        return;
      }
      if (this.partialBytes > 0) {
        this.hold(chunk.subarray(pos, newline));
        if (!this.skippingLongLine) {
          const line = concat(this.partial, this.partialBytes);
          this.line(line, 0, line.length);
        }
      } else if (this.skippingLongLine) {
        // The end of a line already reported as too long.
      } else if (newline - pos > this.maxLineBytes) this.tooLong();
      else this.line(chunk, pos, newline);
      this.endLine();
      pos = newline + 1;
    }
  }

  finish(): SymbolFileValidation {
    // A last line without a line break ends the file on that line, not the next (as the parser counts).
    const endsWithoutBreak = this.partialBytes > 0 || this.skippingLongLine;
    if (this.fatal === undefined && endsWithoutBreak) {
      if (!this.skippingLongLine) {
        const line = concat(this.partial, this.partialBytes);
        this.line(line, 0, line.length);
      }
      this.endLine();
    }
    if (this.fatal !== undefined) return { status: 'corrupt', error: this.fatal };
    if (this.module === undefined) return { status: 'corrupt', error: `line ${endsWithoutBreak ? this.lineNumber - 1 : this.lineNumber}: no MODULE record (empty symbol file)` };
    this.checkDuplicatePublics();
    // Duplicate PUBLICs were found out of line order; keep the list in file order.
    this.errors.sort((a, b) => a.line - b.line);
    return { status: 'valid', module: this.module, errors: this.errors, errorCount: this.errorCount };
  }

  private endLine(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.skippingLongLine = false;
    this.lineNumber++;
  }

  private hold(bytes: Uint8Array): void {
    if (this.skippingLongLine || bytes.length === 0) return;
    if (this.partialBytes + bytes.length > this.maxLineBytes) {
      this.partial = [];
      this.partialBytes = 0;
      this.tooLong();
      return;
    }
    this.partial.push(bytes.slice());
    this.partialBytes += bytes.length;
  }

  private tooLong(): void {
    this.skippingLongLine = true;
    const message = `longer than ${this.maxLineBytes} bytes`;
    if (this.module === undefined) this.fatal = `line ${this.lineNumber}: ${message}`;
    else this.error(message);
  }

  private error(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line: this.lineNumber, message });
  }

  /** One line without its `\n`; trailing `\r`s are not part of it, and empty lines are skipped. */
  private line(bytes: Uint8Array, start: number, newline: number): void {
    let end = newline;
    while (end > start && bytes[end - 1] === CR) end--;
    if (end === start) return;
    if (this.module === undefined) this.header(bytes, start, end);
    else this.record(bytes, start, end);
  }

  /** The first non-empty line must be a well-formed MODULE record. */
  private header(bytes: Uint8Array, start: number, end: number): void {
    if (recordKind(bytes, start, end) !== RecordKind.Module) {
      this.fatal = `line ${this.lineNumber}: expected a MODULE record first`;
      return;
    }
    const m = this.scratch.module;
    const problem = parseModule(this.cursor.reset(bytes, start, end), m);
    if (problem) {
      this.fatal = `line ${this.lineNumber}: bad MODULE record: ${problem}`;
      return;
    }
    const text = (r: { start: number; end: number }) => decoder.decode(bytes.subarray(r.start, r.end));
    this.module = { os: text(m.os), cpu: text(m.cpu), debugId: text(m.id), debugFile: text(m.name) };
  }

  private record(bytes: Uint8Array, start: number, end: number): void {
    const c = this.cursor.reset(bytes, start, end);
    const s = this.scratch;
    let problem: string | undefined;
    switch (recordKind(bytes, start, end)) {
      case RecordKind.Line:
        if (!this.inFunction) return this.error('line record without a preceding FUNC (or unknown record)');
        problem = parseLine(c, s.line);
        if (problem) this.error(`bad line record: ${problem}`);
        return;
      case RecordKind.Stack:
        return this.stack(c);
      case RecordKind.Func:
        problem = parseFunc(c, s.func);
        this.inFunction = problem === undefined;
        if (problem) this.error(`bad FUNC record: ${problem}`);
        return;
      case RecordKind.Public:
        this.inFunction = false; // public symbols have no line records
        problem = parsePublic(c, s.pub);
        if (problem) return this.error(`bad PUBLIC record: ${problem}`);
        // Address 0 shows up for a few bogus symbols; Breakpad skips them, so they never clash.
        if (s.pub.address === 0) return;
        this.publicAddresses.push(s.pub.address);
        this.publicLines.push(this.lineNumber);
        return;
      case RecordKind.File:
        problem = parseFile(c, s.file);
        if (problem) this.error(`bad FILE record: ${problem}`);
        return;
      case RecordKind.InlineOrigin:
        problem = parseInlineOrigin(c, s.origin);
        if (problem) this.error(`bad INLINE_ORIGIN record: ${problem}`);
        return;
      case RecordKind.Inline:
        problem = parseInline(c, s.inline);
        if (problem) return this.error(`bad INLINE record: ${problem}`);
        if (!this.inFunction) this.error('INLINE record without a preceding FUNC');
        return;
      case RecordKind.Info:
        problem = parseInfo(c, s.info);
        if (problem) this.error(`bad INFO record: ${problem}`);
        return;
      case RecordKind.Module:
        return; // a repeated header is housekeeping, as in Breakpad
    }
  }

  private stack(c: RecordCursor): void {
    c.next(); // STACK
    if (!c.next()) return this.error('bad STACK record: missing kind');
    if (c.tokenIs('CFI')) {
      const problem = parseStackCfi(c, this.scratch.cfi);
      if (problem) this.error(`bad STACK CFI record: ${problem}`);
      return;
    }
    if (c.tokenIs('WIN')) {
      const problem = parseStackWin(c, this.scratch.win);
      if (problem) this.error(`bad STACK WIN record: ${problem}`);
      return;
    }
    this.error(`bad STACK record: unknown kind ${JSON.stringify(c.text(decoder))}`);
  }

  /** For a repeated address the first PUBLIC wins and the others are errors, as in Breakpad. */
  private checkDuplicatePublics(): void {
    const keys = this.publicAddresses.finish();
    const order = stableOrder(keys, keys.length);
    for (let i = 1; i < order.length; i++) {
      if (keys[order[i]] !== keys[order[i - 1]]) continue;
      this.errorCount++;
      if (this.errors.length < MAX_REPORTED_ERRORS) {
        this.errors.push({ line: this.publicLines.get(order[i]), message: `bad PUBLIC record: duplicate address ${keys[order[i]].toString(16)}` });
      }
    }
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
