/**
 * Processor benchmark (`npm run bench:processor`).
 *
 * 1. Throughput, dequeue to indexed: N raw crashes (the corpus dumps, cycled) are stored
 *    and queued, then one processor process (`mayday run`, roles = processor) with one
 *    stackwalk thread, one with the default threads (one per CPU), and two processes with
 *    the default threads drain the queue with warm symbols; crashes/s from the index's
 *    processed times, and the CPU time (user + system, every thread) the processes spent
 *    per crash, which a machine shared with other work disturbs less than the rate.
 * 2. Latency at a steady rate: an all-in-one `mayday start` receives 50 crashes/s over
 *    HTTP for 20 s; p50/p95/p99 of submission-to-searchable (collector receipt to row in
 *    the crash index).
 * 3. Routing by build: the stackwalk threads alone (`StackwalkPool`), on crashes of K builds
 *    of one program, each build with its own large symbol file, and a symbol cache that
 *    holds every build once but not in one thread's share: crashes/s with each crash sent
 *    to any free thread, and routed by main module (the default).
 * Reference, same run: Breakpad's `minidump_stackwalk` one process per dump (how Socorro
 * ran its stackwalker), dumps/s on the same dumps and symbols; a stackwalk is the bulk of
 * processing, so the ratio says what stackwalking in long-lived threads with warm symbols
 * buys.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { FsRawCrashStore } from '../src/adapters/fs-raw-crash-store.js';
import { SqliteQueue } from '../src/adapters/sqlite-queue.js';
import { createCrashId } from '../src/common/crash-id.js';
import { StackwalkPool } from '../src/node/stackwalk-pool.js';
import { generateSyntheticSymbols } from './synthetic-symbols.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mayday.js');
const corpus = join(root, 'fixtures/corpus');
const dumpFiles = readdirSync(join(corpus, 'dumps')).filter((f) => f.endsWith('.dmp')).sort().map((f) => join(corpus, 'dumps', f));
const CRASHES = Number(process.env.BENCH_CRASHES ?? 2000);
const RATE = 50;
const RATE_SECONDS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function prepareDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-processor-'));
  cpSync(join(corpus, 'symbols'), join(dir, 'symbols'), { recursive: true });
  return dir;
}

async function seed(dataDir: string, count: number): Promise<void> {
  const store = await FsRawCrashStore.open(join(dataDir, 'raw'), { fsync: false });
  const queue = SqliteQueue.open(join(dataDir, 'queue.sqlite'), { visibilityTimeoutMs: 300_000 });
  const bytes = dumpFiles.map((f) => readFileSync(f));
  for (let i = 0; i < count; i++) {
    const id = createCrashId();
    const writer = await store.begin(id);
    const info = await writer.addDump('upload_file_minidump', Readable.from([bytes[i % bytes.length]]));
    await writer.commit({
      uuid: id,
      submitted_timestamp: new Date().toISOString(),
      annotations: { ProductName: 'Example', Version: '1.0' },
      metadata: { collector_notes: [], dumps: { upload_file_minidump: info }, payload: 'multipart', payload_compressed: false, user_agent: 'bench', throttle_result: 'accept', throttle_rule: 'bench' },
    });
    await queue.enqueue(id);
  }
  await queue.close();
}

function runNode(dataDir: string, name: string, roles: string, port = 0, processorOptions = ''): ChildProcess {
  const config = join(dataDir, `${name}.ini`);
  writeFileSync(config, `[node]\nname = ${name}\nroles = ${roles}\ndata_dir = ${dataDir}\n[web]\nport = ${port}\n[log]\nlevel = warn\n[processor]\npoll_interval = 50ms\n${processorOptions}`);
  return spawn(process.execPath, [bin, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function indexRows(dataDir: string): { submitted_at: number; processed_at: number }[] {
  const db = new Database(join(dataDir, 'mayday.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT submitted_at, processed_at FROM crashes').all() as { submitted_at: number; processed_at: number }[];
  } finally {
    db.close();
  }
}

function countIndexed(dataDir: string): number {
  if (!existsSync(join(dataDir, 'mayday.sqlite'))) return 0;
  try {
    const db = new Database(join(dataDir, 'mayday.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM crashes').pluck().get() as number;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** User + system CPU time of a running process, all threads, in ms (Linux). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

async function throughput(processes: number, processorOptions = ''): Promise<{ rate: number; cpuMsPerCrash: number }> {
  const dataDir = prepareDataDir();
  // Warm-up crashes are queued first, so each process has parsed its symbols before the
  // measured crashes; the rate comes from the index's processed times of those alone.
  const warmup = 24 * processes;
  await seed(dataDir, warmup);
  await seed(dataDir, CRASHES);
  const nodes = Array.from({ length: processes }, (_, i) => runNode(dataDir, `processor-${i}`, 'processor', 0, processorOptions));
  // CPU from the end of the warm-up to the last crash (start-up and warm-up left out).
  await waitFor(() => countIndexed(dataDir) >= warmup, 600_000);
  const cpuAtStart = nodes.reduce((sum, node) => sum + cpuMs(node.pid!), 0);
  const indexedAtStart = countIndexed(dataDir);
  await waitFor(() => countIndexed(dataDir) >= warmup + CRASHES, 600_000);
  const cpuMsPerCrash = (nodes.reduce((sum, node) => sum + cpuMs(node.pid!), 0) - cpuAtStart) / (warmup + CRASHES - indexedAtStart);
  for (const node of nodes) node.kill('SIGINT');
  await Promise.all(nodes.map((n) => new Promise((r) => n.on('exit', r))));
  const measured = indexRows(dataDir)
    .sort((a, b) => a.submitted_at - b.submitted_at)
    .slice(warmup)
    .map((r) => r.processed_at)
    .sort((a, b) => a - b);
  rmSync(dataDir, { recursive: true, force: true });
  return { rate: (measured.length - 1) / ((measured.at(-1)! - measured[0]) / 1000), cpuMsPerCrash };
}

async function latency(): Promise<{ p50: number; p95: number; p99: number; sent: number }> {
  const dataDir = prepareDataDir();
  const port = 18000 + Math.floor(Math.random() * 1000);
  const node = runNode(dataDir, 'all-in-one', 'collector, processor, web', port);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => spawnSync('curl', ['-sf', `${url}/__lbheartbeat__`]).status === 0, 20_000);
  const bodies = dumpFiles.map((f) => new Blob([readFileSync(f)]));
  const submit = async (i: number): Promise<void> => {
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('upload_file_minidump', bodies[i % bodies.length], 'crash.dmp');
    const response = await fetch(`${url}/submit`, { method: 'POST', body: form });
    if (response.status !== 200) throw new Error(`submit failed: ${response.status}`);
    await response.text();
  };
  // Warm the symbol cache first.
  await Promise.all(dumpFiles.map((_, i) => submit(i)));
  await waitFor(() => countIndexed(dataDir) >= dumpFiles.length, 30_000);
  const warm = countIndexed(dataDir);
  const total = RATE * RATE_SECONDS;
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(submit(i));
  }
  await Promise.all(pending);
  await waitFor(() => countIndexed(dataDir) >= warm + total, 120_000);
  const rows = indexRows(dataDir).sort((a, b) => a.submitted_at - b.submitted_at).slice(warm);
  node.kill('SIGINT');
  await new Promise((r) => node.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  const latencies = rows.map((r) => r.processed_at - r.submitted_at).sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), sent: total };
}

function reference(): number | undefined {
  const cache = join(root, '.cache/minidump');
  const stackwalk = join(cache, 'node_modules/minidump/bin/linux-x64/minidump_stackwalk');
  if (!existsSync(stackwalk)) {
    try {
      execFileSync('npm', ['install', '--ignore-scripts', '--prefix', cache, 'minidump@0.26.0'], { stdio: 'ignore' });
    } catch {
      return undefined;
    }
  }
  const rounds = 5;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const dump of dumpFiles) spawnSync(stackwalk, [dump, join(corpus, 'symbols')], { stdio: 'ignore' });
  return (rounds * dumpFiles.length) / ((performance.now() - start) / 1000);
}

/**
 * K builds of `example-app`: the null-pointer dump with the build id of its main module
 * changed (so each build has its own symbol file), and for each a symbol file of the real
 * records padded with synthetic ones to `megabytes`.
 */
