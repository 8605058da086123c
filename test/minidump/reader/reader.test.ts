import { describe, expect, it } from 'vitest';
import { readMinidump } from '../../../src/minidump/reader/index.js';
import {
  DumpBuilder,
  Writer,
  amd64Context,
  arm64Context,
  arm64OldContext,
  armContext,
  bytesOf,
  elfBuildId,
  exceptionStream,
  memory64List,
  memoryList,
  moduleList,
  pdb20,
  pdb70,
  systemInfo,
  threadList,
  x86Context,
} from './builder.js';
import { LINUX_BUILD_ID, sampleLinuxDump, sampleWindowsDump } from './samples.js';

describe('header and directory', () => {
  it('reads header fields and the stream directory', () => {
    const b = new DumpBuilder();
    b.timestamp = 0x523a284a;
    b.stream(0x47670003, new TextEncoder().encode('cpu'));
    b.stream(0x12345, new Uint8Array([1, 2, 3, 4]));
    const dump = readMinidump(b.build());
    expect(dump.header).toMatchObject({ signature: 0x504d444d, version: 0xa793, streamCount: 2, timestamp: 0x523a284a });
    expect(dump.directory.map((d) => [d.type, d.typeName, d.size])).toEqual([
      [0x47670003, 'MD_LINUX_CPU_INFO', 3],
      [0x12345, 'unknown', 4],
    ]);
    expect(dump.errors).toEqual([]);
  });

  it('rejects files that are not minidumps, with a reason', () => {
    expect(readMinidump(new TextEncoder().encode('Operating system: Linux\n')).errors[0]).toMatch(/header: (not a minidump|file is)/);
    const b = new DumpBuilder();
    b.version = 0x1234;
    expect(readMinidump(b.build()).errors[0]).toMatch(/unsupported version/);
    const swapped = new DumpBuilder();
    swapped.signature = 0x4d444d50;
    expect(readMinidump(swapped.build()).errors[0]).toMatch(/big-endian/);
  });

  it('caps a huge stream count by the bytes present', () => {
    const bytes = new DumpBuilder().build();
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    const dump = readMinidump(bytes);
    expect(dump.directory).toHaveLength(0);
    expect(dump.errors.join('\n')).toMatch(/declares 4294967295 streams/);
  });

  it('reports streams that point outside the file and duplicate streams', () => {
    const b = new DumpBuilder();
    b.rawDirectoryEntry(3, 0x7fffffff, 48);
    b.stream(0x47670003, new TextEncoder().encode('a'));
    b.stream(0x47670003, new TextEncoder().encode('b'));
    const dump = readMinidump(b.build());
    expect(dump.errors.join('\n')).toMatch(/ThreadListStream: stream at 0x7fffffff starts past the end/);
    expect(dump.errors.join('\n')).toMatch(/duplicate MD_LINUX_CPU_INFO/);
    expect(dump.linux.cpuInfo).toBe('a');
  });
});

