/**
 * bench:pg-scale — the PostgreSQL crash index at 10 million crashes.
 *
 * bench:search seeds through the adapter's bulk path (~5,400 rows/s: half an hour for 10M),
 * so this one seeds server-side instead: the index is opened with `PgCrashIndex.open` (its
 * migrations make the tables), `crashes` is filled by INSERT ... SELECT FROM
 * generate_series in chunks, with the distributions of bench/search-data.ts computed in SQL
 * from a hash of the row number (deterministic, no client round trip per row), then the
 * daily counts are derived from the rows in one GROUP BY and each rollup with the layout's
 * own `rebuildRollupSql`, and the adapter's `analyze()` runs. When the adapter has
 * `ensurePartitions` (daily partitions of `crashes`), the partitions are made first.
 *
 * Before timing, the seed is checked: `count()` is the requested count, the rows have the
 * shape `toIndexRow` gives bench/search-data.ts's crashes (columns, doc keys and value
 * types) and the same marginal distributions within a tolerance, the adapter reads them
 * back (`latest`, `get`, a search with doc fields and a list facet), and top crashers from
 * the rollups equal top crashers from the raw rows for every product over 7 and 30 days
 * and for one version.
 *
 * Then it times, through the adapter, the Crash Stats queries bench:search makes, against a
 * p95 target of 300 ms, and writes the `## PostgreSQL at 10 million crashes` section of
 * docs/benchmarks.md.
 *
 *   npx tsx bench/pg-scale.ts [--count N] [--runs N] [--chunk N] [--keep] [--no-write]
 *   (MAYDAY_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { PgCrashIndex } from '../src/adapters/pg-crash-index.js';
import { ROLLUPS, indexedCrashOfRow, rebuildRollupSql, toIndexRow } from '../src/adapters/crash-index-layout.js';
import type { SearchQuery, TopCrashersQuery } from '../src/ports/crash-index.js';
import { signatureName, syntheticCrashes } from './search-data.js';
import { integerOption } from './args.js';

const DAY_MS = 86_400_000;
const TARGET_MS = 300;
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => integerOption(name, fallback, args);
const COUNT = option('--count', 10_000_000);
const RUNS = option('--runs', 25);
const CHUNK = option('--chunk', 500_000);
const KEEP = args.includes('--keep');
const WRITE = !args.includes('--no-write');
const PG_URL = process.env.MAYDAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** BIGINT and NUMERIC as numbers, as the adapter's pool reads them (pg-database.ts), so sampled rows compare with toIndexRow's. */
const NUMBER_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

// The shape of bench:search's data set (bench/search.ts's DATA), so the two benchmarks differ only in size.
const DAYS = 90;
const SIGNATURES = 3000;
const ZIPF = 1.1;
const SEED = 2025;
const END = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const START_DAY = END / DAY_MS - DAYS;

// Mirrors of bench/search-data.ts's tables (not exported there); `checkAgainstGenerator`
// fails the run if they drift apart.
const PRODUCTS = [
  { name: 'Lumen', weight: 55, versions: 12, major: 120 },
  { name: 'LumenMobile', weight: 25, versions: 8, major: 60 },
  { name: 'Quill', weight: 15, versions: 6, major: 8 },
  { name: 'Harbor', weight: 5, versions: 4, major: 2 },
];
const PLATFORMS = [
  { os: 'Windows NT', weight: 65, versions: ['10.0.19045', '10.0.22631', '6.1.7601'], cpus: ['amd64', 'amd64', 'amd64', 'x86', 'arm64'] },
  { os: 'Mac OS X', weight: 20, versions: ['14.4.1', '13.6.5', '12.7.4'], cpus: ['arm64', 'arm64', 'amd64'] },
  { os: 'Linux', weight: 15, versions: ['6.5.0', '5.15.0', '6.8.0'], cpus: ['amd64', 'amd64', 'arm64'] },
];
const PROCESS_TYPES = [
  { name: 'parent', weight: 50 },
  { name: 'content', weight: 35 },
  { name: 'gpu', weight: 10 },
  { name: 'utility', weight: 5 },
];
const CHANNELS = [
  { name: 'release', weight: 80 },
  { name: 'beta', weight: 15 },
  { name: 'nightly', weight: 5 },
];
const REASONS = ['SIGSEGV /SEGV_MAPERR', 'EXCEPTION_ACCESS_VIOLATION_READ', 'EXCEPTION_ACCESS_VIOLATION_WRITE', 'SIGABRT', 'EXCEPTION_BREAKPOINT', 'SIGBUS /BUS_ADRERR'];
const MODULES = ['xul.dll', 'libxul.so', 'XUL', 'nss3.dll', 'libc.so.6', 'ntdll.dll', 'kernelbase.dll', 'libGL.so.1', 'd3d11.dll', 'mozglue.dll'];
const CPU_COUNTS = [2, 4, 8, 16];

