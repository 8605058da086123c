/**
 * bench:search — the crash index's search back end on SQLite and PostgreSQL.
 *
 * Seeds N synthetic processed crashes (default 1,000,000; see bench/search-data.ts) into a
 * fresh SQLite file and a fresh PostgreSQL schema through the adapters' bulk path, then
 * times the queries Crash Stats pages make, each on the pre-aggregated daily counts and
 * (for comparison, same run) computed from raw rows:
 *   - top crashers of a product over 7 and 30 days, and over 30 days for one version;
 *   - a signature page's aggregations (per day, version, platform, process type, product,
 *     CPU, reason) over 30 days, for the top signature;
 *   - a Super Search with two filters, the default 7-day range, a facet and 100 hits;
 *   - the product and version list (home page).
 * Reports p50/p95 against the 200 ms target, seeding time and database size, and writes
 * them to the `## Search` section of docs/benchmarks.md.
 *
 *   npx tsx bench/search.ts [--count N] [--runs N] [--no-postgres] [--no-write]
 *   (PostgreSQL: MAYDAY_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SqliteCrashIndex } from '../src/adapters/sqlite-crash-index.js';
import { PgCrashIndex } from '../src/adapters/pg-crash-index.js';
import type { CrashIndex, SearchQuery } from '../src/ports/crash-index.js';
import type { ProcessedCrash } from '../src/ports/processed-crash-store.js';
import { syntheticCrashes } from './search-data.js';

const DAY_MS = 86_400_000;
const TARGET_MS = 200;
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const COUNT = option('--count', 1_000_000);
const RUNS = option('--runs', 25);
const BATCH = option('--batch', 25_000);
const END = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const DATA = { count: COUNT, days: 90, end: END, signatures: 3000, seed: 2025 };
const PG_URL = process.env.MAYDAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Measured = CrashIndex & { analyze(): Promise<void>; sizeBytes(): Promise<number> };

interface QueryTiming {
  name: string;
  p50: number;
  p95: number;
}

interface DbReport {
  db: string;
  seedSeconds: number;
  rowsPerSecond: number;
  sizeBytes: number;
  timings: QueryTiming[];
}

async function seed(index: Measured): Promise<number> {
  let spent = 0;
  let batch: ProcessedCrash[] = [];
  let done = 0;
  const flush = async (): Promise<void> => {
    const started = performance.now();
    await index.upsertMany(batch);
    spent += performance.now() - started;
    done += batch.length;
    batch = [];
    if (done % 100_000 === 0) process.stderr.write(`  ${done.toLocaleString('en')} crashes\n`);
  };
  for (const crash of syntheticCrashes(DATA)) {
    batch.push(crash);
    if (batch.length === BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  const started = performance.now();
  await index.analyze();
  return (spent + performance.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(name: string, run: () => Promise<unknown>): Promise<QueryTiming> {
  for (let i = 0; i < 2; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const timing = { name, p50: percentile(samples, 50), p95: percentile(samples, 95) };
  process.stderr.write(`  ${name}: p50 ${timing.p50.toFixed(1)} ms, p95 ${timing.p95.toFixed(1)} ms\n`);
  return timing;
}

async function measure(db: string, index: Measured): Promise<DbReport> {
  process.stderr.write(`${db}: seeding ${COUNT.toLocaleString('en')} crashes\n`);
  const seedSeconds = await seed(index);
  const sizeBytes = await index.sizeBytes();
  process.stderr.write(`${db}: seeded in ${seedSeconds.toFixed(1)} s, ${(sizeBytes / 1e6).toFixed(0)} MB; timing ${RUNS} runs per query\n`);
  const last7 = { from: END - 7 * DAY_MS, to: END };
  const last30 = { from: END - 30 * DAY_MS, to: END };
  const top = await index.topCrashers({ product: 'Lumen', range: last30, limit: 1 });
  const signature = top.crashers[0]!.signature!;
  const signatureQuery = {
    signature,
    range: last30,
    facets: ['version', 'os_name', 'process_type', 'product', 'cpu_arch', 'reason'],
    facetsSize: 50,
    allowProtected: false,
  };
  // What GET /api/SuperSearch/?product=Lumen&os_name=Windows NT&_facets=signature asks (the 7-day default range included).
  const superSearch: SearchQuery = {
    filters: [
      { field: 'product', operator: 'has', values: ['Lumen'], negated: false },
      { field: 'os_name', operator: 'has', values: ['Windows NT'], negated: false },
      { field: 'submitted_timestamp', operator: 'gte', values: [Date.now() - 7 * DAY_MS], negated: false },
      { field: 'submitted_timestamp', operator: 'lte', values: [Date.now()], negated: false },
    ],
    columns: ['uuid', 'submitted_timestamp', 'signature', 'product', 'version'],
    sort: [],
    limit: 100,
    offset: 0,
    aggregations: { signature: { kind: 'terms', field: 'signature', size: 50 } },
    allowProtected: false,
  };
  const timings: QueryTiming[] = [];
  for (const source of ['daily', 'raw'] as const) {
    timings.push(await time(`top crashers, 7 days (${source})`, () => index.topCrashers({ product: 'Lumen', range: last7, limit: 300 }, source)));
    timings.push(await time(`top crashers, 30 days (${source})`, () => index.topCrashers({ product: 'Lumen', range: last30, limit: 300 }, source)));
    timings.push(await time(`signature page aggregations, 30 days (${source})`, () => index.signatureSummary(signatureQuery, source)));
  }
  timings.push(await time('Super Search: 2 filters + 7 days, facet signature, 100 hits', () => index.search(superSearch)));
  // The newest version of the product: the slice a release manager looks at, answered from the six-key daily counts.
  const newest = (await index.productVersions()).find((v) => v.product === 'Lumen')!.version!;
  timings.push(await time(`top crashers, 30 days, version ${newest}`, () => index.topCrashers({ product: 'Lumen', versions: [newest], range: last30, limit: 300 })));
  timings.push(await time('products and versions (home page)', () => index.productVersions()));
  return { db, seedSeconds, rowsPerSecond: COUNT / seedSeconds, sizeBytes, timings };
}

async function openPostgres(): Promise<{ index: PgCrashIndex; drop: () => Promise<void> } | undefined> {
  const schema = `mayday_bench_${randomBytes(5).toString('hex')}`;
  try {
    const index = await PgCrashIndex.open({ connectionString: PG_URL, schema });
    return {
      index,
      drop: async () => {
        await index.close();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  } catch (error) {
    process.stderr.write(`PostgreSQL at ${PG_URL} is not usable (${(error as Error).message}); skipping it\n`);
    return undefined;
  }
}

function table(reports: DbReport[]): string {
  const names = reports[0]!.timings.map((t) => t.name);
  const lines = [
    `| query | ${reports.map((r) => `${r.db} p50 | ${r.db} p95`).join(' | ')} |`,
    `|---|${reports.map(() => '---:|---:').join('|')}|`,
  ];
  for (const name of names) {
    const cells = reports.map((r) => {
      const t = r.timings.find((x) => x.name === name)!;
      const mark = name.includes('(raw)') ? '' : t.p95 < TARGET_MS ? ' ✓' : ' ✗';
      return `${t.p50.toFixed(1)} ms | ${t.p95.toFixed(1)} ms${mark}`;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function speedups(reports: DbReport[]): string {
  const lines = ['| query | ' + reports.map((r) => `${r.db}: raw p95 / daily p95`).join(' | ') + ' |', '|---|' + reports.map(() => '---:').join('|') + '|'];
  for (const base of ['top crashers, 7 days', 'top crashers, 30 days', 'signature page aggregations, 30 days']) {
    const cells = reports.map((r) => {
      const daily = r.timings.find((t) => t.name === `${base} (daily)`)!;
      const raw = r.timings.find((t) => t.name === `${base} (raw)`)!;
      return `${(raw.p95 / daily.p95).toFixed(1)}×`;
    });
    lines.push(`| ${base} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function section(reports: DbReport[]): string {
  const cpu = cpus();
  return `## Search

\`npm run bench:search\` (\`bench/search.ts\`) seeds ${COUNT.toLocaleString('en')} synthetic processed crashes (\`bench/search-data.ts\`:
Zipf-distributed signatures over ${DATA.signatures.toLocaleString('en')}, 4 products with version trains, 3 platforms with their
CPUs, 4 process types, ${DATA.days} days with a weekly pattern) into a fresh SQLite file and a fresh PostgreSQL schema through the
crash index's bulk path, then times each query ${RUNS} times after 2 warm-up runs. "daily" reads the pre-aggregated counts:
the daily counts per signature/product/version/platform/process type, and the narrower rollups kept beside them
(\`signature_platform_daily\` and \`signature_platform_weekly\` by product, signature and platform, \`product_version_daily\`;
see \`src/adapters/crash-index-layout.ts\`); "raw" computes the same answer from the crash rows (same run, same data; the
contract tests check both give identical results). ✓/✗: p95 against the 200 ms target.

How the queries stay under the target (crash index schema version 3 on SQLite, 2 on PostgreSQL):
- Top crashers without a version or process type filter read the platform rollups: whole weeks of the range (and of the
  previous period, for rank changes) from the weekly one, the days at either end from the daily one; first-seen dates are one
  index seek per listed signature. With a version filter they read the six-key daily counts, which that filter narrows.
- The signature page's chart, platforms and products come from the daily platform rollup, versions and process types from
  the daily counts, CPU and crash reason from the crash rows through a covering index on (signature, submitted time,
  product, CPU, reason): an index range read, no lookup per crash.
- Super Search's common filters (product, date, platform, version, process type, signature) are covered by one index on
  (product, submitted time, ...) (\`INCLUDE\` columns on PostgreSQL), so counting and faceting never visit the crash rows;
  on SQLite, facet terms are grouped as \`+term\` so that the planner does not skip-scan the signature index for its order.
- The product and version list reads \`product_version_daily\`.

Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.

| database | seeding (bulk path + ANALYZE) | rows/s | size on disk |
|---|---:|---:|---:|
${reports.map((r) => `| ${r.db} | ${r.seedSeconds.toFixed(1)} s | ${Math.round(r.rowsPerSecond).toLocaleString('en')} | ${(r.sizeBytes / 1e6).toFixed(0)} MB |`).join('\n')}

${table(reports)}

Speed-up of the pre-aggregated path over raw rows (p95):

${speedups(reports)}
`;
}

/** Replaces (or appends) only the `## Search` section: other sections are written by other benchmarks. */
function writeSection(text: string): void {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const start = current.search(/^## Search\s*$/m);
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${text}`;
  else {
    const rest = current.slice(start + 1);
    const end = rest.search(/^## /m);
    next = current.slice(0, start) + text + (end < 0 ? '' : `\n${rest.slice(end)}`);
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
  process.stderr.write(`wrote the Search section of ${path}\n`);
}

async function main(): Promise<void> {
  const reports: DbReport[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mayday-bench-search-'));
  const sqlite = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  try {
    reports.push(await measure('SQLite', sqlite));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (!args.includes('--no-postgres')) {
    const postgres = await openPostgres();
    if (postgres) {
      try {
        reports.push(await measure('PostgreSQL', postgres.index));
      } finally {
        await postgres.drop();
      }
    }
  }
  const text = section(reports);
  process.stdout.write(`\n${text}`);
  if (!args.includes('--no-write')) writeSection(text);
}

await main();
