/**
 * The `auth` component's tables (users, groups, API tokens, sessions), on SQLite and on
 * PostgreSQL, and what the token store and the account store share whatever the database:
 * the permission arithmetic, name and permission-list validation, and the reading of a
 * token row. One migration list per database for the component, whichever store opens
 * the database first.
 */

import type Database from 'better-sqlite3';

import { PERMISSIONS, type Permission } from '../common/permissions.js';
import type { Migration } from '../adapters/migrations.js';
import type { Principal, TokenInfo } from '../ports/token-store.js';

export const AUTH_COMPONENT = 'auth';

/** What a user name may be: also what keeps odd names out of logs and URLs. */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;
export const USER_NAME_RULE = 'letters, digits, "_.@+-"';
/** Sessions last this long from login unless the store is told otherwise. */
export const DEFAULT_SESSION_LIFETIME_MS = 14 * 86_400_000;
/** `last_used_at` is written at most this often per token: a busy uploader is not a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** What a session id looks like (32 random bytes, base64url); anything else is refused without a lookup. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The groups a fresh database starts with (Socorro's "Hackers" group is the model for
 * `hackers`). Operators add users to them with `mayday users create --groups ...`.
 */
export const DEFAULT_GROUPS: readonly { name: string; permissions: readonly Permission[]; description: string }[] = [
  { name: 'admins', permissions: ['admin'], description: 'everything, including administration' },
  { name: 'hackers', permissions: ['view_protected', 'download_dumps', 'reprocess', 'link_bugs'], description: 'developers who read protected data and raw dumps, reprocess crashes and link signatures to bugs' },
  { name: 'symbol_uploaders', permissions: ['upload_symbols'], description: 'build machines and people who upload symbols' },
];

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Triage (linking a signature to its bug) came after the groups were made: the `hackers`
 * group of an existing database gains it only while it still has its first permissions,
 * so a group an operator narrowed or widened is left as they made it.
 */
const HACKERS_LINK_BUGS = `
  UPDATE groups SET permissions = 'view_protected,download_dumps,reprocess,link_bugs', description = ${quote(DEFAULT_GROUPS.find((g) => g.name === 'hackers')!.description)}
  WHERE name = 'hackers' AND permissions = 'view_protected,download_dumps,reprocess';
`;

/**
 * Single sign-on: the OpenID Connect identity a user signs in with (`ISSUER SUBJECT`, one
 * user per identity; null for local accounts), and when they last logged in either way.
 */
const OIDC_COLUMNS = (timestamp: string): string => `
  ALTER TABLE users ADD COLUMN oidc_subject TEXT;
  ALTER TABLE users ADD COLUMN last_login_at ${timestamp};
  CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject);
`;

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
  {
    version: 3,
    description: 'hackers link signatures to bugs',
    sql: HACKERS_LINK_BUGS,
  },
  {
    version: 4,
    description: 'single sign-on identities and last logins',
    sql: OIDC_COLUMNS('INTEGER'),
  },
];

/**
 * What a single sign-on login does with the account named like the identity, when no
 * account holds the identity yet (both stores): none, create one (if allowed and the name
 * is valid); one without a password or identity (made by an admin for that person), link
 * it; any other (a local account with a password, or another identity's) is never taken over.
 */
export function oidcAccountDecision(
  named: { password_hash?: string | null; has_password?: boolean; oidc_subject: string | null } | undefined,
  login: { username: string; createUnknown: boolean },
): 'create' | 'link' | 'name_taken' | 'not_provisioned' | 'invalid_name' {
  if (named) {
    const hasPassword = named.has_password ?? (named.password_hash !== null && named.password_hash !== undefined);
    return !hasPassword && named.oidc_subject === null ? 'link' : 'name_taken';
  }
  if (!login.createUnknown) return 'not_provisioned';
  return USER_NAME_PATTERN.test(login.username) ? 'create' : 'invalid_name';
}

/** Parses a stored comma list, dropping permissions this version does not know (never trusted). */
export function storedPermissions(text: string | null | undefined): Permission[] {
  if (!text) return [];
  return [...new Set(text.split(',').filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)))];
}

/** Everything a user may do: their own grants and their groups' (in group id order), from the stored comma lists. */
export function combinedPermissions(own: string | null | undefined, fromGroups: readonly string[]): Set<Permission> {
  return new Set([own ?? '', ...fromGroups].flatMap(storedPermissions));
}

/** Everything a user may do, on SQLite: their own grants and their groups'. */
export function userPermissions(db: Database.Database, userId: number): Set<Permission> {
  const direct = db.prepare('SELECT permissions FROM users WHERE id = ?').pluck().get(userId) as string | undefined;
  const fromGroups = db.prepare('SELECT g.permissions FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ? ORDER BY g.id').pluck().all(userId) as string[];
  return combinedPermissions(direct, fromGroups);
}

