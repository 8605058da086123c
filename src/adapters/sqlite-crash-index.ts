import type Database from 'better-sqlite3';
import type {
  AggregateSource,
  CrashIndex,
  CrashListQuery,
  IndexedCrash,
  ProductVersion,
  RetentionQuery,
  SearchQuery,
  SearchResult,
  SignatureQuery,
  SignatureSummary,
  TopCrashersQuery,
  TopCrashersResult,
} from '../ports/crash-index.js';
import { SearchError } from '../ports/crash-index.js';
import type { ProcessedCrash } from '../ports/processed-crash-store.js';
import type { RE2JS } from 're2js';
import type { FieldSpec } from '../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../schema/field-catalog.js';
import {
  COLUMN_FIELDS,
  PRODUCT_VERSION_DAILY,
  ROLLUPS,
  SIGNATURE_PLATFORM_DAILY,
  SIGNATURE_PLATFORM_WEEKLY,
  DAY_MS,
  dailyDeltas,
  dailyKeyOfRow,
  indexedCrashOfRow,
  lastPerCrash,
  rebuildRollupSql,
  correctionDeltas,
  DAY_COUNTS_FROM_ROWS_SQL,
  DAY_COUNTS_SQL,
  DAILY_KEY_COLUMNS,
  DAY_KEYED_TABLES,
  SIGNATURE_DAILY,
  SIGNATURE_FACET_DAILY,
  WEEKLY_ROLLUPS,
  rebuildRollupDaySql,
  rollupTotalsSql,
  rollupDeltas,
  docFieldsOf,
  toIndexRow,
  type DailyDelta,
  type DailyKey,
  type IndexRow,
  type Rollup,
} from './crash-index-layout.js';
import * as queries from './crash-index-queries.js';
import type { Row, SqlDialect } from './crash-index-queries.js';
import { openSqlite, schemaVersionOf, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'crashes table',
    sql: `
      CREATE TABLE crashes (
        crash_id TEXT PRIMARY KEY,
        submitted_at INTEGER NOT NULL,
        processed_at INTEGER NOT NULL,
        product TEXT,
        version TEXT,
        release_channel TEXT,
        os_name TEXT,
        os_version TEXT,
        cpu_arch TEXT,
        reason TEXT,
        address TEXT,
        signature TEXT,
        has_errors INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX crashes_submitted ON crashes (submitted_at DESC);
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at DESC);
      CREATE INDEX crashes_signature ON crashes (signature, submitted_at DESC);
    `,
  },
  {
    version: 2,
    description: 'search: more indexed columns, JSON document for the other searchable fields, daily counts per signature',
    // Crashes indexed before this migration get NULL in the new columns until reprocessed;
    // their daily counts are rebuilt from what the rows have.
    sql: `
      ALTER TABLE crashes ADD COLUMN build_id TEXT;
      ALTER TABLE crashes ADD COLUMN process_type TEXT;
      ALTER TABLE crashes ADD COLUMN os_pretty_version TEXT;
      ALTER TABLE crashes ADD COLUMN cpu_count INTEGER;
      ALTER TABLE crashes ADD COLUMN report_type TEXT;
      ALTER TABLE crashes ADD COLUMN uptime INTEGER;
      ALTER TABLE crashes ADD COLUMN install_age INTEGER;
      ALTER TABLE crashes ADD COLUMN success INTEGER;
      ALTER TABLE crashes ADD COLUMN doc TEXT NOT NULL DEFAULT '{}';
      CREATE TABLE signature_daily (
        product TEXT NOT NULL,
        day INTEGER NOT NULL,
        signature TEXT NOT NULL,
        version TEXT NOT NULL,
        os_name TEXT NOT NULL,
        process_type TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, day, signature, version, os_name, process_type)
      ) WITHOUT ROWID;
      CREATE INDEX signature_daily_signature ON signature_daily (signature, day, count);
      CREATE INDEX signature_daily_day ON signature_daily (day, count);
      INSERT INTO signature_daily (product, day, signature, version, os_name, process_type, count)
        SELECT COALESCE(product, ''), submitted_at / 86400000, COALESCE(signature, ''), COALESCE(version, ''), COALESCE(os_name, ''), '', COUNT(*)
        FROM crashes GROUP BY 1, 2, 3, 4, 5;
    `,
  },
  {
    version: 3,
    description: 'search performance: narrower rollups (platform daily and weekly, product versions), covering indexes',
    // The rollups are filled from the daily counts, which already hold every indexed crash
    // (named one by one, not from ROLLUPS: a rollup added later needs its own migration).
    // The covering indexes replace narrower ones with the same leading columns: a signature
    // page's CPU/reason counts and Super Search's common filters then read the index alone
    // instead of one random crash-table lookup per matching crash.
    sql: `
      CREATE TABLE signature_platform_daily (
        product TEXT NOT NULL,
        day INTEGER NOT NULL,
        signature TEXT NOT NULL,
        os_name TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, day, signature, os_name)
      ) WITHOUT ROWID;
      CREATE INDEX signature_platform_daily_signature ON signature_platform_daily (signature, day, count);
      CREATE INDEX signature_platform_daily_day ON signature_platform_daily (day, signature, os_name, count);
      CREATE TABLE signature_platform_weekly (
        product TEXT NOT NULL,
        week INTEGER NOT NULL,
        signature TEXT NOT NULL,
        os_name TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, week, signature, os_name)
      ) WITHOUT ROWID;
      CREATE INDEX signature_platform_weekly_week ON signature_platform_weekly (week, signature, os_name, count);
      CREATE TABLE product_version_daily (
        product TEXT NOT NULL,
        version TEXT NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, version, day)
      ) WITHOUT ROWID;
      ${[SIGNATURE_PLATFORM_DAILY, SIGNATURE_PLATFORM_WEEKLY, PRODUCT_VERSION_DAILY].map((r) => `${rebuildRollupSql(r)};`).join('\n      ')}
      DROP INDEX IF EXISTS crashes_signature;
      CREATE INDEX crashes_signature ON crashes (signature, submitted_at, product, cpu_arch, reason);
      DROP INDEX IF EXISTS crashes_product_submitted;
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at, os_name, version, process_type, signature);
    `,
  },
  {
    version: 4,
    description: 'signature pages: CPU and reason counts per signature and day (signature_facet_daily), filled from the crashes; daily counts by product and version',
    sql: `
      CREATE TABLE signature_facet_daily (
        signature TEXT NOT NULL,
        day INTEGER NOT NULL,
        product TEXT NOT NULL,
        cpu_arch TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (signature, day, product, cpu_arch, reason)
      ) WITHOUT ROWID;
      CREATE INDEX signature_facet_daily_day ON signature_facet_daily (day);
      ${rebuildRollupSql(SIGNATURE_FACET_DAILY)};
      -- Top crashers of some versions: the daily counts' key leads with the day, not the version.
      CREATE INDEX signature_daily_version ON signature_daily (product, version, day, signature, os_name, process_type, count);
    `,
  },
  {
    version: 5,
    description: 'signature pages with product and version filters, top crashers by build date or report type: indexes that hold what they filter on',
    // A signature page filtered by product and version read every crash of the signature in
    // the range through crashes_signature and looked each one up for its version (~30k
    // lookups for a top signature over 90 days at 200k crashes, ~150 ms per facet): the new
    // index finds just the matching crashes. Top crashers by build date or report type (and
    // their startup shares) filter on build_id, report_type and uptime beside the product
    // and date: the product index now holds them, so those searches read no crash rows.
    sql: `
      CREATE INDEX crashes_signature_version ON crashes (signature, product, version, submitted_at);
      DROP INDEX IF EXISTS crashes_product_submitted;
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at, os_name, version, process_type, signature, report_type, build_id, uptime);
    `,
  },
];


