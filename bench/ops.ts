/**
 * `npm run bench:ops` — what the Operations Dashboard costs and how fast it answers.
 *
 * 1. The heartbeat's share of a node's CPU at the default interval: the real beat of a real
 *    all-roles node (in this process) — its dependency probes, every figure of its worker,
 *    collector, web server and process, and the write to the registry — measured as the
 *    process's extra CPU (`process.cpuUsage`, all threads) of the node beating every 100 ms
 *    over the same node with heartbeats all but off (one an hour), in alternating windows;
 *    beats are counted at the registry. CPU per beat over the default interval (10 s) is
 *    the share. The history's share: what the web role does each minute (read the
 *    registry and the queues, record 50 nodes' points, roll up), timed on the same stores.
 * 2. The Dashboard's answers with 50 registered nodes and 7 days of history: the node's
 *    registry gets 49 more nodes with full reports, its history store 26 h of minute points
 *    and 8 days of ten-minute points for every node; then `/api/ops/overview` (what the
 *    page and the event stream send) and a component's 7-day `/api/ops/history` are timed
 *    over HTTP, against `/__lbheartbeat__` on the same node in the same run as the reference.
 *
 * Both on SQLite, and on PostgreSQL when a URL is given (`--postgres URL` or
 * MAYDAY_TEST_POSTGRES_URL; a schema of its own, dropped at the end).
 *
 *   npx tsx bench/ops.ts [--requests N] [--window SECONDS] [--rounds N] [--postgres URL]
 *   (the history store alone: bench/ops-history.ts)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startNode, type RunningNode } from '../src/node/node.js';
import { SqliteNodeRegistry } from '../src/adapters/sqlite-node-registry.js';
import { SqliteOpsHistory } from '../src/adapters/sqlite-ops-history.js';
import { PgNodeRegistry } from '../src/adapters/pg-node-registry.js';
import { PgOpsHistory } from '../src/adapters/pg-ops-history.js';
import { historyPointsFrom } from '../src/roles/web/ops-history-recorder.js';
import { MINUTE_MS, TEN_MINUTES_MS, type HistoryPoint, type OpsHistoryStore } from '../src/ports/ops-history.js';
import type { NodeRegistry, NodeReport } from '../src/ports/node-registry.js';
import { integerOption } from './args.js';

const args = process.argv.slice(2);
const REQUESTS = integerOption('--requests', 200, args);
/** Seconds of each measuring window of the heartbeat (one idle and one beating per round). */
const WINDOW_S = integerOption('--window', 10, args);
const ROUNDS = integerOption('--rounds', 2, args);
const postgresArg = args.indexOf('--postgres');
const PG_URL = postgresArg >= 0 ? args[postgresArg + 1] : process.env.MAYDAY_TEST_POSTGRES_URL;
const NODES = 50;
const DEFAULT_INTERVAL_MS = 10_000;
const BEAT_INTERVAL = '100ms';
const DOWN_AFTER_MS = 30_000;
const DAY = 86_400_000;

// Beats are counted where they end, at the registry: a beat that ran is a report written.
let reportsWritten = 0;
for (const adapter of [SqliteNodeRegistry, PgNodeRegistry]) {
  const original = adapter.prototype.report;
  adapter.prototype.report = function (this: NodeRegistry, node: NodeReport): Promise<void> {
    reportsWritten++;
    return original.call(this, node);
  };
}

interface Backend {
  label: 'SQLite' | 'PostgreSQL';
  overrides: Record<string, string>;
  /** The node's registry and history, opened beside it, for seeding and the history's cost. */
  open(dataDir: string): Promise<{ registry: NodeRegistry & { close(): Promise<void> }; history: OpsHistoryStore & { close(): Promise<void> } }>;
  drop(): Promise<void>;
}

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

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

