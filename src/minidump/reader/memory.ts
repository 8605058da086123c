import type { MemoryReader, MemoryRegion } from '../contracts.js';
import { type Bytes, Fields } from './bytes.js';
import { Size } from './constants.js';
import type { Problems } from './problems.js';
import type { MemoryInfo } from './types.js';

const U64_MAX = (1n << 64n) - 1n;

/**
 * The bytes of a `MINIDUMP_MEMORY_DESCRIPTOR` (or a thread's stack), clipped to the
 * file. Answers `undefined` (after reporting) when nothing of it is in the file.
 * `emptyIsNormal` is for thread stacks: a writer that could not capture a stack (a
 * stack overflow, typically) records size 0, which is a fact about the crash rather
 * than damage to the dump.
 */
export function memoryBytes(
  file: Bytes,
  base: bigint,
  size: number,
  rva: number,
  where: string,
  problems: Problems,
  emptyIsNormal = false,
): MemoryRegion | undefined {
  if (size === 0) {
    if (!emptyIsNormal) problems.report(where, `memory at ${hexAddr(base)} has size 0`);
    return undefined;
  }
  if (BigInt(size) > U64_MAX - base) {
    problems.report(where, `memory at ${hexAddr(base)} + 0x${size.toString(16)} wraps around the address space`);
    return undefined;
  }
  if (rva >= file.length) {
    problems.report(where, `memory for ${hexAddr(base)} at 0x${rva.toString(16)} lies past the end of the file`);
    return undefined;
  }
  let length = size;
  if (rva + size > file.length) {
    length = file.length - rva;
    problems.report(where, `memory for ${hexAddr(base)} is cut short: ${length} of ${size} bytes in the file`);
  }
  return { base, bytes: file.slice(rva, length)! };
}

/**
 * MINIDUMP_MEMORY_LIST: a u32 count (possibly followed by 4 bytes of padding, which
 * some 64-bit writers add) and 16-byte descriptors. The count is capped by the stream
 * size, so no loop or allocation follows an untrusted count.
 */
export function readMemoryList(stream: Bytes, file: Bytes, problems: Problems): MemoryRegion[] {
  const where = 'MemoryListStream';
  const count = stream.u32(0);
  if (count === undefined) {
    problems.report(where, 'stream too short for the region count');
    return [];
  }
  const start = listStart(stream.length, count, Size.MEMORY_DESCRIPTOR);
  const fits = Math.floor(Math.max(0, stream.length - start) / Size.MEMORY_DESCRIPTOR);
  if (count > fits) problems.report(where, `declares ${count} regions but the stream holds ${fits}`);
  const regions: MemoryRegion[] = [];
  for (let i = 0; i < Math.min(count, fits); i++) {
    const f = new Fields(stream, start + i * Size.MEMORY_DESCRIPTOR);
    const region = memoryBytes(file, f.u64(0), f.u32(8), f.u32(12), `${where} region ${i}`, problems);
    if (region) regions.push(region);
  }
  return regions;
}

/**
 * Where the entries of a `count`-prefixed list start: after the 4-byte count, or after
 * 8 bytes when the stream size says the writer padded the count for alignment (the rule
 * Breakpad uses for thread, module and memory lists).
 */
export function listStart(streamSize: number, count: number, entrySize: number): number {
  return streamSize === 8 + count * entrySize && streamSize !== 4 + count * entrySize ? 8 : 4;
}

/**
 * MINIDUMP_MEMORY64_LIST: u64 count, u64 base RVA, then (start, size) pairs whose bytes
 * follow one another from the base RVA. Full-memory dumps use it instead of MemoryList.
 */
export function readMemory64List(stream: Bytes, file: Bytes, problems: Problems): MemoryRegion[] {
  const where = 'Memory64ListStream';
  const count = stream.u64(0);
  const baseRva = stream.u64(8);
  if (count === undefined || baseRva === undefined) {
    problems.report(where, 'stream too short for its header');
    return [];
  }
  const fits = Math.floor(Math.max(0, stream.length - 16) / Size.MEMORY_DESCRIPTOR_64);
  if (count > BigInt(fits)) problems.report(where, `declares ${count} regions but the stream holds ${fits}`);
  const n = Math.min(Number(count > BigInt(fits) ? BigInt(fits) : count), fits);
  const regions: MemoryRegion[] = [];
  let rva = baseRva;
  for (let i = 0; i < n; i++) {
    const base = stream.u64(16 + i * 16)!;
    const size = stream.u64(24 + i * 16)!;
    if (rva >= BigInt(file.length)) {
      problems.report(where, `region ${i} and later lie past the end of the file`);
      break;
    }
    const available = BigInt(file.length) - rva;
    const length = size > available ? available : size;
    if (size > available) problems.report(where, `region ${i} at ${hexAddr(base)} is cut short: ${length} of ${size} bytes`);
    if (size === 0n) {
      problems.report(where, `region ${i} at ${hexAddr(base)} has size 0`);
    } else if (size > U64_MAX - base) {
      problems.report(where, `region ${i} at ${hexAddr(base)} wraps around the address space`);
    } else {
      regions.push({ base, bytes: file.slice(Number(rva), Number(length))! });
    }
    rva += size;
  }
  return regions;
}