/**
 * SQLite's dialect for the shared queries. SQLite has neither a regular expression nor an
 * ends-with function built in: the adapter registers both (the regular expression is
 * RE2's, linear-time, whole-value; see `registerFunctions`).
 */
export const SQLITE_DIALECT: SqlDialect = {
  name: 'sqlite',
  fields: DEFAULT_FIELD_CATALOG,
  placeholder: () => '?',
  docValue: (spec: FieldSpec) => `json_extract(crashes.doc, '$."${spec.name}"')`,
  listElements: (spec: FieldSpec, alias: string) => `json_each(crashes.doc, '$."${spec.name}"') AS ${alias}`,
  listValue: (alias: string) => `${alias}.value`,
  contains: (expr, p) => `instr(${expr}, ${p}) > 0`,
  startsWith: (expr, p) => `instr(${expr}, ${p}) = 1`,
  endsWith: (expr, p) => `mayday_ends_with(${expr}, ${p})`,
  regex: (expr, p) => `mayday_regex(${expr}, ${p})`,
  // SQLite sorts NULLs as the smallest value; Mayday's order has them largest.
  order: (expr, descending, nullable) => `${expr} ${descending ? 'DESC' : 'ASC'}${nullable ? (descending ? ' NULLS FIRST' : ' NULLS LAST') : ''}`,
  // Unary + is a no-op on any value, but a term wrapped in it cannot use an index. Without
  // it SQLite groups a filtered facet (Super Search: product, platform, 7 days; facet
  // signature) by skip-scanning the whole signature index for its order and looking up
  // every crash (~500 ms at 1M crashes), rather than reading the ~40k matching entries of
  // the covering product index and sorting the terms in a temporary B-tree (~20 ms).
  groupTerm: (expr) => `+${expr}`,
};

