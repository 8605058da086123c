import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrationsToApply, SCHEMA_MIGRATIONS_TABLE, type Migration } from './migrations.js';

/**
 * Opens an SQLite database the way every embedded Mayday store wants it: WAL (readers
 * never block the writer), full fsync on commit (an acknowledged crash must survive power
 * loss), a busy timeout (several processes of one machine may share a file), and the
 * versioned migrations of the caller applied in order at start.
 *
 * Several components may keep tables in one database file (the crash index, the symbols
 * tables, accounts): each has its own numbered migrations, recorded per component.
 */
export type { Migration };

export function openSqlite(path: string, component: string, migrations: readonly Migration[]): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, component, migrations);
  return db;
}

export function migrate(db: Database.Database, component: string, migrations: readonly Migration[]): void {
  db.exec(SCHEMA_MIGRATIONS_TABLE);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations WHERE component = ?').pluck().all(component) as number[]);
  for (const migration of migrationsToApply(component, migrations, applied)) {
    // BEGIN IMMEDIATE takes the write lock first, so two processes starting together
    // cannot both apply the same migration.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?').get(component, migration.version);
      if (again) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (component, version, description, applied_at) VALUES (?, ?, ?, ?)').run(
        component,
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
    }).immediate();
  }
}

export function schemaVersionOf(db: Database.Database, component: string): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?').pluck().get(component) as number) ?? 0;
}