async function start(dir: string, backend: Backend, heartbeatInterval: string): Promise<RunningNode> {
  const { config, findings } = loadConfig({
    env: {},
    overrides: { ...backend.overrides, 'node.data_dir': dir, 'node.name': 'node-00', 'node.heartbeat_interval': heartbeatInterval, 'web.port': '0', 'log.level': 'silent', 'web.api_rate_limit': '0' },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  return startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
}

interface HeartbeatCost {
  cpuMsPerBeat: number;
  beats: number;
  beatingShare: number;
  idleShare: number;
}

/**
 * The node's own beat, by difference: the same all-roles node started with a beat every
 * 100 ms, then with one an hour (its start's), in alternating windows of the same length.
 */
async function heartbeatCost(dir: string, backend: Backend): Promise<HeartbeatCost> {
  const totals = { idle: { cpu: 0, wall: 0 }, beating: { cpu: 0, wall: 0, beats: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['idle', 'beating'] as const) {
      const node = await start(dir, backend, mode === 'beating' ? BEAT_INTERVAL : '1h');
      try {
        await sleep(1500); // past the start's own work (migrations, first beat, first samples)
        reportsWritten = 0;
        const cpuBefore = process.cpuUsage();
        const wallBefore = performance.now();
        await sleep(WINDOW_S * 1000);
        totals[mode].cpu += cpuMs(process.cpuUsage(cpuBefore));
        totals[mode].wall += performance.now() - wallBefore;
        if (mode === 'beating') totals.beating.beats += reportsWritten;
      } finally {
        await node.close();
      }
    }
  }
  const idleRate = totals.idle.cpu / totals.idle.wall;
  const beatingRate = totals.beating.cpu / totals.beating.wall;
  return {
    cpuMsPerBeat: ((beatingRate - idleRate) * totals.beating.wall) / totals.beating.beats,
    beats: totals.beating.beats,
    beatingShare: beatingRate,
    idleShare: idleRate,
  };
}

interface Answers {
  load: number[];
  heartbeat: HeartbeatCost;
  historyCpuMsPerMinute: number;
  components: number;
  points: number;
  seedingSeconds: number;
  reference: number[];
  overview: number[];
  week: number[];
  day: number[];
}

async function run(backend: Backend): Promise<Answers> {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-ops-'));
  const load = loadavg();
  try {
    const heartbeat = await heartbeatCost(dir, backend);
    // The answers' node beats at the default interval, as a deployment's does.
    const node = await start(dir, backend, `${DEFAULT_INTERVAL_MS}ms`);
    const { registry, history } = await backend.open(node.paths.dataDir);
    try {
      const own = (await registry.nodes()).find((n) => n.name === 'node-00');
      if (!own) throw new Error('the node did not register');

      // Fifty nodes and seven days of history.
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
      // Written again before each timed part: a node silent for 30 s is down, and out of the history.
      const register = async (): Promise<void> => {
        for (const [i, report] of reports.entries()) await registry.report({ ...report, lastSeen: Date.now() - (i % 7) * 1000 });
      };
      await register();
      // Each node's history under the component name the web role's recorder gives it.
      const names = [own, ...reports].map((r) => historyPointsFrom([{ ...r, lastSeen: now }], [], now)[0].component);
      const sample = names[7];
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

      // The history's cost: the web role's minute (ops-api.ts), the registry and queues read,
      // every running node's point and each queue's recorded, then a rollup; the minutes that
      // follow the seed, so that every tenth one rolls a bucket up.
      const minutes = 20;
      await register();
      const recordCpuBefore = process.cpuUsage();
      for (let m = 1; m <= minutes; m++) {
        const at = seedEnd + m * MINUTE_MS;
        const [nodes, queues] = await Promise.all([registry.nodes(), node.intake.queue.stats()]);
        const points = historyPointsFrom(nodes, queues, Date.now(), { maxSilenceMs: DOWN_AFTER_MS }).map((p) => ({ ...p, at }));
        if (points.length < NODES) throw new Error(`the minute's record has ${points.length} points, not ${NODES} nodes' and the queues'`);
        await history.record(points);
        await history.rollup(at);
      }
      const historyCpuMsPerMinute = cpuMs(process.cpuUsage(recordCpuBefore)) / minutes;

      await register();
      const reference = await time(`${node.url}/__lbheartbeat__`, REQUESTS);
      const overview = await time(`${node.url}/api/ops/overview`, REQUESTS);
      const week = await time(`${node.url}/api/ops/history?component=${encodeURIComponent(sample)}&from=${now - 7 * DAY}&to=${now}`, Math.min(REQUESTS, 100));
      const day = await time(`${node.url}/api/ops/history?component=${encodeURIComponent(sample)}&from=${now - DAY}&to=${now}`, Math.min(REQUESTS, 100));
      const components = ((await (await fetch(`${node.url}/api/ops/components`)).json()) as { components: unknown[] }).components.length;
      if (components !== NODES) throw new Error(`/api/ops/components lists ${components} nodes, not ${NODES}`);
      return { load, heartbeat, historyCpuMsPerMinute, components, points: all.length, seedingSeconds, reference, overview, week, day };
    } finally {
      await registry.close();
      await history.close();
      await node.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(backend: Backend, a: Answers): string[] {
  const row = (what: string, values: number[]): string => {
    const p50 = quantile(values, 0.5);
    const p95 = quantile(values, 0.95);
    return `| ${what} | ${p50.toFixed(1)} | ${p95.toFixed(1)} | ${(p50 / quantile(a.reference, 0.5)).toFixed(1)}x | ${p95 < 100 ? 'yes' : '**no**'} |`;
  };
  const beatShare = (100 * a.heartbeat.cpuMsPerBeat) / DEFAULT_INTERVAL_MS;
  const historyShare = (100 * a.historyCpuMsPerMinute) / MINUTE_MS;
  return [
    `## ${backend.label} (load average ${a.load.map((l) => l.toFixed(2)).join(' ')} at its start)`,
    '',
    `Heartbeat: ${a.heartbeat.cpuMsPerBeat.toFixed(2)} ms of CPU per beat (${a.heartbeat.beats} beats every ${BEAT_INTERVAL} in ${ROUNDS} x ${WINDOW_S} s: the node took ${(100 * a.heartbeat.beatingShare).toFixed(2)}% of a core, ${(100 * a.heartbeat.idleShare).toFixed(2)}% with heartbeats off), ${beatShare.toFixed(3)}% of one core at one beat per ${DEFAULT_INTERVAL_MS / 1000} s`,
    `History: ${a.historyCpuMsPerMinute.toFixed(1)} ms of CPU per minute (registry and queues read, ${NODES} nodes' points recorded, rollup), ${historyShare.toFixed(3)}% of one core`,
    `Heartbeat + history: ${(beatShare + historyShare).toFixed(3)}% of one core (target < 1%: ${beatShare + historyShare < 1 ? 'yes' : '**no**'})`,
    `Seeded ${a.components} registered nodes, ${a.points} history points (8 days) in ${a.seedingSeconds.toFixed(1)} s`,
    '',
    `| answer (${backend.label}, over HTTP) | p50 ms | p95 ms | p50 vs /__lbheartbeat__ | p95 < 100 ms |`,
    '|---|---:|---:|---:|---|',
    row('/__lbheartbeat__ (reference)', a.reference),
    row(`/api/ops/overview (${NODES} nodes, topology, problems)`, a.overview),
    row('/api/ops/history, one component, 7 days', a.week),
    row('/api/ops/history, one component, 24 h of minutes', a.day),
    '',
  ];
}

const sqlite: Backend = {
  label: 'SQLite',
  overrides: {},
  open: async (dataDir) => {
    const database = join(dataDir, 'mayday.sqlite');
    return { registry: SqliteNodeRegistry.open(database), history: SqliteOpsHistory.open(database) };
  },
  drop: async () => undefined,
};

async function postgres(url: string): Promise<Backend | string> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
  } catch (error) {
    return `no server answers at ${url.replace(/\/\/[^@/]*@/, '//')} (${(error as Error).message})`;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const schema = `mayday_bench_ops_${randomBytes(4).toString('hex')}`;
  return {
    label: 'PostgreSQL',
    overrides: { 'database.backend': 'postgresql', 'database.url': url, 'database.schema': schema },
    open: async () => ({ registry: await PgNodeRegistry.open({ connectionString: url, schema }), history: await PgOpsHistory.open({ connectionString: url, schema }) }),
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

const lines = [`bench:ops, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`, ''];
lines.push(...print(sqlite, await run(sqlite)));
if (PG_URL) {
  const backend = await postgres(PG_URL);
  if (typeof backend === 'string') lines.push(`## PostgreSQL: skipped (${backend})`, '');
  else {
    try {
      lines.push(...print(backend, await run(backend)));
    } finally {
      await backend.drop();
    }
  }
} else lines.push('## PostgreSQL: skipped (give --postgres URL or MAYDAY_TEST_POSTGRES_URL)', '');
lines.push(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`, '');
process.stdout.write(lines.join('\n'));
