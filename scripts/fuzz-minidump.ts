/**
 * Fuzzes the minidump reader and the stack walker (every input is read, then walked and
 * symbolicated with the corpus symbols, then rendered as the JSON document):
 * `npx tsx scripts/fuzz-minidump.ts [--inputs N] [--seed S] [--reader-only]`.
 * Seeds are the hand-built samples plus every dump in fixtures/corpus/dumps. Failing
 * inputs are written to test-artifacts/fuzz-minidump/ for replay. Exits 1 on failure.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzMinidumpReader } from '../test/minidump/reader/fuzz-harness.js';
import { sampleLinuxDump, sampleWindowsDump } from '../test/minidump/reader/samples.js';
import { processMinidump } from '../src/minidump/process/index.js';
import { readMinidump } from '../src/minidump/reader/index.js';
import { toJsonDump } from '../src/minidump/output/index.js';
import { SymbolCache } from '../src/minidump/symbols/index.js';
import { fsSymbolLoader } from '../src/adapters/fs-symbol-supplier.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`bad value for ${name}`);
  return value;
}

const inputs = arg('--inputs', 100_000);
const seed = arg('--seed', Date.now() % 2 ** 31);
const dumps = join(root, 'fixtures/corpus/dumps');
const seeds = [
  sampleLinuxDump(),
  sampleLinuxDump(true),
  sampleWindowsDump(),
  ...readdirSync(dumps)
    .filter((f) => f.endsWith('.dmp'))
    .map((f) => new Uint8Array(readFileSync(join(dumps, f)))),
];

const readerOnly = process.argv.includes('--reader-only');
// One warm cache for the whole run, as a processor has: the walker's symbol lookups run
// for real (CFI, frame pointers, scanning) on every mutated stack.
const symbols = new SymbolCache({ loader: fsSymbolLoader([join(root, 'fixtures/corpus/symbols')]), budgetBytes: 256 * 1024 * 1024 });

// Warm the cache (and the JIT) on the seeds first: the per-input time limit is about the
// input, and the first inputs would otherwise also pay for parsing libc's and libstdc++'s
// symbols (~200 ms on a busy machine), which is a cold start, not a slow input.
if (!readerOnly) {
  for (const bytes of seeds) JSON.stringify(toJsonDump(await processMinidump(readMinidump(bytes), symbols)));
}

console.log(`fuzzing the minidump ${readerOnly ? 'reader' : 'reader and stack walker'}: ${inputs} inputs, seed ${seed}, ${seeds.length} seed dumps`);
const report = await fuzzMinidumpReader({
  inputs,
  seed,
  seeds,
  perInput: readerOnly
    ? undefined
    : async (dump) => {
        JSON.stringify(toJsonDump(await processMinidump(dump, symbols)));
      },
  onProgress: (done) => console.log(`  ${done} inputs`),
});
console.log(
  `done: ${report.inputs} inputs in ${(report.millis / 1000).toFixed(1)} s ` +
    `(slowest ${report.slowestMillis.toFixed(1)} ms, ${report.withErrors} with reported errors), ${report.failures.length} failures`,
);
if (report.failures.length > 0) {
  const out = join(root, 'test-artifacts/fuzz-minidump');
  mkdirSync(out, { recursive: true });
  for (const f of report.failures.slice(0, 20)) {
    writeFileSync(join(out, `failure-${seed}-${f.index}.dmp`), f.input);
    console.log(`  #${f.index}: ${f.reason.split('\n')[0]}`);
  }
  console.log(`failing inputs written to ${out}`);
  process.exit(1);
}
