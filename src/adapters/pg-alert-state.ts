import type pg from 'pg';
import type { AlertRecord, AlertStateStore, CounterSample } from '../ports/alert-state.js';
import { ALERT_COLUMNS, ALERT_TABLES, rowValues, toRecord, toSample, type AlertRow, type CounterRow } from './alert-state-rows.js';
import { closePool, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

const MIGRATIONS: Migration[] = [{ version: 1, description: 'alert states and processor counter samples', sql: ALERT_TABLES('BIGINT') }];

/**
 * The alerts' state on PostgreSQL, shared by schedulers on any host. A write is one
 * conditional statement on the record's version, which PostgreSQL applies to the row one
 * transaction at a time: of two schedulers making the same transition, one succeeds.
 */
export class PgAlertState implements AlertStateStore {
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgStoreOptions): Promise<PgAlertState> {
    return new PgAlertState(await openPgPool(options, 'alerts', MIGRATIONS));
  }

  async list(): Promise<AlertRecord[]> {
    return (await this.pool.query<AlertRow>('SELECT * FROM alert_states ORDER BY key')).rows.map(toRecord);
  }

  async put(record: AlertRecord): Promise<boolean> {
    const values = rowValues(record);
    if (record.version === 1) {
      const placeholders = ALERT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
      return (await this.pool.query(`INSERT INTO alert_states (${ALERT_COLUMNS.join(', ')}) VALUES (${placeholders}) ON CONFLICT (key) DO NOTHING`, values)).rowCount === 1;
    }
    const sets = ALERT_COLUMNS.slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ');
    const result = await this.pool.query(`UPDATE alert_states SET ${sets} WHERE key = $1 AND version = $${ALERT_COLUMNS.length + 1}`, [...values, record.version - 1]);
    return result.rowCount === 1;
  }

  async prune(before: number): Promise<number> {
    return (await this.pool.query("DELETE FROM alert_states WHERE status IN ('resolved', 'inactive') AND notice IS NULL AND updated_at < $1", [before])).rowCount ?? 0;
  }

  async recordCounters(samples: readonly CounterSample[]): Promise<void> {
    if (samples.length === 0) return;
    await this.pool.query(
      `INSERT INTO alert_counters (node_id, at, node_name, processed, failed)
       SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])
       ON CONFLICT (node_id, at) DO NOTHING`,
      [samples.map((s) => s.nodeId), samples.map((s) => s.at), samples.map((s) => s.nodeName), samples.map((s) => s.processed), samples.map((s) => s.failed)],
    );
  }

  async counters(since: number): Promise<CounterSample[]> {
    return (await this.pool.query<CounterRow>('SELECT * FROM alert_counters WHERE at >= $1 ORDER BY at, node_id', [since])).rows.map(toSample);
  }

  async pruneCounters(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM alert_counters WHERE at < $1', [before])).rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closePool(this.pool);
  }
}
