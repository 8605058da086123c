/**
 * Writes fixtures/platforms/: two small synthetic minidumps, one from Windows (x86) and
 * one from macOS (x86_64), with the Breakpad symbols of every module on their stacks, so
 * that `mayday start --demo` shows more platforms than Linux. Everything here is made by
 * this script from the project's own test minidump builder (no third-party dump is
 * copied), and the output is deterministic: test/cli/platform-fixtures.test.ts
 * regenerates it and compares bytes with what is committed.
 *
 *   npm run fixture:platforms            # rewrites fixtures/platforms/{dumps,symbols}
 *   npx tsx scripts/build-platform-fixtures.ts --out DIR
 *
 * The stacks are laid out the way the compilers lay them out (a frame pointer chain:
 * saved `%ebp`/`%rbp` below the return address, locals below that; a leaf system call
 * stub without a frame), and the symbol files describe them the way Breakpad's
 * `dump_syms` would (`STACK WIN 4` program strings for Windows x86, `STACK CFI` for
 * macOS x86_64), so the stackwalker unwinds them with CFI / frame data, not by scanning.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  amd64Context,
  DumpBuilder,
  exceptionStream,
  memoryList,
  moduleList,
  pdb70,
  systemInfo,
  threadList,
  Writer,
  x86Context,
  type ModuleSpec,
  type ThreadSpec,
} from '../test/minidump/reader/builder.js';

// Minidump constants (MINIDUMP_STREAM_TYPE, PROCESSOR_ARCHITECTURE_*, MDOSPlatform).
const STREAM = { threadList: 3, moduleList: 4, memoryList: 5, exception: 6, systemInfo: 7 } as const;
const ARCH = { x86: 0, amd64: 9 } as const;
const PLATFORM = { windows: 2, macos: 0x8101 } as const;
const EXCEPTION_ACCESS_VIOLATION = 0xc0000005;
const EXC_BAD_ACCESS = 1;
const KERN_INVALID_ADDRESS = 1;

/** A function of a module: where it is, and what `dump_syms` would say about it. */
interface Fn {
  readonly name: string;
  /** Offset in the module. */
  readonly rva: number;
  readonly size: number;
  /** Bytes of stack parameters (x86 `__stdcall` / the `FUNC` record's field). */
  readonly params?: number;
  /** A system call stub: no frame pointer, the return address is at the stack pointer. */
  readonly leaf?: boolean;
  /** Source line of the function's first instruction, and its file's index (FUNC records); publics have none. */
  readonly line?: number;
  readonly file?: number;
}

interface Mod {
  readonly codeFile: string;
  readonly debugFile: string;
  readonly base: bigint;
  readonly size: number;
  readonly timestamp: number;
  readonly version?: [number, number, number, number];
  readonly files?: readonly string[];
  readonly functions: readonly Fn[];
}

/** One frame of a stack to lay out: a function, where in it the frame is, and its locals. */
interface Call {
  readonly module: Mod;
  readonly fn: string;
  /** For the top frame the faulting instruction; for callers the return address (just after a call). */
  readonly offset: number;
  /** Bytes between the stack pointer and the saved frame pointer (non-leaf frames). */
  readonly locals: number;
}

/** A stable GUID for a module (a hash of its name): the same bytes on every run. */
function guidOf(name: string): number[] {
  return [...createHash('sha256').update(`mayday demo ${name}`).digest().subarray(0, 16)];
}

const hex = (n: number | bigint, width = 0) => n.toString(16).toUpperCase().padStart(width, '0');

/** Breakpad's debug id: the GUID's fields as little-endian integers, then the age. */
function debugIdOf(guid: number[], age: number): string {
  const le = (from: number, bytes: number) => guid.slice(from, from + bytes).reverse().map((b) => hex(b, 2)).join('');
  return le(0, 4) + le(4, 2) + le(6, 2) + guid.slice(8).map((b) => hex(b, 2)).join('') + age.toString(16).toUpperCase();
}

