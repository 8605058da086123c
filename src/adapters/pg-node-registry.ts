import type pg from 'pg';
import { type NodeRegistry, type NodeReport, type StatusSample } from '../ports/node-registry.js';
import { closePool, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

/**
 * The node registry and status history on PostgreSQL, for nodes on several machines that
 * must see each other on `/status`. Same tables and semantics as the SQLite adapter (the
 * shared contract tests check it). Reports and samples are kept as JSON text, not JSONB,
 * so that they read back with their keys in the order they were written, as on SQLite.
 */

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'nodes and status history',
    sql: `
      CREATE TABLE registry_nodes (
        id TEXT COLLATE "C" PRIMARY KEY,
        last_seen BIGINT NOT NULL,
        report TEXT NOT NULL
      );
      CREATE TABLE status_samples (
        at BIGINT PRIMARY KEY,
        sample TEXT NOT NULL
      );
    `,
  },
];

export type PgNodeRegistryOptions = PgStoreOptions;

export class PgNodeRegistry implements NodeRegistry {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgNodeRegistryOptions): Promise<PgNodeRegistry> {
    return new PgNodeRegistry(await openPgPool(options, 'registry', MIGRATIONS));
  }

  async report(node: NodeReport): Promise<void> {
    await this.pool.query(
      'INSERT INTO registry_nodes (id, last_seen, report) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, report = excluded.report',
      [node.id, node.lastSeen, JSON.stringify(node)],
    );
  }

  async nodes(withinMs?: number): Promise<NodeReport[]> {
    const { rows } =
      withinMs === undefined
        ? await this.pool.query<{ report: string }>('SELECT report FROM registry_nodes ORDER BY id')
        : await this.pool.query<{ report: string }>('SELECT report FROM registry_nodes WHERE last_seen >= $1 ORDER BY id', [Date.now() - withinMs]);
    return rows.map((r) => JSON.parse(r.report) as NodeReport);
  }

  async forget(id: string): Promise<void> {
    await this.pool.query('DELETE FROM registry_nodes WHERE id = $1', [id]);
  }

  async recordSample(sample: StatusSample): Promise<void> {
    // Several web nodes sample the same rounded `at`: the first one's sample stands.
    await this.pool.query('INSERT INTO status_samples (at, sample) VALUES ($1, $2) ON CONFLICT (at) DO NOTHING', [sample.at, JSON.stringify(sample)]);
  }

  async pruneSamples(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM status_samples WHERE at < $1', [before])).rowCount ?? 0;
  }

  async samples(sinceMs: number): Promise<StatusSample[]> {
    const { rows } = await this.pool.query<{ sample: string }>('SELECT sample FROM status_samples WHERE at >= $1 ORDER BY at', [sinceMs]);
    return rows.map((r) => JSON.parse(r.sample) as StatusSample);
  }

  async lastSample(): Promise<StatusSample | undefined> {
    const { rows } = await this.pool.query<{ sample: string }>('SELECT sample FROM status_samples ORDER BY at DESC LIMIT 1');
    return rows[0] === undefined ? undefined : (JSON.parse(rows[0].sample) as StatusSample);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}
