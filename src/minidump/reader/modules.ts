import { Bytes, Fields } from './bytes.js';
import { CvSignature, Platform, Size, VS_FIXEDFILEINFO_SIGNATURE, VS_FIXEDFILEINFO_VERSION } from './constants.js';
import { listStart } from './memory.js';
import type { Problems } from './problems.js';
import { cString, cString16, readMinidumpString } from './strings.js';
import type { CodeViewFormat, MinidumpModule, UnloadedModule } from './types.js';

/** Breakpad refuses CodeView and misc records larger than this (`max_cv_bytes_`). */
const MAX_DEBUG_RECORD = 32768;
const U64_MAX = (1n << 64n) - 1n;

/**
 * MINIDUMP_MODULE_LIST: u32 count (optionally padded to 8) and 108-byte modules.
 *
 * The identifiers are derived as Breakpad's `MinidumpModule` derives them, because the
 * symbol store is keyed by them:
 * - debug id: PDB70 → GUID (`%08X%04X%04X` + 8×`%02X`) + age in *lowercase* `%x`;
 *   PDB20 → signature `%08X` + age `%x`; ELF (`BpEL`) → the first 16 build-id bytes read
 *   as a little-endian GUID (so the first 4 and next 2+2 bytes appear byte-swapped) + `0`.
 * - debug file: the PDB name (up to its NUL), the code file for ELF, else the misc record.
 * - code id: Windows → timestamp `%08X` + image size `%x`; Linux/Android/Fuchsia with an
 *   ELF record → the whole build id in lowercase hex; other known OSes → `id`; unknown → ``.
 * - when a CodeView or misc record the module announces cannot be read (out of the file,
 *   over 32 KiB, no NUL terminator...), Breakpad forgets all debug info of the module, so
 *   debug file, debug id and code id are all empty; we do the same and report it.
 * Unlike Breakpad, which rejects the whole list for one bad module, a module with a zero
 * or overflowing size or an unreadable name is reported and the rest are kept.
 */
export function readModuleList(
  stream: Bytes,
  file: Bytes,
  platformId: number | undefined,
  problems: Problems,
): MinidumpModule[] {
  const where = 'ModuleListStream';
  const count = stream.u32(0);
  if (count === undefined) {
    problems.report(where, 'stream too short for the module count');
    return [];
  }
  const start = listStart(stream.length, count, Size.MODULE);
  const fits = Math.floor(Math.max(0, stream.length - start) / Size.MODULE);
  if (count > fits) problems.report(where, `declares ${count} modules but the stream holds ${fits}`);
  const modules: MinidumpModule[] = [];
  for (let i = 0; i < Math.min(count, fits); i++) {
    const module = readModule(stream, start + i * Size.MODULE, i, file, platformId, `${where} module ${i}`, problems);
    if (module) modules.push(module);
  }
  reportOverlaps(modules, where, problems);
  return modules;
}

function readModule(
  stream: Bytes,
  at: number,
  index: number,
  file: Bytes,
  platformId: number | undefined,
  where: string,
  problems: Problems,
): MinidumpModule | undefined {
  const f = new Fields(stream, at);
  const base = f.u64(0);
  const size = BigInt(f.u32(8));
  if (size === 0n || size > U64_MAX - base) {
    problems.report(where, `bad extent 0x${base.toString(16)}+0x${size.toString(16)}; module skipped`);
    return undefined;
  }
  const name = readMinidumpString(file, f.u32(20));
  let codeFile = '';
  if ('error' in name) problems.report(where, `name: ${name.error}`);
  else codeFile = name.value;

  const timeDateStamp = f.u32(16);
  const versionInfo = {
    signature: f.u32(24),
    structVersion: f.u32(28),
    fileVersionHi: f.u32(32),
    fileVersionLo: f.u32(36),
    productVersionHi: f.u32(40),
    productVersionLo: f.u32(44),
    fileFlagsMask: f.u32(48),
    fileFlags: f.u32(52),
    fileOs: f.u32(56),
    fileType: f.u32(60),
    fileSubtype: f.u32(64),
    fileDateHi: f.u32(68),
    fileDateLo: f.u32(72),
  };
  const cv = readCodeView(file, f.u32(76), f.u32(80), where, problems);
  const misc = readMiscRecord(file, f.u32(84), f.u32(88), where, problems);
  const hasDebugInfo = cv.ok && misc.ok;

  let rawDebugFile = '';
  let debugId = '';
  let codeId = '';
  if (hasDebugInfo) {
    rawDebugFile = cv.debugFile ?? (cv.format === 'elf' ? codeFile : '');
    if (rawDebugFile === '' && misc.debugFile !== undefined) rawDebugFile = misc.debugFile;
    debugId = cv.debugId ?? '';
    codeId = codeIdentifier(platformId, timeDateStamp, Number(size), cv.buildId);
  }
  return {
    index,
    base,
    size,
    codeFile,
    codeId,
    debugFile: baseName(rawDebugFile),
    rawDebugFile,
    debugId,
    version: versionString(versionInfo),
    checksum: f.u32(12),
    timeDateStamp,
    versionInfo,
    cvFormat: cv.format,
    cvRecord: cv.record,
    ...(cv.buildId ? { buildId: cv.buildId } : {}),
    ...(cv.pdbGuid ? { pdbGuid: cv.pdbGuid, pdbAge: cv.pdbAge } : {}),
    ...(cv.pdbSignature !== undefined ? { pdbSignature: cv.pdbSignature, pdbAge: cv.pdbAge } : {}),
    ...(misc.debugFile !== undefined ? { miscDebugFile: misc.debugFile } : {}),
  };
}

