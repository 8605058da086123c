/**
 * API tokens on PostgreSQL (component `auth`, tables in `auth-schema.ts`): the token
 * store port (`ports/token-store.ts`) for web nodes on several machines sharing one
 * database. Same semantics as the SQLite adapter (`token-store.ts`; the shared contract
 * tests check it): only the token's SHA-256 is stored, revoking keeps the row, a token is
 * capped at each use by its user's permissions of that moment.
 *
 * It lives in `src/auth` beside the SQLite adapter rather than in `src/adapters`: both
 * carry the auth rules (token hashing, permission arithmetic), which adapters may not
 * import.
 */

import type pg from 'pg';

import { closePool, inTransaction, openPgPool, type PgStoreOptions } from '../adapters/pg-database.js';
import { TokenPermissionError, type CreateTokenOptions, type Principal, type TokenInfo, type TokenStore } from '../ports/token-store.js';
import {
  AUTH_COMPONENT,
  PG_AUTH_MIGRATIONS,
  USER_NAME_PATTERN,
  USER_NAME_RULE,
  combinedPermissions,
  lastUseDue,
  parsePermissions,
  permissionsBeyond,
  pgGroupPermissionsSql,
  storedDescription,
  storedPermissions,
  tokenExpiry,
  tokenInfoOfRow,
  tokenPrincipal,
  tokenUsable,
  type TokenRow,
} from './auth-schema.js';
import { displayPrefix, generateToken, hashToken, looksLikeToken, sameHash } from './tokens.js';

export interface PgTokenStoreOptions extends PgStoreOptions {
  /** The clock (tests). */
  now?: () => number;
}

const SELECT_TOKENS = `SELECT t.*, u.username FROM tokens t JOIN users u ON u.id = t.user_id`;

export class PgTokenStore implements TokenStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number,
  ) {}

  /** Connects, creates the schema if needed and applies the `auth` migrations. */
  static async open(options: PgTokenStoreOptions): Promise<PgTokenStore> {
    return new PgTokenStore(await openPgPool(options, AUTH_COMPONENT, PG_AUTH_MIGRATIONS), options.now ?? Date.now);
  }

  async create(options: CreateTokenOptions): Promise<{ token: string; info: TokenInfo }> {
    if (!USER_NAME_PATTERN.test(options.user)) throw new Error(`"${options.user}" is not a valid user name (${USER_NAME_RULE})`);
    const permissions = parsePermissions(options.permissions.join(','));
    const now = this.now();
    const token = generateToken();
    const expiresAt = tokenExpiry(now, options.expiresInMs);
    const id = await inTransaction(this.pool, async (client) => {
      const inserted = await client.query<{ id: number }>('INSERT INTO users (username, created_at, permissions) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING id', [
        options.user,
        now,
        permissions.join(','),
      ]);
      let userId = inserted.rows[0]?.id;
      if (userId === undefined) {
        // An existing user: locked, so that two grants to them cannot lose one another.
        const user = (
          await client.query<{ id: number; permissions: string; group_permissions: string[] }>(
            `SELECT id, permissions, ${pgGroupPermissionsSql('users.id')} AS group_permissions FROM users WHERE username = $1 FOR UPDATE`,
            [options.user],
          )
        ).rows[0]!;
        userId = user.id;
        const missing = permissionsBeyond(permissions, combinedPermissions(user.permissions, user.group_permissions));
        if (missing.length > 0) {
          if (options.onlyWithinUser) throw new TokenPermissionError(options.user, missing);
          await client.query('UPDATE users SET permissions = $1 WHERE id = $2', [[...new Set([...storedPermissions(user.permissions), ...missing])].join(','), userId]);
        }
      }
      const row = await client.query<{ id: number }>(
        'INSERT INTO tokens (user_id, token_hash, prefix, description, permissions, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
        [userId, hashToken(token), displayPrefix(token), storedDescription(options.description), permissions.join(','), now, expiresAt],
      );
      return row.rows[0]!.id;
    });
    return { token, info: (await this.get(id))! };
  }

  async verify(token: string): Promise<Principal | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const hash = hashToken(token);
    // The token, its user and the user's permissions in one round trip: this runs on every authenticated request.
    const { rows } = await this.pool.query<TokenRow & { user_active: boolean; user_permissions: string; group_permissions: string[] }>(
      `SELECT t.*, u.username, u.is_active AS user_active, u.permissions AS user_permissions, ${pgGroupPermissionsSql('u.id')} AS group_permissions
         FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row || !sameHash(row.token_hash, hash)) return undefined;
    const now = this.now();
    if (!tokenUsable(row, row.user_active, now)) return undefined;
    if (lastUseDue(row, now)) await this.pool.query('UPDATE tokens SET last_used_at = $1 WHERE id = $2', [now, row.id]);
    return tokenPrincipal(row, combinedPermissions(row.user_permissions, row.group_permissions));
  }

  async get(id: number): Promise<TokenInfo | undefined> {
    // Not an id PostgreSQL's BIGINT takes (NaN from a form, a fraction): no such token, as on SQLite.
    if (!Number.isSafeInteger(id)) return undefined;
    const { rows } = await this.pool.query<TokenRow>(`${SELECT_TOKENS} WHERE t.id = $1`, [id]);
    return rows[0] && tokenInfoOfRow(rows[0]);
  }

  async list(options: { user?: string } = {}): Promise<TokenInfo[]> {
    // No user has a name outside the pattern (and PostgreSQL's text cannot hold every string, NUL).
    if (options.user !== undefined && !USER_NAME_PATTERN.test(options.user)) return [];
    const { rows } =
      options.user === undefined
        ? await this.pool.query<TokenRow>(`${SELECT_TOKENS} ORDER BY t.id DESC`)
        : await this.pool.query<TokenRow>(`${SELECT_TOKENS} WHERE u.username = $1 ORDER BY t.id DESC`, [options.user]);
    return rows.map(tokenInfoOfRow);
  }

  async revoke(id: number): Promise<boolean> {
    if (!Number.isSafeInteger(id)) return false;
    return (await this.pool.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [this.now(), id])).rowCount === 1;
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM tokens LIMIT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}
