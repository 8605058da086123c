/**
 * The `json_dump` document against rust-minidump's schema (`minidump-processor/json-schema.md`
 * and its `minidump-stackwalk` JSON snapshots): key sets, zero-padded hex, the crashing
 * thread copy, frames in unloaded modules. Values are checked against Breakpad's reference
 * output for the same dump where it has them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fsSymbolLoader } from '../../../src/adapters/fs-symbol-supplier.js';
import { toJsonDump } from '../../../src/minidump/output/index.js';
import { processMinidump } from '../../../src/minidump/process/index.js';
import { readMinidump } from '../../../src/minidump/reader/index.js';
import { SymbolCache } from '../../../src/minidump/symbols/index.js';
import { DumpBuilder, Writer, bytesOf, systemInfo, threadList, x86Context } from '../reader/builder.js';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/corpus');

type JsonObject = { [key: string]: unknown };

async function jsonOf(bytes: Uint8Array, symbolDirs: string[] = []): Promise<JsonObject> {
  const cache = new SymbolCache({ loader: fsSymbolLoader(symbolDirs), budgetBytes: 1 << 28 });
  // Round-trip through text, as a consumer sees it.
  return JSON.parse(JSON.stringify(toJsonDump(await processMinidump(readMinidump(bytes), cache)))) as JsonObject;
}

const corpusDump = (name: string) => jsonOf(new Uint8Array(readFileSync(join(corpus, 'dumps', `${name}.dmp`))), [join(corpus, 'symbols')]);

/** rust-minidump's keys (print_json), which a consumer of its output may rely on. */
const RUST_TOP_LEVEL = ['status', 'system_info', 'crash_info', 'lsb_release', 'mac_crash_info', 'mac_boot_args', 'main_module', 'modules_contains_cert_info', 'modules', 'pid', 'thread_count', 'threads', 'unloaded_modules', 'crashing_thread'];
const RUST_CRASH_INFO = ['type', 'address', 'adjusted_address', 'instruction', 'memory_accesses', 'possible_bit_flips', 'crashing_thread', 'assertion'];
const RUST_SYSTEM_INFO = ['os', 'os_ver', 'cpu_arch', 'cpu_info', 'cpu_count', 'cpu_microcode_version'];
const RUST_THREAD = ['frame_count', 'last_error_value', 'thread_name', 'frames'];
const RUST_FRAME = ['frame', 'module', 'function', 'file', 'line', 'offset', 'inlines', 'module_offset', 'unloaded_modules', 'function_offset', 'missing_symbols', 'trust'];
/** Mayday's own frame keys, after rust-minidump's (docs/stackwalk-json.md). */
const MAYDAY_FRAME = ['function_is_nearest_export'];
const RUST_MODULE = ['base_addr', 'debug_file', 'debug_id', 'end_addr', 'filename', 'code_id', 'version', 'cert_subject', 'missing_symbols', 'loaded_symbols', 'corrupt_symbols', 'symbol_url'];
const RUST_UNLOADED_MODULE = ['base_addr', 'code_id', 'end_addr', 'filename', 'cert_subject'];

const keysOf = (value: unknown) => Object.keys(value as JsonObject);
const framesOf = (thread: unknown) => (thread as { frames: JsonObject[] }).frames;

/** Frame lines of Breakpad's `-m` output: thread|frame|module|function|file|line|offset. */
function referenceFrames(name: string): string[][] {
  return readFileSync(join(corpus, 'expected', `${name}.breakpad-m.txt`), 'utf8')
    .split('\n')
    .filter((line) => /^\d+\|\d+\|/.test(line))
    .map((line) => line.split('|'));
}