describe('system info', () => {
  it.each([
    [{ arch: 0, platform: 2, csd: 'Service Pack 1', major: 6, minor: 1, build: 7601, vendor: 'GenuineIntel', level: 6, revision: 0x170a }, 'Windows NT', '6.1.7601 Service Pack 1', 'x86', 'GenuineIntel family 6 model 23 stepping 10', 'x86'],
    [{ arch: 9, platform: 0x8201, csd: 'Linux 6.18 #1', major: 0, minor: 0, build: 0, level: 25, revision: 0x1101 }, 'Linux', '0.0.0 Linux 6.18 #1', 'amd64', 'family 25 model 17 stepping 1', 'amd64'],
    [{ arch: 12, platform: 0x8101, csd: '20G630', major: 11, minor: 6, build: 7 }, 'Mac OS X', '11.6.7 20G630', 'arm64', '', 'arm64'],
    [{ arch: 0x8003, platform: 0x8102, csd: '', major: 16, minor: 2, build: 0 }, 'iOS', '16.2.0 ', 'arm64', '', 'arm64'],
    [{ arch: 5, platform: 0x8203, csd: '', major: 0, minor: 0, build: 0, level: 7, cpuid: 0x4100c090, hwcaps: (1 << 12) | 1 }, 'Android', '0.0.0 ', 'arm', 'ARMv7 ARM Cortex-A9 features: swp,neon', 'arm'],
    [{ arch: 5, platform: 0x8202, csd: 'x', level: 6, cpuid: 0x12345678 }, 'Solaris', '10.0.19041 x', 'arm', 'ARMv6 vendor(0x12) part(0x12005670)', 'arm'],
    [{ arch: 3, platform: 0x1234, csd: '' }, '0x00001234', '10.0.19041 ', 'ppc', '', 'unknown'],
    [{ arch: 0x77, platform: 1, csd: '' }, 'Windows', '10.0.19041 ', '0x0077', '', 'unknown'],
  ] as const)('decodes %o', (spec, os, osVersion, cpuName, cpuInfo, cpu) => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, spec));
    const info = readMinidump(b.build()).systemInfo!;
    expect([info.os, info.osVersion, info.cpuName, info.cpuInfo, info.cpu]).toEqual([os, osVersion, cpuName, cpuInfo, cpu]);
  });

  it('keeps a NUL inside the x86 vendor id as the end of the vendor (as Breakpad)', () => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 0, platform: 2, vendor: 'Genu\0neIntel', level: 6, revision: 0x0102 }));
    expect(readMinidump(b.build()).systemInfo!.cpuInfo).toBe('Genu family 6 model 1 stepping 2');
  });

  it('omits the CSD suffix when the CSD string is unreadable', () => {
    const b = new DumpBuilder();
    const s = systemInfo(b, { arch: 9, platform: 2, csd: 'x', major: 10, minor: 0, build: 1 });
    s.setU32(24, 0xfffffff0);
    b.stream(7, s);
    const dump = readMinidump(b.build());
    expect(dump.systemInfo!.osVersion).toBe('10.0.1');
    expect(dump.errors.join()).toMatch(/SystemInfoStream: CSD version/);
  });
});