function writeBuilds(dir: string, builds: number, megabytes: number): Buffer[] {
  const realId = '976F2167C7F8BCF5CD91FBC5AEF299110';
  // The build id as the dump stores it (GUID fields little-endian): its last byte varies.
  const buildId = Buffer.from('67216F97F8C7F5BCCD91FBC5AEF29911', 'hex');
  const dump = readFileSync(join(corpus, 'dumps/example-app-null.dmp'));
  const at = dump.indexOf(buildId);
  if (at < 0) throw new Error('example-app-null.dmp: build id not found');
  const real = readFileSync(join(corpus, 'symbols/example-app', realId, 'example-app.sym'), 'utf8').split('\n').filter((line) => line !== '');
  const padded = Buffer.concat(generateSyntheticSymbols({ targetBytes: megabytes * 2 ** 20, headerLines: real, firstAddress: 0x1000000, firstId: 100_000 }).chunks);
  return Array.from({ length: builds }, (_, k) => {
    const copy = Buffer.from(dump);
    copy[at + 15] = k;
    const id = `${realId.slice(0, 30)}${k.toString(16).padStart(2, '0').toUpperCase()}0`;
    mkdirSync(join(dir, 'example-app', id), { recursive: true });
    writeFileSync(join(dir, 'example-app', id, 'example-app.sym'), Buffer.from(padded.toString('latin1').replace(`${realId} example-app`, `${id} example-app`), 'latin1'));
    return copy;
  });
}

