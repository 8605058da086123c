/**
 * Local accounts, groups and web sessions on PostgreSQL (component `auth`, tables in
 * `auth-schema.ts`): the account store port (`ports/account-store.ts`) for web nodes on
 * several machines sharing one database, so that a login on one node is a session on
 * all. Same semantics as the SQLite adapter (`account-store.ts`; the shared contract
 * tests check it).
 *
 * It lives in `src/auth` beside the SQLite adapter rather than in `src/adapters`: both
 * carry the auth rules (scrypt passwords, session hashing, permission arithmetic), which
 * adapters may not import.
 */

import { randomBytes } from 'node:crypto';
import type pg from 'pg';

import { closePool, inTransaction, openPgPool, pgErrorCode, UNIQUE_VIOLATION, type PgStoreOptions } from '../adapters/pg-database.js';
import type { Permission } from '../common/permissions.js';
import { AccountError, type AccountStore, type CreateUserOptions, type GroupInfo, type OidcLogin, type OidcLoginResult, type SessionPrincipal, type UserInfo } from '../ports/account-store.js';
import {
  AUTH_COMPONENT,
  DEFAULT_SESSION_LIFETIME_MS,
  PG_AUTH_MIGRATIONS,
  SESSION_ID_PATTERN,
  USER_NAME_PATTERN,
  USER_NAME_RULE,
  combinedPermissions,
  oidcAccountDecision,
  pgGroupPermissionsSql,
  storedPermissions,
  unknownGroupsMessage,
} from './auth-schema.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken } from './tokens.js';

export interface PgAccountStoreOptions extends PgStoreOptions {
  /** The clock (tests). */
  now?: () => number;
  /** How long a session lasts from login (default `DEFAULT_SESSION_LIFETIME_MS`). */
  sessionLifetimeMs?: number;
}

interface UserRow {
  id: number;
  username: string;
  is_active: boolean;
  has_password: boolean;
  permissions: string;
  created_at: number;
  oidc_subject: string | null;
  last_login_at: number | null;
  groups: string[];
  group_permissions: string[];
}

/** A user with their groups (by name) and their groups' permissions, in one statement. */
const SELECT_USERS = `SELECT u.id, u.username, u.is_active, u.password_hash IS NOT NULL AS has_password, u.permissions, u.created_at, u.oidc_subject, u.last_login_at,
  ARRAY(SELECT g.name FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = u.id ORDER BY g.name) AS groups,
  ${pgGroupPermissionsSql('u.id')} AS group_permissions
  FROM users u`;

