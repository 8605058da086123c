import type Database from 'better-sqlite3';
import { type NodeRegistry, type NodeReport, type StatusSample } from '../ports/node-registry.js';
import { openSqlite, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'nodes and status history',
    sql: `
      CREATE TABLE registry_nodes (
        id TEXT PRIMARY KEY,
        last_seen INTEGER NOT NULL,
        report TEXT NOT NULL
      );
      CREATE TABLE status_samples (
        at INTEGER PRIMARY KEY,
        sample TEXT NOT NULL
      );
    `,
  },
];

/** The node registry in the embedded database (one machine's nodes share the file). */
export class SqliteNodeRegistry implements NodeRegistry {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): SqliteNodeRegistry {
    return new SqliteNodeRegistry(openSqlite(path, 'registry', MIGRATIONS));
  }

  async report(node: NodeReport): Promise<void> {
    this.db
      .prepare('INSERT INTO registry_nodes (id, last_seen, report) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, report = excluded.report')
      .run(node.id, node.lastSeen, JSON.stringify(node));
  }

  async nodes(withinMs?: number): Promise<NodeReport[]> {
    const rows = (withinMs === undefined ? this.db.prepare('SELECT report FROM registry_nodes ORDER BY id').pluck().all() : this.db.prepare('SELECT report FROM registry_nodes WHERE last_seen >= ? ORDER BY id').pluck().all(Date.now() - withinMs)) as string[];
    return rows.map((r) => JSON.parse(r) as NodeReport);
  }

  async forget(id: string): Promise<void> {
    this.db.prepare('DELETE FROM registry_nodes WHERE id = ?').run(id);
  }

  async recordSample(sample: StatusSample): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO status_samples (at, sample) VALUES (?, ?)').run(sample.at, JSON.stringify(sample));
  }

  async pruneSamples(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM status_samples WHERE at < ?').run(before).changes;
  }

  async samples(sinceMs: number): Promise<StatusSample[]> {
    const rows = this.db.prepare('SELECT sample FROM status_samples WHERE at >= ? ORDER BY at').pluck().all(sinceMs) as string[];
    return rows.map((r) => JSON.parse(r) as StatusSample);
  }

  async lastSample(): Promise<StatusSample | undefined> {
    const row = this.db.prepare('SELECT sample FROM status_samples ORDER BY at DESC LIMIT 1').pluck().get() as string | undefined;
    return row === undefined ? undefined : (JSON.parse(row) as StatusSample);
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM registry_nodes LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
