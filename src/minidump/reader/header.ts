import { Bytes } from './bytes.js';
import { MINIDUMP_SIGNATURE, MINIDUMP_VERSION, Size, streamTypeName } from './constants.js';
import type { Problems } from './problems.js';
import type { MinidumpHeader, StreamDirectoryEntry } from './types.js';

/**
 * The 32-byte header. Like Breakpad, we require the `MDMP` signature and version 0xa793
 * in the low 16 bits (the high 16 are implementation specific); without them nothing
 * else in the file can be trusted, so reading stops there.
 */
export function readHeader(file: Bytes, problems: Problems): MinidumpHeader | undefined {
  if (!file.has(0, Size.HEADER)) {
    problems.report('header', `file is ${file.length} bytes, shorter than the 32-byte header`);
    return undefined;
  }
  const signature = file.u32(0)!;
  if (signature !== MINIDUMP_SIGNATURE) {
    const swapped = ((signature & 0xff) << 24 | (signature & 0xff00) << 8 | (signature >>> 8) & 0xff00 | signature >>> 24) >>> 0;
    problems.report(
      'header',
      swapped === MINIDUMP_SIGNATURE
        ? 'big-endian (byte-swapped) minidumps are not supported'
        : `not a minidump (signature 0x${signature.toString(16)}, expected 0x${MINIDUMP_SIGNATURE.toString(16)} "MDMP")`,
    );
    return undefined;
  }
  const version = file.u32(4)!;
  if ((version & 0xffff) !== MINIDUMP_VERSION) {
    problems.report('header', `unsupported version 0x${(version & 0xffff).toString(16)} (expected 0xa793)`);
    return undefined;
  }
  return {
    signature,
    version,
    streamCount: file.u32(8)!,
    streamDirectoryRva: file.u32(12)!,
    checksum: file.u32(16)!,
    timestamp: file.u32(20)!,
    flags: file.u64(24)!,
  };
}

/**
 * The stream directory. The declared count is capped by the bytes that actually follow
 * the directory RVA, so a huge count cannot make us allocate or loop beyond the file.
 */
export function readDirectory(file: Bytes, header: MinidumpHeader, problems: Problems): StreamDirectoryEntry[] {
  const rva = header.streamDirectoryRva;
  const available = rva <= file.length ? Math.floor((file.length - rva) / Size.DIRECTORY_ENTRY) : 0;
  let count = header.streamCount;
  if (count > available) {
    problems.report(
      'stream directory',
      `header declares ${count} streams at 0x${rva.toString(16)} but the file holds only ${available} entries there`,
    );
    count = available;
  }
  const entries: StreamDirectoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = rva + i * Size.DIRECTORY_ENTRY;
    const type = file.u32(at)!;
    entries.push({ type, typeName: streamTypeName(type), size: file.u32(at + 4)!, offset: file.u32(at + 8)! });
  }
  return entries;
}

/**
 * The bytes of one stream, clipped to the file. A stream that runs past the end is
 * reported and read as far as it goes, so a truncated dump still yields what it holds.
 */
export function streamBytes(file: Bytes, entry: StreamDirectoryEntry, where: string, problems: Problems): Bytes {
  if (entry.offset > file.length) {
    problems.report(where, `stream at 0x${entry.offset.toString(16)} starts past the end of the ${file.length}-byte file`);
    return new Bytes(new Uint8Array(0));
  }
  if (entry.offset + entry.size > file.length) {
    problems.report(
      where,
      `stream of ${entry.size} bytes at 0x${entry.offset.toString(16)} is cut short: only ${file.length - entry.offset} bytes in the file`,
    );
  }
  return file.sub(entry.offset, entry.size);
}