export interface SqliteCrashIndexOptions {
  /**
   * The longest one statement may spend matching regular expressions, in ms. SQLite runs
   * on the node's main thread, so a search holds every other request up while it runs:
   * past this it is refused instead. RE2 keeps each match linear; this bounds their sum.
   */
  regexTimeLimitMs?: number;
  /** The node's fields (default: the built-in ones); declared ones are kept in the JSON document. */
  fields?: FieldCatalog;
}

const DEFAULT_REGEX_TIME_LIMIT_MS = 2000;

/** When the running statement must stop matching regular expressions (`performance.now()` time). */
interface RegexDeadline {
  at: number;
}

class RegexTimeLimitExceeded extends Error {}

/** The crash index in an embedded SQLite database. */
export class SqliteCrashIndex implements CrashIndex {
  private readonly insertRow: Database.Statement;
  private readonly previousKey: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly rollupWriters: { rollup: Rollup; add: Database.Statement; dropEmpty: Database.Statement }[];
  private readonly run: queries.RunQuery;
  private readonly dialect: SqlDialect;
  private readonly docFields: readonly FieldSpec[];

  private constructor(
    private readonly db: Database.Database,
    options: SqliteCrashIndexOptions,
  ) {
    const fields = options.fields ?? DEFAULT_FIELD_CATALOG;
    this.dialect = { ...SQLITE_DIALECT, fields };
    this.docFields = docFieldsOf(fields);
    // Crash ids are random, so index writes land all over the B-trees: SQLite's default
    // 2 MB page cache makes each insert into a large index read pages from disk. 64 MB
    // keeps the upper levels and the daily counts in memory (per connection).
    db.pragma('cache_size = -65536');
    const deadline: RegexDeadline = { at: Infinity };
    registerFunctions(db, deadline);
    const columns = [...COLUMN_FIELDS.map((f) => f.column!), 'has_errors', 'doc'];
    const updates = columns.filter((c) => c !== 'crash_id').map((c) => `${c} = excluded.${c}`);
    this.insertRow = db.prepare(
      `INSERT INTO crashes (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (crash_id) DO UPDATE SET ${updates.join(', ')}`,
    );
    this.previousKey = db.prepare(`SELECT ${DAILY_KEY_COLUMNS} FROM crashes WHERE crash_id = ?`);
    this.deleteRow = db.prepare(`DELETE FROM crashes WHERE crash_id = ? RETURNING ${DAILY_KEY_COLUMNS}`);
    this.rollupWriters = [SIGNATURE_DAILY, ...ROLLUPS].map((rollup) => {
      const key = rollup.columns.join(', ');
      return {
        rollup,
        add: db.prepare(
          `INSERT INTO ${rollup.table} (${key}, count) VALUES (${rollup.columns.map(() => '?').join(', ')}, ?) ON CONFLICT (${key}) DO UPDATE SET count = count + excluded.count`,
        ),
        dropEmpty: db.prepare(`DELETE FROM ${rollup.table} WHERE ${rollup.columns.map((c) => `${c} = ?`).join(' AND ')} AND count <= 0`),
      };
    });
    const regexTimeLimitMs = options.regexTimeLimitMs ?? DEFAULT_REGEX_TIME_LIMIT_MS;
    this.run = async (sql, params) => {
      // Statements run synchronously, one at a time: the deadline is this statement's.
      deadline.at = performance.now() + regexTimeLimitMs;
      try {
        return db.prepare(sql).all(...params) as Row[];
      } catch (error) {
        if (error instanceof RegexTimeLimitExceeded) {
          throw new SearchError(`the regular expression search took more than ${regexTimeLimitMs / 1000} s and was stopped: narrow the search (a shorter date range, more filters) or simplify the pattern`);
        }
        throw error;
      } finally {
        deadline.at = Infinity;
      }
    };
  }

