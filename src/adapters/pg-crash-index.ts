import pg from 'pg';
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
import type { FieldSpec } from '../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../schema/field-catalog.js';
import { COLUMN_FIELDS, DAILY_KEY_COLUMNS, DAY_KEYED_TABLES, DAY_MS, PRODUCT_VERSION_DAILY, ROLLUPS, SIGNATURE_DAILY, SIGNATURE_FACET_DAILY, SIGNATURE_PLATFORM_DAILY, SIGNATURE_PLATFORM_WEEKLY, WEEKLY_ROLLUPS, dailyDeltas, dailyKeyOfRow, indexedCrashOfRow, lastPerCrash, rebuildRollupSql, correctionDeltas, DAY_COUNTS_FROM_ROWS_SQL, DAY_COUNTS_SQL, rebuildRollupDaySql, rollupTotalsSql, rollupDeltas, docFieldsOf, toIndexRow, type DailyDelta, type IndexRow, type Rollup } from './crash-index-layout.js';
import * as queries from './crash-index-queries.js';
import type { Row, SqlDialect } from './crash-index-queries.js';
import { closePool, DEFAULT_STATEMENT_TIMEOUT_MS, openPgPool, withPooledClient, type Migration, type PgStoreOptions } from './pg-database.js';

/**
 * The crash index on PostgreSQL, for deployments where several nodes share one database.
 * Same tables and semantics as the SQLite adapter (the shared contract tests check it):
 * text columns use the "C" collation so that sorting and comparisons are byte-wise as in
 * SQLite, booleans are stored as 0/1 and dates as ms since epoch, so the shared queries
 * need no per-database casts beyond the dialect.
 */


/**
 * The partition holding one UTC day's crash rows: `crashes_YYYYMMDD` (days outside years
 * 1970 to 9999, which only a hand-made crash can have, by day number). The SQL twin is
 * used by the migration that partitions existing rows, with `d` the day number.
 */
