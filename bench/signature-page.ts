/**
 * bench:signature — the signature page and the top crashers' Super Search views, end to end
 * through their data loaders (src/roles/web/signature-data.ts, top-crashers-data.ts), on
 * SQLite and (when reachable) PostgreSQL.
 *
 * Seeds N synthetic processed crashes (default 200,000; bench/search-data.ts, with build ids
 * made a few days before each crash so that "by build date" views find builds) through the
 * adapters' bulk path, then times:
 *   - the signature page of the top signature, the default 28 days, and with product and
 *     version filters over 90 days: the whole page (`loadSignatureData`), then each search
 *     the page makes, one at a time (recorded from a page load), so a slow part shows;
 *   - top crashers by build date, and of crashes only / hangs only (300 rows, 7 days), which
 *     rank through Super Search, beside the default view (report date, the daily counts).
 * Machines are noisy, so every figure is also given as a ratio to a reference measured in
 * the same run on the same database: a full read of the crash rows (`SUM(length(doc))`),
 * which no index serves, so it measures the machine and the database, not this code.
 *
 *   npx tsx bench/signature-page.ts [--count N] [--runs N] [--no-postgres] [--label TEXT] [--json FILE]
 *   (PostgreSQL: MAYDAY_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteCrashIndex } from '../src/adapters/sqlite-crash-index.js';
import { PgCrashIndex } from '../src/adapters/pg-crash-index.js';
import type { CrashIndex, SearchQuery, SearchResult } from '../src/ports/crash-index.js';
import type { ProcessedCrash } from '../src/ports/processed-crash-store.js';
import { loadSignatureData } from '../src/roles/web/signature-data.js';
import { loadTopCrashers, topCrashersRequest } from '../src/roles/web/top-crashers-data.js';
import type { QueryParams } from '../src/roles/web/super-search-params.js';
import { integerOption } from './args.js';
import { syntheticCrashes } from './search-data.js';

const DAY_MS = 86_400_000;
const args = process.argv.slice(2);
const COUNT = integerOption('--count', 200_000);
const RUNS = integerOption('--runs', 7);
const BATCH = 20_000;
const NOW = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
const END = Math.floor(NOW / DAY_MS) * DAY_MS + DAY_MS;
const DATA = { count: COUNT, days: 90, end: END, signatures: 3000, seed: 2025 };
const PG_URL = process.env.MAYDAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const labelAt = args.indexOf('--label');
const LABEL = labelAt >= 0 ? args[labelAt + 1]! : 'this code';
const jsonAt = args.indexOf('--json');

type Measured = CrashIndex & { analyze(): Promise<void>; close(): Promise<void> };

interface Timing {
  name: string;
  ms: number;
  /** Median over the reference's median. */
  ratio: number;
}

interface DbReport {
  db: string;
  referenceMs: number;
  timings: Timing[];
}