  static open(path: string, options: SqliteCrashIndexOptions = {}): SqliteCrashIndex {
    return new SqliteCrashIndex(openSqlite(path, 'crash_index', MIGRATIONS), options);
  }

  async upsert(crash: ProcessedCrash): Promise<void> {
    await this.upsertMany([crash]);
  }

  async upsertMany(crashes: readonly ProcessedCrash[]): Promise<void> {
    const rows = lastPerCrash(crashes).map((crash) => toIndexRow(crash, this.docFields));
    this.db.transaction(() => {
      const previous: DailyKey[] = [];
      for (const row of rows) {
        const old = this.previousKey.get(row.crashId) as Row | undefined;
        if (old) previous.push(dailyKeyOfRow(old));
        this.insertRow.run(...rowValues(row));
      }
      this.applyDailyDeltas(dailyDeltas(previous, rows.map((r) => r.daily)));
    }).immediate();
  }

  async remove(crashIds: readonly string[]): Promise<number> {
    const ids = [...new Set(crashIds)];
    return this.db.transaction(() => {
      const removed: DailyKey[] = [];
      for (const id of ids) {
        const old = this.deleteRow.get(id) as Row | undefined;
        if (old) removed.push(dailyKeyOfRow(old));
      }
      this.applyDailyDeltas(dailyDeltas(removed, []));
      return removed.length;
    }).immediate();
  }

  async crashIds(query: RetentionQuery): Promise<string[]> {
    return queries.retentionCrashIds(this.dialect, this.run, query);
  }

  async daysBefore(beforeDay: number): Promise<number[]> {
    return this.db.prepare('SELECT DISTINCT day FROM signature_daily WHERE day < ? ORDER BY day').pluck().all(beforeDay) as number[];
  }

  async dropDay(day: number): Promise<number> {
    return this.db.transaction(() => {
      const counts = this.db.prepare(DAY_COUNTS_SQL(() => '?')).all(day) as Row[];
      // Weekly rollups lose the day's share; tables keyed by day lose the day's rows.
      this.applyDailyDeltas(correctionDeltas(counts), WEEKLY_ROLLUPS);
      for (const table of DAY_KEYED_TABLES) this.db.prepare(`DELETE FROM ${table.table} WHERE day = ?`).run(day);
      return this.db.prepare('DELETE FROM crashes WHERE submitted_at >= ? AND submitted_at < ?').run(day * DAY_MS, (day + 1) * DAY_MS).changes;
    }).immediate();
  }

  async maintain(now: number): Promise<string> {
    const today = Math.floor(now / DAY_MS);
    const corrected: string[] = [];
    for (const day of [today - 1, today]) {
      const changes = this.db.transaction(() => {
        const stored = this.db.prepare(DAY_COUNTS_SQL(() => '?')).all(day) as Row[];
        const actual = this.db.prepare(DAY_COUNTS_FROM_ROWS_SQL(() => '?')).all(day, day * DAY_MS, (day + 1) * DAY_MS) as Row[];
        const deltas = correctionDeltas(stored, actual);
        this.applyDailyDeltas(deltas, [SIGNATURE_DAILY]);
        let changes = deltas.length;
        for (const check of rollupTotalsSql(day)) {
          const drifted = this.db.prepare(check.stored).pluck().get() !== this.db.prepare(check.expected).pluck().get();
          if (drifted) changes++;
          if (drifted || deltas.length > 0) for (const sql of rebuildRollupDaySql(check.rollup, day)) this.db.prepare(sql).run();
        }
        return changes;
      }).immediate();
      if (changes > 0) corrected.push(`${new Date(day * DAY_MS).toISOString().slice(0, 10)} (${changes} counts)`);
    }
    // SQLite's own advice for long-lived connections: refresh the statistics that need it.
    this.db.pragma('optimize');
    return `daily counts ${corrected.length === 0 ? 'agree with the crashes' : `corrected for ${corrected.join(', ')}`}; statistics refreshed`;
  }