export function partitionName(day: number): string {
  if (day < 0 || day >= MAX_DATED_DAY) return `crashes_day_${day < 0 ? 'm' : ''}${Math.abs(day)}`;
  return `crashes_${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}
const MAX_DATED_DAY = Math.floor(Date.UTC(10000, 0, 1) / DAY_MS);
const PARTITION_NAME_SQL = `CASE WHEN d >= 0 AND d < ${MAX_DATED_DAY} THEN 'crashes_' || to_char(to_timestamp(d * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD') ELSE 'crashes_day_' || CASE WHEN d < 0 THEN 'm' ELSE '' END || abs(d) END`;

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'crashes table with indexed columns and JSON document; daily counts per signature',
    sql: `
      CREATE TABLE crashes (
        crash_id TEXT COLLATE "C" PRIMARY KEY,
        submitted_at BIGINT NOT NULL,
        processed_at BIGINT NOT NULL,
        product TEXT COLLATE "C",
        version TEXT COLLATE "C",
        release_channel TEXT COLLATE "C",
        os_name TEXT COLLATE "C",
        os_version TEXT COLLATE "C",
        cpu_arch TEXT COLLATE "C",
        reason TEXT COLLATE "C",
        address TEXT COLLATE "C",
        signature TEXT COLLATE "C",
        has_errors SMALLINT NOT NULL DEFAULT 0,
        build_id TEXT COLLATE "C",
        process_type TEXT COLLATE "C",
        os_pretty_version TEXT COLLATE "C",
        cpu_count BIGINT,
        report_type TEXT COLLATE "C",
        uptime BIGINT,
        install_age BIGINT,
        success SMALLINT,
        doc JSONB NOT NULL DEFAULT '{}'
      );
      CREATE INDEX crashes_submitted ON crashes (submitted_at);
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at);
      CREATE INDEX crashes_signature ON crashes (signature, submitted_at);
      CREATE TABLE signature_daily (
        product TEXT COLLATE "C" NOT NULL,
        day INTEGER NOT NULL,
        signature TEXT COLLATE "C" NOT NULL,
        version TEXT COLLATE "C" NOT NULL,
        os_name TEXT COLLATE "C" NOT NULL,
        process_type TEXT COLLATE "C" NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, day, signature, version, os_name, process_type) INCLUDE (count)
      );
      CREATE INDEX signature_daily_signature ON signature_daily (signature, day) INCLUDE (product, version, os_name, process_type, count);
      CREATE INDEX signature_daily_day ON signature_daily (day) INCLUDE (signature, product, version, os_name, process_type, count);
    `,
  },
  {
    version: 2,
    description: 'search performance: narrower rollups (platform daily and weekly, product versions), covering indexes',
    // As SQLite's migration 3: rollups filled from the daily counts (named one by one, not
    // from ROLLUPS: a rollup added later needs its own migration); covering indexes (for
    // index-only scans) replace the narrower ones with the same leading columns.
    sql: `
      CREATE TABLE signature_platform_daily (
        product TEXT COLLATE "C" NOT NULL,
        day INTEGER NOT NULL,
        signature TEXT COLLATE "C" NOT NULL,
        os_name TEXT COLLATE "C" NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, day, signature, os_name) INCLUDE (count)
      );
      CREATE INDEX signature_platform_daily_signature ON signature_platform_daily (signature, day) INCLUDE (product, os_name, count);
      CREATE INDEX signature_platform_daily_day ON signature_platform_daily (day) INCLUDE (product, signature, os_name, count);
      CREATE TABLE signature_platform_weekly (
        product TEXT COLLATE "C" NOT NULL,
        week INTEGER NOT NULL,
        signature TEXT COLLATE "C" NOT NULL,
        os_name TEXT COLLATE "C" NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, week, signature, os_name) INCLUDE (count)
      );
      CREATE INDEX signature_platform_weekly_week ON signature_platform_weekly (week) INCLUDE (product, signature, os_name, count);
      CREATE TABLE product_version_daily (
        product TEXT COLLATE "C" NOT NULL,
        version TEXT COLLATE "C" NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (product, version, day) INCLUDE (count)
      );
      ${[SIGNATURE_PLATFORM_DAILY, SIGNATURE_PLATFORM_WEEKLY, PRODUCT_VERSION_DAILY].map((r) => `${rebuildRollupSql(r)};`).join('\n      ')}
      DROP INDEX IF EXISTS crashes_signature;
      CREATE INDEX crashes_signature ON crashes (signature, submitted_at) INCLUDE (product, cpu_arch, reason);
      DROP INDEX IF EXISTS crashes_product_submitted;
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at) INCLUDE (os_name, version, process_type, signature);
    `,
  },
  {
    version: 3,
    description: 'crash rows partitioned by day (native range partitioning on submitted_at), so that retention drops a day at once',
    // A partitioned table's unique keys must hold the partition key: the primary key becomes
    // (crash_id, submitted_at), and the writer keeps one row per crash id itself (`upsertMany`).
    // Existing rows move into one partition per day they cover.
    sql: `
      ALTER TABLE crashes RENAME TO crashes_unpartitioned;
      ALTER TABLE crashes_unpartitioned RENAME CONSTRAINT crashes_pkey TO crashes_unpartitioned_pkey;
      DROP INDEX IF EXISTS crashes_submitted;
      DROP INDEX IF EXISTS crashes_product_submitted;
      DROP INDEX IF EXISTS crashes_signature;
      CREATE TABLE crashes (LIKE crashes_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (submitted_at);
      ALTER TABLE crashes ADD PRIMARY KEY (crash_id, submitted_at);
      CREATE INDEX crashes_submitted ON crashes (submitted_at);
      CREATE INDEX crashes_signature ON crashes (signature, submitted_at) INCLUDE (product, cpu_arch, reason);
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at) INCLUDE (os_name, version, process_type, signature);
      DO $$
      DECLARE d BIGINT;
      BEGIN
        FOR d IN SELECT DISTINCT floor(submitted_at / ${DAY_MS}.0)::bigint FROM crashes_unpartitioned LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF crashes FOR VALUES FROM (%s) TO (%s)', ${PARTITION_NAME_SQL}, d * ${DAY_MS}, (d + 1) * ${DAY_MS});
        END LOOP;
      END $$;
      INSERT INTO crashes SELECT * FROM crashes_unpartitioned;
      DROP TABLE crashes_unpartitioned;
    `,
  },
  {
    version: 4,
    description: 'signature pages: CPU and reason counts per signature and day (signature_facet_daily), filled from the crashes; daily counts by product and version',
    sql: `
      CREATE TABLE signature_facet_daily (
        signature TEXT COLLATE "C" NOT NULL,
        day INTEGER NOT NULL,
        product TEXT COLLATE "C" NOT NULL,
        cpu_arch TEXT COLLATE "C" NOT NULL,
        reason TEXT COLLATE "C" NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (signature, day, product, cpu_arch, reason) INCLUDE (count)
      );
      CREATE INDEX signature_facet_daily_day ON signature_facet_daily (day);
      ${rebuildRollupSql(SIGNATURE_FACET_DAILY)};
      -- Top crashers of some versions: the daily counts' key leads with the day, not the version.
      CREATE INDEX signature_daily_version ON signature_daily (product, version, day) INCLUDE (signature, os_name, process_type, count);
    `,
  },
  {
    version: 5,
    description: 'signature pages with product and version filters, top crashers by build date or report type: indexes that hold what they filter on',
    // As SQLite's migration 5: a signature's crashes by product and version, and the product
    // index's covered columns extended to what top crashers by build date or report type
    // (and their startup shares) filter on, for index-only scans.
    sql: `
      CREATE INDEX crashes_signature_version ON crashes (signature, product, version, submitted_at);
      DROP INDEX IF EXISTS crashes_product_submitted;
      CREATE INDEX crashes_product_submitted ON crashes (product, submitted_at) INCLUDE (os_name, version, process_type, signature, report_type, build_id, uptime);
    `,
  },
];

export const PG_DIALECT: SqlDialect = {
  name: 'postgresql',
  fields: DEFAULT_FIELD_CATALOG,
  placeholder: (n) => `$${n}`,
  docValue: (spec: FieldSpec) => {
    const text = `(crashes.doc->>'${spec.name}')`;
    switch (spec.type) {
      case 'integer':
      case 'date':
      case 'boolean':
        return `${text}::bigint`;
      case 'number':
        return `${text}::double precision`;
      default:
        return `${text} COLLATE "C"`;
    }
  },
  listElements: (spec: FieldSpec, alias: string) => `jsonb_array_elements_text(crashes.doc->'${spec.name}') AS ${alias}(value)`,
  listValue: (alias: string) => `(${alias}.value COLLATE "C")`,
  contains: (expr, p) => `strpos(${expr}, ${p}) > 0`,
  startsWith: (expr, p) => `starts_with(${expr}, ${p})`,
  endsWith: (expr, p) => `right(${expr}, length(${p})) = ${p}`,
  // The pattern compiled alone with RE2 (no backreferences or lookaround, balanced
  // parentheses), so wrapping it cannot change what it means; the statement timeout bounds
  // PostgreSQL's own engine.
  regex: (expr, p) => `${expr} ~ ('^(?:' || ${p} || ')$')`,
  // PostgreSQL already sorts NULLs as the largest value.
  order: (expr, descending) => `${expr} ${descending ? 'DESC' : 'ASC'}`,
  groupTerm: (expr) => expr,
};

/**
 * `statementTimeoutMs` is the longest a read (search, top crashers, signature summary) may
 * run before PostgreSQL cancels it and the query is refused; writes and migrations are not
 * limited. With a shared `pool`, the pool's own timeout applies (`createPgPool`).
 */
export type PgCrashIndexOptions = PgStoreOptions & {
  /** The node's fields (default: the built-in ones); declared ones are kept in the JSON document. */
  fields?: FieldCatalog;
};

/** Days ahead whose partitions the maintenance job creates, so that no write waits for one. */
const PARTITIONS_AHEAD = 7;

function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** "no partition of relation found for row" (a check violation). */
const NO_PARTITION_FOR_ROW = '23514';

/** PostgreSQL's `query_canceled`, which a statement timeout raises. */
const QUERY_CANCELED = '57014';

/** Lock buckets for writers of the same crash ids (two processors given the same crash). */
const LOCK_BUCKETS = 256;
const LOCK_NAMESPACE = 0x6d61;

export class PgCrashIndex implements CrashIndex {
  private readonly run: queries.RunQuery;
  /** Days whose partition this process has seen or made. */
  private readonly knownDays = new Set<number>();
  private readonly dialect: SqlDialect;
  private readonly docFields: readonly FieldSpec[];

  private constructor(
    private readonly pool: pg.Pool,
    statementTimeoutMs: number,
    fields: FieldCatalog,
  ) {
    this.dialect = { ...PG_DIALECT, fields };
    this.docFields = docFieldsOf(fields);
    this.run = async (sql, params) => {
      try {
        // Searched text is cleaned as stored text is (see `withoutNul`): "a\0b" finds what was stored as "a\uFFFDb".
        return (await pool.query(sql, params.map(cleanParam))).rows as Row[];
      } catch (error) {
        const code = (error as { code?: string }).code;
        // PostgreSQL's regular expressions are not RE2's: a pattern RE2 accepted may still fail here.
        if (code === '2201B') throw new SearchError(`invalid regular expression: ${(error as Error).message}`);
        if (code === QUERY_CANCELED) {
          throw new SearchError(`the query took more than ${statementTimeoutMs / 1000} s and was stopped: narrow it (a shorter date range, more filters, fewer facets)`);
        }
        throw error;
      }
    };
  }

  static async open(options: PgCrashIndexOptions): Promise<PgCrashIndex> {
    const pool = await openPgPool(options, 'crash_index', MIGRATIONS);
    return new PgCrashIndex(pool, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS, options.fields ?? DEFAULT_FIELD_CATALOG);
  }

  async upsert(crash: ProcessedCrash): Promise<void> {
    await this.upsertMany([crash]);
  }

  async upsertMany(crashes: readonly ProcessedCrash[]): Promise<void> {
    const rows = lastPerCrash(crashes).map((crash) => toIndexRow(crash, this.docFields)).map(withoutNul);
    if (rows.length === 0) return;
    await this.ensureDays(rows.map((r) => r.daily.day));
    try {
      await this.writeRows(rows);
    } catch (error) {
      // A day's partition dropped (retention) after this process saw it: create it again.
      if ((error as { code?: string }).code !== NO_PARTITION_FOR_ROW) throw error;
      this.knownDays.clear();
      await this.ensureDays(rows.map((r) => r.daily.day));
      await this.writeRows(rows);
    }
  }

  private async writeRows(rows: readonly IndexRow[]): Promise<void> {
    const ids = rows.map((r) => r.crashId);
    await inTransaction(this.pool, async (client) => {
      await lockCrashIds(client, ids);
      const stored = (await client.query(`SELECT crash_id, ${DAILY_KEY_COLUMNS} FROM crashes WHERE crash_id = ANY($1::text[])`, [ids])).rows as Row[];
      const previous = stored.map((row) => dailyKeyOfRow(row));
      // The primary key is (crash_id, submitted_at): a crash whose submission time changed
      // (one without a submission time falls back to its processing time) would keep its
      // old row beside the new one.
      const submittedAt = new Map(rows.map((r) => [r.crashId, Number(r.columns.submitted_at)]));
      const moved = stored.filter((row) => Number(row.submitted_at) !== submittedAt.get(String(row.crash_id)));
      if (moved.length > 0) {
        await client.query('DELETE FROM crashes c USING unnest($1::text[], $2::int8[]) AS m(id, at) WHERE c.crash_id = m.id AND c.submitted_at = m.at', [
          moved.map((r) => r.crash_id),
          moved.map((r) => r.submitted_at),
        ]);
      }

      const columns = COLUMN_FIELDS.map((f) => f.column!);
      const arrays: unknown[][] = [...columns.map((c) => rows.map((r) => r.columns[c] ?? null)), rows.map((r) => (r.hasErrors ? 1 : 0)), rows.map((r) => JSON.stringify(r.doc, docReplacer))];
      const types = [...COLUMN_FIELDS.map((f) => (f.type === 'keyword' || f.type === 'text' ? 'text' : f.type === 'number' ? 'float8' : 'int8')), 'int2', 'jsonb'];
      const names = [...columns, 'has_errors', 'doc'];
      const updates = names.filter((c) => c !== 'crash_id' && c !== 'submitted_at').map((c) => `${c} = excluded.${c}`);
      await client.query(
        `INSERT INTO crashes (${names.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
         ON CONFLICT (crash_id, submitted_at) DO UPDATE SET ${updates.join(', ')}`,
        arrays,
      );
      await applyDailyDeltas(client, dailyDeltas(previous, rows.map((r) => r.daily)));
    });
  }

  async remove(crashIds: readonly string[]): Promise<number> {
    const ids = [...new Set(crashIds.map(clean))];
    if (ids.length === 0) return 0;
    let removed = 0;
    await inTransaction(this.pool, async (client) => {
      await lockCrashIds(client, ids);
      const rows = (await client.query(`DELETE FROM crashes WHERE crash_id = ANY($1::text[]) RETURNING ${DAILY_KEY_COLUMNS}`, [ids])).rows as Row[];
      removed = rows.length;
      await applyDailyDeltas(client, dailyDeltas(rows.map(dailyKeyOfRow), []));
    });
    return removed;
  }

  async crashIds(query: RetentionQuery): Promise<string[]> {
    return queries.retentionCrashIds(this.dialect, this.run, query);
  }

  async daysBefore(beforeDay: number): Promise<number[]> {
    return (await partitionDays(this.pool)).filter((day) => day < beforeDay);
  }

  async dropDay(day: number): Promise<number> {
    let removed = 0;
    await inTransaction(this.pool, async (client) => {
      await lockAllCrashIds(client);
      const counts = (await client.query(DAY_COUNTS_SQL((n) => `$${n}`), [day])).rows as Row[];
      removed = counts.reduce((n, row) => n + Number(row.count), 0);
      // Weekly rollups lose the day's share; tables keyed by day lose the day's rows.
      await applyDailyDeltas(client, correctionDeltas(counts), WEEKLY_ROLLUPS);
      for (const table of DAY_KEYED_TABLES) await client.query(`DELETE FROM ${table.table} WHERE day = $1`, [day]);
      await client.query(`DROP TABLE IF EXISTS ${quoteIdent(partitionName(day))}`);
    });
    this.knownDays.delete(day);
    return removed;
  }

  async maintain(now: number): Promise<string> {
    const today = Math.floor(now / DAY_MS);
    await this.ensurePartitions(today * DAY_MS, (today + PARTITIONS_AHEAD + 1) * DAY_MS);
    const corrected: string[] = [];
    for (const day of [today - 1, today]) {
      const changes = await this.reconcileDay(day);
      if (changes > 0) corrected.push(`${dayText(day)} (${changes} counts)`);
    }
    // Autovacuum analyzes each partition but never the partitioned table itself, whose
    // statistics the planner uses for queries over many days.
    await inTransaction(this.pool, async (client) => {
      await client.query('ANALYZE crashes');
    });
    return `partitions ready to ${dayText(today + PARTITIONS_AHEAD)}; daily counts ${corrected.length === 0 ? 'agree with the crashes' : `corrected for ${corrected.join(', ')}`}; statistics refreshed`;
  }

  /** Makes one day's daily counts (and rollups) those of its crash rows; returns how many counts changed. */
  private async reconcileDay(day: number): Promise<number> {
    let changes = 0;
    await inTransaction(this.pool, async (client) => {
      await lockAllCrashIds(client);
      const stored = (await client.query(DAY_COUNTS_SQL((n) => `$${n}`), [day])).rows as Row[];
      const actual = (await client.query(DAY_COUNTS_FROM_ROWS_SQL((n) => (n === 1 ? '$1::int' : `$${n}::int8`)), [day, day * DAY_MS, (day + 1) * DAY_MS])).rows as Row[];
      const deltas = correctionDeltas(stored, actual);
      changes = deltas.length;
      await applyDailyDeltas(client, deltas, [SIGNATURE_DAILY]);
      for (const check of rollupTotalsSql(day)) {
        const total = async (sql: string): Promise<number> => Number(((await client.query(sql)).rows[0] as Row).n);
        const drifted = (await total(check.stored)) !== (await total(check.expected));
        if (drifted) changes++;
        if (drifted || deltas.length > 0) for (const sql of rebuildRollupDaySql(check.rollup, day)) await client.query(sql);
      }
    });
    return changes;
  }

  /**
   * Creates the partitions of these days (and of the days from `fromMs` to `toMs`, for bulk
   * loads) where they are missing. Partitions are created under one advisory lock, in their
   * own short transaction: creating one locks the parent table, which the writers' long
   * transactions must not hold up.
   */
  async ensurePartitions(fromMs: number, toMs: number): Promise<void> {
    const days: number[] = [];
    for (let day = Math.floor(fromMs / DAY_MS); day * DAY_MS < toMs; day++) days.push(day);
    await this.ensureDays(days);
  }

  private async ensureDays(days: readonly number[]): Promise<void> {
    const missing = [...new Set(days)].filter((day) => !this.knownDays.has(day));
    if (missing.length === 0) return;
    const created: number[] = [];
    // A write, not a read: the reads' statement timeout is not for it (see `inTransaction`).
    await inTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, -1)`);
      const existing = new Set(await partitionDays(client));
      for (const day of existing) this.knownDays.add(day);
      for (const day of missing.filter((d) => !existing.has(d)).sort((a, b) => a - b)) {
        await client.query(`CREATE TABLE ${quoteIdent(partitionName(day))} PARTITION OF crashes FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`);
        created.push(day);
      }
    });
    for (const day of created) this.knownDays.add(day);
  }

  async get(crashId: string): Promise<IndexedCrash | undefined> {
    const rows = await this.run('SELECT * FROM crashes WHERE crash_id = $1', [crashId]);
    return rows[0] && indexedCrashOfRow(rows[0]);
  }

  async latest(query: CrashListQuery): Promise<IndexedCrash[]> {
    const rows =
      query.product === undefined
        ? await this.run('SELECT * FROM crashes ORDER BY submitted_at DESC, crash_id LIMIT $1 OFFSET $2', [query.limit, query.offset ?? 0])
        : await this.run('SELECT * FROM crashes WHERE product = $1 ORDER BY submitted_at DESC, crash_id LIMIT $2 OFFSET $3', [query.product, query.limit, query.offset ?? 0]);
    return rows.map(indexedCrashOfRow);
  }

  async count(): Promise<number> {
    return Number((await this.run('SELECT COUNT(*) AS n FROM crashes', []))[0]!.n);
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
    const rows = await this.run(`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = 'crash_index'`, []);
    return Number(rows[0]!.v);
  }

  async columnNames(): Promise<string[]> {
    const rows = await this.run(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'crashes'`, []);
    return rows.map((r) => String(r.name)).sort();
  }

  /** Refreshes statistics and the visibility map (index-only scans) after a bulk load. */
  async analyze(): Promise<void> {
    await withPooledClient(this.pool, async (client, markBroken) => {
      try {
        // Maintenance is not a read to time out (VACUUM cannot run in a transaction, hence SET and RESET).
        await client.query('SET statement_timeout = 0');
        await client.query('VACUUM ANALYZE crashes');
        await client.query('VACUUM ANALYZE signature_daily');
        for (const rollup of ROLLUPS) await client.query(`VACUUM ANALYZE ${rollup.table}`);
      } finally {
        // A connection left without its timeout is not given back.
        await client.query('RESET statement_timeout').catch((error: unknown) => markBroken(error instanceof Error ? error : new Error(String(error))));
      }
    });
  }

  async sizeBytes(): Promise<number> {
    const rows = await this.run(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`,
      [],
    );
    return Number(rows[0]!.n);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, which a minidump's strings (module names,
 * thread names, annotations) may contain: such a crash failed to index at all. Each NUL
 * becomes U+FFFD here, as a decoder marks a character it cannot represent; the processed
 * crash itself keeps the original. The document is cleaned as it is serialised (`docReplacer`).
 */
function withoutNul(row: IndexRow): IndexRow {
  const columns: IndexRow['columns'] = {};
  for (const [name, value] of Object.entries(row.columns)) columns[name] = typeof value === 'string' ? clean(value) : value;
  const daily = Object.fromEntries(Object.entries(row.daily).map(([k, v]) => [k, typeof v === 'string' ? clean(v) : v])) as unknown as IndexRow['daily'];
  return { ...row, crashId: clean(row.crashId), columns, daily };
}

function clean(value: string): string {
  return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

function cleanParam(value: unknown): unknown {
  if (typeof value === 'string') return clean(value);
  if (Array.isArray(value)) return value.map(cleanParam);
  return value;
}

/** For the document, cleaned as it is serialised (see `withoutNul`). */
function docReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? clean(value) : value;
}

/**
 * Writers of the same crash ids serialise here, so the old daily key a writer reads is the
 * one its write replaces (buckets, sorted: a bounded number of locks, no deadlock).
 */
async function lockCrashIds(client: pg.PoolClient, ids: readonly string[]): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, b) FROM (SELECT DISTINCT abs(hashtext(id)) % ${LOCK_BUCKETS} AS b FROM unnest($1::text[]) AS id) AS buckets ORDER BY b`,
    [ids],
  );
}

