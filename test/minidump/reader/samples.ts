/**
 * Small but complete hand-built dumps used by several tests (unit, truncation, fuzz
 * seeds). Each exercises most stream types so mutations reach most parsers.
 */
import {
  DumpBuilder,
  Writer,
  amd64Context,
  bytesOf,
  elfBuildId,
  exceptionStream,
  memory64List,
  memoryList,
  moduleList,
  pdb70,
  systemInfo,
  threadList,
  x86Context,
} from './builder.js';

export const LINUX_BUILD_ID = [0x67, 0x21, 0x6f, 0x97, 0xf8, 0xc7, 0xf5, 0xbc, 0xcd, 0x91, 0xfb, 0xc5, 0xae, 0xf2, 0x99, 0x11, 0x78, 0x38, 0xc1, 0x80];

/** A Linux amd64 SIGSEGV dump with two threads, modules, memory and /proc streams. */
export function sampleLinuxDump(directoryFirst = false): Uint8Array {
  const b = new DumpBuilder(directoryFirst ? 16 : 0);
  b.stream(7, systemInfo(b, { arch: 9, platform: 0x8201, level: 25, revision: 0x1101, major: 0, minor: 0, build: 0, csd: 'Linux 6.1.0 #1 SMP x86_64' }));
  b.stream(
    3,
    threadList(b, [
      { id: 0x1001, stackBase: 0x7ffd0000n, stack: bytesOf(64), context: amd64Context({ rip: 0x400123n, rsp: 0x7ffd0010n }) },
      { id: 0x1002, stackBase: 0x7ffe0000n, stack: bytesOf(32, 9), context: amd64Context() },
    ]),
  );
  b.stream(
    4,
    moduleList(b, [
      { base: 0x400000n, size: 0x2000, name: '/usr/bin/app', cv: elfBuildId(LINUX_BUILD_ID) },
      { base: 0x7f0000000000n, size: 0x10000, name: '/lib/libc.so.6', cv: elfBuildId([1, 2, 3, 4, 5, 6, 7, 8]) },
    ]),
  );
  b.stream(5, memoryList(b, [{ base: 0x400100n, bytes: bytesOf(48, 3) }]));
  b.stream(6, exceptionStream(b, { threadId: 0x1001, code: 11, flags: 1, address: 0n, context: amd64Context({ rip: 0x400123n }) }));
  b.stream(0x47670001, new Writer().u32(3).u32(0x1003).u32(0x1001));
  b.stream(0x47670006, new TextEncoder().encode('/usr/bin/app\0--flag\0'));
  b.stream(0x47670007, new TextEncoder().encode('HOME=/root\0PATH=/bin\0'));
  b.stream(0x47670009, new TextEncoder().encode('00400000-00402000 r-xp 00000000 08:01 1234 /usr/bin/app\n7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]\n'));
  b.stream(0x47670003, new TextEncoder().encode('processor\t: 0\nvendor_id\t: AuthenticAMD\n'));
  b.stream(0x47670008, new Writer().u64(6).u64(4096).u64(0).u64(0));
  return b.build();
}

/** A Windows x86 access-violation dump with a PDB70 module, misc info and a Memory64List. */
export function sampleWindowsDump(): Uint8Array {
  const b = new DumpBuilder();
  b.stream(7, systemInfo(b, { arch: 0, platform: 2, major: 6, minor: 1, build: 7601, csd: 'Service Pack 1', vendor: 'GenuineIntel', revision: 0x1a05 }));
  b.stream(3, threadList(b, [{ id: 0x106c, stackBase: 0x34f000n, stack: bytesOf(128), context: x86Context({ eip: 0xd6a6cd, esp: 0x34f010 }) }]));
  b.stream(
    4,
    moduleList(b, [
      {
        base: 0xd60000n,
        size: 0x1a000,
        name: 'D:\\crashme\\Debug\\crashme.exe',
        timestamp: 0x4ca3b56e,
        cv: pdb70([0x08, 0x43, 0x50, 0x1b, 0x17, 0x5f, 0xa3, 0x4d, 0x85, 0x52, 0x1d, 0xd4, 0x74, 0x0d, 0x17, 0x30], 0x14, 'D:\\crashme\\Debug\\crashme.pdb'),
        version: [1, 2, 3, 4],
      },
    ]),
  );
  b.stream(9, memory64List(b, [{ base: 0x10000n, bytes: bytesOf(32) }, { base: 0x20000n, bytes: bytesOf(16, 5) }]));
  b.stream(6, exceptionStream(b, { threadId: 0x106c, code: 0xc0000005, address: 0xd6a6cdn, params: [0n, 0x41414141n], context: x86Context({ eip: 0xd6a6cd }) }));
  const misc = new Writer().u32(44).u32(0x7).u32(5376).u32(0x4ca3b571).u32(1).u32(2).u32(2262).u32(1583).u32(2262).u32(3).u32(3);
  b.stream(15, misc);
  return b.build();
}