// ---------------------------------------------------------------------------------------
// The seed statement.

/** Lower bounds of each choice's share of [0, 1), for `width_bucket` (a binary search done by the server). */
function thresholds(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  let below = 0;
  for (const w of weights) {
    out.push(below / sum);
    below += w;
  }
  return out;
}

/** search-data.ts's day weights: fewer crashes at weekends, a slow upward trend. */
function dayWeights(): number[] {
  return Array.from({ length: DAYS }, (_, i) => {
    const weekday = new Date((START_DAY + i) * DAY_MS).getUTCDay();
    return (weekday === 0 || weekday === 6 ? 0.7 : 1) * (1 + (0.3 * i) / DAYS);
  });
}

/**
 * The first row number of each day. Rows are numbered day by day (a day's share of the
 * count, largest remainders) rather than given a random day each, so that a chunk touches
 * a few days: a few partitions, and index pages that stay in shared buffers, as a live
 * index filling up in time order does.
 */
function dayStarts(count: number): number[] {
  const weights = dayWeights();
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * count);
  const counts = exact.map(Math.floor);
  let left = count - counts.reduce((a, b) => a + b, 0);
  for (const i of exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r).map((x) => x.i)) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  const starts: number[] = [];
  let n = 0;
  for (const c of counts) {
    starts.push(n);
    n += c;
  }
  return starts;
}

/** A SQL string literal (the constants above have no quotes, but the SQL should not depend on it). */
const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const textArray = (values: readonly string[]): string => `ARRAY[${values.map(lit).join(', ')}]::text[]`;

/** The k-th independent uniform in [0, 1) of row `i`: 48 bits of a seeded 64-bit hash of the row number. */
const U = (k: number): string => `((hashint8extended(i, ${SEED * 100 + k}) & 281474976710655)::float8 / 281474976710656.0)`;
/** 64 random bits of row `i` as 16 hex digits (to_hex reads a negative bigint as unsigned). */
const HEX = (k: number): string => `lpad(to_hex(hashint8extended(i, ${SEED * 100 + k})), 16, '0')`;

/** `CASE index WHEN 0 THEN values[0] ...`: a per-choice constant. */
function caseOf(index: string, values: readonly string[]): string {
  return `(CASE ${index} ${values.map((v, i) => `WHEN ${i} THEN ${v}`).join(' ')} END)`;
}

/** One of a per-choice list, picked uniformly by `u` (the lists may differ in length). */
function pickOf(index: string, lists: readonly (readonly string[])[], u: string): string {
  return caseOf(
    index,
    lists.map((list) => `(${textArray(list)})[1 + floor(${u} * ${list.length})::int]`),
  );
}

/**
 * INSERT ... SELECT of the rows numbered [$5, $6). Parameters: $1 first row of each day,
 * $2 signature thresholds, $3 signature names (by rank, two extra for proto_signature),
 * $4 each day's yymmdd (crash ids end with it), $7-$10 product, platform, process type
 * and channel thresholds. The inner query is fenced (OFFSET 0) so each row's choices are
 * computed once, not once per column that uses them.
 */
