import type { ProcessedCrash } from '../ports/processed-crash-store.js';
import type { IndexedCrash } from '../ports/crash-index.js';
import type { FieldSpec } from '../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../schema/field-catalog.js';

/**
 * What every crash index adapter stores for a processed crash, derived from the processed
 * crash schema so that SQLite and PostgreSQL keep exactly the same thing:
 *
 * - one column per searchable field that declares a `column` (the common fields);
 * - `has_errors` (processor notes not empty), for the crash list;
 * - `doc`: a JSON object with the other searchable fields (lists, free text, protected
 *   data, and every field a deployment declares in its configuration), so adding one is
 *   a schema or configuration edit, not a migration;
 * - one count in the daily aggregates, keyed by day, product, version, platform, process
 *   type and signature, and one in each narrower rollup (`ROLLUPS`, below).
 *
 * Values are stored in a form both databases compare the same way: dates as ms since
 * epoch, booleans as 0/1, lists de-duplicated (so counting rows per element counts
 * crashes), empty lists as absent.
 */

export const DAY_MS = 86_400_000;

/** The built-in searchable fields (a deployment's declared ones are in its catalog). */
export const SEARCHABLE_FIELDS: readonly FieldSpec[] = DEFAULT_FIELD_CATALOG.searchable;
/** Only built-in fields have columns: declared ones always live in `doc`. */
export const COLUMN_FIELDS: readonly FieldSpec[] = SEARCHABLE_FIELDS.filter((f) => f.column !== undefined);
export const DOC_FIELDS: readonly FieldSpec[] = SEARCHABLE_FIELDS.filter((f) => f.column === undefined);

/** The searchable fields of `doc` for a catalog: the built-in ones and every declared one. */
export function docFieldsOf(catalog: FieldCatalog): readonly FieldSpec[] {
  return catalog.searchable.filter((f) => f.column === undefined);
}

/** Columns that always have a value (the rest are nullable, which matters for sort order). */
export const NOT_NULL_COLUMNS: ReadonlySet<string> = new Set(['crash_id', 'submitted_at', 'processed_at']);

/** The dimensions of the daily aggregates besides day and signature; `os_name` is the platform. */
export const DAILY_DIMENSIONS = ['product', 'version', 'os_name', 'process_type'] as const;
export type DailyDimension = (typeof DAILY_DIMENSIONS)[number];

/** A built-in searchable field (the index adapters ask their own catalog). */
export function searchableField(name: string): FieldSpec | undefined {
  return DEFAULT_FIELD_CATALOG.searchableField(name);
}

export type StoredValue = string | number | null;

export interface DailyKey {
  day: number;
  product: string;
  version: string;
  os_name: string;
  process_type: string;
  signature: string;
  /** Only `signature_facet_daily` is keyed by these two (not `signature_daily`). */
  cpu_arch: string;
  reason: string;
}

export interface IndexRow {
  crashId: string;
  /** Column name -> stored value, for every COLUMN_FIELDS column. */
  columns: Record<string, StoredValue>;
  hasErrors: boolean;
  doc: Record<string, unknown>;
  daily: DailyKey;
}

/** Converts a processed crash's value to what the index stores for the field (null: absent). */
export function toStored(spec: FieldSpec, value: unknown): StoredValue | string[] {
  if (value === undefined || value === null) return null;
  switch (spec.type) {
    case 'keyword':
    case 'text':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'integer': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? Math.trunc(n) : null;
    }
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'date': {
      const ms = typeof value === 'number' ? value : Date.parse(String(value));
      return Number.isFinite(ms) ? Math.trunc(ms) : null;
    }
    case 'boolean':
      return value === true || value === 1 || value === 'true' ? 1 : value === false || value === 0 || value === 'false' ? 0 : null;
    case 'list': {
      if (!Array.isArray(value)) return null;
      const unique = [...new Set(value.filter((v) => v !== null && v !== undefined).map(String))];
      return unique.length > 0 ? unique : null;
    }
    case 'object':
      return null;
  }
}

/** Converts a stored value back to the API's form: dates as ISO 8601, booleans as booleans. */
export function fromStored(spec: FieldSpec, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (spec.type) {
    case 'date':
      return new Date(Number(value)).toISOString();
    case 'boolean':
      return value === 1 || value === true || value === '1';
    case 'integer':
    case 'number':
      return Number(value);
    default:
      return value;
  }
}

