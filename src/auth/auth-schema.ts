/**
 * The `auth` component's tables in the main database (users, groups, API tokens,
 * sessions) and the permission arithmetic both the token store and the account store
 * need. One migration list for the component, whichever store opens the file first.
 */

import type Database from 'better-sqlite3';

import { PERMISSIONS, type Permission } from '../common/permissions.js';
import type { Migration } from '../adapters/sqlite-database.js';

export const AUTH_COMPONENT = 'auth';

/**
 * The groups a fresh database starts with (Socorro's "Hackers" group is the model for
 * `hackers`). Operators add users to them with `mayday users create --groups ...`.
 */
export const DEFAULT_GROUPS: readonly { name: string; permissions: readonly Permission[]; description: string }[] = [
  { name: 'admins', permissions: ['admin'], description: 'everything, including administration' },
  { name: 'hackers', permissions: ['view_protected', 'download_dumps', 'reprocess'], description: 'developers who read protected data and raw dumps, and reprocess crashes' },
  { name: 'symbol_uploaders', permissions: ['upload_symbols'], description: 'build machines and people who upload symbols' },
];

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export const AUTH_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'users and API tokens',
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        is_active INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        description TEXT,
        permissions TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_user ON tokens (user_id);
    `,
  },
  {
    version: 2,
    description: 'passwords, user permissions, groups and web sessions',
    sql: `
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '';
      CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        permissions TEXT NOT NULL,
        description TEXT
      );
      CREATE TABLE user_groups (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, group_id)
      );
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_user ON sessions (user_id);
      CREATE INDEX sessions_expiry ON sessions (expires_at);
      ${DEFAULT_GROUPS.map((g) => `INSERT INTO groups (name, permissions, description) VALUES (${quote(g.name)}, ${quote(g.permissions.join(','))}, ${quote(g.description)});`).join('\n')}
      -- Users of version 1 existed only to own tokens: they keep what their live tokens
      -- could do, so that those tokens keep working now that a token is capped by its user.
      UPDATE users SET permissions = COALESCE((SELECT group_concat(permissions, ',') FROM tokens WHERE tokens.user_id = users.id AND revoked_at IS NULL), '');
    `,
  },
];

/** Parses a stored comma list, dropping permissions this version does not know (never trusted). */
export function storedPermissions(text: string | null | undefined): Permission[] {
  if (!text) return [];
  return [...new Set(text.split(',').filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)))];
}

/** Everything a user may do: their own grants and their groups'. */
export function userPermissions(db: Database.Database, userId: number): Set<Permission> {
  const direct = db.prepare('SELECT permissions FROM users WHERE id = ?').pluck().get(userId) as string | undefined;
  const fromGroups = db.prepare('SELECT g.permissions FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ?').pluck().all(userId) as string[];
  return new Set([direct ?? '', ...fromGroups].flatMap(storedPermissions));
}

/**
 * What a token may do: its own permissions, capped by its user's, evaluated at each use
 * so that taking a user out of a group takes the power from their tokens at once. A user
 * with `admin` may do everything, so caps nothing; a token claiming `admin` for a user
 * without it keeps only what the user has.
 */
export function capPermissions(token: Iterable<Permission>, user: ReadonlySet<Permission>): Set<Permission> {
  if (user.has('admin')) return new Set(token);
  return new Set([...token].filter((p) => user.has(p)));
}

/** The token permissions a user lacks (what `capPermissions` would drop). */
export function permissionsBeyond(wanted: Iterable<Permission>, user: ReadonlySet<Permission>): Permission[] {
  if (user.has('admin')) return [];
  return [...wanted].filter((p) => !user.has(p));
}
