import type { Bytes } from './bytes.js';
import { Size } from './constants.js';
import { guidString } from './modules.js';
import type { Problems } from './problems.js';
import { readUtf8String } from './strings.js';
import type { CrashpadAnnotation, CrashpadInfo, CrashpadModuleInfo } from './types.js';

const WHERE = 'CrashpadInfoStream';

/**
 * MDRawCrashpadInfo: report and client ids, process-wide annotations, and per-module
 * info (list annotations, simple string dictionaries and typed annotation objects) keyed
 * by the module's index in the module list. Every count is capped by the bytes present;
 * a broken part is reported and skipped, keeping the rest.
 */
export function readCrashpadInfo(stream: Bytes, file: Bytes, problems: Problems): CrashpadInfo | undefined {
  if (stream.length < Size.CRASHPAD_INFO) {
    problems.report(WHERE, `stream is ${stream.length} bytes, expected ${Size.CRASHPAD_INFO}`);
    if (stream.length < 52) return undefined;
  }
  budget = new Budget(Math.max(1024, file.length >> 2));
  const simpleAnnotations = readDictionary(file, stream.u32(36)!, stream.u32(40)!, 'simple annotations', problems);
  const moduleList = readModuleInfoList(file, stream.u32(44)!, stream.u32(48)!, problems);
  return {
    version: stream.u32(0)!,
    reportId: guidString(stream.slice(4, 16)!),
    clientId: guidString(stream.slice(20, 16)!),
    simpleAnnotations,
    moduleList,
    addressMask: stream.u64(56) ?? 0n,
  };
}

/**
 * Work budget shared by all lists of one Crashpad stream. Each list is capped by its own
 * size, but many module entries may point at the same large list; the budget (one
 * entry per 4 bytes of file) keeps the total work linear in the file size.
 */
class Budget {
  constructor(private left: number) {}
  take(wanted: number, what: string, problems: Problems): number {
    const granted = Math.min(wanted, this.left);
    if (granted < wanted) problems.report(WHERE, `${what}: stopped reading, annotation entries exceed the file's size`);
    this.left -= granted;
    return granted;
  }
}

let budget = new Budget(0);

/**
 * How many `entrySize` entries after a u32 count can be read at `rva`: capped by the
 * list's declared size, by the bytes in the file and by the stream's work budget.
 */
function countAt(file: Bytes, size: number, rva: number, entrySize: number, what: string, problems: Problems): number {
  const count = file.u32(rva);
  if (count === undefined) {
    problems.report(WHERE, `${what}: count at 0x${rva.toString(16)} is outside the file`);
    return 0;
  }
  const fits = Math.min(Math.floor(Math.max(0, file.length - rva - 4) / entrySize), Math.floor(Math.max(0, size - 4) / entrySize));
  if (count > fits) {
    problems.report(WHERE, `${what}: declares ${count} entries but its ${size} bytes hold ${fits}`);
  }
  return budget.take(Math.min(count, fits), what, problems);
}

function readDictionary(file: Bytes, size: number, rva: number, what: string, problems: Problems): Map<string, string> {
  const dict = new Map<string, string>();
  if (size === 0) return dict;
  const count = countAt(file, size, rva, 8, what, problems);
  for (let i = 0; i < count; i++) {
    const key = readUtf8String(file, file.u32(rva + 4 + i * 8)!);
    const value = readUtf8String(file, file.u32(rva + 8 + i * 8)!);
    if ('error' in key || 'error' in value) {
      problems.report(WHERE, `${what} entry ${i}: ${'error' in key ? key.error : (value as { error: string }).error}`);
      continue;
    }
    // Like Breakpad, the first value of a duplicated key wins.
    if (!dict.has(key.value)) dict.set(key.value, value.value);
  }
  return dict;
}

function readStringList(file: Bytes, size: number, rva: number, what: string, problems: Problems): string[] {
  const list: string[] = [];
  if (size === 0) return list;
  const count = countAt(file, size, rva, 4, what, problems);
  for (let i = 0; i < count; i++) {
    const s = readUtf8String(file, file.u32(rva + 4 + i * 4)!);
    if ('error' in s) problems.report(WHERE, `${what} entry ${i}: ${s.error}`);
    else list.push(s.value);
  }
  return list;
}

function readAnnotationObjects(file: Bytes, size: number, rva: number, what: string, problems: Problems): CrashpadAnnotation[] {
  const list: CrashpadAnnotation[] = [];
  if (size === 0) return list;
  const count = countAt(file, size, rva, 12, what, problems);
  for (let i = 0; i < count; i++) {
    const at = rva + 4 + i * 12;
    const name = readUtf8String(file, file.u32(at)!);
    const valueRva = file.u32(at + 8)!;
    const valueLength = file.u32(valueRva);
    const value = valueLength === undefined ? undefined : file.slice(valueRva + 4, valueLength);
    if ('error' in name || value === undefined) {
      problems.report(WHERE, `${what} entry ${i}: ${'error' in name ? name.error : 'value lies outside the file'}`);
      continue;
    }
    list.push({ name: name.value, type: file.u16(at + 4)!, value });
  }
  return list;
}

function readModuleInfoList(file: Bytes, size: number, rva: number, problems: Problems): CrashpadModuleInfo[] {
  const modules: CrashpadModuleInfo[] = [];
  if (size === 0) return modules;
  const count = countAt(file, size, rva, 12, 'module list', problems);
  for (let i = 0; i < count; i++) {
    const at = rva + 4 + i * 12;
    const moduleIndex = file.u32(at)!;
    const infoSize = file.u32(at + 4)!;
    const infoRva = file.u32(at + 8)!;
    const what = `module ${moduleIndex}`;
    if (infoSize < 28 || !file.has(infoRva, 28)) {
      problems.report(WHERE, `${what}: info of ${infoSize} bytes at 0x${infoRva.toString(16)} is too short or outside the file`);
      continue;
    }
    modules.push({
      moduleIndex,
      version: file.u32(infoRva)!,
      listAnnotations: readStringList(file, file.u32(infoRva + 4)!, file.u32(infoRva + 8)!, `${what} list annotations`, problems),
      simpleAnnotations: readDictionary(file, file.u32(infoRva + 12)!, file.u32(infoRva + 16)!, `${what} simple annotations`, problems),
      annotationObjects: readAnnotationObjects(file, file.u32(infoRva + 20)!, file.u32(infoRva + 24)!, `${what} annotation objects`, problems),
    });
  }
  return modules;
}
