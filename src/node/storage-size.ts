import { stat, statfs } from 'node:fs/promises';
import type pg from 'pg';

/**
 * Sizes a node can know of its storage, for the heartbeat and `/metrics`: the free space
 * of its data directory's file system, and its database's size. Each is a stat or one
 * small query, taken once per heartbeat.
 */

/** The data directory's file system: bytes free to this process (not the root's reserve) and its whole size. */
export async function dataDirSpace(dir: string): Promise<{ freeBytes: number; sizeBytes: number }> {
  const fs = await statfs(dir);
  return { freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize };
}

/** A SQLite database on disk: its file and its write-ahead log (which holds the commits not yet checkpointed). */
export async function sqliteFileBytes(file: string): Promise<number> {
  const size = async (path: string): Promise<number> => {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  };
  const [main, wal] = await Promise.all([stat(file).then((s) => s.size), size(`${file}-wal`)]);
  return main + wal;
}

/** The PostgreSQL database the pool connects to, as the server counts it (tables, indexes, TOAST). */
export async function pgDatabaseBytes(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  return Number(rows[0]!.bytes);
}

/** How a node measures its database: PostgreSQL when it has a pool, else its SQLite file. */
export function databaseSize(database: { pgPool?: pg.Pool | undefined; sqliteFile: string }): { backend: string; bytes: () => Promise<number> } {
  const { pgPool, sqliteFile } = database;
  return pgPool ? { backend: 'postgresql', bytes: () => pgDatabaseBytes(pgPool) } : { backend: 'sqlite', bytes: () => sqliteFileBytes(sqliteFile) };
}
