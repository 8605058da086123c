/**
 * Parsing a Breakpad text symbol file (`.sym`) into `BreakpadModuleSymbols`.
 *
 * One pass over the bytes, line by line. Records are validated the way Breakpad's
 * `BasicSourceLineResolver` validates them and stored the way it stores them (first FUNC
 * wins over an overlapping one, first PUBLIC per address, last CFI delta per address, ...)
 * so lookups agree with the reference stackwalker. A malformed record is skipped and
 * reported with its line number; the rest of the file stays usable. Only a missing or
 * malformed `MODULE` header makes the whole file corrupt: without it we cannot even tell
 * which module the file describes.
 *
 * Differences from Breakpad, on broken input only: Breakpad stops after 100 errors (we
 * go on, keeping the first `MAX_REPORTED_ERRORS` messages), treats a lone `\r` as a line
 * break (we only strip it at line ends), and reads `0x`-prefixed or signed numbers.
 */

import type { ModuleSymbols } from '../contracts.js';
import { BreakpadModuleSymbols } from './breakpad-symbols.js';
import type { SymbolTables, WinTable } from './breakpad-symbols.js';
import { GrowableColumn, stableOrder } from './compact-arrays.js';
import { IdTable } from './id-table.js';
import { ExclusiveRangeSet, NestedRangeSet } from './range-sets.js';
import { RecordCursor } from './record-cursor.js';
import { RecordKind, forEachLine, recordKind } from './record-kind.js';
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

/** Cap on stored error messages: a garbage file must not produce a garbage-sized list. */
export const MAX_REPORTED_ERRORS = 1000;

export interface SymbolParseError {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly message: string;
}

/** The `MODULE os cpu id name` header. */
export interface SymbolFileModule {
  readonly os: string;
  readonly cpu: string;
  readonly debugId: string;
  readonly debugFile: string;
}

export interface ParsedSymbolFile {
  readonly status: 'parsed';
  /** Absent only for a file without a MODULE header parsed with `allowMissingModule`. */
  readonly module: SymbolFileModule | undefined;
  /** From `INFO CODE_ID id [file]`. */
  readonly codeId?: string;
  readonly codeFile?: string;
  readonly symbols: BreakpadModuleSymbols & ModuleSymbols;
  /** The first `MAX_REPORTED_ERRORS` malformed records, in file order. */
  readonly errors: readonly SymbolParseError[];
  /** How many records were malformed in all. */
  readonly errorCount: number;
}

export interface CorruptSymbolFile {
  readonly status: 'corrupt';
  readonly error: string;
}

export type SymbolFileParseResult = ParsedSymbolFile | CorruptSymbolFile;

/** Format an error the way logs and reports show it. */
export function formatSymbolParseError(error: SymbolParseError): string {
  return `line ${error.line}: ${error.message}`;
}

const decoder = new TextDecoder('utf-8');

/** Offsets into the file are stored as 32-bit numbers. */
const MAX_FILE_SIZE = 0xffffffff;

/** Current FUNC for the line records that follow: none, or one that was not stored. */
const NO_FUNCTION = -1;
const DROPPED_FUNCTION = -2;

export interface ParseSymbolFileOptions {
  /**
   * Parse a file that has no MODULE header instead of calling it corrupt (a malformed
   * header is always corrupt). Breakpad itself ignores the header, and some real files
   * lack it, e.g. the CFI-only files Sentry's tools write. Default false.
   */
  readonly allowMissingModule?: boolean;
}

export function parseSymbolFile(bytes: Uint8Array, options: ParseSymbolFileOptions = {}): SymbolFileParseResult {
  if (bytes.byteLength > MAX_FILE_SIZE) return { status: 'corrupt', error: 'symbol file larger than 4 GiB' };
  const builder = new SymbolTablesBuilder(bytes);
  const header = builder.parseHeader();
  if (header.kind === 'bad') return { status: 'corrupt', error: header.error };
  if (header.kind === 'missing' && !options.allowMissingModule) {
    return { status: 'corrupt', error: `line ${header.line}: ${header.error}` };
  }
  if (header.kind === 'missing') builder.noteMissingModule(header.line, header.error);
  builder.parseBody(header.bodyStart, header.bodyLine);
  const { tables, corrupt } = builder.finish();
  return {
    status: 'parsed',
    module: header.kind === 'module' ? header.module : undefined,
    codeId: builder.codeId,
    codeFile: builder.codeFile,
    symbols: new BreakpadModuleSymbols(tables, corrupt),
    errors: builder.errors,
    errorCount: builder.errorCount,
  };
}

