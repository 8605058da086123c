/**
 * `npm run bench:collector` (tsx bench/collector.ts [--requests N] [--fsync on|off|both])
 *
 * The collector on loopback: a collector-only `mayday start` in its own process, fed by a
 * load generator in this process (so on a 2-core machine the two share the CPUs, and the
 * figures are a floor). Two cases at concurrency 16: the corpus dumps (40-65 KB, Breakpad
 * bodies, in turn) and a 2 MB dump. Reported: accepted submissions/s, MB/s, p50/p99
 * latency, the collector's peak RSS, and the ratio of its MB/s to the raw sequential
 * write speed of the same bytes to the same disk, measured in the same run just before
 * (one file, 1 MB writes, flushed at the end: the physical limit).
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { breakpadBody, runLoad, type SubmitBody } from '../src/cli/commands/submit.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CONCURRENCY = 16;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SMALL_REQUESTS = Number(arg('--requests', '5000'));
const LARGE_REQUESTS = Math.max(200, Math.round(SMALL_REQUESTS / 10));
const fsyncModes = arg('--fsync', 'both') === 'both' ? [true, false] : [arg('--fsync', 'on') === 'on'];

function corpusBodies(): SubmitBody[] {
  const dir = join(ROOT, 'fixtures/corpus/dumps');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.dmp'))
    .sort()
    .map((f) => breakpadBody(readFileSync(join(dir, f)), f, [['prod', 'Bench'], ['ver', '1.0']], false));
}

function largeBody(): SubmitBody {
  const head = readFileSync(join(ROOT, 'fixtures/corpus/dumps', readdirSync(join(ROOT, 'fixtures/corpus/dumps')).sort()[0]));
  const dump = Buffer.concat([head, randomBytes(2 * 1024 * 1024 - head.length)]);
  return breakpadBody(dump, 'large.dmp', [['prod', 'Bench'], ['ver', '1.0']], false);
}

/** MB/s of writing `total` bytes sequentially into one file in `dir`, flushed. */
function diskWriteSpeed(dir: string, total: number): number {
  const file = join(dir, 'disk-reference.bin');
  const block = randomBytes(1024 * 1024);
  const started = performance.now();
  const fd = openSync(file, 'w');
  for (let written = 0; written < total; written += block.length) writeSync(fd, block, 0, Math.min(block.length, total - written));
  fsyncSync(fd);
  closeSync(fd);
  const seconds = (performance.now() - started) / 1000;
  rmSync(file);
  return total / seconds / 1e6;
}

async function startCollector(dataDir: string, fsync: boolean): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const config = join(dataDir, 'bench.ini');
  writeFileSync(config, `[node]\nroles = collector\n[log]\nlevel = warn\n[storage]\nfsync = ${fsync}\n[collector]\nmax_request_size = 25MB\n`);
  // BENCH_NODE_ARGS: Node flags for the collector process, e.g. `--cpu-prof --cpu-prof-dir=DIR`.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/mayday.js'), 'start', '--data-dir', dataDir, '--port', '0', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const match = /is running at (http:\/\/[^\s/]+)\//.exec(err);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`collector exited with ${code}: ${err}`)));
  });
  child.stdout.resume();
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Row {
  fsync: boolean;
  case: string;
  bodyKb: number;
  requests: number;
  perSecond: number;
  mbPerSecond: number;
  p50: number;
  p99: number;
  diskMbPerSecond: number;
  ratio: number;
  failures: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const small = corpusBodies();
  const large = largeBody();
  for (const fsync of fsyncModes) {
    const cases: { name: string; bodies: SubmitBody[]; requests: number }[] = [
      { name: 'corpus dumps (40-65 KB)', bodies: small, requests: SMALL_REQUESTS },
      { name: '2 MB dump', bodies: [large], requests: LARGE_REQUESTS },
    ];
    for (const { name, bodies, requests } of cases) {
      const dataDir = mkdtempSync(join(tmpdir(), 'mayday-bench-collector-'));
      try {
        const avg = bodies.reduce((n: number, b) => n + b.body.length, 0) / bodies.length;
        const disk = diskWriteSpeed(dataDir, Math.max(64 * 1024 * 1024, Math.round(avg * requests)));
        const collector = await startCollector(dataDir, fsync);
        // Warm-up: connections, JIT, SQLite pages.
        await runLoad(new URL(`${collector.url}/submit`), bodies, { repeat: Math.min(200, requests), concurrency: CONCURRENCY });
        const s = await runLoad(new URL(`${collector.url}/submit`), bodies, { repeat: requests, concurrency: CONCURRENCY });
        const rssMb = peakRssMb(collector.pid);
        await collector.stop();
        rows.push({ fsync, case: name, bodyKb: avg / 1024, requests, perSecond: s.accepted / s.seconds, mbPerSecond: s.megabytesPerSecond, p50: s.p50, p99: s.p99, diskMbPerSecond: disk, ratio: s.megabytesPerSecond / disk, failures: s.failures, rssMb });
        process.stderr.write(`done: fsync=${fsync} ${name}\n`);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  console.log(`Collector benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load generator in the same machine, concurrency ${CONCURRENCY}, loopback`);
  console.log('| fsync | case | body | requests | accepted/s | MB/s | p50 ms | p99 ms | disk MB/s | collector/disk | failures | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.fsync ? 'on' : 'off'} | ${r.case} | ${r.bodyKb.toFixed(0)} KB | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.mbPerSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.diskMbPerSecond.toFixed(0)} | ${(r.ratio * 100).toFixed(0)}% | ${r.failures} | ${r.rssMb.toFixed(0)} |`,
    );
  }
}

await main();
