/**
 * API tokens in the embedded SQLite database (component `auth`, see `auth-schema.ts`):
 * the SQLite adapter of the token store port (`ports/token-store.ts`, which says what a
 * token is and may do); `pg-token-store.ts` is the PostgreSQL one.
 *
 * Tokens belong to a user (accounts, groups and sessions are in `account-store.ts`). A
 * token carries its own permissions, an optional expiry, and when it was last used;
 * revoking keeps the row (for the audit trail) but it no longer authenticates. A token
 * never does more than its user may: creation refuses permissions the user lacks, and
 * each use caps the token by the user's permissions of that moment.
 */

import type Database from 'better-sqlite3';

import { openSqlite } from '../adapters/sqlite-database.js';
import { TokenPermissionError, type CreateTokenOptions, type Principal, type TokenInfo, type TokenStore } from '../ports/token-store.js';
import {
  AUTH_COMPONENT,
  AUTH_MIGRATIONS,
  USER_NAME_PATTERN,
  USER_NAME_RULE,
  lastUseDue,
  parsePermissions,
  permissionsBeyond,
  storedDescription,
  storedPermissions,
  tokenExpiry,
  tokenInfoOfRow,
  tokenPrincipal,
  tokenUsable,
  userPermissions,
  type TokenRow,
} from './auth-schema.js';
import { displayPrefix, generateToken, hashToken, looksLikeToken, sameHash } from './tokens.js';

// The port's names, for the callers that import them from here.
export { TokenPermissionError, parsePermissions };
export type { CreateTokenOptions, Principal, TokenInfo, TokenStore };
export type { TokenVerifier } from '../ports/token-store.js';

const SELECT_TOKENS = `SELECT t.*, u.username, u.is_active AS user_active FROM tokens t JOIN users u ON u.id = t.user_id`;

export class SqliteTokenStore implements TokenStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  /** Opens (and migrates) the store in the database file at `path` (`:memory:` for tests). */
  static open(path: string, options: { now?: () => number } = {}): SqliteTokenStore {
    return new SqliteTokenStore(openSqlite(path, AUTH_COMPONENT, AUTH_MIGRATIONS), options.now ?? Date.now);
  }

  async create(options: CreateTokenOptions): Promise<{ token: string; info: TokenInfo }> {
    if (!USER_NAME_PATTERN.test(options.user)) throw new Error(`"${options.user}" is not a valid user name (${USER_NAME_RULE})`);
    const permissions = parsePermissions(options.permissions.join(','));
    const now = this.now();
    const token = generateToken();
    const expiresAt = tokenExpiry(now, options.expiresInMs);
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
          .run(userId, hashToken(token), displayPrefix(token), storedDescription(options.description), permissions.join(','), now, expiresAt)
          .lastInsertRowid,
      );
    })();
    return { token, info: this.info(id)! };
  }

  async verify(token: string): Promise<Principal | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const hash = hashToken(token);
    const row = this.db.prepare(`${SELECT_TOKENS} WHERE t.token_hash = ?`).get(hash) as (TokenRow & { user_active: number }) | undefined;
    if (!row || !sameHash(row.token_hash, hash)) return undefined;
    const now = this.now();
    if (!tokenUsable(row, row.user_active === 1, now)) return undefined;
    if (lastUseDue(row, now)) this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now, row.id);
    return tokenPrincipal(row, userPermissions(this.db, row.user_id));
  }

  async get(id: number): Promise<TokenInfo | undefined> {
    return this.info(id);
  }

  async list(options: { user?: string } = {}): Promise<TokenInfo[]> {
    const rows = (
      options.user === undefined
        ? this.db.prepare(`${SELECT_TOKENS} ORDER BY t.id DESC`).all()
        : this.db.prepare(`${SELECT_TOKENS} WHERE u.username = ? ORDER BY t.id DESC`).all(options.user)
    ) as TokenRow[];
    return rows.map(tokenInfoOfRow);
  }

  async revoke(id: number): Promise<boolean> {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now(), id).changes === 1;
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM tokens LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private info(id: number): TokenInfo | undefined {
    const row = this.db.prepare(`${SELECT_TOKENS} WHERE t.id = ?`).get(id) as TokenRow | undefined;
    return row && tokenInfoOfRow(row);
  }
}
