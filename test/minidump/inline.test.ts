/**
 * Inline frames against ground truth. `fixtures/inline/` holds a program of ours that
 * crashes inside calls inlined three deep, called from a function that was itself reached
 * through two inlined calls, with a second thread stopped in a loop inlined two deep (see
 * `fixtures/inline/README.md`; rebuilt by `scripts/build-inline-fixture.sh`).
 *
 * Three independent oracles:
 * - the source: every inlined call site is marked `// LINE: <label>`, so expected
 *   functions, files and lines come from the program text, not from any tool;
 * - the DWARF itself, through `llvm-addr2line -i` and binutils `addr2line -i` run at each
 *   frame's lookup address when the fixture was built (`expected-*addr2line.txt`);
 * - Breakpad's `minidump_stackwalk` (its processor expands `INLINE` records too), whose
 *   `-m` and human outputs must match ours byte for byte.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHumanReadable, toJsonDump, toMachineReadable } from '../../src/minidump/output/index.js';
import { noSymbols, processMinidump, type ProcessState } from '../../src/minidump/process/index.js';
import { readMinidump } from '../../src/minidump/reader/index.js';
import { directorySupplier } from './process/dir-supplier.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(root, 'fixtures/inline');
const publicDir = resolve(root, '../shared/corpus/public');
const read = (name: string): string => readFileSync(join(fixture, name), 'utf8');

/** Where the build put the crasher's sources, as the debug info names them (the tree maps to /mayday). */
const SOURCE_DIR = '/mayday/fixtures/inline/src';
const SOURCE = `${SOURCE_DIR}/inline-crasher.cc`;
const SOURCE_FILES = ['inline-crasher.cc', 'inline-node.h'];

/** `// LINE: label` markers of the crasher's sources: label -> [file as in the debug info, 1-based line]. */
function sourceMarkers(): Map<string, readonly [string, number]> {
  const out = new Map<string, readonly [string, number]>();
  for (const name of SOURCE_FILES) {
    read(`src/${name}`)
      .split('\n')
      .forEach((line, i) => {
        const m = /\/\/ LINE: (.+)$/.exec(line);
        if (m) out.set(m[1].trim(), [`${SOURCE_DIR}/${name}`, i + 1]);
      });
  }
  return out;
}
const markers = sourceMarkers();
function at(label: string): readonly [string, number] {
  const where = markers.get(label);
  if (where === undefined) throw new Error(`no "// LINE: ${label}" marker in ${SOURCE_FILES.join(' or ')}`);
  return where;
}
const lineOf = (label: string): number => at(label)[1];

interface JsonInline {
  readonly function: string | null;
  readonly file: string | null;
  readonly line: number | null;
}
interface JsonFrame extends JsonInline {
  readonly module: string | null;
  readonly module_offset: string | null;
  readonly trust: string;
  readonly inlines: JsonInline[] | null;
}
interface JsonThread {
  readonly frame_count: number;
  readonly frames: JsonFrame[];
}
interface JsonDoc {
  readonly crash_info: { readonly crashing_thread: number | null };
  readonly crashing_thread: JsonThread & { readonly threads_index: number };
  readonly threads: JsonThread[];
}

/** A source location as `[function, file, line]`. */
type Location = readonly [string | null, string | null, number | null];

/** The call chain of one physical frame: its inlined calls, innermost first, then itself. */
function chain(frame: JsonFrame): Location[] {
  return [...(frame.inlines ?? []), frame].map((f) => [f.function, f.file, f.line] as const);
}

let state: ProcessState;
let doc: JsonDoc;

beforeAll(async () => {
  const dump = readMinidump(new Uint8Array(readFileSync(join(fixture, 'inline-crasher.dmp'))));
  state = await processMinidump(dump, directorySupplier(join(fixture, 'symbols')));
  // The JSON value type is structural; the document's shape is the one docs/stackwalk-json.md describes.
  doc = toJsonDump(state) as unknown as JsonDoc;
});

/** What the source says the crashing thread's first three physical frames are. */
function expectedCrashingChains(): Location[][] {
  return [
    [
      ['store_value', ...at('crash (innermost, in store_value)')],
      ['update_node', ...at('update_node calls store_value')],
      ['apply_update', ...at('apply_update calls update_node')],
      ['process_node(Node*, int)', ...at('process_node calls apply_update')],
    ],
    [
      ['schedule_job', ...at('schedule_job calls process_node')],
      ['dispatch_job', ...at('dispatch_job calls schedule_job')],
      ['run_jobs(Node*, int)', ...at('run_jobs calls dispatch_job')],
    ],
    [['main', ...at('main calls run_jobs')]],
  ];
}

