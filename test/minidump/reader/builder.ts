/**
 * Test-only minidump builder: assembles dumps byte by byte so each reader behaviour can
 * be exercised in isolation. Blobs are appended after the 32-byte header as they are
 * added (so their RVAs are known at once) and the stream directory goes last.
 */

/** Little-endian byte sink for one structure. */
export class Writer {
  private readonly bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16((v >>> 16) & 0xffff);
  }
  u64(v: bigint | number): this {
    const b = BigInt.asUintN(64, BigInt(v));
    return this.u32(Number(b & 0xffffffffn)).u32(Number(b >> 32n));
  }
  raw(data: ArrayLike<number>): this {
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i] & 0xff);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.bytes.push(0);
    return this;
  }
  /** Pads with zeros up to `size` bytes in total. */
  padTo(size: number): this {
    return this.zeros(Math.max(0, size - this.bytes.length));
  }
  /** Overwrites a u32 at `at` (for fixing up sizes). */
  setU32(at: number, v: number): this {
    for (let i = 0; i < 4; i++) this.bytes[at + i] = (v >>> (8 * i)) & 0xff;
    return this;
  }
  setU64(at: number, v: bigint): this {
    this.setU32(at, Number(v & 0xffffffffn));
    return this.setU32(at + 4, Number((v >> 32n) & 0xffffffffn));
  }
  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export const w = (): Writer => new Writer();

export class DumpBuilder {
  private readonly body = new Writer();
  private readonly streams: Array<{ type: number; rva: number; size: number }> = [];
  timestamp = 0x5f000000;

  /**
   * @param reservedEntries directory entries to reserve right after the header; when the
   * streams fit, the directory goes there (so truncating the file loses later streams
   * only) instead of at the end.
   */
  constructor(private readonly reservedEntries = 0) {}

  private get bodyStart(): number {
    return 32 + this.reservedEntries * 12;
  }
  version = 0xa793;
  signature = 0x504d444d;

  /** Appends raw bytes (4-byte aligned) and returns their RVA. */
  data(bytes: Uint8Array | Writer): number {
    const data = bytes instanceof Writer ? bytes.build() : bytes;
    while ((this.bodyStart + this.body.length) % 4 !== 0) this.body.u8(0);
    const rva = this.bodyStart + this.body.length;
    this.body.raw(data);
    return rva;
  }

  /** A MINIDUMP_STRING (UTF-16LE with length prefix and NUL). */
  string(text: string): number {
    const out = new Writer().u32(text.length * 2);
    for (let i = 0; i < text.length; i++) out.u16(text.charCodeAt(i));
    return this.data(out.u16(0));
  }

  /** A Breakpad/Crashpad UTF-8 string (length prefix and NUL). */
  utf8(text: string): number {
    const encoded = new TextEncoder().encode(text);
    return this.data(new Writer().u32(encoded.length).raw(encoded).u8(0));
  }

  /** Adds a stream whose bytes are `bytes`; returns its RVA. */
  stream(type: number, bytes: Uint8Array | Writer): number {
    const data = bytes instanceof Writer ? bytes.build() : bytes;
    const rva = this.data(data);
    this.streams.push({ type, rva, size: data.length });
    return rva;
  }

  /** Adds a directory entry with arbitrary location (for out-of-range tests). */
  rawDirectoryEntry(type: number, rva: number, size: number): void {
    this.streams.push({ type, rva, size });
  }

  build(): Uint8Array {
    const dirRva = this.streams.length <= this.reservedEntries ? 32 : this.data(new Uint8Array(0));
    const dir = new Writer();
    for (const s of this.streams) dir.u32(s.type).u32(s.size).u32(s.rva);
    const header = new Writer()
      .u32(this.signature)
      .u32(this.version)
      .u32(this.streams.length)
      .u32(dirRva)
      .u32(0)
      .u32(this.timestamp)
      .u64(0);
    const out = new Uint8Array(Math.max(this.bodyStart + this.body.length, dirRva + dir.length));
    out.set(header.build(), 0);
    out.set(this.body.build(), this.bodyStart);
    out.set(dir.build(), dirRva);
    return out;
  }
}

// ------------------------------------------------------------------ stream helpers

export interface SystemInfoSpec {
  arch: number;
  platform: number;
  level?: number;
  revision?: number;
  cpus?: number;
  major?: number;
  minor?: number;
  build?: number;
  csd?: string;
  vendor?: string;
  cpuid?: number;
  hwcaps?: number;
}

export function systemInfo(b: DumpBuilder, s: SystemInfoSpec): Writer {
  const csdRva = b.string(s.csd ?? '');
  const out = new Writer()
    .u16(s.arch)
    .u16(s.level ?? 6)
    .u16(s.revision ?? 0x1705)
    .u8(s.cpus ?? 4)
    .u8(1)
    .u32(s.major ?? 10)
    .u32(s.minor ?? 0)
    .u32(s.build ?? 19041)
    .u32(s.platform)
    .u32(csdRva)
    .u16(0x100)
    .u16(0);
  if (s.vendor !== undefined) {
    const v = new TextEncoder().encode(s.vendor.padEnd(12, '\0')).subarray(0, 12);
    out.raw(v).u32(0x106a5).u32(0xbfebfbff).u32(0);
  } else {
    out.u32(s.cpuid ?? 0).u32(s.hwcaps ?? 0).zeros(16);
  }
  return out;
}

export function amd64Context(regs: Record<string, bigint> = {}, flags = 0x10000b): Writer {
  const out = new Writer().zeros(1232);
  const names = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];
  out.setU32(48, flags);
  out.setU32(68, 0x246); // eflags
  names.forEach((n, i) => out.setU64(120 + i * 8, regs[n] ?? BigInt(0x1000 + i)));
  return out;
}

