/**
 * The missing-symbols log on PostgreSQL (component `symbols`), for processors on several
 * machines reporting to one web node. Same table and semantics as the SQLite adapter (one
 * row per crash and module, replaced when the crash is recorded again; the shared
 * contract tests check it). Text columns use the "C" collation so that the report sorts
 * byte-wise as on SQLite.
 */

import type pg from 'pg';

import { storableCrashText, storableMissingModules, type MissingModule, type MissingSymbolsLog, type MissingSymbolsQuery, type MissingSymbolsSummary, type SymbolKey } from '../ports/symbol-store.js';
import { closePool, inTransaction, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'missing symbols per crash',
    sql: `
      CREATE TABLE missing_symbols (
        crash_id TEXT COLLATE "C" NOT NULL,
        debug_file TEXT COLLATE "C" NOT NULL,
        debug_id TEXT COLLATE "C" NOT NULL,
        code_file TEXT COLLATE "C",
        code_id TEXT COLLATE "C",
        os TEXT COLLATE "C",
        cpu TEXT COLLATE "C",
        submitted_at BIGINT NOT NULL,
        PRIMARY KEY (crash_id, debug_file, debug_id)
      );
      CREATE INDEX missing_symbols_module ON missing_symbols (debug_file, debug_id, submitted_at DESC);
      CREATE INDEX missing_symbols_submitted ON missing_symbols (submitted_at);
    `,
  },
];

/** Advisory lock namespace for writers of one crash's rows (two processors given the same crash). */
const LOCK_NAMESPACE = 0x6d73;

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

export type PgMissingSymbolsLogOptions = PgStoreOptions;

export class PgMissingSymbolsLog implements MissingSymbolsLog {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgMissingSymbolsLogOptions): Promise<PgMissingSymbolsLog> {
    return new PgMissingSymbolsLog(await openPgPool(options, 'symbols', MIGRATIONS));
  }

  async record(crash: { crashId: string; submittedAt: number; os: string | null; cpu: string | null }, modules: readonly MissingModule[]): Promise<void> {
    // One row per module (one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice), no NULs.
    const unique = storableMissingModules(modules);
    await inTransaction(this.pool, async (client) => {
      // Two writers of one crash serialise, so the crash ends with one writer's rows, not a mix.
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, crash.crashId]);
      await client.query('DELETE FROM missing_symbols WHERE crash_id = $1', [crash.crashId]);
      if (unique.length === 0) return;
      await client.query(
        `INSERT INTO missing_symbols (crash_id, debug_file, debug_id, code_file, code_id, os, cpu, submitted_at)
         SELECT $1, m.debug_file, m.debug_id, m.code_file, m.code_id, $2, $3, $4
           FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS m (debug_file, debug_id, code_file, code_id)
         ON CONFLICT (crash_id, debug_file, debug_id) DO UPDATE
           SET code_file = excluded.code_file, code_id = excluded.code_id, os = excluded.os, cpu = excluded.cpu, submitted_at = excluded.submitted_at`,
        [
          crash.crashId,
          storableCrashText(crash.os),
          storableCrashText(crash.cpu),
          crash.submittedAt,
          unique.map((m) => m.debugFile),
          unique.map((m) => m.debugId),
          unique.map((m) => m.codeFile),
          unique.map((m) => m.codeId),
        ],
      );
    });
  }

  async list(query: MissingSymbolsQuery): Promise<MissingSymbolsSummary[]> {
    // As on SQLite: the code file/id and OS/CPU of one module are the same in every crash,
    // so MAX picks any row's values, deterministically.
    const { rows } = await this.pool.query<SummaryRow>(
      `SELECT debug_file, debug_id, MAX(code_file) AS code_file, MAX(code_id) AS code_id, MAX(os) AS os, MAX(cpu) AS cpu,
              COUNT(*) AS crash_count, MAX(submitted_at) AS last_seen
         FROM missing_symbols
        WHERE submitted_at >= $1
        GROUP BY debug_file, debug_id
        ORDER BY crash_count DESC, last_seen DESC, debug_file, debug_id
        LIMIT $2 OFFSET $3`,
      [query.since, query.limit, query.offset ?? 0],
    );
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
    // No module with a NUL in its key is recorded (and PostgreSQL's text cannot hold one).
    if (key.debugFile.includes('\u0000') || key.debugId.includes('\u0000')) return [];
    const { rows } = await this.pool.query<{ crash_id: string }>(
      'SELECT crash_id FROM missing_symbols WHERE debug_file = $1 AND debug_id = $2 AND submitted_at >= $3 ORDER BY submitted_at DESC LIMIT $4',
      [key.debugFile, key.debugId, since, limit],
    );
    return rows.map((r) => r.crash_id);
  }

  async prune(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM missing_symbols WHERE submitted_at < $1', [before])).rowCount ?? 0;
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM missing_symbols LIMIT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}