/** Derives what the index stores from a processed crash (`docFields`: see `docFieldsOf`). */
export function toIndexRow(crash: ProcessedCrash, docFields: readonly FieldSpec[] = DOC_FIELDS): IndexRow {
  const columns: Record<string, StoredValue> = {};
  for (const spec of COLUMN_FIELDS) columns[spec.column!] = toStored(spec, crash[spec.name]) as StoredValue;
  columns.crash_id = crash.uuid;
  // A crash always has a place in time: processed crashes without a submission time (old
  // or hand-made ones) fall back to their processing time.
  columns.processed_at ??= Date.now();
  columns.submitted_at ??= columns.processed_at;
  const doc: Record<string, unknown> = {};
  for (const spec of docFields) {
    const stored = toStored(spec, crash[spec.name]);
    if (stored !== null) doc[spec.name] = stored;
  }
  const notes = crash.processor_notes;
  const key = (column: string): string => {
    const value = columns[column];
    return value === null || value === undefined ? '' : String(value);
  };
  return {
    crashId: crash.uuid,
    columns,
    hasErrors: typeof notes === 'string' ? notes.length > 0 : Array.isArray(notes) && notes.length > 0,
    doc,
    daily: {
      day: Math.floor(Number(columns.submitted_at) / DAY_MS),
      product: key('product'),
      version: key('version'),
      os_name: key('os_name'),
      process_type: key('process_type'),
      signature: key('signature'),
      cpu_arch: key('cpu_arch'),
      reason: key('reason'),
    },
  };
}

/** Same crash id twice in one batch: the last one wins (as sequential upserts would). */
export function lastPerCrash(crashes: readonly ProcessedCrash[]): ProcessedCrash[] {
  const byId = new Map<string, ProcessedCrash>();
  for (const crash of crashes) {
    byId.delete(crash.uuid);
    byId.set(crash.uuid, crash);
  }
  return [...byId.values()];
}

export function dailyKeyString(key: DailyKey): string {
  return JSON.stringify([key.product, key.day, key.signature, key.version, key.os_name, key.process_type, key.cpu_arch, key.reason]);
}

/**
 * Net change of the daily counts for a batch: -1 for each replaced crash's old key, +1 for
 * each new key. Sorted by key so that concurrent writers lock aggregate rows in the same
 * order (no deadlocks on PostgreSQL).
 */
export function dailyDeltas(previous: readonly DailyKey[], next: readonly DailyKey[]): DailyDelta[] {
  const deltas = new Map<string, DailyDelta>();
  const add = (key: DailyKey, delta: number): void => {
    const id = dailyKeyString(key);
    const entry = deltas.get(id);
    if (entry) entry.delta += delta;
    else deltas.set(id, { key, delta });
  };
  for (const key of previous) add(key, -1);
  for (const key of next) add(key, +1);
  return [...deltas.entries()]
    .filter(([, entry]) => entry.delta !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, entry]) => entry);
}

export interface DailyDelta {
  key: DailyKey;
  delta: number;
}

/**
 * The changes that make stored daily counts equal to the counts of the rows: `stored` and
 * `actual` are rows with `signature_daily`'s columns (`actual` grouped from the crashes
 * themselves). Sorted as `dailyDeltas` sorts. With no `actual`, they take a whole day out.
 */
export function correctionDeltas(stored: readonly Record<string, unknown>[], actual: readonly Record<string, unknown>[] = []): DailyDelta[] {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  const byKey = new Map<string, DailyDelta>();
  const add = (row: Record<string, unknown>, sign: number): void => {
    const key = { day: Number(row.day), product: text(row.product), version: text(row.version), os_name: text(row.os_name), process_type: text(row.process_type), signature: text(row.signature), cpu_arch: text(row.cpu_arch), reason: text(row.reason) };
    const id = dailyKeyString(key);
    const entry = byKey.get(id);
    if (entry) entry.delta += sign * Number(row.count);
    else byKey.set(id, { key, delta: sign * Number(row.count) });
  };
  for (const row of stored) add(row, -1);
  for (const row of actual) add(row, +1);
  return [...byKey.entries()]
    .filter(([, entry]) => entry.delta !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, entry]) => entry);
}

/** `signature_daily`'s rows of one day as stored (placeholder: the day). */
export const DAY_COUNTS_SQL = (p: (n: number) => string): string => `SELECT product, day, signature, version, os_name, process_type, count FROM signature_daily WHERE day = ${p(1)}`;

/** `signature_daily`'s rows of one day as the crash rows make them (placeholders: day, from, to). */
export const DAY_COUNTS_FROM_ROWS_SQL = (p: (n: number) => string): string =>
  `SELECT COALESCE(product, '') AS product, ${p(1)} AS day, COALESCE(signature, '') AS signature, COALESCE(version, '') AS version,
     COALESCE(os_name, '') AS os_name, COALESCE(process_type, '') AS process_type, COUNT(*) AS count
   FROM crashes WHERE submitted_at >= ${p(2)} AND submitted_at < ${p(3)}
   GROUP BY COALESCE(product, ''), COALESCE(signature, ''), COALESCE(version, ''), COALESCE(os_name, ''), COALESCE(process_type, '')`;