function spinnerThread(): JsonThread {
  const thread = doc.threads.find((t) => t.frames[0]?.function === 'spinner_main(void*)');
  if (!thread) throw new Error('no thread stopped in spinner_main');
  return thread;
}

describe('inline frames (fixtures/inline, ground truth from our own crasher)', () => {
  it('JSON: the crashing frame and its callers carry their inlined calls, innermost first', () => {
    const frames = doc.crashing_thread.frames;
    expect(frames.slice(0, 3).map(chain)).toEqual(expectedCrashingChains());
    expect(frames.slice(0, 3).map((f) => f.trust)).toEqual(['context', 'cfi', 'cfi']);
    expect(frames[2].inlines).toBeNull();
    // frame_count counts physical frames; inline frames live inside them.
    expect(doc.crashing_thread.frame_count).toBe(frames.length);
    // The copy differs only by the registers on its first frame.
    const withoutRegisters = frames.map((f, i) => (i === 0 ? Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'registers')) : f));
    expect(doc.threads[doc.crashing_thread.threads_index].frames).toEqual(withoutRegisters);
    expect(doc.crash_info.crashing_thread).toBe(doc.crashing_thread.threads_index);
  });

  it('JSON: the second thread, stopped in its spin loop, shows the loop inlined two deep', () => {
    const [frame0] = spinnerThread().frames;
    const locations = chain(frame0);
    // The loop lives in poll_flag; below it there may be libstdc++'s inlined atomics.
    const ours = locations.slice(-3);
    expect(ours.slice(1)).toEqual([
      ['wait_for_work', ...at('wait_for_work calls poll_flag')],
      ['spinner_main(void*)', ...at('spinner_main calls wait_for_work')],
    ]);
    expect(ours[0][0]).toBe('poll_flag');
    expect(ours[0][1]).toBe(SOURCE);
    expect([lineOf('poll_flag spins'), lineOf('poll_flag signals')]).toContain(ours[0][2]);
    for (const [fn, file] of locations.slice(0, -3)) {
      expect(fn).toMatch(/^std::(__atomic_base<bool>|atomic<bool>)::(load|store)/);
      expect(file).not.toBe(SOURCE);
    }
    expect(frame0.trust).toBe('context');
  });

  it('human output: inline frames come before their physical frame, found by "inline record"', () => {
    const text = toHumanReadable(state);
    const block = text.slice(text.indexOf('Thread 0 (crashed)'), text.indexOf('\n\n', text.indexOf('Thread 0 (crashed)')));
    const frames: { index: number; fn: string; file: string; line: number; foundBy: string }[] = [];
    for (const line of block.split('\n')) {
      const m = /^ ?(\d+) {2}inline-crasher!(.+) \[(\S+) : (\d+) \+ 0x[0-9a-f]+\]$/.exec(line);
      if (m) frames.push({ index: Number(m[1]), fn: m[2], file: m[3], line: Number(m[4]), foundBy: '' });
      const found = /^ {4}Found by: (.+)$/.exec(line);
      if (found && frames.length > 0 && frames[frames.length - 1].foundBy === '') frames[frames.length - 1].foundBy = found[1];
    }
    const expected = expectedCrashingChains().flatMap((locations, physical) =>
      locations.map(([fn, file, line], i) => ({
        fn,
        file: file?.split('/').pop(),
        line,
        foundBy:
          i < locations.length - 1 ? 'inline record' : physical === 0 ? 'given as instruction pointer in context' : 'call frame info',
      })),
    );
    expect(frames.slice(0, expected.length).map(({ index: _index, ...rest }) => rest)).toEqual(expected);
    expect(frames.slice(0, expected.length).map((f) => f.index)).toEqual(expected.map((_, i) => i));
  });

  it('machine-readable and human output are identical to Breakpad minidump_stackwalk, which expands INLINE records too', () => {
    expect(toMachineReadable(state)).toBe(read('inline-crasher.breakpad-m.txt'));
    expect(toHumanReadable(state)).toBe(read('inline-crasher.breakpad.txt'));
  });

  it('without symbols nothing is inlined (the inline frames come from INLINE records)', async () => {
    const bare = await processMinidump(readMinidump(new Uint8Array(readFileSync(join(fixture, 'inline-crasher.dmp')))), noSymbols);
    const bareDoc = toJsonDump(bare) as unknown as JsonDoc;
    const frame0 = bareDoc.crashing_thread.frames[0];
    expect(frame0.inlines).toBeNull();
    expect(frame0.function).toBeNull();
    expect(frame0.module_offset).toBe(doc.crashing_thread.frames[0].module_offset);
  });
});

