/**
 * Local accounts and web sessions in the main database (component `auth`).
 *
 * A user's permissions are their own grants plus their groups' (`auth-schema.ts`). A
 * session is what a login buys: a random id in an HttpOnly cookie, of which only the
 * SHA-256 is stored (as for API tokens, a leaked database leaks no usable session), with
 * an absolute expiry and its own CSRF token. Sessions end at logout, at expiry, and when
 * the user is deactivated or their password changes (every session of theirs is dropped).
 */

import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

import type { Permission } from '../common/permissions.js';
import { openSqlite } from '../adapters/sqlite-database.js';
import { AUTH_COMPONENT, AUTH_MIGRATIONS, storedPermissions, userPermissions } from './auth-schema.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken } from './tokens.js';

export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;
/** Sessions last this long from login unless the store is told otherwise. */
export const DEFAULT_SESSION_LIFETIME_MS = 14 * 86_400_000;

export interface UserInfo {
  readonly id: number;
  readonly username: string;
  readonly active: boolean;
  readonly hasPassword: boolean;
  readonly groups: readonly string[];
  /** Granted to the user directly. */
  readonly ownPermissions: readonly Permission[];
  /** Own and from groups. */
  readonly permissions: readonly Permission[];
  readonly createdAt: number;
}

export interface GroupInfo {
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly description: string | null;
}

export interface CreateUserOptions {
  readonly username: string;
  readonly password?: string;
  readonly groups?: readonly string[];
  readonly permissions?: readonly Permission[];
}

/** Who a valid session belongs to. */
export interface SessionPrincipal {
  readonly user: string;
  readonly userId: number;
  readonly permissions: ReadonlySet<Permission>;
  /** The session's CSRF token: forms carry it, and every state-changing request must. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/** What the request authentication needs from sessions. */
export interface SessionVerifier {
  verifySession(sessionId: string): Promise<SessionPrincipal | undefined>;
}

/** What the login and logout pages need. */
export interface SessionIssuer extends SessionVerifier {
  /** The user's id if the name and password match an active account with a password. */
  authenticate(username: string, password: string): Promise<number | undefined>;
  createSession(userId: number): { sessionId: string; expiresAt: number };
  deleteSession(sessionId: string): void;
}

/** A request to change accounts the store refuses (bad name, unknown group, weak password, ...). */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

interface UserRow {
  id: number;
  username: string;
  is_active: number;
  password_hash: string | null;
  permissions: string;
  created_at: number;
}

export class SqliteAccountStore implements SessionIssuer {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    readonly sessionLifetimeMs: number,
  ) {}

  /** Opens (and migrates) the store in the database file at `path` (`:memory:` for tests). */
  static open(path: string, options: { now?: () => number; sessionLifetimeMs?: number } = {}): SqliteAccountStore {
    return new SqliteAccountStore(openSqlite(path, AUTH_COMPONENT, AUTH_MIGRATIONS), options.now ?? Date.now, options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS);
  }

  /** Creates a user; throws `AccountError` for a taken or invalid name, an unknown group or a weak password. */
  async createUser(options: CreateUserOptions): Promise<UserInfo> {
    if (!USER_NAME_PATTERN.test(options.username)) throw new AccountError(`"${options.username}" is not a valid user name (letters, digits, "_.@+-")`);
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

  /** Sets (or replaces) a user's password; their sessions end. */
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

  /** Activates or deactivates a user; a deactivated user's sessions end and tokens stop working. */
  setActive(username: string, active: boolean): void {
    const user = this.userRow(username);
    if (!user) throw new AccountError(`no user ${username}`);
    this.db.prepare('UPDATE users SET is_active = ? WHERE id = ?').run(active ? 1 : 0, user.id);
    if (!active) this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
  }

  /** Replaces a user's groups. */
  setGroups(username: string, groups: readonly string[]): void {
    const user = this.userRow(username);
    if (!user) throw new AccountError(`no user ${username}`);
    const ids = this.groupIds(groups);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM user_groups WHERE user_id = ?').run(user.id);
      for (const groupId of ids) this.db.prepare('INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)').run(user.id, groupId);
    })();
  }

  getUser(username: string): UserInfo | undefined {
    const row = this.userRow(username);
    return row && this.toInfo(row);
  }

  listUsers(): UserInfo[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map((row) => this.toInfo(row));
  }

  listGroups(): GroupInfo[] {
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

  createSession(userId: number): { sessionId: string; expiresAt: number } {
    const sessionId = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.sessionLifetimeMs;
    this.db.transaction(() => {
      // Expired sessions are swept at each login: a table that grows only with logins.
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.db.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(hashToken(sessionId), userId, randomBytes(32).toString('base64url'), now, expiresAt);
    })();
    return { sessionId, expiresAt };
  }

  async verifySession(sessionId: string): Promise<SessionPrincipal | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
    const row = this.db
      .prepare('SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.is_active FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?')
      .get(hashToken(sessionId)) as { user_id: number; csrf_token: string; expires_at: number; username: string; is_active: number } | undefined;
    if (!row || row.is_active !== 1 || row.expires_at <= this.now()) return undefined;
    return { user: row.username, userId: row.user_id, permissions: userPermissions(this.db, row.user_id), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  deleteSession(sessionId: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashToken(sessionId));
  }

  close(): void {
    this.db.close();
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
    if (unknown.length > 0) throw new AccountError(`unknown group${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...known.keys()].sort().join(', ')})`);
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
    };
  }
}