function seedSql(): string {
  const product = caseOf('p', PRODUCTS.map((x) => lit(x.name)));
  const versions = caseOf('p', PRODUCTS.map((x) => String(x.versions)));
  const major = caseOf('p', PRODUCTS.map((x) => String(x.major)));
  // search-data.ts: version v of the `released` ones so far, with weight 1.6^v; inverted in closed form.
  const released = `greatest(1, floor(((d + 1)::float8 / ${DAYS}) * ${versions} + 0.999))::int`;
  const version = `((${major} + least(${released} - 1, floor(ln(1 + ${U(7)} * (power(1.6, ${released}) - 1)) / ln(1.6))::int))::text || '.0')`;
  const submitted = `least(${END - 1}::bigint, (${START_DAY} + d)::bigint * ${DAY_MS} + floor(${U(5)} * ${DAY_MS})::bigint)`;
  const name = (offset: number): string => `($3::text[])[rank + ${offset + 1}]`;
  const module = (expr: string): string => `(${textArray(MODULES)})[(${expr}) % ${MODULES.length} + 1]`;
  const [m1, m2, m3] = [module('rank'), module('rank * 7 + 3'), `(${textArray(MODULES)})[1 + floor(${U(17)} * ${MODULES.length})::int]`];
  // Lists are stored de-duplicated, in first-seen order (toStored).
  const modules = `to_jsonb(ARRAY[${m1}] || CASE WHEN ${m2} <> ${m1} THEN ARRAY[${m2}] ELSE ARRAY[]::text[] END || CASE WHEN ${U(16)} < 0.5 AND ${m3} <> ${m1} AND ${m3} <> ${m2} THEN ARRAY[${m3}] ELSE ARRAY[]::text[] END)`;
  const withEmail = `${U(18)} < 0.05`;
  const doc = `jsonb_strip_nulls(jsonb_build_object(
      'crashing_thread', 0,
      'thread_count', 10 + floor(${U(22)} * 80)::int,
      'proto_signature', ${name(0)} || ' | ' || ${name(1)} || ' | ' || ${name(2)},
      'modules_in_stack', ${modules},
      'mdsw_status_string', 'OK',
      'annotation_keys', CASE WHEN ${withEmail} THEN '["ProductName", "Version", "Email"]'::jsonb ELSE '["ProductName", "Version"]'::jsonb END,
      'email', CASE WHEN ${withEmail} THEN 'user' || floor(${U(19)} * 1000)::int || '@example.com' END,
      'url', CASE WHEN ${U(20)} < 0.1 THEN 'https://example.com/page/' || floor(${U(21)} * 100)::int END))`;
  const columns: [string, string][] = [
    ['crash_id', `substr(ha, 1, 8) || '-' || substr(ha, 9, 4) || '-' || substr(ha, 13, 4) || '-' || substr(hb, 1, 4) || '-' || substr(hb, 5, 6) || ($4::text[])[d + 1]`],
    ['submitted_at', 'submitted'],
    ['processed_at', `submitted + 2000 + floor(${U(6)} * 60000)::bigint`],
    ['product', product],
    ['version', version],
    ['release_channel', caseOf('ch', CHANNELS.map((c) => lit(c.name)))],
    ['build_id', `'2024' || lpad((1 + rank % 12)::text, 2, '0') || substr(${HEX(33)}, 1, 6)`],
    ['process_type', caseOf('pt', PROCESS_TYPES.map((t) => lit(t.name)))],
    ['os_name', caseOf('pl', PLATFORMS.map((x) => lit(x.os)))],
    ['os_version', pickOf('pl', PLATFORMS.map((x) => x.versions), U(9))],
    ['os_pretty_version', caseOf('pl', PLATFORMS.map((x) => lit(`${x.os} ${x.versions[0]}`)))],
    ['cpu_arch', pickOf('pl', PLATFORMS.map((x) => x.cpus), U(8))],
    ['cpu_count', `(ARRAY[${CPU_COUNTS.join(', ')}]::bigint[])[1 + floor(${U(10)} * ${CPU_COUNTS.length})::int]`],
    ['reason', `(${textArray(REASONS)})[rank % ${REASONS.length} + 1]`],
    ['address', `'0x' || substr(${HEX(32)}, 1, 8)`],
    ['report_type', `CASE WHEN ${U(13)} < 0.97 THEN 'crash' ELSE 'hang' END`],
    ['signature', name(0)],
    ['uptime', `floor(${U(11)} * 86400)::bigint`],
    ['install_age', `floor(${U(12)} * ${30 * 86_400})::bigint`],
    ['success', `CASE WHEN ${U(14)} < 0.99 THEN 1 ELSE 0 END`],
    ['has_errors', `CASE WHEN ${U(15)} < 0.02 THEN 1 ELSE 0 END`],
    ['doc', doc],
  ];
  return `INSERT INTO crashes (${columns.map(([c]) => c).join(', ')})
    SELECT ${columns.map(([, e]) => e).join(',\n      ')}
    FROM (
      SELECT i, d, rank, p, pl, pt, ch, ${submitted} AS submitted, ${HEX(30)} AS ha, ${HEX(31)} AS hb
      FROM (
        SELECT i,
          width_bucket(i, $1::bigint[]) - 1 AS d,
          width_bucket(${U(0)}, $2::float8[]) - 1 AS rank,
          width_bucket(${U(1)}, $7::float8[]) - 1 AS p,
          width_bucket(${U(2)}, $8::float8[]) - 1 AS pl,
          width_bucket(${U(3)}, $9::float8[]) - 1 AS pt,
          width_bucket(${U(4)}, $10::float8[]) - 1 AS ch
        FROM generate_series($5::bigint, $6::bigint - 1) AS g(i)
        OFFSET 0
      ) AS choices
    ) AS r`;
}

// ---------------------------------------------------------------------------------------
// Seeding.

interface SeedReport {
  partitions: number;
  crashesSeconds: number;
  dailySeconds: number;
  rollupSeconds: number;
  analyzeSeconds: number;
  totalSeconds: number;
}