/** One `thread T frame F lookup 0xADDR` block of an addr2line oracle file. */
interface OracleBlock {
  readonly thread: number;
  readonly frame: number;
  readonly lookup: string;
  readonly locations: Location[];
}

function parseOracle(text: string): OracleBlock[] {
  const blocks: { thread: number; frame: number; lookup: string; locations: Location[] }[] = [];
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  for (let i = 0; i < lines.length; i++) {
    const head = /^thread (\d+) frame (\d+) lookup (0x[0-9a-f]+)$/.exec(lines[i]);
    if (head) {
      blocks.push({ thread: Number(head[1]), frame: Number(head[2]), lookup: head[3], locations: [] });
      continue;
    }
    const where = /^(.*):(\d+|\?)$/.exec(lines[i + 1] ?? '');
    const block = blocks[blocks.length - 1];
    if (!block || !where) throw new Error(`oracle: unexpected line ${JSON.stringify(lines[i])}`);
    block.locations.push([lines[i], where[1] === '??' ? null : where[1], where[2] === '?' ? null : Number(where[2])]);
    i++;
  }
  return blocks;
}

/**
 * Compares every oracle block with a source location to our frame at the same thread and
 * physical frame index: same lookup address, same chain. `innermostName: false` skips the
 * innermost function name, which binutils 2.40 takes from the ELF symbol (the physical
 * function) rather than from the inlined subroutine.
 */
function compareWithOracle(file: string, innermostName: boolean): number {
  let compared = 0;
  for (const block of parseOracle(read(file))) {
    if (block.locations.every(([, source]) => source === null)) continue; // no debug info there (_start)
    const frame = doc.threads[block.thread]?.frames[block.frame];
    expect(frame, `${file}: thread ${block.thread} frame ${block.frame}`).toBeDefined();
    // The document pads offsets to the pointer width; the oracle does not.
    expect(frame.module_offset && BigInt(frame.module_offset), `${file}: thread ${block.thread} frame ${block.frame} lookup`).toBe(BigInt(block.lookup));
    const ours = chain(frame);
    const theirs = block.locations.map((l, i) => (i === 0 && !innermostName ? ([ours[0]?.[0] ?? null, l[1], l[2]] as const) : l));
    expect(ours, `${file}: thread ${block.thread} frame ${block.frame}`).toEqual(theirs);
    compared++;
  }
  return compared;
}

describe('inline frames against addr2line run on the crasher binary', () => {
  it('llvm-addr2line -i: same function, file and line at every level of every frame', () => {
    // crashing frame, its two callers in the crasher, and the spinning thread's frame
    expect(compareWithOracle('expected-llvm-addr2line.txt', true)).toBe(4);
  });

  it('binutils addr2line -i: same files and lines, same names except the innermost', () => {
    expect(compareWithOracle('expected-addr2line.txt', false)).toBe(4);
  });
});

/** One frame of Breakpad's human output: an inline one, or a physical one. */
interface HumanFrame {
  readonly fn: string | null;
  readonly file: string | null;
  readonly line: number | null;
  readonly inline: boolean;
}

/** Breakpad's human layout, thread index -> frames in printed order. */
function parseHuman(text: string): Map<number, HumanFrame[]> {
  const threads = new Map<number, HumanFrame[]>();
  let current: HumanFrame[] | undefined;
  let pending: Omit<HumanFrame, 'inline'> | undefined;
  for (const line of text.split('\n')) {
    const thread = /^Thread (\d+)/.exec(line);
    if (thread) {
      current = [];
      threads.set(Number(thread[1]), current);
      continue;
    }
    if (line.startsWith('Loaded modules:')) break;
    const frame = /^ ?\d+ {2}(.*)$/.exec(line);
    if (frame && current) {
      const body = frame[1];
      const bang = body.indexOf('!');
      const symbol = bang < 0 ? null : body.slice(bang + 1);
      const withSource = symbol ? /^(.*) \[(.+) : (\d+) \+ 0x[0-9a-f]+\]$/.exec(symbol) : null;
      pending = withSource
        ? { fn: withSource[1], file: withSource[2], line: Number(withSource[3]) }
        : { fn: symbol ? symbol.replace(/ \+ 0x[0-9a-f]+$/, '') : null, file: null, line: null };
      continue;
    }
    const found = /^ {4}Found by: (.+)$/.exec(line);
    if (found && current && pending) {
      current.push({ ...pending, inline: found[1] === 'inline record' });
      pending = undefined;
    }
  }
  return threads;
}

