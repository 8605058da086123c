/**
 * A `MemoryReader` over a single captured region. Breakpad's stack walker only ever reads
 * the walked thread's own stack memory (CFI dereferences, frame-pointer chains, scanning),
 * never the rest of the dump, and stops where that region ends; this reader gives the
 * unwinders exactly that view.
 */
import type { MemoryReader, MemoryRegion } from '../contracts.js';

export function regionMemory(region: MemoryRegion | undefined): MemoryReader {
  const bytes = region?.bytes ?? new Uint8Array(0);
  const base = region?.base ?? 0n;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsetOf = (address: bigint, width: number): number | undefined => {
    if (address < base) return undefined;
    const offset = address - base;
    if (offset + BigInt(width) > BigInt(bytes.length)) return undefined;
    return Number(offset);
  };
  return {
    readU8: (a) => {
      const o = offsetOf(a, 1);
      return o === undefined ? undefined : view.getUint8(o);
    },
    readU16: (a) => {
      const o = offsetOf(a, 2);
      return o === undefined ? undefined : view.getUint16(o, true);
    },
    readU32: (a) => {
      const o = offsetOf(a, 4);
      return o === undefined ? undefined : view.getUint32(o, true);
    },
    readU64: (a) => {
      const o = offsetOf(a, 8);
      return o === undefined ? undefined : view.getBigUint64(o, true);
    },
    regionAt: (a) => (region && offsetOf(a, 1) !== undefined ? region : undefined),
  };
}