/** `ensurePartitions` is being added to PgCrashIndex; this compiles with and without it. */
type Partitioned = { ensurePartitions(fromMs: number, toMs: number): Promise<void> };
function isPartitioned(index: PgCrashIndex): index is PgCrashIndex & Partitioned {
  return 'ensurePartitions' in index && typeof index.ensurePartitions === 'function';
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

async function seed(index: PgCrashIndex, client: pg.Client): Promise<SeedReport> {
  const began = performance.now();
  const from = START_DAY * DAY_MS;
  if (isPartitioned(index)) {
    await index.ensurePartitions(from, END);
    process.stderr.write(`  ensurePartitions(${new Date(from).toISOString().slice(0, 10)}, ${new Date(END).toISOString().slice(0, 10)})\n`);
  } else {
    process.stderr.write('  PgCrashIndex has no ensurePartitions: crashes is one table\n');
  }
  const partitions = (await client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM pg_inherits WHERE inhparent = 'crashes'::regclass`)).rows[0]!.n;

  const sigWeights = Array.from({ length: SIGNATURES }, (_, i) => 1 / (i + 1) ** ZIPF);
  const names = Array.from({ length: SIGNATURES + 2 }, (_, i) => signatureName(i));
  const dates = Array.from({ length: DAYS }, (_, i) => {
    const d = new Date((START_DAY + i) * DAY_MS);
    return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  });
  const fixed = [
    dayStarts(COUNT),
    thresholds(sigWeights),
    names,
    dates,
    thresholds(PRODUCTS.map((x) => x.weight)),
    thresholds(PLATFORMS.map((x) => x.weight)),
    thresholds(PROCESS_TYPES.map((x) => x.weight)),
    thresholds(CHANNELS.map((x) => x.weight)),
  ];
  const sql = seedSql();
  const crashesStarted = performance.now();
  for (let lo = 0; lo < COUNT; lo += CHUNK) {
    const hi = Math.min(COUNT, lo + CHUNK);
    const started = performance.now();
    await client.query(sql, [...fixed.slice(0, 4), lo, hi, ...fixed.slice(4)]);
    const s = seconds(started);
    process.stderr.write(`  ${hi.toLocaleString('en')} crashes (${Math.round((hi - lo) / s).toLocaleString('en')} rows/s this chunk, ${seconds(crashesStarted).toFixed(0)} s so far)\n`);
  }
  const crashesSeconds = seconds(crashesStarted);

  // The daily key as the adapter derives it (dailyKeyOfRow): missing values as '', the UTC day.
  let started = performance.now();
  await client.query(
    `INSERT INTO signature_daily (product, day, signature, version, os_name, process_type, count)
     SELECT COALESCE(product, ''), (submitted_at / ${DAY_MS})::int, COALESCE(signature, ''), COALESCE(version, ''), COALESCE(os_name, ''), COALESCE(process_type, ''), COUNT(*)
     FROM crashes GROUP BY 1, 2, 3, 4, 5, 6`,
  );
  const dailySeconds = seconds(started);
  process.stderr.write(`  signature_daily in ${dailySeconds.toFixed(1)} s\n`);
  started = performance.now();
  for (const rollup of ROLLUPS) await client.query(rebuildRollupSql(rollup));
  const rollupSeconds = seconds(started);
  process.stderr.write(`  rollups in ${rollupSeconds.toFixed(1)} s\n`);
  started = performance.now();
  await index.analyze();
  const analyzeSeconds = seconds(started);
  process.stderr.write(`  analyze() in ${analyzeSeconds.toFixed(1)} s\n`);
  return { partitions, crashesSeconds, dailySeconds, rollupSeconds, analyzeSeconds, totalSeconds: seconds(began) };
}

// ---------------------------------------------------------------------------------------
// Checks: the seed is what the adapter would have written, and the rollups agree with the rows.

const fail = (message: string): never => {
  throw new Error(`seed check failed: ${message}`);
};

/** A row's columns and doc as type signatures: which keys exist, holding what kind of value. */
function shapeOf(columns: Record<string, unknown>, doc: Record<string, unknown>): string[] {
  const kind = (v: unknown): string => (v === null || v === undefined ? 'null' : Array.isArray(v) ? `array of ${[...new Set(v.map((x) => typeof x))].join('|')}` : typeof v);
  return [...Object.entries(columns).map(([k, v]) => `column ${k}: ${kind(v)}`), ...Object.entries(doc).map(([k, v]) => `doc ${k}: ${kind(v)}`)];
}

interface Tally {
  rows: number;
  counts: Map<string, number>;
}

const RANKED = new Map([0, 1, 2, 9, 99].map((rank) => [signatureName(rank), `signature rank ${rank + 1}`]));

function tally(t: Tally, columns: Record<string, unknown>, doc: Record<string, unknown>): void {
  t.rows++;
  const add = (key: string): void => void t.counts.set(key, (t.counts.get(key) ?? 0) + 1);
  for (const c of ['product', 'os_name', 'process_type', 'release_channel', 'cpu_arch', 'report_type', 'cpu_count', 'reason', 'success']) add(`${c}=${String(columns[c])}`);
  if (columns.product === 'Lumen') add(`Lumen version=${String(columns.version)}`);
  const ranked = RANKED.get(String(columns.signature));
  if (ranked) add(ranked);
  add(`modules_in_stack length=${(doc.modules_in_stack as unknown[] | undefined)?.length ?? 0}`);
  if (doc.email !== undefined) add('has email');
  if (doc.url !== undefined) add('has url');
}

/**
 * Compares a sample of the seeded rows with crashes from bench/search-data.ts passed
 * through `toIndexRow` (what the adapter's bulk path stores): the same columns and doc
 * keys with the same kinds of values, and the same shares of each value (products,
 * platforms, versions, signature ranks, ...) within `tolerance`.
 */
async function checkAgainstGenerator(client: pg.Client, tolerance: number): Promise<number> {
  const sampleSize = 100_000;
  const expected: Tally = { rows: 0, counts: new Map() };
  const expectedShapes = new Set<string>();
  for (const crash of syntheticCrashes({ count: sampleSize, days: DAYS, end: END, signatures: SIGNATURES, seed: SEED, zipf: ZIPF })) {
    const row = toIndexRow(crash);
    const columns = { ...row.columns, has_errors: row.hasErrors ? 1 : 0 };
    tally(expected, columns, row.doc);
    for (const s of shapeOf(columns, row.doc)) expectedShapes.add(s);
  }
  // Whole pages sampled (SYSTEM): cheap at any size, and pages of every day are drawn (no
  // LIMIT: it would cut the last days, and with them the newest versions).
  const percent = Math.min(100, (100 * sampleSize) / COUNT);
  const rows = (await client.query<Record<string, unknown>>(`SELECT * FROM crashes TABLESAMPLE SYSTEM (${percent}) REPEATABLE (${SEED})`)).rows;
  const actual: Tally = { rows: 0, counts: new Map() };
  const actualShapes = new Set<string>();
  for (const row of rows) {
    const { doc, ...columns } = row;
    tally(actual, columns, doc as Record<string, unknown>);
    for (const s of shapeOf(columns, doc as Record<string, unknown>)) actualShapes.add(s);
    indexedCrashOfRow(row);
  }
  const missing = [...expectedShapes].filter((s) => !actualShapes.has(s));
  const extra = [...actualShapes].filter((s) => !expectedShapes.has(s));
  if (missing.length > 0 || extra.length > 0) fail(`row shape differs from toIndexRow's: missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`);
  let worst = 0;
  const lines: string[] = [];
  for (const key of [...new Set([...expected.counts.keys(), ...actual.counts.keys()])].sort()) {
    const e = (expected.counts.get(key) ?? 0) / expected.rows;
    const a = (actual.counts.get(key) ?? 0) / actual.rows;
    worst = Math.max(worst, Math.abs(e - a));
    if (Math.abs(e - a) > tolerance) lines.push(`${key}: generator ${(100 * e).toFixed(2)}%, seed ${(100 * a).toFixed(2)}%`);
  }
  if (lines.length > 0) fail(`value shares differ by more than ${100 * tolerance} points:\n    ${lines.join('\n    ')}`);
  process.stderr.write(`  shape and value shares match bench/search-data.ts (${actual.rows.toLocaleString('en')} sampled rows; largest share difference ${(100 * worst).toFixed(2)} points)\n`);
  return worst;
}

/** The adapter reads the rows back: its row reader, and a search that reads doc fields and facets on a list. */
async function checkReadBack(index: PgCrashIndex): Promise<void> {
  const latest = await index.latest({ limit: 5 });
  if (latest.length !== 5 || latest.some((c) => c.product === null || c.signature === null || !(c.submittedAt < END))) fail(`latest() gave ${JSON.stringify(latest)}`);
  const got = await index.get(latest[0]!.crashId);
  if (!isDeepStrictEqual(got, latest[0])) fail(`get(${latest[0]!.crashId}) differs from latest()'s row`);
  const day = { from: END - DAY_MS, to: END };
  const result = await index.search({
    filters: [
      { field: 'submitted_timestamp', operator: 'gte', values: [day.from], negated: false },
      { field: 'submitted_timestamp', operator: 'lt', values: [day.to], negated: false },
      { field: 'modules_in_stack', operator: 'has', values: ['xul.dll'], negated: false },
      { field: 'email', operator: 'missing', values: [], negated: true },
    ],
    columns: ['uuid', 'signature', 'modules_in_stack', 'proto_signature', 'email', 'thread_count'],
    sort: [],
    limit: 10,
    offset: 0,
    aggregations: { modules_in_stack: { kind: 'terms', field: 'modules_in_stack', size: 20 } },
    allowProtected: true,
  });
  const hit = result.hits[0];
  const facet = result.facets.modules_in_stack as { term: unknown; count: number }[];
  if (
    result.total === 0 ||
    !hit ||
    !Array.isArray(hit.modules_in_stack) ||
    typeof hit.email !== 'string' ||
    typeof hit.thread_count !== 'number' ||
    !String(hit.proto_signature).startsWith(`${String(hit.signature)} | `) ||
    facet[0]?.term !== 'xul.dll' ||
    facet[0].count !== result.total
  ) {
    fail(`a search on doc fields gave ${JSON.stringify({ total: result.total, hit, facet: facet.slice(0, 3) })}`);
  }
  process.stderr.write(`  the adapter reads the rows back (latest, get, a search on doc fields: ${result.total} hits, facet on modules_in_stack)\n`);
}

/** Top crashers from the rollups equal top crashers from the rows: every product over 7 and 30 days, and one version. */
async function checkRollups(index: PgCrashIndex, newestLumen: string): Promise<number> {
  const queries: TopCrashersQuery[] = [];
  for (const product of PRODUCTS) for (const days of [7, 30]) queries.push({ product: product.name, range: { from: END - days * DAY_MS, to: END }, limit: 300 });
  queries.push({ product: 'Lumen', versions: [newestLumen], range: { from: END - 30 * DAY_MS, to: END }, limit: 300 });
  for (const query of queries) {
    const daily = await index.topCrashers(query, 'daily');
    const raw = await index.topCrashers(query, 'raw');
    if (!isDeepStrictEqual(daily, raw)) {
      const i = daily.crashers.findIndex((c, k) => !isDeepStrictEqual(c, raw.crashers[k]));
      fail(
        `topCrashers daily and raw differ for ${JSON.stringify(query)}: totals ${daily.total}/${raw.total}, previous ${daily.previousTotal}/${raw.previousTotal}; first different crasher ${JSON.stringify(daily.crashers[i])} vs ${JSON.stringify(raw.crashers[i])}`,
      );
    }
    if (daily.total === 0 || daily.crashers.length === 0) fail(`topCrashers found nothing for ${JSON.stringify(query)}`);
  }
  process.stderr.write(`  topCrashers daily = raw for ${queries.length} queries (4 products × 7 and 30 days, Lumen ${newestLumen} over 30 days)\n`);
  return queries.length;
}

// ---------------------------------------------------------------------------------------
// Timing.

interface QueryTiming {
  name: string;
  p50: number;
  p95: number;
  max: number;
  /** Queries the brief's target applies to; the rest are shown for context. */
  targeted: boolean;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(name: string, targeted: boolean, run: () => Promise<unknown>): Promise<QueryTiming> {
  for (let i = 0; i < 2; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const timing = { name, p50: percentile(samples, 50), p95: percentile(samples, 95), max: samples[samples.length - 1]!, targeted };
  process.stderr.write(`  ${name}: p50 ${timing.p50.toFixed(1)} ms, p95 ${timing.p95.toFixed(1)} ms, max ${timing.max.toFixed(1)} ms\n`);
  return timing;
}

async function timeQueries(index: PgCrashIndex, newestLumen: string): Promise<{ timings: QueryTiming[]; topSignature: string }> {
  const last7 = { from: END - 7 * DAY_MS, to: END };
  const last30 = { from: END - 30 * DAY_MS, to: END };
  const topSignature = (await index.topCrashers({ product: 'Lumen', range: last30, limit: 1 })).crashers[0]!.signature!;
  const signatureQuery = {
    signature: topSignature,
    range: last30,
    facets: ['version', 'os_name', 'process_type', 'product', 'cpu_arch', 'reason'],
    facetsSize: 50,
    allowProtected: false,
  };
  // As bench/search.ts: GET /api/SuperSearch/?product=Lumen&os_name=Windows NT&_facets=signature, the 7-day default range.
  const superSearch = (): SearchQuery => ({
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
  });
  const timings: QueryTiming[] = [];
  timings.push(await time('top crashers, 7 days', true, () => index.topCrashers({ product: 'Lumen', range: last7, limit: 300 })));
  timings.push(await time('top crashers, 30 days', true, () => index.topCrashers({ product: 'Lumen', range: last30, limit: 300 })));
  timings.push(await time('signature page summary, 30 days, top signature', true, () => index.signatureSummary(signatureQuery)));
  timings.push(await time('Super Search: 2 filters + 7 days, facet signature, 100 hits', true, () => index.search(superSearch())));
  timings.push(await time(`top crashers, 30 days, version ${newestLumen}`, false, () => index.topCrashers({ product: 'Lumen', versions: [newestLumen], range: last30, limit: 300 })));
  timings.push(await time('products and versions (home page)', false, () => index.productVersions()));
  return { timings, topSignature };
}

// ---------------------------------------------------------------------------------------
// Report.

interface Sizes {
  total: number;
  crashes: number;
  crashesIndexes: number;
  aggregates: number;
}

async function sizes(index: PgCrashIndex, client: pg.Client): Promise<Sizes> {
  // pg_partition_tree lists the table itself when it is not partitioned.
  const crashes = (
    await client.query<{ total: number; indexes: number }>(
      `SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0) AS total, COALESCE(SUM(pg_indexes_size(relid)), 0) AS indexes FROM pg_partition_tree('crashes') WHERE isleaf`,
    )
  ).rows[0]!;
  const aggregates = (
    await client.query<{ n: number }>(`SELECT COALESCE(SUM(pg_total_relation_size(t::regclass)), 0) AS n FROM unnest($1::text[]) AS t`, [['signature_daily', ...ROLLUPS.map((r) => r.table)]])
  ).rows[0]!;
  return { total: await index.sizeBytes(), crashes: Number(crashes.total), crashesIndexes: Number(crashes.indexes), aggregates: Number(aggregates.n) };
}

async function rowCounts(client: pg.Client): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['signature_daily', ...ROLLUPS.map((r) => r.table)]) out[table] = (await client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n;
  return out;
}

const mb = (bytes: number): string => `${Math.round(bytes / 1e6).toLocaleString('en')} MB`;
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

interface Report {
  seed: SeedReport;
  sizes: Sizes;
  rows: Record<string, number>;
  timings: QueryTiming[];
  topSignature: string;
  worstShare: number;
  rollupChecks: number;
  serverVersion: string;
  sharedBuffers: string;
  loadBefore: number[];
  loadAfter: number[];
}

function section(r: Report): string {
  const cpu = cpus();
  const s = r.seed;
  const table = [
    '| query | p50 | p95 | max | p95 vs 300 ms |',
    '|---|---:|---:|---:|---|',
    ...r.timings.map((t) => `| ${t.name} | ${t.p50.toFixed(1)} ms | ${t.p95.toFixed(1)} ms | ${t.max.toFixed(1)} ms | ${t.targeted ? (t.p95 < TARGET_MS ? '✓' : '✗') : '(context)'} |`),
  ].join('\n');
  return `## PostgreSQL at 10 million crashes

\`npm run bench:pg-scale\` (\`bench/pg-scale.ts [--count N] [--runs N] [--keep] [--no-write]\`) opens the PostgreSQL crash index on a
fresh schema with \`PgCrashIndex.open\` (its migrations make the tables), ${s.partitions > 0 ? `creates the daily partitions of \`crashes\` with \`ensurePartitions\`, ` : ''}then
seeds ${COUNT.toLocaleString('en')} crashes server-side: \`INSERT ... SELECT FROM generate_series\` in chunks of ${CHUNK.toLocaleString('en')} rows into
\`crashes\`, with bench:search's distributions (\`bench/search-data.ts\`: ${SIGNATURES.toLocaleString('en')} Zipf-distributed signatures, 4 products
with version trains, 3 platforms with their CPUs, 4 process types, ${DAYS} days with a weekly pattern, the doc fields) computed from a
hash of the row number; then \`signature_daily\` from the rows in one \`GROUP BY\`, each rollup with the layout's
\`rebuildRollupSql\`, and the adapter's \`analyze()\`. The adapter's bulk path (about 5,400 rows/s in bench:search) would take
${Math.round(COUNT / 5400 / 60)} minutes for this.

The seed is checked before timing: \`count()\` is ${COUNT.toLocaleString('en')}; a sample of rows has the columns, doc keys and kinds of
value that \`toIndexRow\` gives bench/search-data.ts's crashes, and the same value shares (largest difference
${(100 * r.worstShare).toFixed(2)} percentage points); the adapter reads rows back (\`latest\`, \`get\`, a search on doc fields with a
list facet); and top crashers from the rollups equal top crashers from the raw rows for ${r.rollupChecks} queries (each product over
7 and 30 days, one version over 30 days).

Each query runs through the adapter ${RUNS} times after 2 warm-up runs: top crashers of Lumen (300 signatures, with the previous
period's ranks and first-seen dates), the signature page's summary for the top signature (\`${r.topSignature}\`: per day, version,
platform, process type, product, CPU and reason), and Super Search with bench:search's filters, facet and 100 hits. ✓/✗: p95
against the 300 ms target.

Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, shared (a fuzzer keeps one core busy, other work comes and goes); ${r.serverVersion.split(' on ')[0]},
shared_buffers ${r.sharedBuffers}, server settings untouched; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.
Load average (1 / 5 / 15 min) before timing ${load(r.loadBefore)}, after ${load(r.loadAfter)}.

| step | time |
|---|---:|
| \`crashes\`: ${COUNT.toLocaleString('en')} rows${s.partitions > 0 ? ` into ${s.partitions} daily partitions` : ' (one table)'} | ${s.crashesSeconds.toFixed(1)} s (${Math.round(COUNT / s.crashesSeconds).toLocaleString('en')} rows/s) |
| \`signature_daily\` (${r.rows.signature_daily!.toLocaleString('en')} rows) | ${s.dailySeconds.toFixed(1)} s |
| rollups (${ROLLUPS.map((x) => `\`${x.table}\` ${r.rows[x.table]!.toLocaleString('en')}`).join(', ')} rows) | ${s.rollupSeconds.toFixed(1)} s |
| \`analyze()\` (VACUUM ANALYZE) | ${s.analyzeSeconds.toFixed(1)} s |
| **total** | **${s.totalSeconds.toFixed(1)} s (${Math.round(COUNT / s.totalSeconds).toLocaleString('en')} rows/s)** |

Database size: ${mb(r.sizes.total)} (\`sizeBytes()\`): \`crashes\` ${mb(r.sizes.crashes)} of which indexes ${mb(r.sizes.crashesIndexes)}, daily counts and
rollups ${mb(r.sizes.aggregates)}.

${table}
`;
}

