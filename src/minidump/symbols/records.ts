/**
 * Field-level parsers for each Breakpad symbol record, following the validation of
 * Breakpad's `SymbolParseHelper` and `WindowsFrameInfo::ParseFromString`: what they accept
 * decides which records exist, so a lookup finds what Breakpad's would.
 *
 * Each parser reads from a `RecordCursor` placed at the start of the line, fills a
 * caller-owned scratch object (no allocation per record: files have millions of them)
 * and returns `undefined` on success or the reason the record is malformed.
 *
 * Deliberate difference: Breakpad reads numbers with `strtoul`, which also takes a sign or
 * a `0x` prefix and, in `STACK` records, ignores junk; here numbers must be plain digits
 * and `STACK` numbers are validated, since such records only come from broken tools.
 */

import type { RecordCursor } from './record-cursor.js';

/** Byte range of a text field within the file. */
export interface TextRange {
  start: number;
  end: number;
}

function takeRest(c: RecordCursor, into: TextRange): boolean {
  if (!c.rest()) return false;
  into.start = c.tokenStart;
  into.end = c.tokenEnd;
  return true;
}

function takeToken(c: RecordCursor, into: TextRange): boolean {
  if (!c.next()) return false;
  into.start = c.tokenStart;
  into.end = c.tokenEnd;
  return true;
}

/** `MODULE os cpu id name`; the name (the debug file) may contain spaces. */
export interface ModuleRecord {
  os: TextRange;
  cpu: TextRange;
  id: TextRange;
  name: TextRange;
}

export function parseModule(c: RecordCursor, out: ModuleRecord): string | undefined {
  c.next(); // MODULE
  if (!takeToken(c, out.os)) return 'missing operating system';
  if (!takeToken(c, out.cpu)) return 'missing CPU';
  if (!takeToken(c, out.id)) return 'missing debug identifier';
  if (!isHexToken(c)) return 'debug identifier is not hex';
  if (!takeRest(c, out.name)) return 'missing debug file name';
  return undefined;
}

/** Whether the current token is hex digits only, however long (debug ids exceed 2^53). */
function isHexToken(c: RecordCursor): boolean {
  for (let i = c.tokenStart; i < c.tokenEnd; i++) {
    const lower = c.bytes[i] | 0x20;
    if (!((lower >= 0x30 && lower <= 0x39) || (lower >= 0x61 && lower <= 0x66))) return false;
  }
  return c.tokenEnd > c.tokenStart;
}

/** `INFO CODE_ID id [file]`; other `INFO` records are housekeeping and ignored. */
export interface CodeIdRecord {
  isCodeId: boolean;
  id: TextRange;
  /** Empty range when the record names no file. */
  file: TextRange;
}

export function parseInfo(c: RecordCursor, out: CodeIdRecord): string | undefined {
  c.next(); // INFO
  out.isCodeId = c.next() && c.tokenIs('CODE_ID');
  if (!out.isCodeId) return undefined;
  if (!takeToken(c, out.id)) return 'CODE_ID without an identifier';
  if (!takeRest(c, out.file)) out.file.start = out.file.end = out.id.end;
  return undefined;
}

/** `FILE id name`. */
export interface FileRecord {
  id: number;
  name: TextRange;
}

export function parseFile(c: RecordCursor, out: FileRecord): string | undefined {
  c.next(); // FILE
  if (!c.next()) return 'missing file number';
  out.id = c.decimal();
  if (!(out.id >= 0) || out.id > 0x7fffffff) return 'file number is not a non-negative decimal';
  if (!takeRest(c, out.name)) return 'missing file name';
  return undefined;
}

/** `FUNC [m] address size parameter_size name`. */
export interface FuncRecord {
  multiple: boolean;
  address: number;
  size: number;
  parameterSize: number;
  name: TextRange;
}

export function parseFunc(c: RecordCursor, out: FuncRecord): string | undefined {
  c.next(); // FUNC
  if (!c.next()) return 'missing address';
  out.multiple = c.tokenIs('m');
  if (out.multiple && !c.next()) return 'missing address';
  out.address = c.hex();
  if (Number.isNaN(out.address)) return 'address is not hex';
  if (!c.next()) return 'missing size';
  out.size = c.hex();
  if (Number.isNaN(out.size)) return 'size is not hex';
  if (!c.next()) return 'missing parameter size';
  out.parameterSize = c.hex();
  if (!(out.parameterSize <= 0x7fffffff)) return 'parameter size is not hex';
  if (!takeRest(c, out.name)) return 'missing name';
  return undefined;
}