class SymbolTablesBuilder {
  readonly errors: SymbolParseError[] = [];
  errorCount = 0;
  /** Errors that make Breakpad call the symbols corrupt (INLINE ones do not). */
  private corruptingErrors = 0;
  codeId?: string;
  codeFile?: string;

  private readonly cursor = new RecordCursor();
  private readonly scratch = scratchRecords();

  private readonly files = new IdTable();
  private readonly origins = new IdTable();

  private readonly functionRanges = new ExclusiveRangeSet();
  private readonly fn = {
    nameStart: new GrowableColumn('u32'),
    nameEnd: new GrowableColumn('u32'),
    parameterSize: new GrowableColumn('u32'),
    multiple: new GrowableColumn('u32'),
    blockStart: new GrowableColumn('u32'),
    blockEnd: new GrowableColumn('u32'),
  };
  private currentFunction = NO_FUNCTION;

  private readonly pub = {
    addresses: new GrowableColumn('f64'),
    nameStart: new GrowableColumn('u32'),
    nameEnd: new GrowableColumn('u32'),
    parameterSize: new GrowableColumn('u32'),
    multiple: new GrowableColumn('u32'),
    line: new GrowableColumn('u32'),
  };

  private readonly cfiInit = new ExclusiveRangeSet();
  private readonly cfiInitRules = { start: new GrowableColumn('u32'), end: new GrowableColumn('u32') };
  private readonly cfiDelta = {
    addresses: new GrowableColumn('f64'),
    start: new GrowableColumn('u32'),
    end: new GrowableColumn('u32'),
  };

  private readonly winFrameData = this.newWinBuilder();
  private readonly winFpo = this.newWinBuilder();

  constructor(private readonly bytes: Uint8Array) {}

  private newWinBuilder() {
    return {
      ranges: new NestedRangeSet(false),
      recordStart: new GrowableColumn('u32'),
      recordEnd: new GrowableColumn('u32'),
    };
  }