function fnOf(module: Mod, name: string): Fn {
  const fn = module.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`${module.debugFile} has no ${name}`);
  return fn;
}

const pcOf = (call: Call): bigint => call.module.base + BigInt(fnOf(call.module, call.fn).rva + call.offset);

/** Deterministic stack filler that looks like data (small integers, heap pointers), never like code addresses. */
function filler(seed: number, heap: bigint, word: number): (i: number) => bigint {
  return (i) => {
    const x = Math.imul(seed + i * 0x9e37, 0x85ebca6b) >>> 0;
    if (x % 3 === 0) return BigInt(x % 64);
    if (x % 3 === 1) return heap + BigInt((x % 0x4000) & ~7);
    return word === 4 ? BigInt(x & 0xffff) : BigInt(x);
  };
}

/**
 * Lays out a thread's stack for `calls` (top frame first) from `sp` upwards: each frame's
 * locals, then (unless a leaf) the saved frame pointer and the return address into its
 * caller. The outermost frame returns to 0 with a saved frame pointer of 0, as a thread's
 * first frame does. Answers the stack bytes and the top frame's stack and frame pointers.
 */
function layStack(calls: readonly Call[], sp: bigint, word: 4 | 8, heap: bigint, seed: number): { bytes: Uint8Array; sp: bigint; fp: bigint } {
  const sps: bigint[] = [];
  const fps: (bigint | undefined)[] = [];
  let at = sp;
  for (const call of calls) {
    sps.push(at);
    if (fnOf(call.module, call.fn).leaf) {
      fps.push(undefined);
      at += BigInt(word);
    } else {
      fps.push(at + BigInt(call.locals));
      at += BigInt(call.locals + 2 * word);
    }
  }
  const end = at + 16n * BigInt(word);
  const out = new Writer().zeros(Number(end - sp));
  const put = (address: bigint, value: bigint) => (word === 4 ? out.setU32(Number(address - sp), Number(value)) : out.setU64(Number(address - sp), value));
  const fill = filler(seed, heap, word);
  for (let i = 0; i < calls.length; i++) {
    const caller = calls[i + 1];
    const returnAddress = caller ? pcOf(caller) : 0n;
    const fp = fps[i];
    if (fp === undefined) {
      put(sps[i], returnAddress);
      continue;
    }
    for (let a = sps[i], n = 0; a < fp; a += BigInt(word), n++) put(a, fill(i * 64 + n));
    put(fp, fps.slice(i + 1).find((f) => f !== undefined) ?? 0n);
    put(fp + BigInt(word), returnAddress);
  }
  return { bytes: out.build(), sp, fp: fps.find((f) => f !== undefined) ?? 0n };
}

