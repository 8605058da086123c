/**
 * Stackwalk benchmark against Breakpad's `minidump_stackwalk`, in one run:
 *
 * 1. Throughput on every corpus dump that has symbols: Mayday in one long-lived process
 *    (how the processor runs it) with a cold symbol cache, then warm; Breakpad one process
 *    per dump (how Socorro ran its stackwalker). Dumps/s for both, and their ratio.
 * 2. Per-dump cost in a fresh process, for both: peak RSS and wall time of one dump per
 *    process. Mayday is measured as the shipped CLI (`node bin/mayday.js stackwalk DUMP
 *    --json`) and as the engine alone (a process that imports only the stackwalk command),
 *    beside the baselines `node -e 0` and `mayday --help`, so the table shows what Node's
 *    runtime and the CLI's start-up cost apart from the work.
 * 3. The same large symbols: a real module of a corpus dump (`example-app` of
 *    `example-app-null.dmp`) whose `.sym` is padded with synthetic records
 *    (`bench/synthetic-symbols.ts`) to ~200 MB, beside the real symbols of the other
 *    modules. Both stackwalkers must load and parse all of it to walk the crashing thread.
 *    Peak RSS and wall time of each, cold (a fresh process; the file itself is in the page
 *    cache after the first run), and a check that both print the same frames.
 *
 * 4. One small dump (`example-app-null.dmp`) in a fresh process, `mayday stackwalk` against
 *    `node -e ''` in the same run: median peak RSS and wall time of `--startup-runs` runs
 *    (bench/stackwalk-startup.ts); `--before DIR` adds another build of the CLI (a copy of
 *    `bin/` and `dist/` from before a change) to compare. `--startup-only` runs only this.
 *
 * Peak RSS comes from `/usr/bin/time -v` (Debian package `time`); without it those
 * figures are skipped. Mayday's fresh-process runs use `dist/` (`npm run build` first).
 *
 *   npx tsx bench/stackwalk.ts [--big-mb 200] [--runs 3] [--startup-runs 11] [--before DIR] [--startup-only]
 *
 * Installs the reference into .cache/minidump on first use; without network the
 * reference halves are skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsSymbolLoader } from '../src/adapters/fs-symbol-supplier.js';
import { toMachineReadable } from '../src/minidump/output/index.js';
import { MemoizedSymbols, processMinidump } from '../src/minidump/process/index.js';
import { readMinidump } from '../src/minidump/reader/index.js';
import { SymbolCache } from '../src/minidump/symbols/index.js';
import { formatStartup, measureStartup } from './stackwalk-startup.js';
import { generateSyntheticSymbols } from './synthetic-symbols.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache/minidump');
const stackwalkBin = join(cacheDir, 'node_modules/minidump/bin/linux-x64/minidump_stackwalk');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const corpus = join(root, 'fixtures/corpus');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad value for ${name}`);
  return value;
}
const bigMb = arg('--big-mb', 200);
const runs = arg('--runs', 3);
const startupRuns = arg('--startup-runs', 11);
const before = process.argv.includes('--before') ? resolve(process.argv[process.argv.indexOf('--before') + 1]) : undefined;
if (before && !existsSync(join(before, 'bin/mayday.js'))) throw new Error(`--before ${before}: no bin/mayday.js there`);

interface Job {
  readonly dump: string;
  readonly symbols: string;
}

function jobs(): Job[] {
  const list: Job[] = [];
  for (const f of readdirSync(join(corpus, 'dumps'))) list.push({ dump: join(corpus, 'dumps', f), symbols: join(corpus, 'symbols') });
  const pub = resolve(root, '../shared/corpus/public');
  if (existsSync(join(pub, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(join(pub, 'manifest.json'), 'utf8')) as { dumps: { file: string; reference: string; symbol_path: string | null }[] };
    for (const d of manifest.dumps) {
      if (d.reference === 'ok' && d.symbol_path) list.push({ dump: join(pub, d.file), symbols: join(pub, d.symbol_path) });
    }
  } else {
    console.log('(../shared/corpus/public absent: linux-x86_64 corpus only)');
  }
  return list;
}

// ---------------------------------------------------------------------------------------
// Child processes

interface Measured {
  /** Wall time of the child, measured here (spawn to exit). */
  readonly seconds: number;
  /** Peak resident set of the child, from /usr/bin/time; undefined without it. */
  readonly peakMb: number | undefined;
  readonly stdout: string;
  readonly status: number | null;
}

