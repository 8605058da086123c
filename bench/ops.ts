/**
 * `npm run bench:ops` — what the Operations Dashboard costs and how fast it answers.
 *
 * 1. The heartbeat's share of a node's CPU at the default interval: a real all-roles node
 *    (in this process) reports N times back to back; the CPU time of one report (collecting
 *    every figure and writing it to the registry) over the default interval (10 s) is the
 *    share. The history's share: one record of 50 nodes' points and one rollup a minute.
 * 2. The Dashboard's answers with 50 registered nodes and 7 days of history: the node's
 *    registry gets 49 more nodes with full reports, its history store 26 h of minute points
 *    and 8 days of ten-minute points for every node; then `/api/ops/overview` (what the
 *    page and the event stream send) and a component's 7-day `/api/ops/history` are timed
 *    over HTTP, against `/__lbheartbeat__` on the same node in the same run as the reference.
 *
 *   npx tsx bench/ops.ts [--requests N]      (the history store alone: bench/ops-history.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startNode } from '../src/node/node.js';
import { SqliteNodeRegistry } from '../src/adapters/sqlite-node-registry.js';
import { SqliteOpsHistory } from '../src/adapters/sqlite-ops-history.js';
import { Heartbeat } from '../src/node/heartbeat.js';
import { MINUTE_MS, TEN_MINUTES_MS, type HistoryPoint } from '../src/ports/ops-history.js';
import type { NodeReport } from '../src/ports/node-registry.js';

const args = process.argv.slice(2);
const requestsArg = args.indexOf('--requests');
const REQUESTS = requestsArg >= 0 ? Number(args[requestsArg + 1]) : 200;
const NODES = 50;
const DEFAULT_INTERVAL_MS = 10_000;
const DAY = 86_400_000;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function time(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    out.push(performance.now() - started);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-ops-'));
const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'node.name': 'node-00', 'web.port': '0', 'log.level': 'silent', 'web.api_rate_limit': '0' } });
if (!config) throw new Error(JSON.stringify(findings));
const node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
try {
  const database = join(node.paths.dataDir, 'mayday.sqlite');
  const registry = SqliteNodeRegistry.open(database);
  const history = SqliteOpsHistory.open(database);

  // 1. The heartbeat: the node's own report, collected and written, many times.
  const own = (await registry.nodes()).find((n) => n.name === 'node-00')!;
  const beat = new Heartbeat({ registry, name: 'bench-beat', roles: own.roles, url: own.url, intervalMs: DEFAULT_INTERVAL_MS, log: pino({ level: 'silent' }), identity: { configHash: own.configHash, config: own.config } });
  const beats = 500;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let i = 0; i < beats; i++) await registry.report(beat.report());
  const cpu = process.cpuUsage(cpuBefore);
  const beatCpuMs = (cpu.user + cpu.system) / 1000 / beats;
  const beatWallMs = (performance.now() - wallBefore) / beats;
  await registry.forget(beat.id);

  // 2. Fifty nodes and seven days of history.
  const now = Date.now();
  const template = own.stats;
  const reports: NodeReport[] = Array.from({ length: NODES - 1 }, (_, i) => ({
    ...own,
    id: `node-${String(i + 1).padStart(2, '0')}@bench:${1000 + i}`,
    name: `node-${String(i + 1).padStart(2, '0')}`,
    pid: 1000 + i,
    roles: i % 3 === 0 ? ['collector'] : i % 3 === 1 ? ['processor'] : ['web'],
    lastSeen: now - (i % 7) * 1000,
  }));
  for (const report of reports) await registry.report(report);
  const names = ['node-00', ...reports.map((r) => r.name)];
  const metrics = (i: number): Record<string, number> => Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v + (i % 10)]));
  const seedEnd = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const seed: HistoryPoint[] = [];
  for (let at = Math.floor((seedEnd - 8 * DAY) / TEN_MINUTES_MS) * TEN_MINUTES_MS; at < seedEnd - 26 * 3_600_000; at += TEN_MINUTES_MS) {
    for (const [i, name] of names.entries()) seed.push({ component: name, at, metrics: metrics(i) });
  }
  // Older than 26 h only ten-minute points are kept: the seed writes one minute point per ten
  // minutes there (a full week of minutes would take long to write), and a single rollup
  // turns every finished bucket into its ten-minute point, then prunes the old minutes.
  const recent: HistoryPoint[] = [];
  for (let at = seedEnd - 26 * 3_600_000; at < seedEnd; at += MINUTE_MS) for (const [i, name] of names.entries()) recent.push({ component: name, at, metrics: metrics(i) });
  const seedingStarted = performance.now();
  const all = [...seed, ...recent];
  for (let i = 0; i < all.length; i += 5000) await history.record(all.slice(i, i + 5000));
  await history.rollup(seedEnd);
  const seedingSeconds = (performance.now() - seedingStarted) / 1000;

  // The history's cost: one minute's record of 50 nodes and a rollup, as the web role does.
  const recordCpuBefore = process.cpuUsage();
  const minutes = 20;
  for (let m = 1; m <= minutes; m++) {
    await history.record(names.map((name, i) => ({ component: name, at: seedEnd + m * MINUTE_MS, metrics: metrics(i) })));
    await history.rollup(seedEnd + m * MINUTE_MS);
  }
  const recordCpu = process.cpuUsage(recordCpuBefore);
  const historyCpuMsPerMinute = (recordCpu.user + recordCpu.system) / 1000 / minutes;

  const reference = await time(`${node.url}/__lbheartbeat__`, REQUESTS);
  const overview = await time(`${node.url}/api/ops/overview`, REQUESTS);
  const week = await time(`${node.url}/api/ops/history?component=node-07&from=${now - 7 * DAY}&to=${now}`, Math.min(REQUESTS, 100));
  const day = await time(`${node.url}/api/ops/history?component=node-07&from=${now - DAY}&to=${now}`, Math.min(REQUESTS, 100));
  const components = ((await (await fetch(`${node.url}/api/ops/components`)).json()) as { components: unknown[] }).components.length;

  const row = (what: string, values: number[]): string => {
    const p50 = quantile(values, 0.5);
    const p95 = quantile(values, 0.95);
    return `| ${what} | ${p50.toFixed(1)} | ${p95.toFixed(1)} | ${(p50 / quantile(reference, 0.5)).toFixed(1)}x | ${p95 < 100 ? 'yes' : '**no**'} |`;
  };
  process.stdout.write(
    [
      `bench:ops, ${new Date().toISOString()}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      '',
      `Heartbeat: ${beatCpuMs.toFixed(2)} ms of CPU per report (${beatWallMs.toFixed(2)} ms wall), ${((100 * beatCpuMs) / DEFAULT_INTERVAL_MS).toFixed(3)}% of one core at one report per ${DEFAULT_INTERVAL_MS / 1000} s (target < 1%)`,
      `History: ${historyCpuMsPerMinute.toFixed(1)} ms of CPU per minute for ${NODES} nodes' points and a rollup, ${((100 * historyCpuMsPerMinute) / MINUTE_MS).toFixed(3)}% of one core (target, with the heartbeat, < 1%)`,
      `Seeded ${components} registered nodes, ${seed.length + recent.length} history points (8 days) in ${seedingSeconds.toFixed(1)} s`,
      '',
      '| answer (SQLite, over HTTP) | p50 ms | p95 ms | p50 vs /__lbheartbeat__ | p95 < 100 ms |',
      '|---|---:|---:|---:|---|',
      row('/__lbheartbeat__ (reference)', reference),
      row(`/api/ops/overview (${NODES} nodes, topology, problems)`, overview),
      row('/api/ops/history, one component, 7 days', week),
      row('/api/ops/history, one component, 24 h of minutes', day),
      '',
    ].join('\n'),
  );
  await registry.close();
  await history.close();
} finally {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
}