/** The refusal of unknown group names, listing the known ones (sorted by code unit, as both databases sort names). */
export function unknownGroupsMessage(unknown: readonly string[], known: readonly string[]): string {
  return `unknown group${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...known].sort().join(', ')})`;
}

/** Parses `upload_symbols,reprocess` into permissions; throws naming any unknown one. */
export function parsePermissions(text: string): Permission[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = items.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown permission${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${PERMISSIONS.join(', ')})`);
  if (items.length === 0) throw new Error(`no permissions given (known: ${PERMISSIONS.join(', ')})`);
  return [...new Set(items as Permission[])];
}

/**
 * A token's description as stored: NUL characters dropped (PostgreSQL's text cannot hold
 * them, and both databases must keep the same text); none stays none.
 */
export function storedDescription(description: string | undefined): string | null {
  return description === undefined ? null : description.replaceAll('\u0000', '');
}

/**
 * When a token created at `now` with a lifetime of `lifetimeMs` expires: whole ms, as both
 * databases store times; a lifetime beyond what they can hold is refused.
 */
export function tokenExpiry(now: number, lifetimeMs: number | undefined): number | null {
  if (lifetimeMs === undefined) return null;
  const at = Math.floor(now + lifetimeMs);
  if (!Number.isSafeInteger(at) || !(lifetimeMs > 0)) throw new Error(`a token lifetime of ${lifetimeMs} ms is out of range`);
  return at;
}

/** A row of `tokens` joined with its user, as both databases return it. */
export interface TokenRow {
  id: number;
  user_id: number;
  username: string;
  token_hash: string;
  prefix: string;
  description: string | null;
  permissions: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export function tokenInfoOfRow(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    user: row.username,
    prefix: row.prefix,
    description: row.description,
    // Permissions no longer known to this version are dropped rather than trusted.
    permissions: storedPermissions(row.permissions),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** Whether a token found by its hash authenticates now: not revoked or expired, and its user active. */
export function tokenUsable(row: TokenRow, userActive: boolean, now: number): boolean {
  if (row.revoked_at !== null || !userActive) return false;
  return row.expires_at === null || row.expires_at > now;
}

/** Whether a use of the token at `now` should be written down (see `LAST_USED_RESOLUTION_MS`). */
export function lastUseDue(row: TokenRow, now: number): boolean {
  return row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS;
}

/** The principal of a usable token: its permissions capped by its user's of the moment. */
export function tokenPrincipal(row: TokenRow, user: ReadonlySet<Permission>): Principal {
  return { tokenId: row.id, user: row.username, permissions: capPermissions(tokenInfoOfRow(row).permissions, user) };
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

/**
 * PostgreSQL: the permissions of the groups of the user whose id is `userId` (an SQL
 * expression), as a text array in group id order; with `users.permissions`, what
 * `combinedPermissions` needs, read in the same statement as the row that needs them.
 */
export function pgGroupPermissionsSql(userId: string): string {
  return `ARRAY(SELECT g.permissions FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ${userId} ORDER BY g.id)`;
}

/**
 * The same tables on PostgreSQL, in one migration (a PostgreSQL database has no history
 * to carry): identities for ids, BIGINT for ms timestamps, BOOLEAN for `is_active`, and
 * the "C" collation where rows are sorted or looked up by name, so that lists come out in
 * the byte order SQLite gives them.
 */
export const PG_AUTH_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'users, groups, API tokens and web sessions',
    sql: `
      CREATE TABLE users (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        username TEXT COLLATE "C" NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        is_active BOOLEAN NOT NULL DEFAULT TRUE,
        password_hash TEXT,
        permissions TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE tokens (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        description TEXT,
        permissions TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT
      );
      CREATE INDEX tokens_user ON tokens (user_id);
      CREATE TABLE groups (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL UNIQUE,
        permissions TEXT NOT NULL,
        description TEXT
      );
      CREATE TABLE user_groups (
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, group_id)
      );
      CREATE INDEX user_groups_group ON user_groups (group_id);
      CREATE TABLE sessions (
        id_hash TEXT COLLATE "C" PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX sessions_user ON sessions (user_id);
      CREATE INDEX sessions_expiry ON sessions (expires_at);
      ${DEFAULT_GROUPS.map((g) => `INSERT INTO groups (name, permissions, description) VALUES (${quote(g.name)}, ${quote(g.permissions.join(','))}, ${quote(g.description)});`).join('\n')}
    `,
  },
  {
    version: 2,
    description: 'hackers link signatures to bugs',
    sql: HACKERS_LINK_BUGS,
  },
  {
    version: 3,
    description: 'single sign-on identities and last logins',
    sql: OIDC_COLUMNS('BIGINT'),
  },
];