/** Runs a command once, with its peak RSS when /usr/bin/time is there. */
function measure(command: string, args: readonly string[]): Measured {
  const start = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ['-v', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, cwd: root })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, cwd: root });
  const seconds = (performance.now() - start) / 1000;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  return { seconds, peakMb: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout ?? '', status: r.status };
}

const breakpadArgs = (job: Job, extraSymbols: readonly string[] = []) => ['-m', job.dump, ...extraSymbols, job.symbols];
const maydayArgs = (job: Job, extraSymbols: readonly string[] = [], format = '--json') => [
  join(root, 'bin/mayday.js'),
  'stackwalk',
  job.dump,
  ...[...extraSymbols, job.symbols].flatMap((dir) => ['--symbols-path', dir]),
  format,
];
/** A process that loads only the stackwalk command (engine + fs symbol loader), not the whole CLI. */
const engineOnlyArgs = (job: Job, extraSymbols: readonly string[] = []) => [
  '--input-type=module',
  '-e',
  `const { runStackwalk } = await import(${JSON.stringify(join(root, 'dist/cli/commands/stackwalk.js'))});
   process.exitCode = await runStackwalk([${JSON.stringify(job.dump)}], { symbolsPath: ${JSON.stringify([...extraSymbols, job.symbols])}, json: true },
     (t) => process.stdout.write(t), (t) => process.stderr.write(t));`,
];

// ---------------------------------------------------------------------------------------
// Figures

const mb = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)} MB`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`);
const max = (values: readonly (number | undefined)[]) => {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
};
const median = (values: readonly (number | undefined)[]) => {
  const defined = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return defined.length ? defined[Math.floor(defined.length / 2)] : undefined;
};
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------
// 1. Throughput

