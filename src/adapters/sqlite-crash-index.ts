import type Database from 'better-sqlite3';
import type { CrashIndex, CrashListQuery, IndexedCrash } from '../ports/crash-index.js';
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
];

interface Row {
  crash_id: string;
  submitted_at: number;
  processed_at: number;
  product: string | null;
  version: string | null;
  release_channel: string | null;
  os_name: string | null;
  os_version: string | null;
  cpu_arch: string | null;
  reason: string | null;
  address: string | null;
  signature: string | null;
  has_errors: number;
}

/** The crash index in an embedded SQLite database. */
export class SqliteCrashIndex implements CrashIndex {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): SqliteCrashIndex {
    return new SqliteCrashIndex(openSqlite(path, 'crash_index', MIGRATIONS));
  }

  async upsert(crash: IndexedCrash): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO crashes (crash_id, submitted_at, processed_at, product, version, release_channel, os_name, os_version, cpu_arch, reason, address, signature, has_errors)
         VALUES (@crashId, @submittedAt, @processedAt, @product, @version, @releaseChannel, @osName, @osVersion, @cpuArch, @reason, @address, @signature, @hasErrors)
         ON CONFLICT (crash_id) DO UPDATE SET
           submitted_at = excluded.submitted_at, processed_at = excluded.processed_at, product = excluded.product,
           version = excluded.version, release_channel = excluded.release_channel, os_name = excluded.os_name,
           os_version = excluded.os_version, cpu_arch = excluded.cpu_arch, reason = excluded.reason,
           address = excluded.address, signature = excluded.signature, has_errors = excluded.has_errors`,
      )
      .run({ ...crash, hasErrors: crash.hasErrors ? 1 : 0 });
  }

  async get(crashId: string): Promise<IndexedCrash | undefined> {
    const row = this.db.prepare('SELECT * FROM crashes WHERE crash_id = ?').get(crashId) as Row | undefined;
    return row && fromRow(row);
  }

  async latest(query: CrashListQuery): Promise<IndexedCrash[]> {
    const rows = (
      query.product === undefined
        ? this.db.prepare('SELECT * FROM crashes ORDER BY submitted_at DESC, crash_id LIMIT ? OFFSET ?').all(query.limit, query.offset ?? 0)
        : this.db
            .prepare('SELECT * FROM crashes WHERE product = ? ORDER BY submitted_at DESC, crash_id LIMIT ? OFFSET ?')
            .all(query.product, query.limit, query.offset ?? 0)
    ) as Row[];
    return rows.map(fromRow);
  }

  async count(): Promise<number> {
    return this.db.prepare('SELECT COUNT(*) FROM crashes').pluck().get() as number;
  }

  async schemaVersion(): Promise<number> {
    return schemaVersionOf(this.db, 'crash_index');
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function fromRow(row: Row): IndexedCrash {
  return {
    crashId: row.crash_id,
    submittedAt: row.submitted_at,
    processedAt: row.processed_at,
    product: row.product,
    version: row.version,
    releaseChannel: row.release_channel,
    osName: row.os_name,
    osVersion: row.os_version,
    cpuArch: row.cpu_arch,
    reason: row.reason,
    address: row.address,
    signature: row.signature,
    hasErrors: row.has_errors === 1,
  };
}