/** The module's Breakpad symbol file, as `dump_syms` lays it out. */
function symbolFile(module: Mod, os: 'windows' | 'mac', cpu: 'x86' | 'x86_64', id: string, codeId: string): string {
  const lines = [`MODULE ${os} ${cpu} ${id} ${module.debugFile}`, `INFO CODE_ID ${codeId}${os === 'windows' ? ` ${module.codeFile.split('\\').pop()}` : ''}`];
  (module.files ?? []).forEach((file, i) => lines.push(`FILE ${i} ${file}`));
  const functions = [...module.functions].sort((a, b) => a.rva - b.rva);
  for (const fn of functions) {
    if (fn.line === undefined) continue;
    lines.push(`FUNC ${hex(fn.rva).toLowerCase()} ${hex(fn.size).toLowerCase()} ${hex(fn.params ?? 0).toLowerCase()} ${fn.name}`);
    // Four line records per function: the statements it is made of.
    const step = Math.ceil(fn.size / 4);
    for (let at = 0, n = 0; at < fn.size; at += step, n++) {
      lines.push(`${hex(fn.rva + at).toLowerCase()} ${hex(Math.min(step, fn.size - at)).toLowerCase()} ${fn.line + n * 2} ${fn.file ?? 0}`);
    }
  }
  for (const fn of functions) if (fn.line === undefined) lines.push(`PUBLIC ${hex(fn.rva).toLowerCase()} ${hex(fn.params ?? 0).toLowerCase()} ${fn.name}`);
  for (const fn of functions) {
    const [rva, size] = [hex(fn.rva).toLowerCase(), hex(fn.size).toLowerCase()];
    if (os === 'windows') {
      // FRAME_DATA with the frame pointer program MSVC emits for `push ebp; mov ebp, esp`.
      const program = fn.leaf ? '$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =' : '$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =';
      lines.push(`STACK WIN 4 ${rva} ${size} ${fn.leaf ? 0 : 3} 0 ${hex(fn.params ?? 0).toLowerCase()} 0 ${fn.leaf ? 0 : 10} 0 1 ${program}`);
    } else {
      lines.push(`STACK CFI INIT ${rva} ${size} .cfa: $rsp 8 + .ra: .cfa -8 + ^`);
      if (!fn.leaf) {
        lines.push(`STACK CFI ${hex(fn.rva + 1).toLowerCase()} .cfa: $rsp 16 + $rbp: .cfa -16 + ^`);
        lines.push(`STACK CFI ${hex(fn.rva + 4).toLowerCase()} .cfa: $rbp 16 +`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Output {
  /** Path relative to the output directory, and the file's bytes. */
  readonly files: Map<string, Uint8Array>;
}

function addSymbols(out: Output, modules: readonly Mod[], os: 'windows' | 'mac', cpu: 'x86' | 'x86_64', ids: Map<Mod, { debugId: string; codeId: string }>): void {
  for (const module of modules) {
    const { debugId, codeId } = ids.get(module)!;
    const base = module.debugFile.replace(/\.pdb$/i, '');
    out.files.set(`symbols/${module.debugFile}/${debugId}/${base}.sym`, new TextEncoder().encode(symbolFile(module, os, cpu, debugId, codeId)));
  }
}

// ------------------------------------------------------------------ Windows (x86)

const DEMO_APP_EXE: Mod = {
  codeFile: 'C:\\Program Files (x86)\\DemoApp\\demo_app.exe',
  debugFile: 'demo_app.pdb',
  base: 0x00c70000n,
  size: 0x5a000,
  timestamp: 0x6553a1c0,
  version: [2, 1, 0, 412],
  files: ['c:\\build\\demoapp\\src\\renderer.cpp', 'c:\\build\\demoapp\\src\\window.cpp', 'c:\\build\\demoapp\\src\\application.cpp', 'c:\\build\\demoapp\\src\\main.cpp'],
  functions: [
    { name: 'DemoApp::Renderer::DrawFrame(DemoApp::Scene const &)', rva: 0x11a40, size: 0x1c6, params: 4, line: 212, file: 0 },
    { name: 'DemoApp::Window::OnPaint()', rva: 0x14f10, size: 0xd8, params: 0, line: 88, file: 1 },
    { name: 'DemoApp::Window::HandleMessage(unsigned int,unsigned int,long)', rva: 0x15080, size: 0x2a4, params: 12, line: 131, file: 1 },
    { name: 'DemoApp::Application::Run()', rva: 0x18c30, size: 0x11e, params: 0, line: 54, file: 2 },
    { name: 'wWinMain', rva: 0x1a200, size: 0x9c, params: 16, line: 19, file: 3 },
  ],
};

const KERNEL32: Mod = {
  codeFile: 'C:\\Windows\\System32\\kernel32.dll',
  debugFile: 'wkernel32.pdb',
  base: 0x76c40000n,
  size: 0xf0000,
  timestamp: 0x2a4b7c3e,
  version: [10, 0, 19041, 1806],
  functions: [{ name: 'BaseThreadInitThunk', rva: 0x1fa10, size: 0x30, params: 4 }],
};

const NTDLL: Mod = {
  codeFile: 'C:\\Windows\\System32\\ntdll.dll',
  debugFile: 'wntdll.pdb',
  base: 0x77b20000n,
  size: 0x1a3000,
  timestamp: 0x9d4c8e11,
  version: [10, 0, 19041, 1806],
  functions: [
    { name: '__RtlUserThreadStart', rva: 0x6ad40, size: 0x7c, params: 8 },
    { name: '_RtlUserThreadStart', rva: 0x6adc0, size: 0x20, params: 8 },
  ],
};

/** The renderer reads a member through a null `Scene::camera_`: a read of 0x18 on the first paint. */
function windowsDump(out: Output): void {
  const modules = [DEMO_APP_EXE, KERNEL32, NTDLL];
  const ids = new Map(modules.map((m) => [m, { guid: guidOf(m.debugFile), age: 1 }] as const));
  const calls: Call[] = [
    { module: DEMO_APP_EXE, fn: 'DemoApp::Renderer::DrawFrame(DemoApp::Scene const &)', offset: 0x4a, locals: 0x3c },
    { module: DEMO_APP_EXE, fn: 'DemoApp::Window::OnPaint()', offset: 0x5e, locals: 0x48 },
    { module: DEMO_APP_EXE, fn: 'DemoApp::Window::HandleMessage(unsigned int,unsigned int,long)', offset: 0x1b3, locals: 0x24 },
    { module: DEMO_APP_EXE, fn: 'DemoApp::Application::Run()', offset: 0x97, locals: 0x30 },
    { module: DEMO_APP_EXE, fn: 'wWinMain', offset: 0x66, locals: 0x20 },
    { module: KERNEL32, fn: 'BaseThreadInitThunk', offset: 0x19, locals: 0x10 },
    { module: NTDLL, fn: '__RtlUserThreadStart', offset: 0x6b, locals: 0x18 },
    { module: NTDLL, fn: '_RtlUserThreadStart', offset: 0x1b, locals: 0x10 },
  ];
  const stack = layStack(calls, 0x0113f6a0n, 4, 0x01384000n, 0x51);
  const eip = pcOf(calls[0]);
  const registers = { eax: 0x0113f740, ebx: 0x00fb3000, ecx: 0, edx: 0x013a52d8, esi: 0x013a5230, edi: 0x0113f7a8, ebp: Number(stack.fp), esp: Number(stack.sp), eip: Number(eip), efl: 0x10246 };

  const b = new DumpBuilder();
  b.timestamp = 0x6567a3f2;
  const threadId = 0x2a1c;
  const thread: ThreadSpec = { id: threadId, stackBase: stack.sp, stack: stack.bytes, context: x86Context(registers) };
  b.stream(STREAM.threadList, threadList(b, [thread]));
  b.stream(
    STREAM.moduleList,
    moduleList(
      b,
      modules.map((m): ModuleSpec => {
        const { guid, age } = ids.get(m)!;
        return { base: m.base, size: m.size, name: m.codeFile, timestamp: m.timestamp, version: m.version, cv: pdb70(guid, age, m.debugFile) };
      }),
    ),
  );
  // The bytes around the faulting instruction, as Windows' minidump writer includes them:
  // `mov eax, dword ptr [ecx+18h]` between int3 padding.
  const code = new Uint8Array(64).fill(0xcc);
  code.set([0x8b, 0x41, 0x18], 32);
  b.stream(STREAM.memoryList, memoryList(b, [{ base: eip - 32n, bytes: code }]));
  b.stream(
    STREAM.exception,
    exceptionStream(b, { threadId, code: EXCEPTION_ACCESS_VIOLATION, address: eip, params: [0n, 0x18n], context: x86Context(registers) }),
  );
  b.stream(STREAM.systemInfo, systemInfo(b, { arch: ARCH.x86, platform: PLATFORM.windows, level: 6, revision: 0x9e0a, cpus: 8, major: 10, minor: 0, build: 19045, vendor: 'GenuineIntel' }));
  out.files.set('dumps/windows-demo-app.dmp', b.build());
  addSymbols(
    out,
    modules,
    'windows',
    'x86',
    new Map(modules.map((m) => [m, { debugId: debugIdOf(ids.get(m)!.guid, ids.get(m)!.age), codeId: hex(m.timestamp, 8) + hex(m.size) }])),
  );
}

// ------------------------------------------------------------------ macOS (x86_64)

const DEMO_APP: Mod = {
  codeFile: '/Applications/DemoApp.app/Contents/MacOS/DemoApp',
  debugFile: 'DemoApp',
  base: 0x10a3c5000n,
  size: 0x48000,
  timestamp: 0,
  files: ['/Users/builder/DemoApp/Sources/Storage.cpp', '/Users/builder/DemoApp/Sources/DemoDocument.mm', '/Users/builder/DemoApp/Sources/main.mm'],
  functions: [
    { name: 'DemoApp::Storage::Flush()', rva: 0x8e20, size: 0x1b4, line: 301, file: 0 },
    { name: 'DemoApp::Storage::WriterLoop()', rva: 0x9100, size: 0x142, line: 377, file: 0 },
    { name: '-[DemoDocument save:]', rva: 0xc4b0, size: 0x96, line: 64, file: 1 },
    { name: '-[DemoDocument autosaveTimerFired:]', rva: 0xc560, size: 0x4a, line: 92, file: 1 },
    { name: 'main', rva: 0xf3a0, size: 0x74, line: 12, file: 2 },
  ],
};

const LIBDYLD: Mod = {
  codeFile: '/usr/lib/system/libdyld.dylib',
  debugFile: 'libdyld.dylib',
  base: 0x7fff2039e000n,
  size: 0x3a000,
  timestamp: 0,
  functions: [{ name: 'start', rva: 0x15f3c, size: 0x10 }],
};

const LIBSYSTEM_KERNEL: Mod = {
  codeFile: '/usr/lib/system/libsystem_kernel.dylib',
  debugFile: 'libsystem_kernel.dylib',
  base: 0x7fff2030e000n,
  size: 0x2f000,
  timestamp: 0,
  functions: [{ name: '__psynch_cvwait', rva: 0x3cde, size: 0x16, leaf: true }],
};

const LIBSYSTEM_PTHREAD: Mod = {
  codeFile: '/usr/lib/system/libsystem_pthread.dylib',
  debugFile: 'libsystem_pthread.dylib',
  base: 0x7fff20341000n,
  size: 0xc000,
  timestamp: 0,
  functions: [
    { name: '_pthread_cond_wait', rva: 0x6e48, size: 0x538 },
    { name: '_pthread_start', rva: 0x8950, size: 0xe4 },
    { name: 'thread_start', rva: 0x447c, size: 0x10 },
  ],
};

/** Saving a document flushes a storage whose buffer was already freed: a read at 0x10. */
function macosDump(out: Output): void {
  const modules = [DEMO_APP, LIBSYSTEM_KERNEL, LIBSYSTEM_PTHREAD, LIBDYLD];
  // Mach-O UUIDs in a PDB 7.0 record with age 0, as Breakpad's macOS client writes them.
  const ids = new Map(modules.map((m) => [m, { guid: guidOf(m.debugFile), age: 0 }] as const));
  const main: Call[] = [
    { module: DEMO_APP, fn: 'DemoApp::Storage::Flush()', offset: 0x3c, locals: 0x40 },
    { module: DEMO_APP, fn: '-[DemoDocument save:]', offset: 0x51, locals: 0x20 },
    { module: DEMO_APP, fn: '-[DemoDocument autosaveTimerFired:]', offset: 0x2d, locals: 0x10 },
    { module: DEMO_APP, fn: 'main', offset: 0x4f, locals: 0x30 },
    { module: LIBDYLD, fn: 'start', offset: 0x1, locals: 0x8 },
  ];
  const writer: Call[] = [
    { module: LIBSYSTEM_KERNEL, fn: '__psynch_cvwait', offset: 0xa, locals: 0 },
    { module: LIBSYSTEM_PTHREAD, fn: '_pthread_cond_wait', offset: 0x4cd, locals: 0x48 },
    { module: DEMO_APP, fn: 'DemoApp::Storage::WriterLoop()', offset: 0x8b, locals: 0x28 },
    { module: LIBSYSTEM_PTHREAD, fn: '_pthread_start', offset: 0x7d, locals: 0x30 },
    { module: LIBSYSTEM_PTHREAD, fn: 'thread_start', offset: 0xf, locals: 0x10 },
  ];
  const mainStack = layStack(main, 0x7ffee5a3e8c0n, 8, 0x600000c04000n, 0x4d);
  const writerStack = layStack(writer, 0x70000f4e1e38n, 8, 0x600000c04000n, 0x77);
  const rip = pcOf(main[0]);
  const mainRegisters = { rax: 0n, rbx: 0x600000c04a80n, rcx: 0x10n, rdx: 0x7ffee5a3e940n, rsi: 0x7fff7a3c1b20n, rdi: 0x600000c04a80n, rbp: mainStack.fp, rsp: mainStack.sp, r12: 0n, r13: 0x600000c04b00n, r14: 0x600000c04a80n, r15: 0x7fff7a3c1b20n, rip };
  const writerRegisters = { rax: 0x104n, rbx: 0x70000f4e2000n, rcx: 0x70000f4e1e38n, rdx: 0x100n, rsi: 0x100n, rdi: 0x600000c04b40n, rbp: writerStack.fp, rsp: writerStack.sp, r12: 0x16n, r13: 0n, r14: 0x600000c04b40n, r15: 0n, rip: pcOf(writer[0]) };

  const b = new DumpBuilder();
  b.timestamp = 0x6567a5e1;
  const threads: ThreadSpec[] = [
    { id: 0x1d0f, stackBase: mainStack.sp, stack: mainStack.bytes, context: amd64Context(mainRegisters) },
    { id: 0x1d4a, stackBase: writerStack.sp, stack: writerStack.bytes, context: amd64Context(writerRegisters) },
  ];
  b.stream(STREAM.threadList, threadList(b, threads));
  b.stream(
    STREAM.moduleList,
    moduleList(
      b,
      modules.map((m): ModuleSpec => {
        const { guid, age } = ids.get(m)!;
        return { base: m.base, size: m.size, name: m.codeFile, cv: pdb70(guid, age, m.debugFile) };
      }),
    ),
  );
  b.stream(STREAM.exception, exceptionStream(b, { threadId: 0x1d0f, code: EXC_BAD_ACCESS, flags: KERN_INVALID_ADDRESS, address: 0x10n, context: amd64Context(mainRegisters) }));
  b.stream(STREAM.systemInfo, systemInfo(b, { arch: ARCH.amd64, platform: PLATFORM.macos, level: 6, revision: 0x9e0a, cpus: 8, major: 10, minor: 15, build: 7, csd: '19H2', vendor: 'GenuineIntel' }));
  out.files.set('dumps/macos-demo-app.dmp', b.build());
  addSymbols(
    out,
    modules,
    'mac',
    'x86_64',
    new Map(modules.map((m) => [m, { debugId: debugIdOf(ids.get(m)!.guid, 0), codeId: debugIdOf(ids.get(m)!.guid, 0).slice(0, 32) }])),
  );
}

/** Every generated file, relative to fixtures/platforms/ (the README is written by hand). */
export function buildPlatformFixtures(): Map<string, Uint8Array> {
  const out: Output = { files: new Map() };
  windowsDump(out);
  macosDump(out);
  return out.files;
}

/** Writes the fixtures under `dir`, replacing its dumps/ and symbols/. */
export function writePlatformFixtures(dir: string): string[] {
  rmSync(join(dir, 'dumps'), { recursive: true, force: true });
  rmSync(join(dir, 'symbols'), { recursive: true, force: true });
  const written: string[] = [];
  for (const [path, bytes] of buildPlatformFixtures()) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
    written.push(path);
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const given = process.argv.indexOf('--out');
  const dir = given >= 0 ? resolve(process.argv[given + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/platforms');
  for (const path of writePlatformFixtures(dir)) console.log(join(dir, path));
}