/** Crashes/s of the stackwalk threads on `sequence` (indexes into `dumps`), 2 crashes per thread in hand. */
async function routed(affinity: boolean, symbolsDir: string, dumps: Buffer[], sequence: number[], cacheBytes: number): Promise<{ rate: number; loads: number; moved: number }> {
  const pool = new StackwalkPool({ symbols: { store: { kind: 'fs', dir: symbolsDir }, directories: [join(corpus, 'symbols')], upstream: [] }, workers: ROUTING_THREADS, cacheBytes, graceMs: 60_000, affinity });
  try {
    await Promise.all(Array.from({ length: ROUTING_THREADS }, () => pool.stackwalk(readFileSync(join(corpus, 'dumps/example-app-debug-null.dmp')))));
    // The builds' symbols are found (else this would measure misses).
    const modules = (await pool.stackwalk(dumps[0])).jsonDump.modules as { debug_file: string; missing_symbols: boolean }[];
    if (modules.find((m) => m.debug_file === 'example-app')?.missing_symbols !== false) throw new Error('routing benchmark: the builds have no symbols');
    const loadsBefore = pool.stats.misses;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 * ROUTING_THREADS }, async () => {
        while (next < sequence.length) await pool.stackwalk(dumps[sequence[next++]]);
      }),
    );
    return { rate: sequence.length / ((performance.now() - started) / 1000), loads: pool.stats.misses - loadsBefore, moved: pool.stolen };
  } finally {
    await pool.close();
  }
}

async function routing(): Promise<string[]> {
  const builds = 8;
  const megabytes = 16;
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-routing-'));
  try {
    const dumps = writeBuilds(dir, builds, megabytes);
    let seed = 7;
    // The generator's high bits (its low bits cycle with a short period).
    const sequence = Array.from({ length: 160 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), Math.floor((seed / 0x80000000) * builds)));
    // Every build's symbols fit in the whole cache, not in one thread's share.
    const cacheBytes = 240 * 2 ** 20;
    const lines = [`stackwalk threads (${ROUTING_THREADS}), ${builds} builds of one program with ${megabytes} MB of symbols each, cache ${cacheBytes / 2 ** 20} MB in all, ${sequence.length} crashes, builds in random order:`];
    for (const affinity of [false, true]) {
      const { rate, loads, moved } = await routed(affinity, dir, dumps, sequence, cacheBytes);
      if (affinity) lines.push(`  routed by main module (default): ${rate.toFixed(1)} crashes/s, ${loads} symbol files loaded, ${moved} crashes taken by another thread`);
      else lines.push(`  to any free thread:              ${rate.toFixed(1)} crashes/s, ${loads} symbol files loaded`);
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROUTING_THREADS = 2;

if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
console.log(`processor benchmark: ${CRASHES} corpus crashes (${dumpFiles.length} distinct dumps, 40-65 KB), warm symbols, ${process.env.BENCH_NOTE ?? '2 cores shared with the load generator'}`);
const ref = reference();
if (ref) console.log(`reference  minidump_stackwalk, one process per dump:   ${ref.toFixed(1)} dumps/s`);
const show = (what: string, result: { rate: number; cpuMsPerCrash: number }): void =>
  console.log(`mayday     ${what.padEnd(52)} ${result.rate.toFixed(1)} crashes/s${ref ? `  (${(result.rate / ref).toFixed(1)}x reference)` : ''}, ${result.cpuMsPerCrash.toFixed(1)} ms CPU per crash`);
show('1 processor process, 1 stackwalk thread:', await throughput(1, 'workers = 1\n'));
show(`1 processor process, ${availableParallelism()} stackwalk threads (default):`, await throughput(1));
show('2 processor processes, default threads:', await throughput(2));
const lat = await latency();
console.log(`mayday     all-in-one at ${RATE} crashes/s for ${RATE_SECONDS} s (${lat.sent} crashes), submission to searchable: p50 ${lat.p50} ms, p95 ${lat.p95} ms, p99 ${lat.p99} ms`);
for (const line of await routing()) console.log(`mayday     ${line}`);