/** `PUBLIC [m] address parameter_size name`. */
export interface PublicRecord {
  multiple: boolean;
  address: number;
  parameterSize: number;
  name: TextRange;
}

export function parsePublic(c: RecordCursor, out: PublicRecord): string | undefined {
  c.next(); // PUBLIC
  if (!c.next()) return 'missing address';
  out.multiple = c.tokenIs('m');
  if (out.multiple && !c.next()) return 'missing address';
  out.address = c.hex();
  if (Number.isNaN(out.address)) return 'address is not hex';
  if (!c.next()) return 'missing parameter size';
  out.parameterSize = c.hex();
  if (!(out.parameterSize <= 0x7fffffff)) return 'parameter size is not hex';
  if (!takeRest(c, out.name)) return 'missing name';
  return undefined;
}

/** `address size line filenum`, belonging to the preceding FUNC. */
export interface LineRecord {
  address: number;
  size: number;
  line: number;
  fileId: number;
}

export function parseLine(c: RecordCursor, out: LineRecord): string | undefined {
  if (!c.next()) return 'empty';
  out.address = c.hex();
  if (Number.isNaN(out.address)) return 'address is not hex';
  if (!c.next()) return 'missing size';
  out.size = c.hex();
  if (Number.isNaN(out.size)) return 'size is not hex';
  if (!c.next()) return 'missing line number';
  out.line = c.decimal();
  // Line 0 is valid: compiler-generated code attributed to a file but no line.
  if (!(out.line >= 0) || out.line > 0x7fffffff) return 'line number is not a non-negative decimal';
  if (!c.next()) return 'missing file number';
  out.fileId = c.decimal();
  if (!(out.fileId >= 0) || out.fileId > 0x7fffffff) return 'file number is not a non-negative decimal';
  return undefined;
}

/** `INLINE_ORIGIN id name`, or the older `INLINE_ORIGIN id file_id name`. */
export interface InlineOriginRecord {
  id: number;
  name: TextRange;
}

export function parseInlineOrigin(c: RecordCursor, out: InlineOriginRecord): string | undefined {
  c.next(); // INLINE_ORIGIN
  if (!c.next()) return 'missing origin id';
  out.id = c.decimal();
  if (!(out.id >= 0) || out.id > 0x7fffffff) return 'origin id is not a non-negative decimal';
  if (c.pos >= c.end) return 'missing name';
  // Breakpad's format sniffing: the old format has a file number (digits, maybe a leading
  // '-' for "-1") before the name. A name that is all digits is therefore read as a file id.
  let p = c.pos;
  let oldFormat = true;
  for (; p < c.end && c.bytes[p] !== 0x20 && oldFormat; p++) {
    if (c.bytes[p] === 0x2d && p === c.pos) continue;
    oldFormat = c.bytes[p] >= 0x30 && c.bytes[p] <= 0x39;
  }
  if (oldFormat) {
    if (!c.next()) return 'missing file number';
    const fileId = c.decimal();
    if (!(fileId >= -1) || fileId > 0x7fffffff) return 'file number is not a decimal';
  }
  if (!takeRest(c, out.name)) return 'missing name';
  return undefined;
}

/**
 * `INLINE depth call_line call_file origin [address size]+`, or the older form without
 * `call_file`. Breakpad tells them apart by the parity of the field count.
 */
export interface InlineRecord {
  depth: number;
  callLine: number;
  /** -1 when the record has no call-site file (old format, or artificial code). */
  callFileId: number;
  originId: number;
  /** Flattened `[address, size]` pairs. */
  ranges: number[];
}

export function parseInline(c: RecordCursor, out: InlineRecord): string | undefined {
  c.next(); // INLINE
  const start = c.pos;
  let fields = 0;
  while (c.next()) fields++;
  if (fields < 5) return 'too few fields';
  const hasCallFile = fields % 2 === 0;
  c.pos = start;
  c.next();
  out.depth = c.decimal();
  if (!(out.depth >= 0) || out.depth > 0x7fffffff) return 'depth is not a non-negative decimal';
  c.next();
  out.callLine = c.decimal();
  if (!(out.callLine >= 0) || out.callLine > 0x7fffffff) return 'call line is not a non-negative decimal';
  out.callFileId = -1;
  if (hasCallFile) {
    c.next();
    out.callFileId = c.decimal();
    if (!(out.callFileId >= -1) || out.callFileId > 0x7fffffff) return 'call file is not a decimal';
  }
  c.next();
  out.originId = c.decimal();
  if (!(out.originId >= 0) || out.originId > 0x7fffffff) return 'origin id is not a non-negative decimal';
  out.ranges.length = 0;
  while (c.next()) {
    const address = c.hex();
    if (Number.isNaN(address)) return 'range address is not hex';
    c.next();
    const size = c.hex();
    if (Number.isNaN(size)) return 'range size is not hex';
    out.ranges.push(address, size);
  }
  return undefined;
}