export function x86Context(regs: Record<string, number> = {}, flags = 0x1003f): Writer {
  const out = new Writer().zeros(716);
  out.setU32(0, flags);
  const at: Record<string, number> = { edi: 156, esi: 160, ebx: 164, edx: 168, ecx: 172, eax: 176, ebp: 180, eip: 184, efl: 192, esp: 196 };
  for (const [n, off] of Object.entries(at)) out.setU32(off, regs[n] ?? 0x100 + off);
  return out;
}

export function armContext(regs: number[] = [], flags = 0x40000006): Writer {
  const out = new Writer().zeros(368);
  out.setU32(0, flags);
  for (let i = 0; i < 16; i++) out.setU32(4 + i * 4, regs[i] ?? 0x1000 + i);
  out.setU32(68, 0x60000010);
  return out;
}

export function arm64Context(regs: bigint[] = [], flags = 0x00400007): Writer {
  const out = new Writer().zeros(912);
  out.setU32(0, flags);
  out.setU32(4, 0x80000000); // cpsr
  for (let i = 0; i < 33; i++) out.setU64(8 + i * 8, regs[i] ?? BigInt(0x10000 + i));
  return out;
}

export function arm64OldContext(regs: bigint[] = [], flags = 0x80000006): Writer {
  const out = new Writer().zeros(796);
  out.setU64(0, BigInt(flags));
  for (let i = 0; i < 33; i++) out.setU64(8 + i * 8, regs[i] ?? BigInt(0x20000 + i));
  out.setU32(272, 0x20000000); // cpsr
  return out;
}

export interface ThreadSpec {
  id: number;
  stackBase: bigint;
  stack: Uint8Array;
  context: Writer;
}

export function threadList(b: DumpBuilder, threads: ThreadSpec[]): Writer {
  const out = new Writer().u32(threads.length);
  for (const t of threads) {
    const stackRva = b.data(t.stack);
    const ctx = t.context.build();
    const ctxRva = b.data(ctx);
    out.u32(t.id).u32(0).u32(0x20).u32(0).u64(0x7ffde000n).u64(t.stackBase).u32(t.stack.length).u32(stackRva).u32(ctx.length).u32(ctxRva);
  }
  return out;
}

export interface ModuleSpec {
  base: bigint;
  size: number;
  name: string;
  timestamp?: number;
  cv?: Uint8Array;
  misc?: Uint8Array;
  version?: [number, number, number, number];
}

export function moduleList(b: DumpBuilder, modules: ModuleSpec[]): Writer {
  const out = new Writer().u32(modules.length);
  for (const m of modules) {
    const nameRva = b.string(m.name);
    const cvRva = m.cv ? b.data(m.cv) : 0;
    const miscRva = m.misc ? b.data(m.misc) : 0;
    out.u64(m.base).u32(m.size).u32(0).u32(m.timestamp ?? 0).u32(nameRva);
    if (m.version) {
      const [a, bb, c, d] = m.version;
      out.u32(0xfeef04bd).u32(0x10000).u32(((a << 16) | bb) >>> 0).u32(((c << 16) | d) >>> 0).zeros(36);
    } else {
      out.zeros(52);
    }
    out.u32(m.cv?.length ?? 0).u32(cvRva).u32(m.misc?.length ?? 0).u32(miscRva).zeros(16);
  }
  return out;
}

/** RSDS record: GUID bytes as stored, age, NUL-terminated PDB name. */
export function pdb70(guid: number[], age: number, name: string): Uint8Array {
  return new Writer().u32(0x53445352).raw(guid).u32(age).raw(new TextEncoder().encode(name)).u8(0).build();
}

export function pdb20(signature: number, age: number, name: string): Uint8Array {
  return new Writer().u32(0x3031424e).u32(0).u32(signature).u32(age).raw(new TextEncoder().encode(name)).u8(0).build();
}

export function elfBuildId(buildId: number[]): Uint8Array {
  return new Writer().u32(0x4270454c).raw(buildId).build();
}

export function exceptionStream(
  b: DumpBuilder,
  e: { threadId: number; code: number; flags?: number; address: bigint; params?: bigint[]; context?: Writer },
): Writer {
  const ctx = e.context?.build();
  const ctxRva = ctx ? b.data(ctx) : 0;
  const params = e.params ?? [];
  const out = new Writer().u32(e.threadId).u32(0).u32(e.code).u32(e.flags ?? 0).u64(0).u64(e.address).u32(params.length).u32(0);
  for (let i = 0; i < 15; i++) out.u64(params[i] ?? 0n);
  return out.u32(ctx?.length ?? 0).u32(ctxRva);
}

export function memoryList(b: DumpBuilder, regions: Array<{ base: bigint; bytes: Uint8Array }>): Writer {
  const out = new Writer().u32(regions.length);
  for (const r of regions) {
    const rva = b.data(r.bytes);
    out.u64(r.base).u32(r.bytes.length).u32(rva);
  }
  return out;
}

/** Memory64List: data for all regions laid out contiguously. */
export function memory64List(b: DumpBuilder, regions: Array<{ base: bigint; bytes: Uint8Array }>): Writer {
  const all = new Writer();
  for (const r of regions) all.raw(r.bytes);
  const baseRva = b.data(all);
  const out = new Writer().u64(regions.length).u64(baseRva);
  for (const r of regions) out.u64(r.base).u64(r.bytes.length);
  return out;
}

export function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}