/**
 * Checks that the JSON document folds each run of Breakpad's inline frames into the next
 * physical frame's `inlines`, in the printed order (innermost first), with the same
 * function, file (base name, as the human layout prints it) and line.
 */
async function expectJsonGroupsLikeBreakpad(dumpPath: string, symbols: string, humanPath: string): Promise<number> {
  const processed = await processMinidump(readMinidump(new Uint8Array(readFileSync(dumpPath))), directorySupplier(symbols));
  const json = toJsonDump(processed) as unknown as JsonDoc;
  const base = (file: string | null): string | null => (file === null ? null : (file.split(/[\\/]/).pop() ?? file));
  let inlineFrames = 0;
  for (const [index, frames] of parseHuman(readFileSync(humanPath, 'utf8'))) {
    const expected: { fn: string | null; line: number | null; inlines: Location[] | null }[] = [];
    let inlines: Location[] = [];
    for (const f of frames) {
      if (f.inline) {
        inlines.push([f.fn, f.file, f.line]);
        inlineFrames++;
        continue;
      }
      expected.push({ fn: f.fn, line: f.line, inlines: inlines.length > 0 ? inlines : null });
      inlines = [];
    }
    const ours = json.threads[index].frames.map((f) => ({
      fn: f.function,
      line: f.line,
      inlines: f.inlines ? f.inlines.map((i) => [i.function, base(i.file), i.line] as Location) : null,
    }));
    expect(ours, `${humanPath}: thread ${index}`).toEqual(expected);
  }
  return inlineFrames;
}

describe('JSON inlines group the inline frames Breakpad prints', () => {
  it('fixtures/inline', async () => {
    const count = await expectJsonGroupsLikeBreakpad(join(fixture, 'inline-crasher.dmp'), join(fixture, 'symbols'), join(fixture, 'inline-crasher.breakpad.txt'));
    expect(count).toBeGreaterThanOrEqual(7);
  });

  const publicInlineDumps = [
    ['google-breakpad', 'linux_inline.dmp'],
    ['rust-minidump', 'pipeline-inlines-macos-segv.dmp'],
  ] as const;
  const hasPublic = existsSync(join(publicDir, 'manifest.json'));
  it.skipIf(!hasPublic).each(publicInlineDumps)('public corpus %s/%s, human layout identical too (skipped without ../shared/corpus/public)', async (source, name) => {
    const dir = join(publicDir, source);
    const count = await expectJsonGroupsLikeBreakpad(join(dir, name), join(dir, 'symbols'), join(dir, `${name}.breakpad.txt`));
    expect(count).toBeGreaterThan(0);
    // The differential test checks `-m`; the human layout with its inline frames is identical too.
    const processed = await processMinidump(readMinidump(new Uint8Array(readFileSync(join(dir, name)))), directorySupplier(join(dir, 'symbols')));
    expect(toHumanReadable(processed)).toBe(readFileSync(join(dir, `${name}.breakpad.txt`), 'utf8'));
  });

  it.skipIf(!hasPublic)('rust-minidump\'s own JSON order: innermost first (its macos_inlines_json_pretty snapshot, frame 1)', async () => {
    // rust-minidump's snapshot of this dump lists crash_client::main's inlines as
    // real_main::{closure#1} (line 88) then real_main (line 132): innermost first.
    const dir = join(publicDir, 'rust-minidump');
    const processed = await processMinidump(readMinidump(new Uint8Array(readFileSync(join(dir, 'pipeline-inlines-macos-segv.dmp')))), directorySupplier(join(dir, 'symbols')));
    const frame1 = (toJsonDump(processed) as unknown as JsonDoc).crashing_thread.frames[1];
    expect([frame1.function, frame1.line]).toEqual(['crash_client::main', 142]);
    expect(frame1.inlines?.map((i) => [i.function, i.line])).toEqual([
      ['crash_client::real_main::{closure#1}', 88],
      ['crash_client::real_main', 132],
    ]);
  });
});
