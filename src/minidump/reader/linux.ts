import type { Bytes } from './bytes.js';
import type { Problems } from './problems.js';
import { readMinidumpString, utf8Text } from './strings.js';
import type { DsoDebug, LinkMapEntry, LinuxMapping } from './types.js';

/**
 * The Linux streams Breakpad's client adds: copies of files from `/proc` and `/etc`,
 * kept as text (or split on NUL where the kernel separates entries that way), plus the
 * dynamic linker's debug structure.
 */

/** A text stream (`/proc/cpuinfo`, `/proc/PID/status`, `/etc/lsb-release`). */
export function readText(stream: Bytes): string {
  return utf8Text(stream.data);
}

/** `/proc/PID/cmdline` and `/proc/PID/environ`: NUL-separated, with a trailing NUL. */
export function readNulSeparated(stream: Bytes): string[] {
  const text = utf8Text(stream.data);
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** `/proc/PID/auxv`: (type, value) pairs of native words, ending at `AT_NULL`. */
export function readAuxv(stream: Bytes, wordSize: 4 | 8, problems: Problems): Array<[bigint, bigint]> {
  const pairs: Array<[bigint, bigint]> = [];
  const pairSize = wordSize * 2;
  if (stream.length % pairSize !== 0) {
    problems.report('LinuxAuxvStream', `size ${stream.length} is not a multiple of ${pairSize}`);
  }
  const word = (at: number): bigint => (wordSize === 8 ? stream.u64(at)! : BigInt(stream.u32(at)!));
  for (let at = 0; at + pairSize <= stream.length; at += pairSize) {
    const type = word(at);
    pairs.push([type, word(at + wordSize)]);
    if (type === 0n) break;
  }
  return pairs;
}

const MAPS_LINE = /^([0-9a-fA-F]+)-([0-9a-fA-F]+)\s+(\S+)\s+([0-9a-fA-F]+)\s+(\S+)\s+(\d+)\s*(.*)$/;

/** `/proc/PID/maps`, one mapping per line; unparsable lines are reported and skipped. */
export function readLinuxMaps(stream: Bytes, problems: Problems): LinuxMapping[] {
  const mappings: LinuxMapping[] = [];
  const lines = utf8Text(stream.data).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '' || line === '\0') continue;
    const m = MAPS_LINE.exec(line);
    if (!m) {
      problems.report('LinuxMapsStream', `line ${i + 1} is not a maps line: ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    mappings.push({
      start: BigInt('0x' + m[1]),
      end: BigInt('0x' + m[2]),
      permissions: m[3],
      offset: BigInt('0x' + m[4]),
      device: m[5],
      inode: BigInt(m[6]),
      path: m[7].replace(/\0+$/, ''),
    });
  }
  return mappings;
}

/**
 * MDRawDebug32/64 (the `r_debug` of the dynamic linker) and its array of link maps.
 * Which one depends on the word size of the CPU. The map count is capped by the bytes
 * available at the map RVA.
 */
export function readDsoDebug(stream: Bytes, file: Bytes, wordSize: 4 | 8, problems: Problems): DsoDebug | undefined {
  const where = 'LinuxDsoDebugStream';
  const headerSize = wordSize === 8 ? 40 : 24;
  if (stream.length < headerSize) {
    problems.report(where, `stream is ${stream.length} bytes, expected at least ${headerSize}`);
    return undefined;
  }
  const word = (b: Bytes, at: number): bigint => (wordSize === 8 ? b.u64(at) ?? 0n : BigInt(b.u32(at) ?? 0));
  const version = stream.u32(0)!;
  const mapRva = stream.u32(4)!;
  const dsoCount = stream.u32(8)!;
  const brk = wordSize === 8 ? word(stream, 16) : word(stream, 12);
  const ldbase = wordSize === 8 ? word(stream, 24) : word(stream, 16);
  const dynamic = wordSize === 8 ? word(stream, 32) : word(stream, 20);
  const entrySize = wordSize === 8 ? 24 : 12;
  const fits = mapRva <= file.length ? Math.floor((file.length - mapRva) / entrySize) : 0;
  if (dsoCount > fits) problems.report(where, `declares ${dsoCount} link maps but the file holds ${fits}`);
  const linkMap: LinkMapEntry[] = [];
  for (let i = 0; i < Math.min(dsoCount, fits); i++) {
    const at = mapRva + i * entrySize;
    const nameRva = file.u32(at + wordSize)!;
    const name = readMinidumpString(file, nameRva);
    if ('error' in name) problems.report(where, `link map ${i} name: ${name.error}`);
    linkMap.push({
      addr: word(file, at),
      name: 'value' in name ? name.value : undefined,
      ld: wordSize === 8 ? word(file, at + 16) : word(file, at + 8),
    });
  }
  return { version, mapRva, dsoCount, brk, ldbase, dynamic, linkMap };
}
