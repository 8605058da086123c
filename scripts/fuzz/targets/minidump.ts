/**
 * The minidump engine on hostile dumps: the reader, then the stack walker with real
 * symbols (CFI, frame pointers, scanning all run on the mutated stacks), then the JSON
 * document and the machine-readable text. What `npm run fuzz:minidump` did before it was
 * coverage-guided, and its structure-aware mutations (stream directory entries pointed out
 * of range, huge counts at stream starts) are kept as one more mutator.
 *
 * Contract (src/minidump/reader/index.ts): `readMinidump` never throws and has no
 * "internal error" (its catch-all for bugs); every region of captured memory lies within
 * the input; the walker never throws, stops at its frame limit, and its document is JSON.
 */
import { join } from 'node:path';
import { fsSymbolLoader } from '../../../src/adapters/fs-symbol-supplier.js';
import { toJsonDump, toMachineReadable } from '../../../src/minidump/output/index.js';
import { processMinidump } from '../../../src/minidump/process/index.js';
import { readMinidump, type Minidump } from '../../../src/minidump/reader/index.js';
import { SymbolCache } from '../../../src/minidump/symbols/index.js';
import { mutate as mutateDumpStructure } from '../../../test/minidump/reader/fuzz-harness.js';
import { sampleLinuxDump, sampleWindowsDump } from '../../../test/minidump/reader/samples.js';
import { CORPUS_ROOTS, corpusFiles, readBytes } from '../corpus.js';
import { existsSync, readdirSync } from 'node:fs';
import { invariant, type FuzzTarget } from '../target.js';

/** Dumps larger than this are left out of the seeds (a few public ones are megabytes). */
const MAX_SEED_BYTES = 320 * 1024;
const MAX_FRAMES = 1024;

/** Every `symbols/` folder of the corpus: the project's, and each public source's. */
function symbolDirectories(): string[] {
  const dirs: string[] = [];
  for (const root of CORPUS_ROOTS) {
    if (existsSync(join(root, 'symbols'))) dirs.push(join(root, 'symbols'));
    for (const entry of readdirSync(root, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(root, entry.name, 'symbols'))) dirs.push(join(root, entry.name, 'symbols'));
    }
  }
  return dirs;
}

// One warm cache for the whole run, as a processor has.
const symbols = new SymbolCache({ loader: fsSymbolLoader(symbolDirectories()), budgetBytes: 256 * 1024 * 1024 });

function checkRegions(dump: Minidump, input: Uint8Array): void {
  const regions = [...dump.memoryList, ...dump.memory64List, ...dump.threads.flatMap((t) => (t.stack ? [t.stack] : []))];
  for (const region of regions) {
    const { bytes } = region;
    invariant(bytes.byteLength <= input.byteLength, () => `a memory region of ${bytes.byteLength} bytes from a ${input.byteLength}-byte dump`);
    if (bytes.buffer === input.buffer) {
      invariant(bytes.byteOffset >= input.byteOffset && bytes.byteOffset + bytes.byteLength <= input.byteOffset + input.byteLength, 'a memory region outside the input');
    }
  }
}

export const target: FuzzTarget = {
  name: 'minidump',
  maxLength: MAX_SEED_BYTES,
  text: false,
  dictionary: [
    'MDMP',
    new Uint8Array([0x4d, 0x44, 0x4d, 0x50, 0x93, 0xa7, 0x00, 0x00]), // signature and version
    // Stream types as 32-bit little-endian ids: thread list, module list, memory list,
    // exception, system info, memory64 list, misc info, memory info list, thread names,
    // Linux streams, Breakpad info, assertion info, Crashpad info.
    ...[3, 4, 5, 6, 7, 9, 15, 16, 24, 0x47670001, 0x47670002, 0x47670003, 0x47670004, 0x47670005, 0x47670007, 0x47670009, 0x4767000a, 0x47670015, 0x47670016, 0x43500001].map(
      (id) => new Uint8Array(new Uint32Array([id]).buffer),
    ),
    new Uint8Array([0x52, 0x53, 0x44, 0x53]), // RSDS CodeView
    new Uint8Array([0x42, 0x70, 0x45, 0x4c]), // BpEL (ELF build id)
    new Uint8Array(8).fill(0xff),
  ],
  seeds() {
    return [sampleLinuxDump(), sampleLinuxDump(true), sampleWindowsDump(), ...corpusFiles('.dmp', MAX_SEED_BYTES).map(readBytes)];
  },
  customMutators: [(data, random) => mutateDumpStructure([data], random)],
  async execute(input) {
    const dump = readMinidump(input);
    invariant(Array.isArray(dump.errors), 'the reader gave no errors array');
    const internal = dump.errors.find((e) => e.includes('internal error'));
    invariant(internal === undefined, () => `the reader met a bug: ${internal}`);
    checkRegions(dump, input);

    const state = await processMinidump(dump, symbols, { maxFrames: MAX_FRAMES });
    const json = toJsonDump(state) as { threads?: { frames?: unknown[] }[] };
    for (const thread of json.threads ?? []) invariant((thread.frames?.length ?? 0) <= MAX_FRAMES, 'a thread with more frames than the limit');
    JSON.stringify(json);
    invariant(typeof toMachineReadable(state) === 'string', 'no machine-readable text');
  },
};