function yyyymmddhhmmss(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** bench:search's crashes, with build ids of a build made 0-13 days before the crash (by signature, so a signature spans builds). */
function* crashes(): Generator<ProcessedCrash> {
  let i = 0;
  for (const crash of syntheticCrashes(DATA)) {
    const submitted = Date.parse(String(crash.submitted_timestamp));
    const back = ((i++ * 7919) % 14) * DAY_MS;
    yield { ...crash, build_id: yyyymmddhhmmss(Math.floor((submitted - back) / DAY_MS) * DAY_MS + 3600_000 * (i % 24)) };
  }
}

async function seed(index: Measured): Promise<void> {
  let batch: ProcessedCrash[] = [];
  for (const crash of crashes()) {
    batch.push(crash);
    if (batch.length === BATCH) {
      await index.upsertMany(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await index.upsertMany(batch);
  await index.analyze();
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function timeMedian(run: () => Promise<unknown>, runs = RUNS): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/** A crash index that remembers the searches made through it (to time each on its own afterwards). */
function recording(index: CrashIndex): { index: CrashIndex; searches: SearchQuery[] } {
  const searches: SearchQuery[] = [];
  const proxy = new Proxy(index, {
    get(target, property, receiver) {
      if (property === 'search') {
        return (query: SearchQuery, ...rest: unknown[]): Promise<SearchResult> => {
          searches.push(query);
          return (target.search as (q: SearchQuery, ...r: unknown[]) => Promise<SearchResult>).call(target, query, ...rest);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { index: proxy, searches };
}

/** What one of the page's searches is for, from its shape. */
function describe(query: SearchQuery): string {
  const aggregations = Object.entries(query.aggregations);
  if (aggregations.length === 0) return query.columns.includes('user_comments') ? 'comments' : query.limit > 0 ? `reports (${query.limit} hits, total)` : 'total';
  const [name, aggregation] = aggregations[0]!;
  if (aggregation.kind === 'histogram') return `chart: per day × ${aggregation.sub?.[0]?.field ?? ''}`;
  if (name === 'builds') return 'build ids (first/last build, build box)';
  return `facet ${aggregation.field}`;
}

/** What one of the top crashers' searches is for, from its shape. */
function describeTopCrashers(query: SearchQuery): string {
  if (query.filters.some((f) => f.field === 'uptime')) return 'startup shares';
  const terms = query.aggregations.signature;
  return terms?.kind === 'terms' && terms.sub ? 'ranking, this period' : 'ranks, previous period';
}

async function measure(db: string, index: Measured, reference: () => Promise<unknown>): Promise<DbReport> {
  process.stderr.write(`${db}: seeding ${COUNT.toLocaleString('en')} crashes\n`);
  const seeding = performance.now();
  await seed(index);
  process.stderr.write(`${db}: seeded in ${((performance.now() - seeding) / 1000).toFixed(1)} s\n`);
  const referenceMs = await timeMedian(reference);
  process.stderr.write(`${db}: reference (full read of the crash rows) ${referenceMs.toFixed(1)} ms\n`);
  const timings: Timing[] = [];
  const add = (name: string, ms: number): void => {
    timings.push({ name, ms, ratio: ms / referenceMs });
    process.stderr.write(`  ${name}: ${ms.toFixed(1)} ms (${(ms / referenceMs).toFixed(2)}× reference)\n`);
  };

  const top = await index.topCrashers({ product: 'Lumen', range: { from: END - 28 * DAY_MS, to: END }, limit: 1 });
  const signature = top.crashers[0]!.signature!;
  const versions = (await index.productVersions()).filter((v) => v.product === 'Lumen').slice(0, 2).map((v) => v.version!);
  const views: { name: string; query: QueryParams }[] = [
    { name: 'top signature, 28 days', query: { signature } },
    { name: `top signature, product + 2 versions, 90 days`, query: { signature, product: 'Lumen', version: versions, days: '90' } },
  ];
  for (const view of views) {
    const request = { query: view.query, canViewProtected: true };
    add(`signature page (${view.name}): whole page`, await timeMedian(() => loadSignatureData({ crashIndex: index, now: NOW }, request)));
    const recorded = recording(index);
    await loadSignatureData({ crashIndex: recorded.index, now: NOW }, request);
    for (const query of recorded.searches) add(`signature page (${view.name}): ${describe(query)}`, await timeMedian(() => index.search(query)));
  }

  const topView = (q: QueryParams) => topCrashersRequest({ product: 'Lumen', rows: '300', days: '7', ...q }, NOW);
  for (const [name, q] of [
    ['report date, any type (daily counts)', {}],
    ['build date', { date_range_type: 'build' }],
    ['report date, crashes only', { report_type: 'crash' }],
    ['report date, hangs only', { report_type: 'hang' }],
  ] as const) {
    add(`top crashers, 300 rows, 7 days, ${name}`, await timeMedian(() => loadTopCrashers({ crashIndex: index }, topView(q))));
    const recorded = recording(index);
    await loadTopCrashers({ crashIndex: recorded.index }, topView(q));
    for (const query of recorded.searches) add(`top crashers, 300 rows, 7 days, ${name}: ${describeTopCrashers(query)}`, await timeMedian(() => index.search(query)));
  }
  return { db, referenceMs, timings };
}

async function main(): Promise<void> {
  const reports: DbReport[] = [];
  const load = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-signature-'));
  const file = join(dir, 'index.sqlite');
  const sqlite = SqliteCrashIndex.open(file);
  const reader = new Database(file, { readonly: true });
  try {
    reports.push(await measure('SQLite', sqlite, async () => reader.prepare('SELECT SUM(length(doc)) FROM crashes').pluck().get()));
  } finally {
    reader.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (!args.includes('--no-postgres')) {
    const schema = `mayday_bench_${randomBytes(5).toString('hex')}`;
    let index: PgCrashIndex | undefined;
    try {
      index = await PgCrashIndex.open({ connectionString: PG_URL, schema });
    } catch (error) {
      process.stderr.write(`PostgreSQL at ${PG_URL} is not usable (${(error as Error).message}); skipping it\n`);
    }
    if (index) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        reports.push(await measure('PostgreSQL', index, () => client.query(`SELECT SUM(length(doc::text)) FROM ${schema}.crashes`)));
      } finally {
        await index.close();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    }
  }
  const cpu = cpus();
  const lines = [
    `${LABEL}: ${COUNT.toLocaleString('en')} crashes, median of ${RUNS} runs after 1 warm-up; ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${load.map((l) => l.toFixed(2)).join(' / ')} before, ${loadavg().map((l) => l.toFixed(2)).join(' / ')} after`,
    '',
    `| query | ${reports.map((r) => `${r.db} ms | ${r.db} × reference`).join(' | ')} |`,
    `|---|${reports.map(() => '---:|---:').join('|')}|`,
    `| reference: full read of the crash rows | ${reports.map((r) => `${r.referenceMs.toFixed(1)} | 1×`).join(' | ')} |`,
    ...reports[0]!.timings.map((t, i) => `| ${t.name} | ${reports.map((r) => `${r.timings[i]!.ms.toFixed(1)} | ${r.timings[i]!.ratio.toFixed(2)}×`).join(' | ')} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (jsonAt >= 0) writeFileSync(args[jsonAt + 1]!, JSON.stringify({ label: LABEL, count: COUNT, runs: RUNS, load, reports }, null, 2));
}

await main();