/** `STACK CFI INIT address size rules` or `STACK CFI address rules`. */
export interface CfiRecord {
  isInit: boolean;
  address: number;
  /** Only for INIT records. */
  size: number;
  rules: TextRange;
}

/** `STACK WIN type rva code_size prolog epilog params saved_regs locals max_stack has_program program|allocates_bp`. */
export interface WinRecord {
  type: number;
  rva: number;
  codeSize: number;
  prologSize: number;
  epilogSize: number;
  parameterSize: number;
  savedRegisterSize: number;
  localSize: number;
  maxStackSize: number;
  hasProgramString: boolean;
  /** The program string (when `hasProgramString`) or the allocates-base-pointer flag. */
  last: TextRange;
}

export function parseStackCfi(c: RecordCursor, out: CfiRecord): string | undefined {
  if (!c.next()) return 'missing address';
  out.isInit = c.tokenIs('INIT');
  if (out.isInit) {
    if (!c.next()) return 'missing address';
    out.address = c.hex();
    if (Number.isNaN(out.address)) return 'address is not hex';
    if (!c.next()) return 'missing size';
    out.size = c.hex();
    if (Number.isNaN(out.size)) return 'size is not hex';
  } else {
    out.address = c.hex();
    if (Number.isNaN(out.address)) return 'address is not hex';
    out.size = 0;
  }
  // Breakpad takes the rest after skipping spaces (strtok on line breaks only).
  while (c.pos < c.end && c.bytes[c.pos] === 0x20) c.pos++;
  if (!takeRest(c, out.rules)) return 'missing rules';
  return undefined;
}

const WIN_U32_FIELDS = [
  'prologSize',
  'epilogSize',
  'parameterSize',
  'savedRegisterSize',
  'localSize',
  'maxStackSize',
] as const;

export function parseStackWin(c: RecordCursor, out: WinRecord): string | undefined {
  if (!c.next()) return 'missing type';
  out.type = c.hex();
  if (!(out.type >= 0 && out.type <= 4)) return 'type is not 0..4';
  if (!c.next()) return 'missing rva';
  out.rva = c.hex();
  if (Number.isNaN(out.rva)) return 'rva is not hex';
  if (!c.next()) return 'missing code size';
  out.codeSize = c.hex();
  if (Number.isNaN(out.codeSize)) return 'code size is not hex';
  for (const field of WIN_U32_FIELDS) {
    if (!c.next()) return `missing ${field}`;
    const value = c.hex();
    if (!(value <= 0xffffffff)) return `${field} is not a 32-bit hex number`;
    out[field] = value;
  }
  if (!c.next()) return 'missing has_program_string';
  const has = c.hex();
  if (Number.isNaN(has)) return 'has_program_string is not hex';
  out.hasProgramString = has !== 0;
  if (!takeRest(c, out.last)) return 'missing program string or allocates_base_pointer';
  return undefined;
}

/** Fresh scratch objects for the parsers above. */
export function scratchRecords() {
  const range = (): TextRange => ({ start: 0, end: 0 });
  return {
    module: { os: range(), cpu: range(), id: range(), name: range() } as ModuleRecord,
    info: { isCodeId: false, id: range(), file: range() } as CodeIdRecord,
    file: { id: 0, name: range() } as FileRecord,
    func: { multiple: false, address: 0, size: 0, parameterSize: 0, name: range() } as FuncRecord,
    pub: { multiple: false, address: 0, parameterSize: 0, name: range() } as PublicRecord,
    line: { address: 0, size: 0, line: 0, fileId: 0 } as LineRecord,
    origin: { id: 0, name: range() } as InlineOriginRecord,
    inline: { depth: 0, callLine: 0, callFileId: -1, originId: 0, ranges: [] } as InlineRecord,
    cfi: { isInit: false, address: 0, size: 0, rules: range() } as CfiRecord,
    win: {
      type: 0,
      rva: 0,
      codeSize: 0,
      prologSize: 0,
      epilogSize: 0,
      parameterSize: 0,
      savedRegisterSize: 0,
      localSize: 0,
      maxStackSize: 0,
      hasProgramString: false,
      last: range(),
    } as WinRecord,
  };
}

export type ScratchRecords = ReturnType<typeof scratchRecords>;