/** `a.b.c.d` from VS_FIXEDFILEINFO, only when Breakpad would trust the structure. */
function versionString(v: { signature: number; structVersion: number; fileVersionHi: number; fileVersionLo: number }): string {
  if (v.signature !== VS_FIXEDFILEINFO_SIGNATURE || (v.structVersion & VS_FIXEDFILEINFO_VERSION) === 0) return '';
  return `${v.fileVersionHi >>> 16}.${v.fileVersionHi & 0xffff}.${v.fileVersionLo >>> 16}.${v.fileVersionLo & 0xffff}`;
}

function codeIdentifier(platformId: number | undefined, timestamp: number, size: number, buildId: Uint8Array | undefined): string {
  switch (platformId) {
    case Platform.WIN32_NT:
    case Platform.WIN32_WINDOWS:
      return hexUpper(timestamp, 8) + size.toString(16);
    case Platform.ANDROID:
    case Platform.FUCHSIA:
    case Platform.LINUX:
      if (buildId) return bytesHex(buildId);
      return 'id';
    case Platform.MAC_OS_X:
    case Platform.IOS:
    case Platform.SOLARIS:
    case Platform.NACL:
    case Platform.PS3:
      return 'id';
    default:
      return '';
  }
}

interface CodeView {
  /** False when the module announces a record that cannot be used. */
  readonly ok: boolean;
  readonly format: CodeViewFormat;
  readonly record: Uint8Array;
  readonly debugFile?: string;
  readonly debugId?: string;
  readonly buildId?: Uint8Array;
  readonly pdbGuid?: string;
  readonly pdbAge?: number;
  readonly pdbSignature?: number;
}

const EMPTY = new Uint8Array(0);

function readCodeView(file: Bytes, size: number, rva: number, where: string, problems: Problems): CodeView {
  if (size === 0) return { ok: true, format: 'none', record: EMPTY };
  const fail = (message: string): CodeView => {
    problems.report(where, `CodeView record: ${message}`);
    return { ok: false, format: 'unknown', record: EMPTY };
  };
  if (size > MAX_DEBUG_RECORD) return fail(`size ${size} exceeds ${MAX_DEBUG_RECORD}`);
  const record = file.slice(rva, size);
  if (!record) return fail(`${size} bytes at 0x${rva.toString(16)} lie outside the file`);
  const r = new Fields(file, rva);
  // Breakpad only looks at the signature when the record is longer than it.
  const signature = size > 4 ? r.u32(0) : 0xffffffff;
  switch (signature) {
    case CvSignature.PDB70: {
      if (size < 25) return fail(`PDB70 record of ${size} bytes is too short`);
      if (record[size - 1] !== 0) return fail('PDB70 file name is not NUL-terminated');
      const age = r.u32(20);
      return {
        ok: true,
        format: 'pdb70',
        record,
        debugFile: cString(record.subarray(24)),
        debugId: guidDebugId(record.subarray(4, 20), age),
        pdbGuid: guidString(record.subarray(4, 20)),
        pdbAge: age,
      };
    }
    case CvSignature.PDB20: {
      if (size < 17) return fail(`PDB20 record of ${size} bytes is too short`);
      if (record[size - 1] !== 0) return fail('PDB20 file name is not NUL-terminated');
      const signature20 = r.u32(8);
      const age = r.u32(12);
      return {
        ok: true,
        format: 'pdb20',
        record,
        debugFile: cString(record.subarray(16)),
        debugId: hexUpper(signature20, 8) + age.toString(16),
        pdbSignature: signature20,
        pdbAge: age,
      };
    }
    case CvSignature.ELF: {
      const buildId = record.subarray(4);
      const guid = new Uint8Array(16);
      guid.set(buildId.subarray(0, 16));
      return { ok: true, format: 'elf', record, buildId, debugId: guidDebugId(guid, 0) };
    }
    default:
      // Breakpad keeps unknown records (e.g. CodeView 5.0) without deriving anything.
      return { ok: true, format: 'unknown', record };
  }
}