export class PgAccountStore implements AccountStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number,
    readonly sessionLifetimeMs: number,
  ) {}

  /** Connects, creates the schema if needed and applies the `auth` migrations. */
  static async open(options: PgAccountStoreOptions): Promise<PgAccountStore> {
    return new PgAccountStore(await openPgPool(options, AUTH_COMPONENT, PG_AUTH_MIGRATIONS), options.now ?? Date.now, options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS);
  }

  async createUser(options: CreateUserOptions): Promise<UserInfo> {
    if (!USER_NAME_PATTERN.test(options.username)) throw new AccountError(`"${options.username}" is not a valid user name (${USER_NAME_RULE})`);
    if (options.password !== undefined) {
      const problem = passwordProblem(options.password);
      if (problem) throw new AccountError(problem);
    }
    const groupIds = await this.groupIds(options.groups ?? []);
    const passwordHash = options.password === undefined ? null : await hashPassword(options.password);
    const exists = (): AccountError => new AccountError(`user ${options.username} already exists`);
    let id: number;
    try {
      id = await inTransaction(this.pool, async (client) => {
        const inserted = await client.query<{ id: number }>(
          'INSERT INTO users (username, created_at, password_hash, permissions) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING id',
          [options.username, this.now(), passwordHash, [...new Set(options.permissions ?? [])].join(',')],
        );
        const userId = inserted.rows[0]?.id;
        if (userId === undefined) throw exists();
        if (groupIds.length > 0) await client.query('INSERT INTO user_groups (user_id, group_id) SELECT $1, unnest($2::bigint[])', [userId, groupIds]);
        return userId;
      });
    } catch (error) {
      if (pgErrorCode(error) === UNIQUE_VIOLATION) throw exists();
      throw error;
    }
    return (await this.userWhere('u.id = $1', [id]))!;
  }

  async setPassword(username: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem);
    const hash = await hashPassword(password);
    if (!USER_NAME_PATTERN.test(username)) throw new AccountError(`no user ${username}`);
    await inTransaction(this.pool, async (client) => {
      const updated = await client.query<{ id: number }>('UPDATE users SET password_hash = $1 WHERE username = $2 RETURNING id', [hash, username]);
      const userId = updated.rows[0]?.id;
      if (userId === undefined) throw new AccountError(`no user ${username}`);
      await client.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    });
  }

  async setActive(username: string, active: boolean): Promise<void> {
    if (!USER_NAME_PATTERN.test(username)) throw new AccountError(`no user ${username}`);
    await inTransaction(this.pool, async (client) => {
      const updated = await client.query<{ id: number }>('UPDATE users SET is_active = $1 WHERE username = $2 RETURNING id', [active, username]);
      const userId = updated.rows[0]?.id;
      if (userId === undefined) throw new AccountError(`no user ${username}`);
      if (!active) await client.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    });
  }

  async setGroups(username: string, groups: readonly string[]): Promise<void> {
    const user = USER_NAME_PATTERN.test(username) ? (await this.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username])).rows[0] : undefined;
    if (!user) throw new AccountError(`no user ${username}`);
    const ids = await this.groupIds(groups);
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM user_groups WHERE user_id = $1', [user.id]);
      if (ids.length > 0) await client.query('INSERT INTO user_groups (user_id, group_id) SELECT $1, unnest($2::bigint[])', [user.id, ids]);
    });
  }

  async setPermissions(username: string, permissions: readonly Permission[]): Promise<void> {
    const updated = USER_NAME_PATTERN.test(username) ? await this.pool.query('UPDATE users SET permissions = $1 WHERE username = $2', [[...new Set(permissions)].join(','), username]) : undefined;
    if (!updated?.rowCount) throw new AccountError(`no user ${username}`);
  }

  async oidcLogin(login: OidcLogin): Promise<OidcLoginResult> {
    const run = (): Promise<OidcLoginResult> =>
      inTransaction(this.pool, async (client): Promise<OidcLoginResult> => {
        type Row = { id: number; username: string; is_active: boolean; has_password: boolean; oidc_subject: string | null };
        const columns = 'id, username, is_active, password_hash IS NOT NULL AS has_password, oidc_subject';
        let row = (await client.query<Row>(`SELECT ${columns} FROM users WHERE oidc_subject = $1 FOR UPDATE`, [login.subject])).rows[0];
        let created = false;
        if (!row) {
          const named = USER_NAME_PATTERN.test(login.username) ? (await client.query<Row>(`SELECT ${columns} FROM users WHERE username = $1 FOR UPDATE`, [login.username])).rows[0] : undefined;
          const decision = oidcAccountDecision(named, login);
          if (decision !== 'create' && decision !== 'link') return { ok: false, reason: decision, username: login.username };
          if (decision === 'link') {
            await client.query('UPDATE users SET oidc_subject = $1 WHERE id = $2', [login.subject, named!.id]);
            row = named!;
          } else {
            row = (await client.query<Row>(`INSERT INTO users (username, created_at, permissions, oidc_subject) VALUES ($1, $2, '', $3) RETURNING ${columns}`, [login.username, this.now(), login.subject])).rows[0]!;
            created = true;
          }
        }
        if (!row.is_active) return { ok: false, reason: 'inactive', username: row.username };
        const { rows: groups } = await client.query<{ name: string; id: number }>('SELECT name, id FROM groups');
        const known = new Map(groups.map((g) => [g.name, g.id]));
        const unknownGroups = (login.groups ?? []).filter((g) => !known.has(g));
        if (login.groups !== undefined) {
          const ids = [...new Set(login.groups.filter((g) => known.has(g)).map((g) => known.get(g)!))];
          await client.query('DELETE FROM user_groups WHERE user_id = $1', [row.id]);
          if (ids.length > 0) await client.query('INSERT INTO user_groups (user_id, group_id) SELECT $1, unnest($2::bigint[])', [row.id, ids]);
        }
        return { ok: true, userId: row.id, username: row.username, created, unknownGroups };
      });
    try {
      return await run();
    } catch (error) {
      // Two first logins of one identity at once: the loser finds the winner's account.
      if (pgErrorCode(error) === UNIQUE_VIOLATION) return run();
      throw error;
    }
  }

  async getUser(username: string): Promise<UserInfo | undefined> {
    // No user has a name outside the pattern (and PostgreSQL's text cannot hold every string, NUL).
    if (!USER_NAME_PATTERN.test(username)) return undefined;
    return this.userWhere('u.username = $1', [username]);
  }

  async listUsers(): Promise<UserInfo[]> {
    return (await this.pool.query<UserRow>(`${SELECT_USERS} ORDER BY u.username`)).rows.map(userInfoOfRow);
  }

  async listGroups(): Promise<GroupInfo[]> {
    const { rows } = await this.pool.query<{ name: string; permissions: string; description: string | null }>('SELECT name, permissions, description FROM groups ORDER BY name');
    return rows.map((g) => ({ name: g.name, permissions: storedPermissions(g.permissions), description: g.description }));
  }

  async authenticate(username: string, password: string): Promise<number | undefined> {
    const row = USER_NAME_PATTERN.test(username)
      ? (await this.pool.query<{ id: number; password_hash: string | null; is_active: boolean }>('SELECT id, password_hash, is_active FROM users WHERE username = $1', [username])).rows[0]
      : undefined;
    // Always hash once, so a wrong user name takes as long as a wrong password.
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    return row && row.password_hash !== null && row.is_active && ok ? row.id : undefined;
  }

  async createSession(userId: number): Promise<{ sessionId: string; expiresAt: number }> {
    const sessionId = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.sessionLifetimeMs;
    await inTransaction(this.pool, async (client) => {
      // Expired sessions are swept at each login: a table that grows only with logins.
      await client.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
      await client.query('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        hashToken(sessionId),
        userId,
        randomBytes(32).toString('base64url'),
        now,
        expiresAt,
      ]);
      await client.query('UPDATE users SET last_login_at = $1 WHERE id = $2', [now, userId]);
    });
    return { sessionId, expiresAt };
  }

  async verifySession(sessionId: string): Promise<SessionPrincipal | undefined> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined;
    // The session, its user and the user's permissions in one round trip: this runs on every request with a session cookie.
    const { rows } = await this.pool.query<{ user_id: number; csrf_token: string; expires_at: number; username: string; is_active: boolean; permissions: string; group_permissions: string[] }>(
      `SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.is_active, u.permissions, ${pgGroupPermissionsSql('u.id')} AS group_permissions
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
      [hashToken(sessionId)],
    );
    const row = rows[0];
    if (!row || !row.is_active || row.expires_at <= this.now()) return undefined;
    return { user: row.username, userId: row.user_id, permissions: combinedPermissions(row.permissions, row.group_permissions), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE id_hash = $1', [hashToken(sessionId)]);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM users LIMIT 1');
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }

  private async userWhere(condition: string, params: unknown[]): Promise<UserInfo | undefined> {
    const row = (await this.pool.query<UserRow>(`${SELECT_USERS} WHERE ${condition}`, params)).rows[0];
    return row && userInfoOfRow(row);
  }

  private async groupIds(names: readonly string[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ name: string; id: number }>('SELECT name, id FROM groups');
    const known = new Map(rows.map((g) => [g.name, g.id]));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new AccountError(unknownGroupsMessage(unknown, [...known.keys()]));
    return [...new Set(names.map((n) => known.get(n)!))];
  }
}

function userInfoOfRow(row: UserRow): UserInfo {
  return {
    id: row.id,
    username: row.username,
    active: row.is_active,
    hasPassword: row.has_password,
    groups: row.groups,
    ownPermissions: storedPermissions(row.permissions),
    permissions: [...combinedPermissions(row.permissions, row.group_permissions)],
    createdAt: row.created_at,
    oidcSubject: row.oidc_subject,
    lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at),
  };
}
