/**
 * API tokens in the embedded SQLite database (component `auth`, see `auth-schema.ts`).
 *
 * Tokens belong to a user (accounts, groups and sessions are in `account-store.ts`). A
 * token carries its own permissions, an optional expiry, and when it was last used;
 * revoking keeps the row (for the audit trail) but it no longer authenticates. A token
 * never does more than its user may: creation refuses permissions the user lacks, and
 * each use caps the token by the user's permissions of that moment.
 */

import type Database from 'better-sqlite3';

import { PERMISSIONS, type Permission } from '../common/permissions.js';
import { openSqlite } from '../adapters/sqlite-database.js';
import { AUTH_COMPONENT, AUTH_MIGRATIONS, capPermissions, permissionsBeyond, storedPermissions, userPermissions } from './auth-schema.js';
import { displayPrefix, generateToken, hashToken, looksLikeToken, sameHash } from './tokens.js';

/** Who a valid token speaks for. */
export interface Principal {
  readonly tokenId: number;
  readonly user: string;
  readonly permissions: ReadonlySet<Permission>;
}

/** What the request authentication needs: turning a presented token into a principal. */
export interface TokenVerifier {
  /** The principal of a valid, unexpired, unrevoked token of an active user; otherwise undefined. */
  verify(token: string): Promise<Principal | undefined>;
}

export interface TokenInfo {
  readonly id: number;
  readonly user: string;
  readonly prefix: string;
  readonly description: string | null;
  readonly permissions: readonly Permission[];
  /** ms since epoch. */
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface CreateTokenOptions {
  readonly user: string;
  readonly permissions: readonly Permission[];
  /** Lifetime in ms; none means it never expires. */
  readonly expiresInMs?: number;
  readonly description?: string;
  /**
   * Refuse permissions the user lacks (`TokenPermissionError`): for a user making their
   * own token. Without it the creation is an administrator's act (`mayday tokens create`,
   * run by whoever holds the database) and the user is granted what they lack, so that
   * the token still never exceeds its user. A user that does not exist yet is created
   * with the token's permissions.
   */
  readonly onlyWithinUser?: boolean;
}

/** A token asked for permissions its user does not have. */
export class TokenPermissionError extends Error {
  constructor(
    readonly user: string,
    readonly missing: readonly Permission[],
  ) {
    super(`user ${user} lacks ${missing.join(', ')}: a token cannot do more than its user`);
    this.name = 'TokenPermissionError';
  }
}

interface TokenRow {
  id: number;
  user_id: number;
  username: string;
  user_active: number;
  token_hash: string;
  prefix: string;
  description: string | null;
  permissions: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** `last_used_at` is written at most this often per token: a busy uploader is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Parses `upload_symbols,reprocess` into permissions; throws naming any unknown one. */
export function parsePermissions(text: string): Permission[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = items.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown permission${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${PERMISSIONS.join(', ')})`);
  if (items.length === 0) throw new Error(`no permissions given (known: ${PERMISSIONS.join(', ')})`);
  return [...new Set(items as Permission[])];
}

const SELECT_TOKENS = `SELECT t.*, u.username, u.is_active AS user_active FROM tokens t JOIN users u ON u.id = t.user_id`;

export class SqliteTokenStore implements TokenVerifier {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  /** Opens (and migrates) the store in the database file at `path` (`:memory:` for tests). */
  static open(path: string, options: { now?: () => number } = {}): SqliteTokenStore {
    return new SqliteTokenStore(openSqlite(path, AUTH_COMPONENT, AUTH_MIGRATIONS), options.now ?? Date.now);
  }

  /**
   * Creates a token (and its user if new, holding the token's permissions). The token text
   * is returned once and never stored. With `onlyWithinUser`, throws `TokenPermissionError`
   * when an existing user lacks some of the permissions; otherwise grants them.
   */
  create(options: CreateTokenOptions): { token: string; info: TokenInfo } {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/.test(options.user)) throw new Error(`"${options.user}" is not a valid user name (letters, digits, "_.@+-")`);
    const permissions = parsePermissions(options.permissions.join(','));
    const now = this.now();
    const token = generateToken();
    const id = this.db.transaction(() => {
      const created = this.db.prepare('INSERT OR IGNORE INTO users (username, created_at, permissions) VALUES (?, ?, ?)').run(options.user, now, permissions.join(',')).changes === 1;
      const userId = this.db.prepare('SELECT id FROM users WHERE username = ?').pluck().get(options.user) as number;
      const missing = created ? [] : permissionsBeyond(permissions, userPermissions(this.db, userId));
      if (missing.length > 0) {
        if (options.onlyWithinUser) throw new TokenPermissionError(options.user, missing);
        const own = this.db.prepare('SELECT permissions FROM users WHERE id = ?').pluck().get(userId) as string;
        this.db.prepare('UPDATE users SET permissions = ? WHERE id = ?').run([...new Set([...storedPermissions(own), ...missing])].join(','), userId);
      }
      return Number(
        this.db
          .prepare('INSERT INTO tokens (user_id, token_hash, prefix, description, permissions, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(userId, hashToken(token), displayPrefix(token), options.description ?? null, permissions.join(','), now, options.expiresInMs === undefined ? null : now + options.expiresInMs)
          .lastInsertRowid,
      );
    })();
    return { token, info: this.get(id)! };
  }

  async verify(token: string): Promise<Principal | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const hash = hashToken(token);
    const row = this.db.prepare(`${SELECT_TOKENS} WHERE t.token_hash = ?`).get(hash) as TokenRow | undefined;
    if (!row || !sameHash(row.token_hash, hash)) return undefined;
    const now = this.now();
    if (row.revoked_at !== null || row.user_active !== 1) return undefined;
    if (row.expires_at !== null && row.expires_at <= now) return undefined;
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now, row.id);
    }
    return { tokenId: row.id, user: row.username, permissions: capPermissions(toInfo(row).permissions, userPermissions(this.db, row.user_id)) };
  }

  get(id: number): TokenInfo | undefined {
    const row = this.db.prepare(`${SELECT_TOKENS} WHERE t.id = ?`).get(id) as TokenRow | undefined;
    return row && toInfo(row);
  }

  /** Every token, newest first; with `user`, only that user's. */
  list(options: { user?: string } = {}): TokenInfo[] {
    const rows = (
      options.user === undefined
        ? this.db.prepare(`${SELECT_TOKENS} ORDER BY t.id DESC`).all()
        : this.db.prepare(`${SELECT_TOKENS} WHERE u.username = ? ORDER BY t.id DESC`).all(options.user)
    ) as TokenRow[];
    return rows.map(toInfo);
  }

  /** Revokes a token by id; false if there is no such token or it was already revoked. */
  revoke(id: number): boolean {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now(), id).changes === 1;
  }

  close(): void {
    this.db.close();
  }
}

function toInfo(row: TokenRow): TokenInfo {
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
