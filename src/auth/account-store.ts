/**
 * Local accounts and web sessions in the main database (component `auth`): the SQLite
 * adapter of the account store port (`ports/account-store.ts`, which says what users,
 * groups and sessions are); `pg-account-store.ts` is the PostgreSQL one.
 *
 * A user's permissions are their own grants plus their groups' (`auth-schema.ts`). A
 * session is what a login buys: a random id in an HttpOnly cookie, of which only the
 * SHA-256 is stored (as for API tokens, a leaked database leaks no usable session), with
 * an absolute expiry and its own CSRF token. Sessions end at logout, at expiry, and when
 * the user is deactivated or their password changes (every session of theirs is dropped).
 */

import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

import { openSqlite } from '../adapters/sqlite-database.js';
import {
  AccountError,
  type AccountStore,
  type CreateUserOptions,
  type GroupInfo,
  type OidcLogin,
  type OidcLoginResult,
  type SessionIssuer,
  type SessionPrincipal,
  type SessionVerifier,
  type UserInfo,
} from '../ports/account-store.js';
import type { Permission } from '../common/permissions.js';
import { AUTH_COMPONENT, AUTH_MIGRATIONS, DEFAULT_SESSION_LIFETIME_MS, SESSION_ID_PATTERN, USER_NAME_PATTERN, USER_NAME_RULE, oidcAccountDecision, storedPermissions, unknownGroupsMessage, userPermissions } from './auth-schema.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken } from './tokens.js';

// The port's names, for the callers that import them from here.
export { AccountError, DEFAULT_SESSION_LIFETIME_MS, USER_NAME_PATTERN };
export type { AccountStore, CreateUserOptions, GroupInfo, SessionIssuer, SessionPrincipal, SessionVerifier, UserInfo };

interface UserRow {
  id: number;
  username: string;
  is_active: number;
  password_hash: string | null;
  permissions: string;
  created_at: number;
  oidc_subject: string | null;
  last_login_at: number | null;
}

