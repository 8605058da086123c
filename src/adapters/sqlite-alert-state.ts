import type Database from 'better-sqlite3';
import type { AlertRecord, AlertStateStore, CounterSample } from '../ports/alert-state.js';
import { ALERT_COLUMNS, ALERT_TABLES, rowValues, toRecord, toSample, type AlertRow, type CounterRow } from './alert-state-rows.js';
import { openSqlite, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [{ version: 1, description: 'alert states and processor counter samples', sql: ALERT_TABLES('INTEGER') }];

/** The alerts' state in the embedded database (beside the job ledger, in the node's database file). */
export class SqliteAlertState implements AlertStateStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): SqliteAlertState {
    return new SqliteAlertState(openSqlite(path, 'alerts', MIGRATIONS));
  }

  async list(): Promise<AlertRecord[]> {
    return (this.db.prepare('SELECT * FROM alert_states ORDER BY key').all() as AlertRow[]).map(toRecord);
  }

  async put(record: AlertRecord): Promise<boolean> {
    const values = rowValues(record);
    if (record.version === 1) {
      return this.db.prepare(`INSERT INTO alert_states (${ALERT_COLUMNS.join(', ')}) VALUES (${ALERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (key) DO NOTHING`).run(...values).changes === 1;
    }
    const sets = ALERT_COLUMNS.slice(1).map((c) => `${c} = ?`).join(', ');
    // One statement decides: SQLite serialises writers, so of two schedulers writing the same version one wins.
    return this.db.prepare(`UPDATE alert_states SET ${sets} WHERE key = ? AND version = ?`).run(...values.slice(1), record.key, record.version - 1).changes === 1;
  }

  async prune(before: number): Promise<number> {
    return this.db.prepare("DELETE FROM alert_states WHERE status IN ('resolved', 'inactive') AND notice IS NULL AND updated_at < ?").run(before).changes;
  }

  async recordCounters(samples: readonly CounterSample[]): Promise<void> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO alert_counters (node_id, at, node_name, processed, failed) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const s of samples) insert.run(s.nodeId, s.at, s.nodeName, s.processed, s.failed);
    })();
  }

  async counters(since: number): Promise<CounterSample[]> {
    return (this.db.prepare('SELECT * FROM alert_counters WHERE at >= ? ORDER BY at, node_id').all(since) as CounterRow[]).map(toSample);
  }

  async pruneCounters(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM alert_counters WHERE at < ?').run(before).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