describe('threads and contexts', () => {
  const withThreads = (arch: number | undefined, context: Writer) => {
    const b = new DumpBuilder();
    if (arch !== undefined) b.stream(7, systemInfo(b, { arch, platform: 0x8201 }));
    b.stream(3, threadList(b, [{ id: 7, stackBase: 0x1000n, stack: bytesOf(16), context }]));
    return readMinidump(b.build());
  };

  it('reads amd64 registers, stack and raw fields', () => {
    const dump = withThreads(9, amd64Context({ rip: 0xdeadbeefn, rsp: 0x1008n, r15: 0x15n }));
    const t = dump.threads[0];
    expect(t.threadId).toBe(7);
    expect(t.stack?.base).toBe(0x1000n);
    expect(t.stack?.bytes).toEqual(bytesOf(16));
    expect(t.context?.kind).toBe('amd64');
    expect(t.context?.registers.get('rip')).toBe(0xdeadbeefn);
    expect(t.context?.registers.get('r15')).toBe(0x15n);
    expect(t.context?.instructionPointer).toBe(0xdeadbeefn);
    expect(t.context?.stackPointer).toBe(0x1008n);
    expect(t.context?.raw.get('eflags')).toBe(0x246n);
    expect(dump.cpu).toBe('amd64');
    expect(dump.errors).toEqual([]);
  });

  it('reads x86 registers including efl', () => {
    const ctx = withThreads(0, x86Context({ eip: 0x401000, esp: 0x12ff00, efl: 0x202 })).threads[0].context!;
    expect(ctx.cpu).toBe('x86');
    expect(ctx.registers.get('eip')).toBe(0x401000n);
    expect(ctx.registers.get('efl')).toBe(0x202n);
    expect(ctx.stackPointer).toBe(0x12ff00n);
  });

  it('reads arm registers with sp/lr/pc names', () => {
    const ctx = withThreads(5, armContext([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xd0, 0xe0, 0xf0])).threads[0].context!;
    expect(ctx.kind).toBe('arm');
    expect([ctx.registers.get('r12'), ctx.registers.get('sp'), ctx.registers.get('lr'), ctx.registers.get('pc')]).toEqual([12n, 0xd0n, 0xe0n, 0xf0n]);
    expect(ctx.registers.has('r13')).toBe(false);
  });

  it('reads arm64 (new layout) registers with fp/lr/sp/pc names', () => {
    const regs = Array.from({ length: 33 }, (_, i) => BigInt(i) << 32n);
    const ctx = withThreads(12, arm64Context(regs)).threads[0].context!;
    expect(ctx.kind).toBe('arm64');
    expect(ctx.registers.get('x28')).toBe(28n << 32n);
    expect(ctx.registers.get('fp')).toBe(29n << 32n);
    expect(ctx.registers.get('lr')).toBe(30n << 32n);
    expect(ctx.registers.get('sp')).toBe(31n << 32n);
    expect(ctx.registers.get('pc')).toBe(32n << 32n);
    expect(ctx.raw.get('cpsr')).toBe(0x80000000n);
  });

  it('reads and converts the old Breakpad arm64 layout', () => {
    const regs = Array.from({ length: 33 }, (_, i) => BigInt(i + 100));
    const ctx = withThreads(0x8003, arm64OldContext(regs)).threads[0].context!;
    expect(ctx.kind).toBe('arm64-old');
    expect(ctx.cpu).toBe('arm64');
    expect(ctx.registers.get('pc')).toBe(132n);
    expect(ctx.registers.get('x0')).toBe(100n);
    expect(ctx.raw.get('cpsr')).toBe(0x20000000n);
    expect(ctx.contextFlags).toBe(0x00400007);
  });

  it('decides the CPU from context size and flags when system info is missing', () => {
    expect(withThreads(undefined, amd64Context({}, 0)).cpu).toBe('amd64');
    expect(withThreads(undefined, x86Context()).cpu).toBe('x86');
    expect(withThreads(undefined, arm64Context()).cpu).toBe('arm64');
    expect(withThreads(undefined, arm64OldContext()).cpu).toBe('arm64');
    expect(withThreads(undefined, armContext([], 0x40 | 0x6)).cpu).toBe('arm'); // CE-era CONTEXT_ARM flag
  });

  it('uses system info for contexts with no CPU bits', () => {
    expect(withThreads(0, x86Context({}, 0x3f)).threads[0].context?.kind).toBe('x86');
  });

  it('recognises ppc/sparc/mips contexts as unknown CPUs without failing', () => {
    const ppc = new Writer().zeros(1004).setU32(0, 0x20000007);
    const dump = withThreads(3, ppc);
    expect(dump.threads[0].context?.kind).toBe('ppc');
    expect(dump.threads[0].context?.cpu).toBe('unknown');
    expect(dump.cpu).toBe('unknown');
    const mips = new Writer().zeros(600).setU32(0, 0x00040007);
    expect(withThreads(undefined, mips).threads[0].context?.kind).toBe('mips');
  });

  it('reports a context that disagrees with system info but keeps it', () => {
    const dump = withThreads(12, x86Context());
    expect(dump.threads[0].context?.kind).toBe('x86');
    expect(dump.errors.join()).toMatch(/does not match system info/);
  });

  it('attaches thread names from the thread name list', () => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform: 2 }));
    b.stream(3, threadList(b, [{ id: 0x19a4, stackBase: 0n, stack: bytesOf(8), context: amd64Context() }]));
    const nameRva = b.string('main thread');
    b.stream(24, new Writer().u32(1).u32(0x19a4).u64(nameRva));
    const dump = readMinidump(b.build());
    expect(dump.threads[0].name).toBe('main thread');
    expect(dump.threadNames.get(0x19a4)).toBe('main thread');
  });

  it('accepts thread lists padded to 8 bytes', () => {
    const b = new DumpBuilder();
    const list = threadList(b, [{ id: 5, stackBase: 0n, stack: bytesOf(8), context: amd64Context() }]).build();
    const padded = new Writer().u32(1).u32(0).raw(list.subarray(4));
    b.stream(3, padded);
    expect(readMinidump(b.build()).threads.map((t) => t.threadId)).toEqual([5]);
  });
});

