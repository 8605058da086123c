import type pg from 'pg';
import { type NodeRegistry, type NodeReport, type StatusSample } from '../ports/node-registry.js';
import { closePool, openPgPool, withPooledClient, type Migration, type PgStoreOptions } from './pg-database.js';

/**
 * The node registry and status history on PostgreSQL, for nodes on several machines that
 * must see each other on `/status`. Same tables and semantics as the SQLite adapter (the
 * shared contract tests check it). Reports and samples are kept as JSON text, not JSONB,
 * so that they read back with their keys in the order they were written, as on SQLite.
 *
 * Nodes here run on several machines whose clocks disagree, so a report's own `lastSeen`
 * (the reporting node's clock) cannot be compared with a reader's `Date.now()`: a few
 * seconds of skew would make a live node look down, or a dead one up for longer. The
 * `last_seen` column therefore holds the database server's time of the report, and every
 * read measures ages on that one clock and hands each node back on the reader's clock
 * (see `onReaderClock`). Rows written before this rule hold the node's time; the next
 * heartbeat replaces them, so no migration is needed.
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

/** The database server's clock in ms since epoch (`now()` is the statement's start in an implicit transaction). */
const SERVER_NOW_MS = 'floor(extract(epoch FROM now()) * 1000)::bigint';

/**
 * A report as the reader sees it: `lastSeen` is the reader's time `ageMs` ago (the age the
 * server measured), and `startedAt` moves with it, so that `lastSeen - startedAt` stays the
 * uptime the node measured on its own clock and the start compares with the reader's times
 * (a history's window, an alert's window). The rest of the report is left as it was.
 */
export function onReaderClock(report: NodeReport, ageMs: number, readerNow: number): NodeReport {
  const lastSeen = readerNow - Math.max(0, Math.round(ageMs));
  // What to add to a time on the node's clock to put it on the reader's.
  const shift = Number.isFinite(report.lastSeen) ? lastSeen - report.lastSeen : 0;
  return { ...report, startedAt: report.startedAt + shift, lastSeen };
}

export type PgNodeRegistryOptions = PgStoreOptions;

export class PgNodeRegistry implements NodeRegistry {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgNodeRegistryOptions): Promise<PgNodeRegistry> {
    return new PgNodeRegistry(await openPgPool(options, 'registry', MIGRATIONS));
  }

  async report(node: NodeReport): Promise<void> {
    // The node's own `lastSeen` stays in its report (it fixes the node's clock against the server's on read).
    await this.pool.query(
      `INSERT INTO registry_nodes (id, last_seen, report) VALUES ($1, ${SERVER_NOW_MS}, $2) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, report = excluded.report`,
      [node.id, JSON.stringify(node)],
    );
  }

  async nodes(withinMs?: number): Promise<NodeReport[]> {
    // The age and the window are both on the server's clock, read in one statement.
    const select = `SELECT report, (${SERVER_NOW_MS} - last_seen)::float8 AS age_ms FROM registry_nodes`;
    const { rows, readerNow } = await withPooledClient(this.pool, async (client) => {
      const sent = Date.now();
      const result =
        withinMs === undefined
          ? await client.query<{ report: string; age_ms: number }>(`${select} ORDER BY id`)
          : await client.query<{ report: string; age_ms: number }>(`${select} WHERE last_seen >= ${SERVER_NOW_MS} - $1 ORDER BY id`, [Math.floor(withinMs)]);
      // The server read its clock between sending and receiving: the midpoint is the reader's closest estimate of that instant.
      return { rows: result.rows, readerNow: Math.round((sent + Date.now()) / 2) };
    });
    return rows.map((r) => onReaderClock(JSON.parse(r.report) as NodeReport, r.age_ms, readerNow));
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