/**
 * For each rollup, a query of its total count over one day's share (a day-keyed rollup) or
 * over that day's week, and the same total from `signature_daily`: a rollup that drifted
 * from the daily counts shows here (`day` is an integer made here, never input).
 */
export function rollupTotalsSql(day: number): { rollup: Rollup; stored: string; expected: string }[] {
  const week = Math.floor(day / DAYS_PER_WEEK);
  return ROLLUPS.map((rollup) =>
    rollup.columns.includes('week')
      ? {
          rollup,
          stored: `SELECT COALESCE(SUM(count), 0) AS n FROM ${rollup.table} WHERE week = ${week}`,
          expected: `SELECT COALESCE(SUM(count), 0) AS n FROM signature_daily WHERE day >= ${week * DAYS_PER_WEEK} AND day < ${(week + 1) * DAYS_PER_WEEK}`,
        }
      : {
          rollup,
          stored: `SELECT COALESCE(SUM(count), 0) AS n FROM ${rollup.table} WHERE day = ${day}`,
          expected: rollup.from === 'rows' ? `SELECT COUNT(*) AS n FROM crashes WHERE submitted_at >= ${day * DAY_MS} AND submitted_at < ${(day + 1) * DAY_MS}` : `SELECT COALESCE(SUM(count), 0) AS n FROM signature_daily WHERE day = ${day}`,
        },
  );
}

/**
 * Statements that rebuild one day's rollup rows (its week's, for a weekly rollup) from
 * `signature_daily`, which must already be right for that day, or from the crash rows.
 */
export function rebuildRollupDaySql(rollup: Rollup, day: number): string[] {
  const week = Math.floor(day / DAYS_PER_WEEK);
  const weekly = rollup.columns.includes('week');
  const where =
    rollup.from === 'rows'
      ? `WHERE submitted_at >= ${day * DAY_MS} AND submitted_at < ${(day + 1) * DAY_MS}`
      : weekly
        ? `WHERE day >= ${week * DAYS_PER_WEEK} AND day < ${(week + 1) * DAYS_PER_WEEK}`
        : `WHERE day = ${day}`;
  return [`DELETE FROM ${rollup.table} WHERE ${weekly ? `week = ${week}` : `day = ${day}`}`, rebuildRollupSql(rollup, where)];
}

/** The daily key of an already stored row (its columns as the database returns them). */
export function dailyKeyOfRow(row: Record<string, unknown>): DailyKey {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  return {
    day: Math.floor(Number(row.submitted_at) / DAY_MS),
    product: text(row.product),
    version: text(row.version),
    os_name: text(row.os_name),
    process_type: text(row.process_type),
    signature: text(row.signature),
    cpu_arch: text(row.cpu_arch),
    reason: text(row.reason),
  };
}

/** The columns `dailyKeyOfRow` reads from a crash row. */
export const DAILY_KEY_COLUMNS = 'submitted_at, product, version, os_name, process_type, signature, cpu_arch, reason';

/** The crash list's summary of a stored row. */
export function indexedCrashOfRow(row: Record<string, unknown>): IndexedCrash {
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    crashId: String(row.crash_id),
    submittedAt: Number(row.submitted_at),
    processedAt: Number(row.processed_at),
    product: text(row.product),
    version: text(row.version),
    releaseChannel: text(row.release_channel),
    osName: text(row.os_name),
    osVersion: text(row.os_version),
    cpuArch: text(row.cpu_arch),
    reason: text(row.reason),
    address: text(row.address),
    signature: text(row.signature),
    hasErrors: Number(row.has_errors) === 1,
  };
}

/**
 * Narrower rollups of the daily counts, kept beside them by the same writes. The daily
 * table is keyed by six dimensions, so with thousands of rarely seen signatures it has
 * nearly one row per crash; pages that need fewer dimensions read one of these instead:
 *
 * - `signature_platform_daily` (product, day, signature, os_name): top crashers without
 *   a version or process type filter, signature charts, first/last seen;
 * - `signature_platform_weekly` (product, week, signature, os_name): the whole weeks of
 *   long top-crasher ranges (a week is `floor(day / 7)`: epoch-aligned, so a Thursday-to-
 *   Wednesday block; it is an internal bucket, never shown), the partial weeks at either
 *   end come from the daily rollup;
 * - `product_version_daily` (product, version, day): the product and version list.
 *
 * Every rollup's rows are sums of `signature_daily` rows, so the contract tests' "daily
 * equals raw" checks hold them to the raw rows too. A row whose count drops to 0 is
 * deleted, as in the daily table.
 */