describe('modules', () => {
  const read = (platform: number, modules: Parameters<typeof moduleList>[1]) => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform }));
    b.stream(4, moduleList(b, modules));
    return readMinidump(b.build());
  };

  it('derives PDB70 identifiers, Windows code id and version', () => {
    const guid = [0x08, 0x43, 0x50, 0x1b, 0x17, 0x5f, 0xa3, 0x4d, 0x85, 0x52, 0x1d, 0xd4, 0x74, 0x0d, 0x17, 0x30];
    const m = read(2, [{ base: 0xd60000n, size: 0x1a000, name: 'D:\\x\\crashme.exe', timestamp: 0x4ca3b56e, cv: pdb70(guid, 0x14, 'D:\\x\\crashme.pdb'), version: [6, 1, 7600, 16385] }]).modules[0];
    expect(m.debugId).toBe('1B5043085F174DA385521DD4740D173014');
    expect(m.rawDebugFile).toBe('D:\\x\\crashme.pdb');
    expect(m.debugFile).toBe('crashme.pdb');
    expect(m.codeId).toBe('4CA3B56E1a000');
    expect(m.version).toBe('6.1.7600.16385');
    expect(m.pdbGuid).toBe('1b504308-5f17-4da3-8552-1dd4740d1730');
    expect(m.cvFormat).toBe('pdb70');
  });

  it('derives PDB20 identifiers', () => {
    const m = read(2, [{ base: 0x1000n, size: 0x1000, name: 'a.dll', cv: pdb20(0x3a1b2c3d, 2, 'a.pdb') }]).modules[0];
    expect([m.debugId, m.debugFile, m.cvFormat]).toEqual(['3A1B2C3D2', 'a.pdb', 'pdb20']);
  });

  it('derives ELF build-id identifiers with Breakpad byte swapping', () => {
    const m = read(0x8201, [{ base: 0x400000n, size: 0x1000, name: '/srv/app/example-app', cv: elfBuildId(LINUX_BUILD_ID) }]).modules[0];
    expect(m.debugId).toBe('976F2167C7F8BCF5CD91FBC5AEF299110');
    expect(m.codeId).toBe('67216f97f8c7f5bccd91fbc5aef299117838c180');
    expect(m.debugFile).toBe('example-app');
    expect(m.rawDebugFile).toBe('/srv/app/example-app');
    expect(m.version).toBe('');
  });

  it('zero-pads short build ids and uses "id" as code id on macOS', () => {
    const linux = read(0x8201, [{ base: 0x1000n, size: 0x1000, name: 'short.so', cv: elfBuildId([0xaa, 0xbb, 0xcc, 0xdd, 0x11]) }]).modules[0];
    expect(linux.debugId).toBe('DDCCBBAA001100000000000000000000' + '0');
    const mac = read(0x8101, [{ base: 0x1000n, size: 0x1000, name: '/usr/lib/libx.dylib', cv: pdb70(Array(16).fill(0x11), 0, 'libx.dylib') }]).modules[0];
    expect(mac.codeId).toBe('id');
  });

  it('drops all debug info when an announced CodeView record is unusable (as Breakpad)', () => {
    const bad = pdb70(Array(16).fill(1), 1, 'x.pdb');
    bad[bad.length - 1] = 0x41; // no NUL terminator
    const dump = read(2, [{ base: 0x1000n, size: 0x1000, name: 'x.dll', timestamp: 5, cv: bad }]);
    expect([dump.modules[0].debugId, dump.modules[0].debugFile, dump.modules[0].codeId, dump.modules[0].codeFile]).toEqual(['', '', '', 'x.dll']);
    expect(dump.errors.join()).toMatch(/ModuleListStream module 0: CodeView record: PDB70 file name is not NUL-terminated/);
  });

  it('falls back to the misc record for the debug file', () => {
    const name = new TextEncoder().encode('old.dbg\0');
    const misc = new Writer().u32(1).u32(12 + name.length).u8(0).zeros(3).raw(name).build();
    const m = read(2, [{ base: 0x1000n, size: 0x1000, name: 'old.dll', misc }]).modules[0];
    expect(m.debugFile).toBe('old.dbg');
    expect(m.debugId).toBe('');
  });

  it('skips modules with a zero size and reports overlaps', () => {
    const dump = read(2, [
      { base: 0x1000n, size: 0, name: 'zero.dll' },
      { base: 0x2000n, size: 0x2000, name: 'a.dll' },
      { base: 0x3000n, size: 0x2000, name: 'b.dll' },
    ]);
    expect(dump.modules.map((m) => m.codeFile)).toEqual(['a.dll', 'b.dll']);
    expect(dump.errors.join('\n')).toMatch(/module 0: bad extent/);
    expect(dump.errors.join('\n')).toMatch(/overlaps/);
  });

  it('finds modules by address and the main module', () => {
    const dump = read(2, [
      { base: 0x5000n, size: 0x1000, name: 'main.exe' },
      { base: 0x1000n, size: 0x1000, name: 'low.dll' },
    ]);
    expect(dump.moduleForAddress(0x1fffn)?.codeFile).toBe('low.dll');
    expect(dump.moduleForAddress(0x2000n)).toBeUndefined();
    expect(dump.moduleForAddress(0x5800n)?.codeFile).toBe('main.exe');
    expect(dump.mainModule()?.codeFile).toBe('main.exe');
  });

  it('reads unloaded modules', () => {
    const b = new DumpBuilder();
    const name = b.string('C:\\gone.dll');
    b.stream(14, new Writer().u32(12).u32(24).u32(1).u64(0x10000000n).u32(0x3000).u32(0).u32(0x5a5a5a5a).u32(name));
    const [m] = readMinidump(b.build()).unloadedModules;
    expect(m).toMatchObject({ base: 0x10000000n, size: 0x3000n, codeFile: 'C:\\gone.dll', codeId: '5A5A5A5A3000' });
  });
});