export class SqliteAccountStore implements AccountStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    readonly sessionLifetimeMs: number,
  ) {}

  /** Opens (and migrates) the store in the database file at `path` (`:memory:` for tests). */
  static open(path: string, options: { now?: () => number; sessionLifetimeMs?: number } = {}): SqliteAccountStore {
    return new SqliteAccountStore(openSqlite(path, AUTH_COMPONENT, AUTH_MIGRATIONS), options.now ?? Date.now, options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS);
  }

  async createUser(options: CreateUserOptions): Promise<UserInfo> {
    if (!USER_NAME_PATTERN.test(options.username)) throw new AccountError(`"${options.username}" is not a valid user name (${USER_NAME_RULE})`);
    if (options.password !== undefined) {
      const problem = passwordProblem(options.password);
      if (problem) throw new AccountError(problem);
    }
    const groupIds = this.groupIds(options.groups ?? []);
    const passwordHash = options.password === undefined ? null : await hashPassword(options.password);
    const id = this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(options.username)) throw new AccountError(`user ${options.username} already exists`);
      const userId = Number(
        this.db
          .prepare('INSERT INTO users (username, created_at, password_hash, permissions) VALUES (?, ?, ?, ?)')
          .run(options.username, this.now(), passwordHash, [...new Set(options.permissions ?? [])].join(',')).lastInsertRowid,
      );
      for (const groupId of groupIds) this.db.prepare('INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)').run(userId, groupId);
      return userId;
    })();
    return this.userById(id)!;
  }

  async setPassword(username: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem);
    const hash = await hashPassword(password);
    const user = this.userRow(username);
    if (!user) throw new AccountError(`no user ${username}`);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, user.id);
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
    })();
  }

  async setActive(username: string, active: boolean): Promise<void> {
    const user = this.userRow(username);
    if (!user) throw new AccountError(`no user ${username}`);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET is_active = ? WHERE id = ?').run(active ? 1 : 0, user.id);
      if (!active) this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
    })();
  }

  async setGroups(username: string, groups: readonly string[]): Promise<void> {
    const user = this.userRow(username);
    if (!user) throw new AccountError(`no user ${username}`);
    const ids = this.groupIds(groups);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM user_groups WHERE user_id = ?').run(user.id);
      for (const groupId of ids) this.db.prepare('INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)').run(user.id, groupId);
    })();
  }

  async setPermissions(username: string, permissions: readonly Permission[]): Promise<void> {
    const changed = this.db.prepare('UPDATE users SET permissions = ? WHERE username = ?').run([...new Set(permissions)].join(','), username).changes;
    if (changed === 0) throw new AccountError(`no user ${username}`);
  }

  async oidcLogin(login: OidcLogin): Promise<OidcLoginResult> {
    const known = new Map((this.db.prepare('SELECT name, id FROM groups').all() as { name: string; id: number }[]).map((g) => [g.name, g.id]));
    return this.db.transaction((): OidcLoginResult => {
      let row = this.db.prepare('SELECT * FROM users WHERE oidc_subject = ?').get(login.subject) as UserRow | undefined;
      let created = false;
      if (!row) {
        const named = this.userRow(login.username);
        const decision = oidcAccountDecision(named, login);
        if (decision !== 'create' && decision !== 'link') return { ok: false, reason: decision, username: login.username };
        if (decision === 'link') {
          this.db.prepare('UPDATE users SET oidc_subject = ? WHERE id = ?').run(login.subject, named!.id);
        } else {
          this.db.prepare("INSERT INTO users (username, created_at, permissions, oidc_subject) VALUES (?, ?, '', ?)").run(login.username, this.now(), login.subject);
          created = true;
        }
        row = this.userRow(login.username)!;
      }
      if (row.is_active !== 1) return { ok: false, reason: 'inactive', username: row.username };
      const unknownGroups = (login.groups ?? []).filter((g) => !known.has(g));
      if (login.groups !== undefined) {
        this.db.prepare('DELETE FROM user_groups WHERE user_id = ?').run(row.id);
        for (const id of new Set(login.groups.filter((g) => known.has(g)).map((g) => known.get(g)!))) this.db.prepare('INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)').run(row.id, id);
      }
      return { ok: true, userId: row.id, username: row.username, created, unknownGroups };
    })();
  }

  async getUser(username: string): Promise<UserInfo | undefined> {
    const row = this.userRow(username);
    return row && this.toInfo(row);
  }

  async listUsers(): Promise<UserInfo[]> {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map((row) => this.toInfo(row));
  }

  async listGroups(): Promise<GroupInfo[]> {
    return (this.db.prepare('SELECT name, permissions, description FROM groups ORDER BY name').all() as { name: string; permissions: string; description: string | null }[]).map((g) => ({
      name: g.name,
      permissions: storedPermissions(g.permissions),
      description: g.description,
    }));
  }

  async authenticate(username: string, password: string): Promise<number | undefined> {
    const row = USER_NAME_PATTERN.test(username) ? this.userRow(username) : undefined;
    // Always hash once, so a wrong user name takes as long as a wrong password.
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    return row && row.password_hash !== null && row.is_active === 1 && ok ? row.id : undefined;
  }

  async createSession(userId: number): Promise<{ sessionId: string; expiresAt: number }> {
    const sessionId = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.sessionLifetimeMs;
    this.db.transaction(() => {
      // Expired sessions are swept at each login: a table that grows only with logins.
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.db.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(hashToken(sessionId), userId, randomBytes(32).toString('base64url'), now, expiresAt);
      this.db.prepare('UPDATE users SET last_login_at = ? WHERE id = ?').run(now, userId);
    })();
    return { sessionId, expiresAt };
  }

  async verifySession(sessionId: string): Promise<SessionPrincipal | undefined> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined;
    const row = this.db
      .prepare('SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.is_active FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?')
      .get(hashToken(sessionId)) as { user_id: number; csrf_token: string; expires_at: number; username: string; is_active: number } | undefined;
    if (!row || row.is_active !== 1 || row.expires_at <= this.now()) return undefined;
    return { user: row.username, userId: row.user_id, permissions: userPermissions(this.db, row.user_id), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashToken(sessionId));
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM users LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private userRow(username: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
  }

  private userById(id: number): UserInfo | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && this.toInfo(row);
  }

  private groupIds(names: readonly string[]): number[] {
    const known = new Map((this.db.prepare('SELECT name, id FROM groups').all() as { name: string; id: number }[]).map((g) => [g.name, g.id]));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new AccountError(unknownGroupsMessage(unknown, [...known.keys()]));
    return [...new Set(names.map((n) => known.get(n)!))];
  }

  private toInfo(row: UserRow): UserInfo {
    const groups = this.db.prepare('SELECT g.name FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ? ORDER BY g.name').pluck().all(row.id) as string[];
    return {
      id: row.id,
      username: row.username,
      active: row.is_active === 1,
      hasPassword: row.password_hash !== null,
      groups,
      ownPermissions: storedPermissions(row.permissions),
      permissions: [...userPermissions(this.db, row.id)],
      createdAt: row.created_at,
      oidcSubject: row.oidc_subject,
      lastLoginAt: row.last_login_at,
    };
  }
}
