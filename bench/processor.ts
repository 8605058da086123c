/**
 * Processor benchmark (`npm run bench:processor`).
 *
 * 1. Throughput, dequeue to indexed: N raw crashes (the corpus dumps, cycled) are stored
 *    and queued, then one processor process (`mayday run`, roles = processor) and then two
 *    drain the queue with warm symbols; crashes/s from the index's processed times.
 * 2. Latency at a steady rate: an all-in-one `mayday start` receives 50 crashes/s over
 *    HTTP for 20 s; p50/p95/p99 of submission-to-searchable (collector receipt to row in
 *    the crash index).
 * Reference, same run: Breakpad's `minidump_stackwalk` one process per dump (how Socorro
 * ran its stackwalker), dumps/s on the same dumps and symbols; a stackwalk is the bulk of
 * processing, so the ratio says what in-process stackwalking with warm symbols buys.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { FsRawCrashStore } from '../src/adapters/fs-raw-crash-store.js';
import { SqliteQueue } from '../src/adapters/sqlite-queue.js';
import { createCrashId } from '../src/common/crash-id.js';

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

function runNode(dataDir: string, name: string, roles: string, port = 0): ChildProcess {
  const config = join(dataDir, `${name}.ini`);
  writeFileSync(config, `[node]\nname = ${name}\nroles = ${roles}\ndata_dir = ${dataDir}\n[web]\nport = ${port}\n[log]\nlevel = warn\n[processor]\npoll_interval = 50ms\n`);
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

async function throughput(processes: number): Promise<{ rate: number }> {
  const dataDir = prepareDataDir();
  // Warm-up crashes are queued first, so each process has parsed its symbols before the
  // measured crashes; the rate comes from the index's processed times of those alone.
  const warmup = 24 * processes;
  await seed(dataDir, warmup);
  await seed(dataDir, CRASHES);
  const nodes = Array.from({ length: processes }, (_, i) => runNode(dataDir, `processor-${i}`, 'processor'));
  await waitFor(() => countIndexed(dataDir) >= warmup + CRASHES, 600_000);
  for (const node of nodes) node.kill('SIGINT');
  await Promise.all(nodes.map((n) => new Promise((r) => n.on('exit', r))));
  const measured = indexRows(dataDir)
    .sort((a, b) => a.submitted_at - b.submitted_at)
    .slice(warmup)
    .map((r) => r.processed_at)
    .sort((a, b) => a - b);
  rmSync(dataDir, { recursive: true, force: true });
  return { rate: (measured.length - 1) / ((measured.at(-1)! - measured[0]) / 1000) };
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

if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
console.log(`processor benchmark: ${CRASHES} corpus crashes (${dumpFiles.length} distinct dumps, 40-65 KB), warm symbols, ${process.env.BENCH_NOTE ?? '2 cores shared with the load generator'}`);
const ref = reference();
if (ref) console.log(`reference  minidump_stackwalk, one process per dump:   ${ref.toFixed(1)} dumps/s`);
const one = await throughput(1);
console.log(`mayday     1 processor process, dequeue to indexed:    ${one.rate.toFixed(1)} crashes/s${ref ? `  (${(one.rate / ref).toFixed(1)}x reference)` : ''}`);
const two = await throughput(2);
console.log(`mayday     2 processor processes, dequeue to indexed:  ${two.rate.toFixed(1)} crashes/s${ref ? `  (${(two.rate / ref).toFixed(1)}x reference)` : ''}`);
const lat = await latency();
console.log(`mayday     all-in-one at ${RATE} crashes/s for ${RATE_SECONDS} s (${lat.sent} crashes), submission to searchable: p50 ${lat.p50} ms, p95 ${lat.p95} ms, p99 ${lat.p99} ms`);