describe('memory', () => {
  it('reads MemoryList and Memory64List and serves reads across them', () => {
    const b = new DumpBuilder();
    b.stream(5, memoryList(b, [{ base: 0x2000n, bytes: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }]));
    b.stream(9, memory64List(b, [{ base: 0x1000n, bytes: Uint8Array.from([0xef, 0xbe, 0xad, 0xde]) }, { base: 0x9000n, bytes: bytesOf(16) }]));
    const dump = readMinidump(b.build());
    expect(dump.memoryList.map((r) => r.base)).toEqual([0x2000n]);
    expect(dump.memory64List.map((r) => [r.base, r.bytes.length])).toEqual([
      [0x1000n, 4],
      [0x9000n, 16],
    ]);
    expect(dump.memory.readU32(0x1000n)).toBe(0xdeadbeef);
    expect(dump.memory.readU64(0x2000n)).toBe(0x0807060504030201n);
    expect(dump.memory.readU16(0x2006n)).toBe(0x0807);
    expect(dump.memory.readU8(0x9000n + 3n)).toBe(bytesOf(16)[3]);
    expect(dump.memory.readU32(0x2006n)).toBeUndefined(); // runs off the end of the region
    expect(dump.memory.readU8(0x1fffn)).toBeUndefined();
    expect(dump.memory.regionAt(0x9005n)?.base).toBe(0x9000n);
  });

  it('finds addresses inside a large region that starts before smaller ones', () => {
    const b = new DumpBuilder();
    b.stream(5, memoryList(b, [{ base: 0x1000n, bytes: bytesOf(0x100) }, { base: 0x1010n, bytes: bytesOf(4) }]));
    const dump = readMinidump(b.build());
    expect(dump.memory.regionAt(0x1080n)?.base).toBe(0x1000n);
  });

  it('includes thread stacks in the memory reader', () => {
    const dump = readMinidump(sampleLinuxDump());
    expect(dump.memory.readU8(0x7ffe0000n)).toBe(bytesOf(32, 9)[0]);
  });

  it('reports regions whose bytes lie outside the file and keeps the rest', () => {
    const b = new DumpBuilder();
    b.stream(5, new Writer().u32(2).u64(0x1000n).u32(16).u32(0x7ffffff0).u64(0x2000n).u32(4).u32(b.data(bytesOf(4))));
    const dump = readMinidump(b.build());
    expect(dump.memoryList.map((r) => r.base)).toEqual([0x2000n]);
    expect(dump.errors.join()).toMatch(/MemoryListStream region 0: memory for 0x1000 at 0x7ffffff0 lies past the end/);
  });

  it('reads the memory info list', () => {
    const b = new DumpBuilder();
    b.stream(16, new Writer().u32(16).u32(48).u64(1).u64(0x10000n).u64(0x10000n).u32(4).u32(0).u64(0x2000n).u32(0x1000).u32(0x20).u32(0x1000000).u32(0));
    expect(readMinidump(b.build()).memoryInfo).toEqual([
      { baseAddress: 0x10000n, allocationBase: 0x10000n, allocationProtection: 4, regionSize: 0x2000n, state: 0x1000, protection: 0x20, type: 0x1000000 },
    ]);
  });
});

