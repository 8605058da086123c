import type pg from 'pg';
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
import { closePool, inTransaction, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

/**
 * The Operations Dashboard's history on PostgreSQL: the same tables and semantics as the
 * SQLite adapter (the shared contract tests check it), metrics as jsonb. Component names
 * collate as "C" so that they sort by bytes, as on SQLite.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'operations dashboard history',
    sql: `
      CREATE TABLE ops_history (
        component TEXT COLLATE "C" NOT NULL,
        step SMALLINT NOT NULL,
        at BIGINT NOT NULL,
        metrics JSONB NOT NULL,
        PRIMARY KEY (component, step, at)
      );
      CREATE TABLE ops_history_components (
        component TEXT COLLATE "C" PRIMARY KEY,
        rolled_until BIGINT NOT NULL,
        last_at BIGINT NOT NULL
      );
    `,
  },
];

const STEP_MINUTES = { minute: 1, ten_minutes: 10 } as const;

/** The components, as an array for `= ANY(...)`: an index range per component instead of a scan of the table. */
const ALL_COMPONENTS = 'ARRAY(SELECT component FROM ops_history_components)';

export interface PgOpsHistoryOptions extends PgStoreOptions, OpsHistoryRetention {}

export class PgOpsHistory implements OpsHistoryStore {
  private readonly minuteRetentionMs: number;
  private readonly tenMinuteRetentionMs: number;
  /** The `now` of this store's last pruning (see `rollup`). */
  private prunedAt = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly pool: pg.Pool,
    retention: OpsHistoryRetention,
  ) {
    this.minuteRetentionMs = retention.minuteRetentionMs ?? DEFAULT_MINUTE_RETENTION_MS;
    this.tenMinuteRetentionMs = retention.tenMinuteRetentionMs ?? DEFAULT_TEN_MINUTE_RETENTION_MS;
  }

  static async open(options: PgOpsHistoryOptions): Promise<PgOpsHistory> {
    return new PgOpsHistory(await openPgPool(options, 'ops_history', MIGRATIONS), options);
  }

  async record(points: readonly HistoryPoint[]): Promise<void> {
    if (points.length === 0) return;
    // One statement (atomic without a transaction, one round trip): the points, then their
    // components, one row each and in byte order, so that concurrent writers and the
    // rollup lock component rows in the same order and cannot deadlock.
    await this.pool.query(
      `WITH input AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(component, at, metrics)),
       points AS (INSERT INTO ops_history (component, step, at, metrics) SELECT component, 1, at, metrics::jsonb FROM input ON CONFLICT DO NOTHING)
       INSERT INTO ops_history_components AS c (component, rolled_until, last_at)
       SELECT component COLLATE "C", MIN(at) / 600000 * 600000, MAX(at) FROM input GROUP BY component COLLATE "C" ORDER BY component COLLATE "C"
       ON CONFLICT (component) DO UPDATE SET last_at = GREATEST(c.last_at, excluded.last_at)`,
      [points.map((p) => p.component), points.map((p) => floorTo(p.at, MINUTE_MS)), points.map((p) => JSON.stringify(storedMetrics(p.metrics)))],
    );
  }

  async query(query: HistoryQuery): Promise<HistoryAnswer> {
    const resolution = resolutionOf(query);
    const metrics = metricNamesOf(query);
    const params: unknown[] = [STEP_MINUTES[resolution], query.from, query.to];
    const components = query.components === undefined ? ALL_COMPONENTS : `$${params.push([...query.components])}::text[]`;
    const columns = metrics === undefined ? 'metrics' : metrics.map((name, i) => `metrics -> $${params.push(name)}::text AS m${i}`).join(', ');
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT component, at, ${columns} FROM ops_history WHERE component = ANY(${components}) AND step = $1 AND at >= $2 AND at <= $3 ORDER BY component, at`,
      params,
    );
    const points = rows.map((row) => ({
      component: row.component as string,
      at: row.at as number,
      metrics: metrics === undefined ? (row.metrics as Record<string, number>) : picked(metrics, row),
    }));
    return { resolution, stepMs: STEP_MS[resolution], points };
  }

  async rollup(now: number): Promise<RollupResult> {
    const until = finishedBefore(now);
    // Most calls (one a minute) find no finished bucket: one cheap read then, instead of a
    // transaction of six round trips, with pruning left for the next bucket or ten minutes.
    const pruneDue = !(now >= this.prunedAt && now - this.prunedAt < TEN_MINUTES_MS);
    if (!pruneDue && (await this.pool.query('SELECT 1 FROM ops_history_components WHERE rolled_until < $1 LIMIT 1', [until])).rowCount === 0) {
      return { rolledUp: 0, prunedMinute: 0, prunedTenMinutes: 0 };
    }
    const result = await inTransaction(this.pool, async (client) => {
      const result: RollupResult = { rolledUp: 0, prunedMinute: 0, prunedTenMinutes: 0 };
      // Locking the components to roll up makes a concurrent rollup wait, then find them
      // rolled up (READ COMMITTED re-checks `rolled_until` after the wait) and skip them.
      const pending = (
        await client.query<{ component: string }>('SELECT component FROM ops_history_components WHERE rolled_until < $1 ORDER BY component FOR UPDATE', [until])
      ).rows.map((r) => r.component);
      if (pending.length > 0) {
        const { rows } = await client.query<{ component: string; at: number; metrics: Record<string, number> }>(
          `SELECT h.component, h.at, h.metrics FROM ops_history_components c JOIN ops_history h ON h.component = c.component
           WHERE c.component = ANY($1::text[]) AND h.step = 1 AND h.at >= c.rolled_until AND h.at < $2 ORDER BY h.component, h.at`,
          [pending, until],
        );
        const points = rollupPoints(rows);
        if (points.length > 0) {
          const inserted = await client.query(
            `INSERT INTO ops_history (component, step, at, metrics)
             SELECT component, 10, at, metrics::jsonb FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(component, at, metrics) ON CONFLICT DO NOTHING`,
            [points.map((p) => p.component), points.map((p) => p.at), points.map((p) => JSON.stringify(p.metrics))],
          );
          result.rolledUp = inserted.rowCount ?? 0;
        }
        await client.query('UPDATE ops_history_components SET rolled_until = $1 WHERE component = ANY($2::text[])', [until, pending]);
      }
      result.prunedMinute = (await client.query(`DELETE FROM ops_history WHERE component = ANY(${ALL_COMPONENTS}) AND step = 1 AND at < $1`, [now - this.minuteRetentionMs])).rowCount ?? 0;
      const tenCut = now - this.tenMinuteRetentionMs;
      result.prunedTenMinutes = (await client.query(`DELETE FROM ops_history WHERE component = ANY(${ALL_COMPONENTS}) AND step = 10 AND at < $1`, [tenCut])).rowCount ?? 0;
      // A component's last point is then gone at both resolutions.
      await client.query('DELETE FROM ops_history_components WHERE last_at < $1', [tenCut]);
      return result;
    });
    this.prunedAt = now;
    return result;
  }

  async components(): Promise<string[]> {
    return (await this.pool.query<{ component: string }>('SELECT component FROM ops_history_components ORDER BY component')).rows.map((r) => r.component);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM ops_history_components LIMIT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}

function picked(metrics: readonly string[], row: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  metrics.forEach((name, i) => {
    const value = row[`m${i}`];
    if (typeof value === 'number') out[name] = value;
  });
  return out;
}
