/**
 * Bounds-checked little-endian access to the raw bytes of a dump.
 *
 * Every read answers `undefined` instead of throwing when any byte it needs lies outside
 * the buffer, so parsers can treat "the dump ends here" as ordinary data and report it.
 * Offsets are plain numbers: a minidump addresses its own bytes with 32-bit RVAs (and
 * 64-bit ones only in Memory64List, which are checked against the length before use).
 */
export class Bytes {
  private readonly view: DataView;

  /**
   * Bytes of strings that may still be decoded from this buffer. Many records may point
   * at the same long string (or at overlapping ones); this budget keeps the total
   * decoding work linear in the file size however hostile the RVAs are. Writers store
   * each string once per record, so a real dump's strings fit in its own size; twice that
   * (and 64 KB for tiny dumps) leaves room without letting a 300 KB dump decode megabytes
   * of names into every output document (found by fuzzing: it made such dumps 10× slower).
   */
  stringBudget: number;

  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.stringBudget = 2 * data.byteLength + (1 << 16);
  }

  get length(): number {
    return this.data.byteLength;
  }

  /** True when `[offset, offset + size)` lies inside the buffer. */
  has(offset: number, size: number): boolean {
    return (
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(size) &&
      offset >= 0 &&
      size >= 0 &&
      offset + size <= this.data.byteLength
    );
  }

  u8(offset: number): number | undefined {
    return this.has(offset, 1) ? this.view.getUint8(offset) : undefined;
  }

  u16(offset: number): number | undefined {
    return this.has(offset, 2) ? this.view.getUint16(offset, true) : undefined;
  }

  u32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.view.getUint32(offset, true) : undefined;
  }

  i32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.view.getInt32(offset, true) : undefined;
  }

  u64(offset: number): bigint | undefined {
    return this.has(offset, 8) ? this.view.getBigUint64(offset, true) : undefined;
  }

  /** A view (no copy) of `size` bytes at `offset`, or `undefined` when out of range. */
  slice(offset: number, size: number): Uint8Array | undefined {
    return this.has(offset, size) ? this.data.subarray(offset, offset + size) : undefined;
  }

  /** A sub-reader over `[offset, offset + size)`, clipped to what the buffer holds. */
  sub(offset: number, size: number): Bytes {
    const start = Math.min(Math.max(0, offset), this.data.byteLength);
    const end = Math.min(this.data.byteLength, start + Math.max(0, size));
    return new Bytes(this.data.subarray(start, end));
  }
}

/**
 * A `DataView`-free reader for the fields of one fixed-size structure: reads that fall
 * outside the structure give 0, because callers have already checked the structure's
 * size and only optional trailing fields can be short.
 */
export class Fields {
  constructor(
    private readonly bytes: Bytes,
    private readonly base: number,
  ) {}

  u8(at: number): number {
    return this.bytes.u8(this.base + at) ?? 0;
  }
  u16(at: number): number {
    return this.bytes.u16(this.base + at) ?? 0;
  }
  u32(at: number): number {
    return this.bytes.u32(this.base + at) ?? 0;
  }
  i32(at: number): number {
    return this.bytes.i32(this.base + at) ?? 0;
  }
  u64(at: number): bigint {
    return this.bytes.u64(this.base + at) ?? 0n;
  }
}

/** `0x` + lowercase hex, as Breakpad prints addresses and most numbers. */
export function hex(value: number | bigint): string {
  return '0x' + value.toString(16);
}

/** `0x` + 8 lowercase hex digits (Breakpad's `0x%08x`). */
export function hex8(value: number): string {
  return '0x' + (value >>> 0).toString(16).padStart(8, '0');
}