/** Every bucket of `lockCrashIds`: waits out the writers of any crash (a whole day's counts change). */
async function lockAllCrashIds(client: pg.PoolClient): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, b) FROM generate_series(0, ${LOCK_BUCKETS - 1}) AS b ORDER BY b`);
}

/** Applies daily count changes to these tables (the daily counts and every rollup); rows that reach 0 go. */
async function applyDailyDeltas(client: pg.PoolClient, deltas: readonly DailyDelta[], tables: readonly Rollup[] = [SIGNATURE_DAILY, ...ROLLUPS]): Promise<void> {
  for (const rollup of tables) {
    const changes = rollupDeltas(rollup, deltas);
    if (changes.length === 0) continue;
    const key = rollup.columns.join(', ');
    const types = rollup.columns.map((c) => (c === 'day' || c === 'week' ? 'int' : 'text'));
    await client.query(
      `INSERT INTO ${rollup.table} (${key}, count) SELECT * FROM unnest(${[...types, 'int'].map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
       ON CONFLICT (${key}) DO UPDATE SET count = ${rollup.table}.count + excluded.count`,
      [...rollup.columns.map((_, i) => changes.map((c) => c.values[i])), changes.map((c) => c.delta)],
    );
    const emptied = changes.filter((c) => c.delta < 0);
    if (emptied.length > 0) {
      // Only the rows this batch lowered can have reached zero.
      await client.query(
        `DELETE FROM ${rollup.table} WHERE count <= 0 AND (${key}) IN (SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}))`,
        rollup.columns.map((_, i) => emptied.map((c) => c.values[i])),
      );
    }
  }
}

/** The days that have a partition, from the catalog (each partition's lower bound). */
async function partitionDays(client: pg.Pool | pg.PoolClient): Promise<number[]> {
  const rows = (
    await client.query(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'crashes'::regclass`,
    )
  ).rows as Row[];
  return rows
    .map((r) => /FROM \('?(-?\d+)'?\)/.exec(String(r.bound)))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Math.floor(Number(m[1]) / DAY_MS))
    .sort((a, b) => a - b);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `work` in one transaction on one pooled connection: committed, or rolled back on any error. */
async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  await withPooledClient(pool, async (client, markBroken) => {
    try {
      // Writes wait for each other's locks and may be large: the reads' timeout is not theirs.
      await client.query('BEGIN; SET LOCAL statement_timeout = 0');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => markBroken(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))));
      throw error;
    }
  });
}