describe('json_dump against rust-minidump', () => {
  it('has every key rust-minidump writes, at every level', async () => {
    const doc = await corpusDump('example-app-null');
    expect(keysOf(doc)).toEqual(expect.arrayContaining(RUST_TOP_LEVEL));
    expect(keysOf(doc.crash_info)).toEqual(expect.arrayContaining(RUST_CRASH_INFO));
    expect(keysOf(doc.system_info)).toEqual(expect.arrayContaining(RUST_SYSTEM_INFO));
    const threads = doc.threads as JsonObject[];
    expect(doc.thread_count).toBe(threads.length);
    for (const thread of threads) {
      expect(keysOf(thread)).toEqual(expect.arrayContaining(RUST_THREAD));
      for (const frame of framesOf(thread)) expect(keysOf(frame).sort()).toEqual([...RUST_FRAME, ...MAYDAY_FRAME].sort());
    }
    for (const module of doc.modules as JsonObject[]) expect(keysOf(module)).toEqual(expect.arrayContaining(RUST_MODULE));
  });

  it('pads every hex value, offsets included, to the pointer width (16 digits on amd64)', async () => {
    const doc = await corpusDump('example-app-null');
    const hex16 = /^0x[0-9a-f]{16}$/;
    const frames = (doc.threads as JsonObject[]).flatMap(framesOf);
    for (const f of frames) {
      expect(f.offset).toMatch(hex16);
      if (f.module_offset !== null) expect(f.module_offset).toMatch(hex16);
      if (f.function_offset !== null) expect(f.function_offset).toMatch(hex16);
    }
    for (const m of doc.modules as JsonObject[]) {
      expect(m.base_addr).toMatch(hex16);
      expect(m.end_addr).toMatch(hex16);
    }
    expect((doc.crash_info as JsonObject).address).toMatch(hex16);
  });

  it('module_offset and function_offset hold the values Breakpad prints', async () => {
    const doc = await corpusDump('example-app-null');
    const threads = doc.threads as JsonObject[];
    const modules = doc.modules as JsonObject[];
    let compared = 0;
    for (const [thread, frame, module, fn, file, , offset] of referenceFrames('example-app-null')) {
      const ours = framesOf(threads[Number(thread)])[Number(frame)];
      // Breakpad's last column counts from the return address, one past our lookup address
      // in callers on amd64 (rust-minidump's offsets are lookup-based too), and from the
      // line record's start when it has a source line (not in the document: skipped).
      if (file) continue;
      const expected = BigInt(offset) - (frame === '0' ? 0n : 1n);
      if (fn) expect(BigInt(ours.function_offset as string)).toBe(expected);
      else if (module) expect(BigInt(ours.module_offset as string)).toBe(expected);
      else expect(BigInt(ours.offset as string)).toBe(expected);
      if (ours.module_offset !== null) {
        const m = modules.find((x) => x.filename === ours.module)!;
        expect(BigInt(ours.module_offset as string)).toBe(BigInt(ours.offset as string) - BigInt(m.base_addr as string));
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
  });

  it('frame missing_symbols means "no function name", as in rust-minidump', async () => {
    const doc = await corpusDump('example-app-null');
    const frames = (doc.threads as JsonObject[]).flatMap(framesOf);
    expect(frames.some((f) => f.missing_symbols === true)).toBe(true);
    expect(frames.some((f) => f.missing_symbols === false)).toBe(true);
    for (const f of frames) expect(f.missing_symbols).toBe(f.function === null);
  });

  it('crashing_thread is the requesting thread with threads_index and registers on its first frame', async () => {
    const doc = await corpusDump('example-app-null');
    const crashing = doc.crashing_thread as JsonObject;
    const index = crashing.threads_index as number;
    expect(index).toBe((doc.crash_info as JsonObject).crashing_thread);
    const thread = (doc.threads as JsonObject[])[index];
    const frames = framesOf(crashing);
    const registers = frames[0].registers as Record<string, string>;
    expect(registers.rip).toBe(frames[0].offset);
    expect(Object.values(registers).every((v) => /^0x[0-9a-f]{16}$/.test(v))).toBe(true);
    // Same keys and values as the thread entry, apart from the additions.
    const { registers: _frameRegisters, ...firstFrame } = frames[0];
    expect([firstFrame, ...frames.slice(1)]).toEqual(framesOf(thread));
    for (const key of keysOf(thread)) if (key !== 'frames') expect(crashing[key]).toEqual(thread[key]);
    // Kept for older readers: the thread-level copy and Socorro's total_frames.
    expect(crashing.registers).toEqual(registers);
    expect(crashing.total_frames).toBe(thread.frame_count);
  });
});

describe('json_dump: a frame in unloaded modules (x86)', () => {
  /**
   * A Windows x86 dump whose only thread stopped at 0x10001100, inside no loaded module but
   * inside three unloaded ones: `gone.dll` twice (reloaded at another base) and `other.dll`.
   */
  function dumpInUnloadedModules(): Uint8Array {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 0, platform: 2, major: 10, minor: 0, build: 19041 }));
    b.stream(3, threadList(b, [{ id: 7, stackBase: 0x30000n, stack: bytesOf(64), context: x86Context({ eip: 0x10001100, esp: 0x30000 }) }]));
    const unloaded: [bigint, number, string][] = [
      [0x10001000n, 0x1000, 'C:\\x\\other.dll'],
      [0x10000000n, 0x3000, 'C:\\x\\gone.dll'],
      [0x10001000n, 0x2000, 'C:\\x\\gone.dll'],
      [0x20000000n, 0x1000, 'C:\\x\\far.dll'],
    ];
    const stream = new Writer().u32(12).u32(24).u32(unloaded.length);
    for (const [base, size, name] of unloaded) stream.u64(base).u32(size).u32(0).u32(0x5a5a5a5a).u32(b.string(name));
    b.stream(14, stream);
    return b.build();
  }

  it('has no module and lists each unloaded module covering the address, with 8-digit offsets', async () => {
    const doc = await jsonOf(dumpInUnloadedModules());
    const frame = framesOf((doc.threads as JsonObject[])[0])[0];
    expect(frame.offset).toBe('0x10001100');
    expect(frame.module).toBeNull();
    expect(frame.module_offset).toBeNull();
    expect(frame.unloaded_modules).toEqual([
      { module: 'gone.dll', offsets: ['0x00000100', '0x00001100'] },
      { module: 'other.dll', offsets: ['0x00000100'] },
    ]);
    expect((doc.unloaded_modules as JsonObject[]).map((m) => keysOf(m).sort())).toEqual(Array(4).fill([...RUST_UNLOADED_MODULE].sort()));
    expect((doc.unloaded_modules as JsonObject[])[1]).toMatchObject({ base_addr: '0x10000000', end_addr: '0x10003000', filename: 'gone.dll' });
  });
});
