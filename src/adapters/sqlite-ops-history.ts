import type Database from 'better-sqlite3';
import {
  DEFAULT_MINUTE_RETENTION_MS,
  DEFAULT_TEN_MINUTE_RETENTION_MS,
  MINUTE_MS,
  STEP_MS,
  TEN_MINUTES_MS,
  finishedBefore,
  floorTo,
  metricNamesOf,
  resolutionOf,
  rollupPoints,
  storedMetrics,
  type HistoryAnswer,
  type HistoryPoint,
  type HistoryQuery,
  type OpsHistoryRetention,
  type OpsHistoryStore,
  type RollupResult,
} from '../ports/ops-history.js';
import { openSqlite, type Migration } from './sqlite-database.js';

/**
 * `step` is the resolution in minutes (1 or 10). A rowid table with a unique index, not a
 * WITHOUT ROWID table clustered on the key: a point's JSON (~1 KB for a node with every
 * role) is past what a WITHOUT ROWID page keeps inline, and each row then spilled into an
 * overflow page (3 times the file, half the read speed in bench/ops-history.ts).
 * `ops_history_components` lists the components (neither engine can list the distinct
 * leading keys of an index cheaply) and how far each is rolled up.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'operations dashboard history',
    sql: `
      CREATE TABLE ops_history (
        component TEXT NOT NULL,
        step INTEGER NOT NULL,
        at INTEGER NOT NULL,
        metrics TEXT NOT NULL
      );
      CREATE UNIQUE INDEX ops_history_key ON ops_history (component, step, at);
      CREATE TABLE ops_history_components (
        component TEXT PRIMARY KEY,
        rolled_until INTEGER NOT NULL,
        last_at INTEGER NOT NULL
      );
    `,
  },
];

const STEP_MINUTES = { minute: 1, ten_minutes: 10 } as const;

/** The Operations Dashboard's history in the embedded database (beside the node registry, in the node's database file). */
export class SqliteOpsHistory implements OpsHistoryStore {
  private readonly minuteRetentionMs: number;
  private readonly tenMinuteRetentionMs: number;
  private readonly sql: ReturnType<typeof statements>;

  private constructor(
    private readonly db: Database.Database,
    retention: OpsHistoryRetention,
  ) {
    this.minuteRetentionMs = retention.minuteRetentionMs ?? DEFAULT_MINUTE_RETENTION_MS;
    this.tenMinuteRetentionMs = retention.tenMinuteRetentionMs ?? DEFAULT_TEN_MINUTE_RETENTION_MS;
    this.sql = statements(db);
  }

  static open(path: string, retention: OpsHistoryRetention = {}): SqliteOpsHistory {
    return new SqliteOpsHistory(openSqlite(path, 'ops_history', MIGRATIONS), retention);
  }

  async record(points: readonly HistoryPoint[]): Promise<void> {
    if (points.length === 0) return;
    const { insert, upsert } = this.sql;
    const span = new Map<string, { first: number; last: number }>();
    this.db.transaction(() => {
      for (const point of points) {
        const at = floorTo(point.at, MINUTE_MS);
        insert.run(point.component, 1, at, JSON.stringify(storedMetrics(point.metrics)));
        const seen = span.get(point.component);
        span.set(point.component, seen ? { first: Math.min(seen.first, at), last: Math.max(seen.last, at) } : { first: at, last: at });
      }
      // A new component is rolled up from the bucket of its batch's earliest point on.
      for (const [component, { first, last }] of span) upsert.run(component, floorTo(first, TEN_MINUTES_MS), last);
    })();
  }

  async query(query: HistoryQuery): Promise<HistoryAnswer> {
    const resolution = resolutionOf(query);
    const metrics = metricNamesOf(query);
    const components = query.components === undefined ? (this.sql.components.all() as string[]) : byteOrder(query.components);
    // With a metric filter SQLite reads just those values out of each row's JSON, so the
    // JavaScript side parses no JSON at all.
    const columns = metrics === undefined ? 'metrics' : metrics.map((_, i) => `json_extract(metrics, ?) AS m${i}`).join(', ');
    const paths = metrics?.map((name) => `$."${name}"`) ?? [];
    const statement = this.db.prepare(`SELECT at, ${columns} FROM ops_history WHERE component = ? AND step = ? AND at >= ? AND at <= ? ORDER BY at`);
    const points: HistoryPoint[] = [];
    for (const component of components) {
      const rows = statement.all(...paths, component, STEP_MINUTES[resolution], query.from, query.to) as Record<string, unknown>[];
      for (const row of rows) {
        points.push({ component, at: row.at as number, metrics: metrics === undefined ? (JSON.parse(row.metrics as string) as Record<string, number>) : picked(metrics, row) });
      }
    }
    return { resolution, stepMs: STEP_MS[resolution], points };
  }

  async rollup(now: number): Promise<RollupResult> {
    const until = finishedBefore(now);
    const minuteCut = now - this.minuteRetentionMs;
    const tenCut = now - this.tenMinuteRetentionMs;
    const { pending, minutes, insert, advance, components, prune, forget } = this.sql;
    // One write transaction: two nodes of one machine running it together roll each bucket once.
    return this.db
      .transaction((): RollupResult => {
        const result: RollupResult = { rolledUp: 0, prunedMinute: 0, prunedTenMinutes: 0 };
        for (const { component, rolled_until } of pending.all(until) as { component: string; rolled_until: number }[]) {
          const rows = (minutes.all(component, rolled_until, until) as { at: number; metrics: string }[]).map((r) => ({ component, at: r.at, metrics: JSON.parse(r.metrics) as Record<string, number> }));
          for (const point of rollupPoints(rows)) result.rolledUp += insert.run(component, 10, point.at, JSON.stringify(point.metrics)).changes;
          advance.run(until, component);
        }
        // Per component, so that each delete is a range of the key's index, not a scan.
        for (const component of components.all() as string[]) {
          result.prunedMinute += prune.run(component, 1, minuteCut).changes;
          result.prunedTenMinutes += prune.run(component, 10, tenCut).changes;
        }
        // A component's last point is then gone at both resolutions.
        forget.run(tenCut);
        return result;
      })
      .immediate();
  }

  async components(): Promise<string[]> {
    return this.sql.components.all() as string[];
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM ops_history_components LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** The fixed statements, prepared once per store. */
function statements(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO ops_history (component, step, at, metrics) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    upsert: db.prepare('INSERT INTO ops_history_components (component, rolled_until, last_at) VALUES (?, ?, ?) ON CONFLICT (component) DO UPDATE SET last_at = max(last_at, excluded.last_at)'),
    components: db.prepare('SELECT component FROM ops_history_components ORDER BY component').pluck(),
    pending: db.prepare('SELECT component, rolled_until FROM ops_history_components WHERE rolled_until < ? ORDER BY component'),
    minutes: db.prepare('SELECT at, metrics FROM ops_history WHERE component = ? AND step = 1 AND at >= ? AND at < ? ORDER BY at'),
    advance: db.prepare('UPDATE ops_history_components SET rolled_until = ? WHERE component = ?'),
    prune: db.prepare('DELETE FROM ops_history WHERE component = ? AND step = ? AND at < ?'),
    forget: db.prepare('DELETE FROM ops_history_components WHERE last_at < ?'),
  };
}

/** Distinct, in byte order (how both engines order TEXT here), whatever order the caller gave. */
function byteOrder(components: readonly string[]): string[] {
  return [...new Set(components)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function picked(metrics: readonly string[], row: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  metrics.forEach((name, i) => {
    const value = row[`m${i}`];
    if (typeof value === 'number') out[name] = value;
  });
  return out;
}