export interface Rollup {
  table: string;
  /** Key columns in primary-key order; `week` is derived from the day. */
  columns: readonly RollupColumn[];
  /**
   * Where a rebuild reads it from: the daily counts, or (for columns the daily counts do
   * not have) the crash rows themselves.
   */
  from: 'daily' | 'rows';
}

export type RollupColumn = 'product' | 'day' | 'week' | 'signature' | 'version' | 'os_name' | 'process_type' | 'cpu_arch' | 'reason';

export const DAYS_PER_WEEK = 7;

export const SIGNATURE_PLATFORM_DAILY: Rollup = { table: 'signature_platform_daily', columns: ['product', 'day', 'signature', 'os_name'], from: 'daily' };
export const SIGNATURE_PLATFORM_WEEKLY: Rollup = { table: 'signature_platform_weekly', columns: ['product', 'week', 'signature', 'os_name'], from: 'daily' };
export const PRODUCT_VERSION_DAILY: Rollup = { table: 'product_version_daily', columns: ['product', 'version', 'day'], from: 'daily' };
/**
 * A signature page's CPU and reason facets, which counted the signature's crash rows over
 * the range (hundreds of milliseconds for a top signature at 10 million crashes).
 */
export const SIGNATURE_FACET_DAILY: Rollup = { table: 'signature_facet_daily', columns: ['signature', 'day', 'product', 'cpu_arch', 'reason'], from: 'rows' };
export const ROLLUPS: readonly Rollup[] = [SIGNATURE_PLATFORM_DAILY, SIGNATURE_PLATFORM_WEEKLY, PRODUCT_VERSION_DAILY, SIGNATURE_FACET_DAILY];
/** The daily counts themselves, as a rollup of the rows: how their deltas are summed. */
export const SIGNATURE_DAILY: Rollup = { table: 'signature_daily', columns: ['product', 'day', 'signature', 'version', 'os_name', 'process_type'], from: 'rows' };
/** What dropping a day deletes by day, and what it subtracts the day's counts from. */
export const DAY_KEYED_TABLES: readonly Rollup[] = [SIGNATURE_DAILY, ...ROLLUPS].filter((r) => r.columns.includes('day'));
export const WEEKLY_ROLLUPS: readonly Rollup[] = ROLLUPS.filter((r) => r.columns.includes('week'));

/** The value of one rollup column for a daily key. */
export function rollupValue(key: DailyKey, column: RollupColumn): string | number {
  return column === 'week' ? Math.floor(key.day / DAYS_PER_WEEK) : key[column];
}

/**
 * The net change of a rollup's counts for the daily deltas of a batch: several daily keys
 * fall into one rollup row, and their deltas may cancel (a crash reprocessed into another
 * version keeps its platform row unchanged). Sorted by key, for the same lock order as the
 * daily deltas.
 */
export function rollupDeltas(rollup: Rollup, deltas: readonly DailyDelta[]): { values: (string | number)[]; delta: number }[] {
  const byKey = new Map<string, { values: (string | number)[]; delta: number }>();
  for (const { key, delta } of deltas) {
    const values = rollup.columns.map((c) => rollupValue(key, c));
    const id = JSON.stringify(values);
    const entry = byKey.get(id);
    if (entry) entry.delta += delta;
    else byKey.set(id, { values, delta });
  }
  return [...byKey.entries()]
    .filter(([, entry]) => entry.delta !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, entry]) => entry);
}

/** SQL that fills a rollup from the daily table (migrations: crashes indexed before the rollup existed). */
export function rebuildRollupSql(rollup: Rollup, where = ''): string {
  if (rollup.from === 'rows') {
    const select = rollup.columns.map((c) => (c === 'day' ? `(submitted_at / ${DAY_MS})` : `COALESCE(${c}, '')`));
    return `INSERT INTO ${rollup.table} (${rollup.columns.join(', ')}, count) SELECT ${select.join(', ')}, COUNT(*) FROM crashes ${where} GROUP BY ${select.join(', ')}`;
  }
  const select = rollup.columns.map((c) => (c === 'week' ? `day / ${DAYS_PER_WEEK}` : c));
  return `INSERT INTO ${rollup.table} (${rollup.columns.join(', ')}, count) SELECT ${select.join(', ')}, SUM(count) FROM signature_daily ${where} GROUP BY ${select.join(', ')}`;
}
