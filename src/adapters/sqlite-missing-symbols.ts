/**
 * The missing-symbols log in the embedded SQLite database (component `symbols`): one row
 * per crash and module whose symbols were missing when the crash was last processed.
 *
 * Rows are per crash rather than counters per module so that reprocessing is exact: a
 * crash reprocessed after an upload replaces its rows, and the module stops counting;
 * and so that "re-queue the crashes that missed this module" is one indexed query.
 */

import type Database from 'better-sqlite3';

import { storableCrashText, storableMissingModules, type MissingModule, type MissingSymbolsLog, type MissingSymbolsQuery, type MissingSymbolsSummary, type SymbolKey } from '../ports/symbol-store.js';
import { openSqlite, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'missing symbols per crash',
    sql: `
      CREATE TABLE missing_symbols (
        crash_id TEXT NOT NULL,
        debug_file TEXT NOT NULL,
        debug_id TEXT NOT NULL,
        code_file TEXT,
        code_id TEXT,
        os TEXT,
        cpu TEXT,
        submitted_at INTEGER NOT NULL,
        PRIMARY KEY (crash_id, debug_file, debug_id)
      ) WITHOUT ROWID;
      CREATE INDEX missing_symbols_module ON missing_symbols (debug_file, debug_id, submitted_at DESC);
      CREATE INDEX missing_symbols_submitted ON missing_symbols (submitted_at);
    `,
  },
];

interface SummaryRow {
  debug_file: string;
  debug_id: string;
  code_file: string | null;
  code_id: string | null;
  os: string | null;
  cpu: string | null;
  crash_count: number;
  last_seen: number;
}

export class SqliteMissingSymbolsLog implements MissingSymbolsLog {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (and migrates) the log in the database file at `path` (`:memory:` for tests). */
  static open(path: string): SqliteMissingSymbolsLog {
    return new SqliteMissingSymbolsLog(openSqlite(path, 'symbols', MIGRATIONS));
  }

  async record(crash: { crashId: string; submittedAt: number; os: string | null; cpu: string | null }, modules: readonly MissingModule[]): Promise<void> {
    const remove = this.db.prepare('DELETE FROM missing_symbols WHERE crash_id = ?');
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO missing_symbols (crash_id, debug_file, debug_id, code_file, code_id, os, cpu, submitted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const os = storableCrashText(crash.os);
    const cpu = storableCrashText(crash.cpu);
    this.db.transaction(() => {
      remove.run(crash.crashId);
      for (const m of storableMissingModules(modules)) insert.run(crash.crashId, m.debugFile, m.debugId, m.codeFile, m.codeId, os, cpu, crash.submittedAt);
    })();
  }

  async list(query: MissingSymbolsQuery): Promise<MissingSymbolsSummary[]> {
    // The code file/id and OS/CPU of one module are the same in every crash (they come
    // from the same build), so any row's values will do: MAX picks one deterministically.
    const rows = this.db
      .prepare(
        `SELECT debug_file, debug_id, MAX(code_file) AS code_file, MAX(code_id) AS code_id, MAX(os) AS os, MAX(cpu) AS cpu,
                COUNT(*) AS crash_count, MAX(submitted_at) AS last_seen
           FROM missing_symbols
          WHERE submitted_at >= ?
          GROUP BY debug_file, debug_id
          ORDER BY crash_count DESC, last_seen DESC, debug_file, debug_id
          LIMIT ? OFFSET ?`,
      )
      .all(query.since, query.limit, query.offset ?? 0) as SummaryRow[];
    return rows.map((row) => ({
      debugFile: row.debug_file,
      debugId: row.debug_id,
      codeFile: row.code_file,
      codeId: row.code_id,
      os: row.os,
      cpu: row.cpu,
      crashCount: row.crash_count,
      lastSeen: row.last_seen,
    }));
  }

  async crashesMissing(key: SymbolKey, since: number, limit: number): Promise<string[]> {
    return this.db
      .prepare('SELECT crash_id FROM missing_symbols WHERE debug_file = ? AND debug_id = ? AND submitted_at >= ? ORDER BY submitted_at DESC LIMIT ?')
      .pluck()
      .all(key.debugFile, key.debugId, since, limit) as string[];
  }

  async prune(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM missing_symbols WHERE submitted_at < ?').run(before).changes;
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM missing_symbols LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