interface MiscRecord {
  readonly ok: boolean;
  readonly debugFile?: string;
}

/**
 * IMAGE_DEBUG_MISC: data type, length (must equal the record size), a unicode flag,
 * then the debug file name in ANSI or UTF-16.
 */
function readMiscRecord(file: Bytes, size: number, rva: number, where: string, problems: Problems): MiscRecord {
  if (size === 0) return { ok: true };
  const fail = (message: string): MiscRecord => {
    problems.report(where, `misc debug record: ${message}`);
    return { ok: false };
  };
  if (size < 12) return fail(`${size} bytes is shorter than its 12-byte header`);
  if (size > MAX_DEBUG_RECORD) return fail(`size ${size} exceeds ${MAX_DEBUG_RECORD}`);
  const record = file.slice(rva, size);
  if (!record) return fail(`${size} bytes at 0x${rva.toString(16)} lie outside the file`);
  const length = file.u32(rva + 4)!;
  if (length !== size) return fail(`length field ${length} differs from record size ${size}`);
  const unicode = record[8] !== 0;
  const data = record.subarray(12);
  if (!unicode) return { ok: true, debugFile: cString(data) };
  return { ok: true, debugFile: data.length % 2 === 0 ? cString16(data) : undefined };
}

/** Breakpad's `guid_and_age_to_debug_id`: GUID fields as little-endian integers, age in `%x`. */
function guidDebugId(guid: Uint8Array, age: number): string {
  const g = new Fields(new Bytes(guid), 0);
  let id = hexUpper(g.u32(0), 8) + hexUpper(g.u16(4), 4) + hexUpper(g.u16(6), 4);
  for (let i = 8; i < 16; i++) id += hexUpper(guid[i], 2);
  return id + age.toString(16);
}

/** `7b7d1968-ff0d-47ae-4366-e9c3a7e1b675`, as minidump_dump prints a PDB70 GUID. */
export function guidString(guid: Uint8Array): string {
  const g = new Fields(new Bytes(guid), 0);
  const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  const tail = Array.from(guid.subarray(8, 16), (b) => h(b, 2));
  return `${h(g.u32(0), 8)}-${h(g.u16(4), 4)}-${h(g.u16(6), 4)}-${tail.slice(0, 2).join('')}-${tail.slice(2).join('')}`;
}

/**
 * The last component of a Windows or POSIX path, as Breakpad's `PathnameStripper::File`
 * takes it: symbol stores are keyed by the bare file name.
 */
export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut === -1 ? path : path.slice(cut + 1);
}

function hexUpper(value: number, width: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(width, '0');
}

function bytesHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function reportOverlaps(modules: readonly MinidumpModule[], where: string, problems: Problems): void {
  const sorted = [...modules].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.base < prev.base + prev.size) {
      const duplicate = cur.base === prev.base && cur.size === prev.size && cur.codeFile === prev.codeFile;
      if (!duplicate) {
        problems.report(where, `module ${cur.index} (${cur.codeFile}) overlaps module ${prev.index} (${prev.codeFile})`);
      }
    }
  }
}

/**
 * MINIDUMP_UNLOADED_MODULE_LIST: its own header (header size, entry size, u32 count),
 * then entries of at least 24 bytes.
 */
export function readUnloadedModuleList(stream: Bytes, file: Bytes, problems: Problems): UnloadedModule[] {
  const where = 'UnloadedModuleListStream';
  const headerSize = stream.u32(0);
  const entrySize = stream.u32(4);
  const count = stream.u32(8);
  if (headerSize === undefined || entrySize === undefined || count === undefined) {
    problems.report(where, 'stream too short for its header');
    return [];
  }
  if (headerSize < 12 || entrySize < Size.UNLOADED_MODULE) {
    problems.report(where, `header size ${headerSize} or entry size ${entrySize} is too small`);
    return [];
  }
  const fits = Math.floor(Math.max(0, stream.length - headerSize) / entrySize);
  if (count > fits) problems.report(where, `declares ${count} modules but the stream holds ${fits}`);
  const modules: UnloadedModule[] = [];
  for (let i = 0; i < Math.min(count, fits); i++) {
    const f = new Fields(stream, headerSize + i * entrySize);
    const size = f.u32(8);
    const timeDateStamp = f.u32(16);
    const name = readMinidumpString(file, f.u32(20));
    if ('error' in name) problems.report(`${where} module ${i}`, `name: ${name.error}`);
    modules.push({
      base: f.u64(0),
      size: BigInt(size),
      checksum: f.u32(12),
      timeDateStamp,
      codeFile: 'value' in name ? name.value : '',
      codeId: hexUpper(timeDateStamp, 8) + size.toString(16),
    });
  }
  return modules;
}