  /** Applies daily count changes to these tables (the daily counts and every rollup); rows that reach 0 go. */
  private applyDailyDeltas(deltas: readonly DailyDelta[], tables: readonly Rollup[] = [SIGNATURE_DAILY, ...ROLLUPS]): void {
    for (const { rollup, add, dropEmpty } of this.rollupWriters) {
      if (!tables.includes(rollup)) continue;
      for (const { values, delta } of rollupDeltas(rollup, deltas)) {
        add.run(...values, delta);
        if (delta < 0) dropEmpty.run(...values);
      }
    }
  }


  async get(crashId: string): Promise<IndexedCrash | undefined> {
    const row = this.db.prepare('SELECT * FROM crashes WHERE crash_id = ?').get(crashId) as Row | undefined;
    return row && indexedCrashOfRow(row);
  }

  async latest(query: CrashListQuery): Promise<IndexedCrash[]> {
    const rows = (
      query.product === undefined
        ? this.db.prepare('SELECT * FROM crashes ORDER BY submitted_at DESC, crash_id LIMIT ? OFFSET ?').all(query.limit, query.offset ?? 0)
        : this.db
            .prepare('SELECT * FROM crashes WHERE product = ? ORDER BY submitted_at DESC, crash_id LIMIT ? OFFSET ?')
            .all(query.product, query.limit, query.offset ?? 0)
    ) as Row[];
    return rows.map(indexedCrashOfRow);
  }

  async count(): Promise<number> {
    return this.db.prepare('SELECT COUNT(*) FROM crashes').pluck().get() as number;
  }

  async search(query: SearchQuery, source: AggregateSource = 'daily'): Promise<SearchResult> {
    return queries.search(this.dialect, this.run, query, source);
  }

  async topCrashers(query: TopCrashersQuery, source: AggregateSource = 'daily'): Promise<TopCrashersResult> {
    return queries.topCrashers(this.dialect, this.run, query, source);
  }

  async signatureSummary(query: SignatureQuery, source: AggregateSource = 'daily'): Promise<SignatureSummary> {
    return queries.signatureSummary(this.dialect, this.run, query, source);
  }

  async productVersions(): Promise<ProductVersion[]> {
    return queries.productVersions(this.run);
  }

  async schemaVersion(): Promise<number> {
    return schemaVersionOf(this.db, 'crash_index');
  }

  /** The crashes table's columns (for the test that schema and adapters agree). */
  async columnNames(): Promise<string[]> {
    return (this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('crashes') as string[]).sort();
  }

  /** Refreshes the planner's statistics (after a bulk load). */
  async analyze(): Promise<void> {
    this.db.exec('ANALYZE');
  }

  /** Bytes on disk (main file; the WAL is checkpointed first). */
  async sizeBytes(): Promise<number> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function rowValues(row: IndexRow): unknown[] {
  return [...COLUMN_FIELDS.map((f) => row.columns[f.column!] ?? null), row.hasErrors ? 1 : 0, JSON.stringify(row.doc)];
}

function registerFunctions(db: Database.Database, deadline: RegexDeadline): void {
  const compiled = new Map<string, RE2JS>();
  db.function('mayday_regex', { deterministic: true }, (value: unknown, pattern: unknown) => {
    if (value === null || pattern === null) return null;
    if (performance.now() > deadline.at) throw new RegexTimeLimitExceeded();
    let re = compiled.get(String(pattern));
    if (!re) {
      // Checked by the query's validation already; compiled again here, once per pattern.
      re = queries.compileSearchRegex(String(pattern));
      if (compiled.size > 100) compiled.clear();
      compiled.set(String(pattern), re);
    }
    return re.testExact(String(value)) ? 1 : 0;
  });
  db.function('mayday_ends_with', { deterministic: true }, (value: unknown, suffix: unknown) => {
    if (value === null || suffix === null) return null;
    return String(value).endsWith(String(suffix)) ? 1 : 0;
  });
}