/** Hand-written analysis (plans, proposed fixes) follows this line in the section; a new run keeps it. */
const NOTES_MARKER = '<!-- Hand-written notes below: bench/pg-scale.ts keeps them when it rewrites the figures above. -->';

/** Replaces the section (keeping its notes), or adds it after `## Search` (whose figures it scales up), or at the end. */
function writeSection(text: string): void {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const sectionEnd = (at: number): number => {
    const rest = current.slice(at + 1);
    const end = rest.search(/^## /m);
    return end < 0 ? current.length : at + 1 + end;
  };
  const own = current.search(/^## PostgreSQL at 10 million crashes\s*$/m);
  const search = current.search(/^## Search\s*$/m);
  let next: string;
  if (own >= 0) {
    const old = current.slice(own, sectionEnd(own));
    const notes = old.indexOf(NOTES_MARKER);
    next = current.slice(0, own) + (notes < 0 ? text : `${text}\n${old.slice(notes).trimEnd()}\n`) + sliceAfter(current, sectionEnd(own));
  }
  else if (search >= 0) next = current.slice(0, sectionEnd(search)).trimEnd() + '\n\n' + text + sliceAfter(current, sectionEnd(search));
  else next = `${current.trimEnd()}\n\n${text}`;
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
  process.stderr.write(`wrote the "PostgreSQL at 10 million crashes" section of ${path}\n`);
}

function sliceAfter(text: string, at: number): string {
  return at >= text.length ? '' : `\n${text.slice(at)}`;
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const schema = `mayday_pgscale_${randomBytes(5).toString('hex')}`;
  process.stderr.write(`schema ${schema} at ${PG_URL.replace(/\/\/[^@/]*@/, '//')}: seeding ${COUNT.toLocaleString('en')} crashes\n`);
  // The raw-row checks scan millions of rows; the default 30 s read timeout is for a live site.
  const index = await PgCrashIndex.open({ connectionString: PG_URL, schema, statementTimeoutMs: 600_000 });
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}`, types: NUMBER_TYPES });
  await client.connect();
  try {
    // Session settings for the bulk statements only: no timeout, and memory to group 10M rows without spilling.
    await client.query(`SET statement_timeout = 0; SET work_mem = '256MB'`);
    const seedReport = await seed(index, client);
    const sizeReport = await sizes(index, client);
    const rows = await rowCounts(client);
    process.stderr.write(`seeded in ${seedReport.totalSeconds.toFixed(1)} s (${Math.round(COUNT / seedReport.totalSeconds).toLocaleString('en')} rows/s), ${mb(sizeReport.total)}\n`);

    process.stderr.write('checking the seed\n');
    const count = await index.count();
    if (count !== COUNT) fail(`count() is ${count}, not ${COUNT}`);
    process.stderr.write(`  count() = ${count.toLocaleString('en')}\n`);
    const worstShare = await checkAgainstGenerator(client, 0.015);
    await checkReadBack(index);
    const newestLumen = (await index.productVersions()).find((v) => v.product === 'Lumen')!.version!;
    const rollupChecks = await checkRollups(index, newestLumen);

    process.stderr.write(`timing ${RUNS} runs per query\n`);
    const loadBefore = loadavg();
    const { timings, topSignature } = await timeQueries(index, newestLumen);
    const loadAfter = loadavg();
    const server = (await client.query<{ v: string; b: string }>('SELECT version() AS v, current_setting($1) AS b', ['shared_buffers'])).rows[0]!;
    const text = section({
      seed: seedReport,
      sizes: sizeReport,
      rows,
      timings,
      topSignature,
      worstShare,
      rollupChecks,
      serverVersion: String(server.v),
      sharedBuffers: String(server.b),
      loadBefore,
      loadAfter,
    });
    process.stdout.write(`\n${text}`);
    if (WRITE) writeSection(text);
  } finally {
    await client.end();
    await index.close();
    if (KEEP) process.stderr.write(`kept schema ${schema} (DROP SCHEMA ${schema} CASCADE when done)\n`);
    else {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      process.stderr.write(`dropped schema ${schema}\n`);
    }
  }
}

await main();
