/**
 * Versioned schema migrations, the part every database shares: which migrations a
 * component still needs, and a refusal to run against a schema newer than this Mayday.
 * Each database adapter applies them in its own transaction and lock.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** One table records, per component, every migration applied. */
export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  component TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (component, version)
)`;

/** The migrations not yet applied, in version order; throws if the database is ahead of the code. */
export function migrationsToApply(component: string, migrations: readonly Migration[], applied: ReadonlySet<number>): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const newest = sorted.at(-1)?.version ?? 0;
  const unknown = [...applied].filter((v) => v > newest);
  if (unknown.length > 0) {
    throw new Error(`${component} schema version ${Math.max(...unknown)} in the database is newer than this Mayday knows (${newest}); upgrade Mayday`);
  }
  return sorted.filter((m) => !applied.has(m.version));
}