describe('exception and crash', () => {
  it('reads the exception, its context and the crashing thread', () => {
    const dump = readMinidump(sampleWindowsDump());
    expect(dump.exception).toMatchObject({ threadId: 0x106c, code: 0xc0000005, numberParameters: 2, parameters: [0n, 0x41414141n] });
    expect(dump.exception?.context?.registers.get('eip')).toBe(0xd6a6cdn);
    expect(dump.crashReason).toEqual({ reason: 'EXCEPTION_ACCESS_VIOLATION_READ', address: 0x41414141n });
    expect(dump.crashingThread()?.threadId).toBe(0x106c);
    expect(dump.crashingThreadIndex()).toBe(0);
    expect(dump.crashingContext()?.registers.get('eip')).toBe(0xd6a6cdn);
  });

  it('uses the Breakpad requesting thread when there is no exception', () => {
    const b = new DumpBuilder();
    b.stream(3, threadList(b, [1, 2, 3].map((id) => ({ id, stackBase: 0n, stack: bytesOf(8), context: amd64Context() }))));
    b.stream(0x47670001, new Writer().u32(3).u32(1).u32(3));
    const dump = readMinidump(b.build());
    expect(dump.breakpadInfo).toEqual({ validity: 3, dumpThreadId: 1, requestingThreadId: 3 });
    expect(dump.crashReason).toBeUndefined();
    expect(dump.crashingThreadIndex()).toBe(2);
  });

  it('ignores Breakpad info ids whose validity bit is clear', () => {
    const b = new DumpBuilder();
    b.stream(0x47670001, new Writer().u32(1).u32(7).u32(8));
    expect(readMinidump(b.build()).breakpadInfo).toEqual({ validity: 1, dumpThreadId: 7, requestingThreadId: undefined });
  });

  it('clamps the parameter count to the 15 the record holds', () => {
    const b = new DumpBuilder();
    const e = exceptionStream(b, { threadId: 1, code: 5, address: 0n, params: Array(15).fill(1n) });
    e.setU32(32, 1000);
    b.stream(6, e);
    const dump = readMinidump(b.build());
    expect(dump.exception?.parameters).toHaveLength(15);
    expect(dump.errors.join()).toMatch(/1000 parameters/);
  });
});

