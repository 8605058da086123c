/**
 * bench:ops (history part) — the Operations Dashboard's history store with 50 nodes and a
 * full retention: 26 h of minute points and 8 days of ten-minute points, each node's point
 * a realistic heartbeat (~35 stats).
 *
 * Times, on SQLite and on PostgreSQL when one answers: recording one minute of 50 nodes
 * (what the web role does every minute), a rollup of one ten-minute bucket (with its
 * pruning), and the dashboard's queries: 7 days of one component, 7 days of all 50 (all
 * stats, then one stat), 24 h of one component at minute resolution. Prints median and p95
 * in ms, and the recording's share of one core at one record and one rollup a minute.
 *
 *   npx tsx bench/ops-history.ts [--runs N] [--nodes N]
 *   (MAYDAY_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { PgOpsHistory } from '../src/adapters/pg-ops-history.js';
import { SqliteOpsHistory } from '../src/adapters/sqlite-ops-history.js';
import { MINUTE_MS, TEN_MINUTES_MS, type HistoryPoint, type OpsHistoryStore } from '../src/ports/ops-history.js';
import { integerOption } from './args.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => integerOption(name, fallback, args);
const RUNS = option('--runs', 20);
const NODES = option('--nodes', 50);
const PG_URL = process.env.MAYDAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The seed ends here; the timed records and rollups come after it, one minute at a time. */
const SEED_END = Math.floor(Date.now() / TEN_MINUTES_MS) * TEN_MINUTES_MS - 2 * HOUR;
const COMPONENTS = Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(2, '0')}`);

/** A heartbeat's stats as an all-roles node reports them (names from src/node/component-stats.ts), varied by time and node. */
function stats(at: number, node: number): Record<string, number> {
  const t = at / MINUTE_MS;
  const wave = Math.sin(t / 30 + node);
  const out: Record<string, number> = {
    uptime_seconds: Math.round(t * 60) % 1_000_000,
    cpu_percent: 20 + 15 * wave,
    rss_bytes: 300_000_000 + node * 1_000_000 + Math.round(5_000_000 * wave),
    heap_used_bytes: 120_000_000 + Math.round(3_000_000 * wave),
    event_loop_lag_p95_ms: 3 + Math.abs(wave),
    load_average_1m: 1.2 + wave / 2,
    processed: Math.round(t * 40),
    failed: Math.round(t / 10),
    retried: Math.round(t / 20),
    dead_lettered: 0,
    in_flight: 3,
    processed_per_second: 0.66 + wave / 10,
    failed_per_second: 0.01,
    processing_time_p50_ms: 180 + 20 * wave,
    processing_time_p95_ms: 900 + 100 * wave,
    stackwalk_time_p50_ms: 120 + 10 * wave,
    stackwalk_time_p95_ms: 700 + 80 * wave,
    symbol_cache_hits: Math.round(t * 400),
    symbol_cache_misses: Math.round(t * 4),
    symbol_cache_entries: 812,
    symbol_cache_bytes: 1_500_000_000,
    collector_received: Math.round(t * 45),
    collector_accepted: Math.round(t * 44),
    collector_deferred: 0,
    collector_rejected: Math.round(t / 2),
    collector_bytes: Math.round(t * 45 * 350_000),
    collector_errors: 0,
    collector_accepted_per_second: 0.73 + wave / 10,
    collector_bytes_per_second: 250_000 + 10_000 * wave,
    collector_save_latency_p50_ms: 4 + wave,
    collector_save_latency_p95_ms: 12 + 2 * wave,
    web_requests_total: Math.round(t * 20),
    web_requests_per_second: 0.33 + wave / 20,
    web_5xx_per_second: 0,
    web_latency_p50_ms: 8 + wave,
    web_latency_p95_ms: 40 + 5 * wave,
  };
  return out;
}

function minuteOf(at: number): HistoryPoint[] {
  return COMPONENTS.map((component, node) => ({ component, at, metrics: stats(at, node) }));
}

/** 8 days of ten-minute points (one minute point per bucket, rolled up) and 26 h of minute points, as a running deployment has. */
async function seed(store: OpsHistoryStore): Promise<void> {
  const start = SEED_END - 8 * DAY;
  const minutesFrom = SEED_END - 26 * HOUR;
  let batch: HistoryPoint[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await store.record(batch);
    batch = [];
  };
  for (let at = start; at < minutesFrom; at += TEN_MINUTES_MS) {
    batch.push(...minuteOf(at));
    if (batch.length >= 5_000) await flush();
  }
  for (let at = minutesFrom; at < SEED_END; at += MINUTE_MS) {
    batch.push(...minuteOf(at));
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  await store.rollup(SEED_END);
}

interface Row {
  name: string;
  median: number;
  p95: number;
  detail?: string;
}

function summary(name: string, samples: number[], detail?: string): Row {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { name, median: at(50), p95: at(95), detail };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function measure(store: OpsHistoryStore): Promise<{ rows: Row[]; cpuShare: number }> {
  const seedStarted = performance.now();
  await seed(store);
  const seedMs = performance.now() - seedStarted;
  const rows: Row[] = [];

  // One minute of 50 nodes at a time, then the rollup that follows a bucket's end: the
  // minutes after the seed, in order, as the web role would write them.
  const records: number[] = [];
  const rollups: number[] = [];
  let at = SEED_END;
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < 10; i++, at += MINUTE_MS) records.push(await timed(() => store.record(minuteOf(at))));
    rollups.push(await timed(() => store.rollup(at + MINUTE_MS)));
  }
  rows.push(summary(`record one minute (${NODES} nodes)`, records));
  rows.push(summary('rollup one bucket + prune', rollups));
  // A rollup with nothing finished (most minutes, when it runs every minute).
  const idle: number[] = [];
  for (let run = 0; run < RUNS; run++) idle.push(await timed(() => store.rollup(at + MINUTE_MS)));
  rows.push(summary('rollup, nothing to do', idle));

  const now = at;
  const queries: [string, Parameters<OpsHistoryStore['query']>[0]][] = [
    ['7 d, one component', { components: [COMPONENTS[7]!], from: now - 7 * DAY, to: now, resolution: 'auto', now }],
    [`7 d, all ${NODES} components`, { from: now - 7 * DAY, to: now, resolution: 'auto', now }],
    [`7 d, all ${NODES}, one metric`, { from: now - 7 * DAY, to: now, resolution: 'auto', now, metrics: ['cpu_percent'] }],
    ['24 h minutes, one component', { components: [COMPONENTS[7]!], from: now - DAY, to: now, resolution: 'auto', now }],
  ];
  for (const [name, query] of queries) {
    const samples: number[] = [];
    let points = 0;
    for (let run = 0; run < RUNS; run++) samples.push(await timed(async () => (points = (await store.query(query)).points.length)));
    rows.push(summary(`query ${name}`, samples, `${points} points`));
  }
  rows.push({ name: 'seed (8 d + 26 h)', median: seedMs, p95: seedMs });
  // One record a minute and one rollup a minute (nine of ten with nothing to do).
  const median = (name: string): number => rows.find((r) => r.name.startsWith(name))!.median;
  const perMinuteMs = median('record') + (median('rollup one') + 9 * median('rollup, nothing')) / 10;
  return { rows, cpuShare: perMinuteMs / MINUTE_MS };
}

async function openPostgres(): Promise<{ store: PgOpsHistory; drop: () => Promise<void> } | undefined> {
  const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
  } catch {
    return undefined;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const schema = `mayday_bench_${randomBytes(4).toString('hex')}`;
  const store = await PgOpsHistory.open({ connectionString: PG_URL, schema });
  return {
    store,
    drop: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

function print(db: string, result: { rows: Row[]; cpuShare: number }): void {
  console.log(`\n${db}`);
  console.log(`${'operation'.padEnd(40)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(10)}`);
  for (const row of result.rows) console.log(`${row.name.padEnd(40)} ${row.median.toFixed(1).padStart(10)} ${row.p95.toFixed(1).padStart(10)}${row.detail ? `   ${row.detail}` : ''}`);
  console.log(`history cost at one record and one rollup a minute: ${(result.cpuShare * 100).toFixed(3)}% of one core (wall time, an upper bound)`);
}

async function main(): Promise<void> {
  console.log(`ops history: ${NODES} nodes, ${Object.keys(stats(0, 0)).length} stats each, ${RUNS} runs`);
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-ops-'));
  try {
    const sqlite = SqliteOpsHistory.open(join(dir, 'mayday.sqlite'));
    try {
      print('SQLite', await measure(sqlite));
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const postgres = await openPostgres();
  if (!postgres) {
    console.log(`\nPostgreSQL: skipped (no server answers at ${PG_URL})`);
    return;
  }
  try {
    print('PostgreSQL', await measure(postgres.store));
  } finally {
    await postgres.drop();
  }
}

await main();