/**
 * MINIDUMP_MEMORY_INFO_LIST: a header giving its own size and the entry size (so newer
 * writers can extend both), a u64 count, then entries.
 */
export function readMemoryInfoList(stream: Bytes, problems: Problems): MemoryInfo[] {
  const where = 'MemoryInfoListStream';
  const headerSize = stream.u32(0);
  const entrySize = stream.u32(4);
  const count = stream.u64(8);
  if (headerSize === undefined || entrySize === undefined || count === undefined) {
    problems.report(where, 'stream too short for its header');
    return [];
  }
  if (headerSize < 16 || entrySize < Size.MEMORY_INFO) {
    problems.report(where, `header size ${headerSize} or entry size ${entrySize} is too small`);
    return [];
  }
  const fits = Math.floor(Math.max(0, stream.length - headerSize) / entrySize);
  if (count > BigInt(fits)) problems.report(where, `declares ${count} entries but the stream holds ${fits}`);
  const n = count > BigInt(fits) ? fits : Number(count);
  const infos: MemoryInfo[] = [];
  for (let i = 0; i < n; i++) {
    const f = new Fields(stream, headerSize + i * entrySize);
    infos.push({
      baseAddress: f.u64(0),
      allocationBase: f.u64(8),
      allocationProtection: f.u32(16),
      regionSize: f.u64(24),
      state: f.u32(32),
      protection: f.u32(36),
      type: f.u32(40),
    });
  }
  return infos;
}

/**
 * A `MemoryReader` over captured regions. Regions are sorted by base; a lookup binary
 * searches for the last region starting at or below the address and, only when regions
 * overlap, walks back while an earlier region could still reach it (tracked with a
 * running maximum of end addresses, so the walk stops as soon as none can).
 */
export class CapturedMemory implements MemoryReader {
  private readonly regions: MemoryRegion[];
  private readonly maxEnd: bigint[];

  constructor(regions: readonly MemoryRegion[]) {
    this.regions = regions.filter((r) => r.bytes.length > 0).sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    this.maxEnd = [];
    let running = 0n;
    for (const r of this.regions) {
      const end = r.base + BigInt(r.bytes.length);
      if (end > running) running = end;
      this.maxEnd.push(running);
    }
  }

  get regionCount(): number {
    return this.regions.length;
  }

  regionAt(address: bigint): MemoryRegion | undefined {
    return this.find(address, 1);
  }

  readU8(address: bigint): number | undefined {
    const hit = this.locate(address, 1);
    return hit ? hit.bytes[hit.offset] : undefined;
  }

  readU16(address: bigint): number | undefined {
    const hit = this.locate(address, 2);
    return hit ? hit.bytes[hit.offset] | (hit.bytes[hit.offset + 1] << 8) : undefined;
  }

  readU32(address: bigint): number | undefined {
    const hit = this.locate(address, 4);
    if (!hit) return undefined;
    const b = hit.bytes;
    const o = hit.offset;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  readU64(address: bigint): bigint | undefined {
    const hit = this.locate(address, 8);
    if (!hit) return undefined;
    const view = new DataView(hit.bytes.buffer, hit.bytes.byteOffset + hit.offset, 8);
    return view.getBigUint64(0, true);
  }

  private locate(address: bigint, width: number): { bytes: Uint8Array; offset: number } | undefined {
    const region = this.find(address, width);
    return region ? { bytes: region.bytes, offset: Number(address - region.base) } : undefined;
  }

  /** The region holding all of `[address, address + width)`. */
  private find(address: bigint, width: number): MemoryRegion | undefined {
    let lo = 0;
    let hi = this.regions.length - 1;
    let idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.regions[mid].base <= address) {
        idx = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    const last = address + BigInt(width);
    for (let i = idx; i >= 0 && this.maxEnd[i] > address; i--) {
      const r = this.regions[i];
      if (address >= r.base && last <= r.base + BigInt(r.bytes.length)) return r;
    }
    return undefined;
  }
}

function hexAddr(value: bigint): string {
  return '0x' + value.toString(16);
}