describe('other streams', () => {
  it('reads misc info fields according to flags and size', () => {
    const dump = readMinidump(sampleWindowsDump());
    expect(dump.miscInfo).toMatchObject({ sizeOfInfo: 44, processId: 5376, processCreateTime: 0x4ca3b571, processUserTime: 1, processorMaxMhz: 2262, processorCurrentIdleState: 3 });
    const b = new DumpBuilder();
    b.stream(15, new Writer().u32(24).u32(0x1).u32(42).u32(99).u32(0).u32(0));
    const misc = readMinidump(b.build()).miscInfo!;
    expect(misc.processId).toBe(42);
    expect(misc.processCreateTime).toBeUndefined();
  });

  it('reads the Linux streams', () => {
    const { linux } = readMinidump(sampleLinuxDump());
    expect(linux.cmdLine).toEqual(['/usr/bin/app', '--flag']);
    expect(linux.environ).toEqual(['HOME=/root', 'PATH=/bin']);
    expect(linux.cpuInfo).toMatch(/AuthenticAMD/);
    expect(linux.auxv).toEqual([
      [6n, 4096n],
      [0n, 0n],
    ]);
    expect(linux.maps?.[0]).toEqual({ start: 0x400000n, end: 0x402000n, permissions: 'r-xp', offset: 0n, device: '08:01', inode: 1234n, path: '/usr/bin/app' });
    expect(linux.maps?.[1].path).toBe('[stack]');
  });

  it('reads lsb-release, proc status and the DSO debug stream', () => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform: 0x8201 }));
    b.stream(0x47670005, new TextEncoder().encode('DISTRIB_ID=Debian\n'));
    b.stream(0x47670004, new TextEncoder().encode('Name:\tapp\n'));
    const name = b.string('/lib/ld.so');
    const map = b.data(new Writer().u64(0x7f00n).u32(name).u32(0).u64(0x7f10n));
    b.stream(0x4767000a, new Writer().u32(1).u32(map).u32(1).u32(0).u64(0x1n).u64(0x7f00n).u64(0x600e28n));
    const { linux } = readMinidump(b.build());
    expect(linux.lsbRelease).toBe('DISTRIB_ID=Debian\n');
    expect(linux.procStatus).toBe('Name:\tapp\n');
    expect(linux.dsoDebug).toMatchObject({ version: 1, dsoCount: 1, ldbase: 0x7f00n, dynamic: 0x600e28n, linkMap: [{ addr: 0x7f00n, name: '/lib/ld.so', ld: 0x7f10n }] });
  });

  it('reads the assertion info stream', () => {
    const text = (s: string) => {
      const out = new Writer();
      for (const c of s) out.u16(c.charCodeAt(0));
      return out.padTo(256).build();
    };
    const b = new DumpBuilder();
    b.stream(0x47670002, new Writer().raw(text('x != 0')).raw(text('f')).raw(text('a.cc')).u32(12).u32(1));
    expect(readMinidump(b.build()).assertion).toEqual({ expression: 'x != 0', function: 'f', file: 'a.cc', line: 12, type: 1 });
  });

  it('reads Crashpad info with module annotations', () => {
    const b = new DumpBuilder();
    const dict = (pairs: Array<[string, string]>) => {
      const entries = pairs.map(([k, v]) => [b.utf8(k), b.utf8(v)]);
      const out = new Writer().u32(pairs.length);
      for (const [k, v] of entries) out.u32(k).u32(v);
      return b.data(out);
    };
    const processDict = dict([['prod', 'Mayday'], ['ver', '1.0']]);
    const moduleDict = dict([['key', 'value'], ['key', 'ignored duplicate']]);
    const listRva = b.data(new Writer().u32(1).u32(b.utf8('abort() called')));
    const valueRva = b.data(new Writer().u32(3).raw([1, 2, 3]));
    const objects = b.data(new Writer().u32(1).u32(b.utf8('obj')).u16(0x8001).u16(0).u32(valueRva));
    const moduleInfo = b.data(new Writer().u32(1).u32(8).u32(listRva).u32(20).u32(moduleDict).u32(16).u32(objects));
    const moduleList = b.data(new Writer().u32(1).u32(2).u32(28).u32(moduleInfo));
    const reportId = Array.from({ length: 16 }, (_, i) => i);
    b.stream(0x43500001, new Writer().u32(1).raw(reportId).zeros(16).u32(20).u32(processDict).u32(16).u32(moduleList).u32(0).u64(0xffn));
    const info = readMinidump(b.build()).crashpadInfo!;
    expect(info.reportId).toBe('03020100-0504-0706-0809-0a0b0c0d0e0f');
    expect([...info.simpleAnnotations]).toEqual([
      ['prod', 'Mayday'],
      ['ver', '1.0'],
    ]);
    expect(info.addressMask).toBe(0xffn);
    expect(info.moduleList).toHaveLength(1);
    const m = info.moduleList[0];
    expect(m.moduleIndex).toBe(2);
    expect(m.listAnnotations).toEqual(['abort() called']);
    expect([...m.simpleAnnotations]).toEqual([['key', 'value']]);
    expect(m.annotationObjects).toEqual([{ name: 'obj', type: 0x8001, value: Uint8Array.from([1, 2, 3]) }]);
  });

  it('reads the handle data stream', () => {
    const b = new DumpBuilder();
    const type = b.string('File');
    b.stream(12, new Writer().u32(16).u32(32).u32(1).u32(0).u64(0x44n).u32(type).u32(0).u32(0).u32(0x12019f).u32(1).u32(2));
    expect(readMinidump(b.build()).handles).toEqual([
      { handle: 0x44n, typeName: 'File', objectName: undefined, attributes: 0, grantedAccess: 0x12019f, handleCount: 1, pointerCount: 2 },
    ]);
  });
});