  private error(line: number, message: string, corrupting = true): void {
    this.errorCount++;
    if (corrupting) this.corruptingErrors++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line, message });
  }

  /** Records that a headerless file was accepted; not corrupting, since Breakpad does not care. */
  noteMissingModule(line: number, error: string): void {
    this.error(line, error, false);
  }

  /** The first non-empty line must be a well-formed MODULE record. */
  parseHeader():
    | { kind: 'module'; module: SymbolFileModule; bodyStart: number; bodyLine: number }
    | { kind: 'missing'; error: string; line: number; bodyStart: number; bodyLine: number }
    | { kind: 'bad'; error: string } {
    const bytes = this.bytes;
    let pos = 0;
    let line = 1;
    for (;;) {
      if (pos >= bytes.length) {
        return { kind: 'missing', error: 'no MODULE record (empty symbol file)', line, bodyStart: 0, bodyLine: 1 };
      }
      let newline = bytes.indexOf(0x0a, pos);
      if (newline < 0) newline = bytes.length;
      let end = newline;
      while (end > pos && bytes[end - 1] === 0x0d) end--;
      if (end > pos) {
        if (recordKind(bytes, pos, end) !== RecordKind.Module) {
          return { kind: 'missing', error: 'expected a MODULE record first', line, bodyStart: 0, bodyLine: 1 };
        }
        const m = this.scratch.module;
        const problem = parseModule(this.cursor.reset(bytes, pos, end), m);
        if (problem) return { kind: 'bad', error: `line ${line}: bad MODULE record: ${problem}` };
        const text = (r: { start: number; end: number }) => decoder.decode(bytes.subarray(r.start, r.end));
        return {
          kind: 'module',
          module: { os: text(m.os), cpu: text(m.cpu), debugId: text(m.id), debugFile: text(m.name) },
          bodyStart: newline + 1,
          bodyLine: line + 1,
        };
      }
      // A blank last line without a line break ends the file on this line, not the next.
      if (newline >= bytes.length) return { kind: 'missing', error: 'no MODULE record (empty symbol file)', line, bodyStart: 0, bodyLine: 1 };
      pos = newline + 1;
      line++;
    }
  }

  parseBody(from: number, firstLine: number): void {
    forEachLine(this.bytes, from, this.bytes.length, firstLine, (start, end, line) => {
      this.parseRecord(start, end, line);
    });
  }

  private parseRecord(start: number, end: number, line: number): void {
    const c = this.cursor.reset(this.bytes, start, end);
    const s = this.scratch;
    switch (recordKind(this.bytes, start, end)) {
      case RecordKind.Line: {
        if (this.currentFunction === NO_FUNCTION) {
          this.error(line, 'line record without a preceding FUNC (or unknown record)');
          return;
        }
        const problem = parseLine(c, s.line);
        if (problem) return this.error(line, `bad line record: ${problem}`);
        if (this.currentFunction >= 0) this.fn.blockEnd.set(this.currentFunction, end);
        return;
      }
      case RecordKind.Stack:
        return this.parseStack(c, end, line);
      case RecordKind.Func:
        return this.parseFunc(c, end, line);
      case RecordKind.Public: {
        this.currentFunction = NO_FUNCTION; // public symbols have no line records
        const problem = parsePublic(c, s.pub);
        if (problem) return this.error(line, `bad PUBLIC record: ${problem}`);
        // Address 0 shows up for a few bogus symbols (e.g. in ntdll); Breakpad skips them.
        if (s.pub.address === 0) return;
        const p = this.pub;
        p.addresses.push(s.pub.address);
        p.nameStart.push(s.pub.name.start);
        p.nameEnd.push(s.pub.name.end);
        p.parameterSize.push(s.pub.parameterSize);
        p.multiple.push(s.pub.multiple ? 1 : 0);
        p.line.push(line);
        return;
      }
      case RecordKind.File: {
        const problem = parseFile(c, s.file);
        if (problem) return this.error(line, `bad FILE record: ${problem}`);
        this.files.add(s.file.id, s.file.name.start, s.file.name.end);
        return;
      }
      case RecordKind.InlineOrigin: {
        const problem = parseInlineOrigin(c, s.origin);
        if (problem) return this.error(line, `bad INLINE_ORIGIN record: ${problem}`, false);
        this.origins.add(s.origin.id, s.origin.name.start, s.origin.name.end);
        return;
      }
      case RecordKind.Inline: {
        const problem = parseInline(c, s.inline);
        if (problem) return this.error(line, `bad INLINE record: ${problem}`, false);
        if (this.currentFunction === NO_FUNCTION) {
          return this.error(line, 'INLINE record without a preceding FUNC', false);
        }
        if (this.currentFunction >= 0) this.fn.blockEnd.set(this.currentFunction, end);
        return;
      }
      case RecordKind.Info: {
        const problem = parseInfo(c, s.info);
        if (problem) return this.error(line, `bad INFO record: ${problem}`);
        if (s.info.isCodeId && this.codeId === undefined) {
          this.codeId = decoder.decode(this.bytes.subarray(s.info.id.start, s.info.id.end));
          if (s.info.file.end > s.info.file.start) {
            this.codeFile = decoder.decode(this.bytes.subarray(s.info.file.start, s.info.file.end));
          }
        }
        return;
      }
      case RecordKind.Module:
        return; // a repeated header is housekeeping, as in Breakpad
    }
  }

  private parseFunc(c: RecordCursor, end: number, line: number): void {
    const f = this.scratch.func;
    const problem = parseFunc(c, f);
    if (problem) {
      this.currentFunction = NO_FUNCTION;
      return this.error(line, `bad FUNC record: ${problem}`);
    }
    const id = this.fn.nameStart.length;
    // An empty or overlapping FUNC is dropped silently, and its line records with it.
    if (!this.functionRanges.add(f.address, f.size, id)) {
      this.currentFunction = DROPPED_FUNCTION;
      return;
    }
    this.fn.nameStart.push(f.name.start);
    this.fn.nameEnd.push(f.name.end);
    this.fn.parameterSize.push(f.parameterSize);
    this.fn.multiple.push(f.multiple ? 1 : 0);
    // The block starts right after this line; it ends after the last record it owns.
    const blockStart = Math.min(end + 1, this.bytes.length);
    this.fn.blockStart.push(blockStart);
    this.fn.blockEnd.push(blockStart);
    this.currentFunction = id;
  }

  private parseStack(c: RecordCursor, end: number, line: number): void {
    const start = c.pos;
    c.next(); // STACK
    if (!c.next()) return this.error(line, 'bad STACK record: missing kind');
    if (c.tokenIs('CFI')) {
      const r = this.scratch.cfi;
      const problem = parseStackCfi(c, r);
      if (problem) return this.error(line, `bad STACK CFI record: ${problem}`);
      if (r.isInit) {
        if (this.cfiInit.add(r.address, r.size, this.cfiInitRules.start.length)) {
          this.cfiInitRules.start.push(r.rules.start);
          this.cfiInitRules.end.push(r.rules.end);
        }
      } else {
        this.cfiDelta.addresses.push(r.address);
        this.cfiDelta.start.push(r.rules.start);
        this.cfiDelta.end.push(r.rules.end);
      }
      return;
    }
    if (c.tokenIs('WIN')) {
      const r = this.scratch.win;
      const problem = parseStackWin(c, r);
      if (problem) return this.error(line, `bad STACK WIN record: ${problem}`);
      // Breakpad stores every type but only ever consults FrameData (4) and FPO (0).
      const table = r.type === 4 ? this.winFrameData : r.type === 0 ? this.winFpo : undefined;
      if (table && table.ranges.add(r.rva, r.codeSize, table.recordStart.length)) {
        table.recordStart.push(start);
        table.recordEnd.push(end);
      }
      return;
    }
    this.error(line, `bad STACK record: unknown kind ${JSON.stringify(c.text(decoder))}`);
  }

  finish(): { tables: SymbolTables; corrupt: boolean } {
    const functionRanges = this.functionRanges.freeze();
    const fn = this.fn;
    const functions = {
      ...functionRanges,
      nameStart: fn.nameStart.finish(),
      nameEnd: fn.nameEnd.finish(),
      parameterSize: fn.parameterSize.finish(),
      multiple: Uint8Array.from(fn.multiple.finish()),
      blockStart: fn.blockStart.finish(),
      blockEnd: fn.blockEnd.finish(),
    };
    const tables: SymbolTables = {
      bytes: this.bytes,
      functions,
      publics: this.finishPublics(),
      files: this.files.freeze(),
      inlineOrigins: this.origins.freeze(),
      cfi: { ...this.finishCfiDeltas(), ...this.finishCfiInit() },
      winFrameData: finishWin(this.winFrameData),
      winFpo: finishWin(this.winFpo),
    };
    // Duplicate PUBLICs were reported out of line order; keep the list in file order.
    this.errors.sort((a, b) => a.line - b.line);
    return { tables, corrupt: this.corruptingErrors > 0 };
  }

  private finishCfiInit() {
    const init = this.cfiInit.freeze();
    return { init, initRulesStart: this.cfiInitRules.start.finish(), initRulesEnd: this.cfiInitRules.end.finish() };
  }

  /** Sort the delta rows by address; for a repeated address the last row wins (`map[address] = rules`). */
  private finishCfiDeltas() {
    const d = this.cfiDelta;
    const keys = d.addresses.finish();
    const order = stableOrder(keys, keys.length);
    let kept = 0;
    for (let i = 0; i < order.length; i++) {
      const isLastOfAddress = i + 1 === order.length || keys[order[i + 1]] !== keys[order[i]];
      if (isLastOfAddress) order[kept++] = order[i];
    }
    const winners = order.subarray(0, kept);
    return {
      deltaAddresses: d.addresses.finish(winners),
      deltaRulesStart: d.start.finish(winners),
      deltaRulesEnd: d.end.finish(winners),
    };
  }

  /** Sort by address; for a repeated address the first wins and the others are errors, as in Breakpad. */
  private finishPublics() {
    const p = this.pub;
    const keys = p.addresses.finish();
    const order = stableOrder(keys, keys.length);
    let kept = 0;
    for (let i = 0; i < order.length; i++) {
      if (kept > 0 && keys[order[i]] === keys[order[kept - 1]]) {
        this.error(p.line.get(order[i]), `bad PUBLIC record: duplicate address ${keys[order[i]].toString(16)}`);
        continue;
      }
      order[kept++] = order[i];
    }
    const winners = order.subarray(0, kept);
    return {
      addresses: p.addresses.finish(winners),
      nameStart: p.nameStart.finish(winners),
      nameEnd: p.nameEnd.finish(winners),
      parameterSize: p.parameterSize.finish(winners),
      multiple: Uint8Array.from(p.multiple.finish(winners)),
    };
  }
}

function finishWin(w: { ranges: NestedRangeSet; recordStart: GrowableColumn<'u32'>; recordEnd: GrowableColumn<'u32'> }): WinTable {
  return { ranges: w.ranges.freeze(), recordStart: w.recordStart.finish(), recordEnd: w.recordEnd.finish() };
}