async function maydayInProcess(list: readonly Job[], rounds: number): Promise<{ cold: number; warm: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const cache = new SymbolCache({ loader: fsSymbolLoader([...new Set(list.map((j) => j.symbols))]), budgetBytes: 2 ** 30 });
  const symbolSource = new MemoizedSymbols(cache);
  const once = async (): Promise<number> => {
    const start = performance.now();
    for (const job of list) {
      const state = await processMinidump(readMinidump(new Uint8Array(readFileSync(job.dump))), cache, { symbolSource });
      toMachineReadable(state);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    return (performance.now() - start) / 1000;
  };
  const cold = await once();
  let warm = Infinity;
  for (let i = 0; i < rounds; i++) warm = Math.min(warm, await once());
  return { cold: list.length / cold, warm: list.length / warm, peakRssMb: peak / 2 ** 20 };
}

function ensureReference(): boolean {
  if (existsSync(stackwalkBin)) return true;
  try {
    execFileSync('npm', ['install', '--ignore-scripts', '--prefix', cacheDir, 'minidump@0.26.0'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return existsSync(stackwalkBin);
}

/** Each job in its own process; dumps/s over the whole list, and every run's figures. */
function perProcess(list: readonly Job[], command: string, args: (job: Job) => string[]): { rate: number; runs: Measured[] } {
  const runs = list.map((job) => measure(command, args(job)));
  return { rate: list.length / sum(runs.map((r) => r.seconds)), runs };
}

// ---------------------------------------------------------------------------------------
// 3. Large symbols

const BIG_DUMP = join(corpus, 'dumps/example-app-null.dmp');
const BIG_MODULE = { debugFile: 'example-app', debugId: '976F2167C7F8BCF5CD91FBC5AEF299110' };

/**
 * `DIR/example-app/ID/example-app.sym`: the real file's records (so the walk and its
 * output are those of the real symbols), then synthetic ones at module offsets past the
 * module's end and with FILE/INLINE_ORIGIN ids past the real ones, so that they change
 * no lookup but must still be read, parsed and kept.
 */
function writeBigSymbols(dir: string): number {
  const relative = `${BIG_MODULE.debugFile}/${BIG_MODULE.debugId}/${BIG_MODULE.debugFile}.sym`;
  const real = readFileSync(join(corpus, 'symbols', relative), 'utf8').split('\n').filter((line) => line !== '');
  // Ids continue the real ones, dense as dump_syms numbers them.
  const realIds = real.map((line) => /^(?:FILE|INLINE_ORIGIN) (\d+) /.exec(line)).filter((m) => m !== null).map((m) => Number(m[1]));
  const generated = generateSyntheticSymbols({
    targetBytes: bigMb * 2 ** 20,
    headerLines: real,
    firstAddress: 0x1000000,
    firstId: Math.max(-1, ...realIds) + 1,
  });
  mkdirSync(dirname(join(dir, relative)), { recursive: true });
  const fd = openSync(join(dir, relative), 'w');
  try {
    for (const chunk of generated.chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return generated.size;
}

/** The frame lines (`thread|frame|...`) of `-m` output: what both must agree on. */
const frameLines = (machineReadable: string) => machineReadable.split('\n').filter((line) => /^\d+\|\d+\|/.test(line));

/** Warn when dist/ is older than the sources it was built from (the fresh-process runs use it). */
function warnIfDistStale(): void {
  const built = join(root, 'dist/cli/commands/stackwalk.js');
  if (!existsSync(built)) {
    console.log('dist/ missing: run `npm run build` first; fresh-process figures are skipped');
    return;
  }
  const builtAt = statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (newest(join(root, 'src/minidump')) > builtAt || statSync(join(root, 'src/adapters/fs-symbol-supplier.ts')).mtimeMs > builtAt) {
    console.log('warning: dist/ is older than src/minidump: run `npm run build` for current fresh-process figures');
  }
}

// ---------------------------------------------------------------------------------------

/** Section 4, first: on a machine not yet busy with the sections before. */
function startupSection(): void {
  console.log(`\n## 4. One small dump per fresh process: mayday stackwalk against Node's own start`);
  if (!existsSync(join(root, 'dist/cli/main.js'))) return void console.log('dist/ missing: run `npm run build` first');
  const rows = measureStartup({ root, runs: startupRuns, before });
  console.log(rows ? formatStartup(rows, startupRuns) : '/usr/bin/time missing (Debian: apt-get install -y time): skipped');
}
startupSection();
if (process.argv.includes('--startup-only')) process.exit(0);

const list = jobs();
const haveReference = ensureReference();
const haveDist = existsSync(join(root, 'dist/cli/commands/stackwalk.js'));
warnIfDistStale();
if (!timeBin) console.log('/usr/bin/time missing (Debian: apt-get install -y time): peak RSS of child processes skipped');

console.log(`\n## 1. Throughput, ${list.length} dumps with symbols`);
const ours = await maydayInProcess(list, 3);
const reference = haveReference ? perProcess(list, stackwalkBin, (job) => breakpadArgs(job)) : undefined;
console.log(`mayday, one process:        cold ${ours.cold.toFixed(1)} dumps/s, warm ${ours.warm.toFixed(1)} dumps/s, peak RSS ${mb(ours.peakRssMb)} (every module of every dump cached)`);
if (reference) {
  console.log(`breakpad, process per dump: ${reference.rate.toFixed(1)} dumps/s`);
  console.log(`ratio mayday/breakpad:      cold ${ratio(ours.cold, reference.rate)}, warm ${ratio(ours.warm, reference.rate)}`);
} else {
  console.log('breakpad minidump_stackwalk unavailable (install failed): reference skipped');
}

if (haveDist) {
  console.log(`\n## 2. One dump per fresh process, ${list.length} dumps`);
  // Baselines: the median of five runs each (one start-up is too noisy to quote).
  const baseline = (args: string[]) => {
    const rs = Array.from({ length: 5 }, () => measure(process.execPath, args));
    return { seconds: median(rs.map((r) => r.seconds))!, peakMb: median(rs.map((r) => r.peakMb)) };
  };
  const bareNode = baseline(['-e', '0']);
  const idleCli = baseline([join(root, 'bin/mayday.js'), '--help']);
  const cli = perProcess(list, process.execPath, (job) => maydayArgs(job));
  const engine = perProcess(list, process.execPath, (job) => engineOnlyArgs(job));
  const failed = [...cli.runs, ...engine.runs].filter((r) => r.status !== 0 && r.status !== 1).length;
  if (failed) console.log(`warning: ${failed} Mayday runs crashed`);
  const refMedian = reference ? median(reference.runs.map((x) => x.peakMb)) : undefined;
  const refMax = reference ? max(reference.runs.map((x) => x.peakMb)) : undefined;
  const row = (name: string, r: { rate: number; runs: Measured[] } | undefined) => {
    if (!r) return `| ${name} | n/a | | | | | |`;
    const [med, top] = [median(r.runs.map((x) => x.peakMb)), max(r.runs.map((x) => x.peakMb))];
    return `| ${name} | ${r.rate.toFixed(1)} | ${(median(r.runs.map((x) => x.seconds))! * 1000).toFixed(0)} ms | ${mb(med)} | ${mb(top)} | ${ratio(med, refMedian)} | ${ratio(top, refMax)} |`;
  };
  console.log('| per dump, fresh process | dumps/s | median wall | median peak RSS | max peak RSS | median peak vs breakpad | max peak vs breakpad |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  console.log(row('breakpad minidump_stackwalk -m', reference));
  console.log(row('mayday stackwalk --json (CLI)', cli));
  console.log(row('mayday engine only (stackwalk module)', engine));
  console.log(`| baseline: node -e 0 | | ${(bareNode.seconds * 1000).toFixed(0)} ms | ${mb(bareNode.peakMb)} | | | |`);
  console.log(`| baseline: mayday --help (CLI loaded, no work) | | ${(idleCli.seconds * 1000).toFixed(0)} ms | ${mb(idleCli.peakMb)} | | | |`);
}

console.log(`\n## 3. Same large symbols: example-app padded to ~${bigMb} MB, example-app-null.dmp, fresh process each`);
const scratch = mkdtempSync(join(tmpdir(), 'mayday-bench-symbols-'));
try {
  const size = writeBigSymbols(scratch);
  console.log(`symbol file: ${(size / 2 ** 20).toFixed(1)} MB (real example-app records + synthetic bulk); other modules: corpus symbols`);
  const job: Job = { dump: BIG_DUMP, symbols: join(corpus, 'symbols') };
  const sides: { name: string; run: () => Measured }[] = [];
  if (haveReference) sides.push({ name: 'breakpad minidump_stackwalk -m', run: () => measure(stackwalkBin, breakpadArgs(job, [scratch])) });
  if (haveDist) {
    sides.push({ name: 'mayday stackwalk --json (CLI)', run: () => measure(process.execPath, maydayArgs(job, [scratch])) });
    sides.push({ name: 'mayday engine only (stackwalk module)', run: () => measure(process.execPath, engineOnlyArgs(job, [scratch])) });
  }
  // Interleaved, so that machine noise falls on both alike.
  const results = new Map<string, Measured[]>(sides.map((s) => [s.name, []]));
  for (let i = 0; i < runs; i++) for (const side of sides) results.get(side.name)!.push(side.run());
  const ref = results.get('breakpad minidump_stackwalk -m');
  const refPeak = ref ? max(ref.map((r) => r.peakMb)) : undefined;
  const refTime = ref ? Math.min(...ref.map((r) => r.seconds)) : undefined;
  console.log(`| ${runs} runs each | best wall | peak RSS (max) | peak RSS vs breakpad | wall vs breakpad |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, rs] of results) {
    const best = Math.min(...rs.map((r) => r.seconds));
    const peak = max(rs.map((r) => r.peakMb));
    console.log(`| ${name} | ${best.toFixed(2)} s | ${mb(peak)} | ${ratio(peak, refPeak)} | ${ratio(best, refTime)} |`);
  }
  if (haveReference && haveDist) {
    const theirs = frameLines(measure(stackwalkBin, breakpadArgs(job, [scratch])).stdout);
    const mine = frameLines(measure(process.execPath, maydayArgs(job, [scratch], '-m')).stdout);
    const same = theirs.length > 0 && theirs.join('\n') === mine.join('\n');
    console.log(same ? `frames agree (${theirs.length} frame lines)` : `warning: frames differ (breakpad ${theirs.length} lines, mayday ${mine.length})`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