describe('robustness', () => {
  it.each([
    ['linux', sampleLinuxDump()],
    ['windows', sampleWindowsDump()],
  ])('reads the complete %s sample without errors', (_name, bytes) => {
    expect(readMinidump(bytes).errors).toEqual([]);
  });

  it.each([
    ['linux', sampleLinuxDump()],
    ['windows', sampleWindowsDump()],
  ])('never throws on the %s sample truncated at every offset', (_name, bytes) => {
    for (let cut = 0; cut < bytes.length; cut++) {
      const dump = readMinidump(bytes.subarray(0, cut));
      expect(Array.isArray(dump.errors)).toBe(true);
      // The directory sits at the end, so every cut loses it or part of a stream.
      expect(dump.errors.length).toBeGreaterThan(0);
      expect(dump.errors.join()).not.toMatch(/internal error/);
    }
  });

  it('refuses absurdly long strings and bounds total string decoding', () => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform: 2 }));
    const longName = 'x'.repeat(40000); // 80000 bytes of UTF-16
    b.stream(4, moduleList(b, [{ base: 0x1000n, size: 0x1000, name: longName }]));
    const dump = readMinidump(b.build());
    expect(dump.modules[0].codeFile).toBe('');
    expect(dump.errors.join()).toMatch(/longer than 65536/);
  });

  it('keeps the streams before a truncation point', () => {
    const bytes = sampleLinuxDump(true);
    const full = readMinidump(bytes);
    expect(full.errors).toEqual([]);
    // Cut inside the last stream (auxv): everything before it must survive intact.
    const dump = readMinidump(bytes.subarray(0, bytes.length - 4));
    expect(dump.threads.map((t) => t.threadId)).toEqual([0x1001, 0x1002]);
    expect(dump.modules.map((m) => m.debugId)).toEqual(full.modules.map((m) => m.debugId));
    expect(dump.crashReason).toEqual(full.crashReason);
    expect(dump.errors.join()).toMatch(/LinuxAuxvStream: stream of 32 bytes .* is cut short/);
    expect(dump.linux.auxv).toEqual([[6n, 4096n]]);
  });
});
