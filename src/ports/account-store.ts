/**
 * Local accounts, groups and web sessions, as a port: the embedded store (SQLite,
 * `auth/account-store.ts`) and the shared one (PostgreSQL, `auth/pg-account-store.ts`)
 * both implement it, and the contract tests (`test/adapters/account-store.contract.ts`)
 * hold them to the same behaviour. API tokens, which belong to these users, are the
 * token store's (`token-store.ts`); both stores keep their tables in one database.
 *
 * A user's permissions are their own grants plus their groups'. A session is what a login
 * buys: a random id in an HttpOnly cookie, of which only the SHA-256 is stored (a leaked
 * database leaks no usable session), with an absolute expiry and its own CSRF token.
 * Sessions end at logout, at expiry, and when the user is deactivated or their password
 * changes (every session of theirs is dropped).
 */

import type { Permission } from '../common/permissions.js';

export interface UserInfo {
  readonly id: number;
  readonly username: string;
  readonly active: boolean;
  readonly hasPassword: boolean;
  /** By name. */
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
  /** The user's permissions of the moment (a group change shows at once). */
  readonly permissions: ReadonlySet<Permission>;
  /** The session's CSRF token: forms carry it, and every state-changing request must. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/** What the request authentication needs from sessions. */
export interface SessionVerifier {
  /** The principal of an unexpired session of an active user; otherwise undefined. */
  verifySession(sessionId: string): Promise<SessionPrincipal | undefined>;
}

/** What the login and logout pages need. */
export interface SessionIssuer extends SessionVerifier {
  /** The user's id if the name and password match an active account with a password. */
  authenticate(username: string, password: string): Promise<number | undefined>;
  /** A new session for the user; expired sessions are swept on the way. */
  createSession(userId: number): Promise<{ sessionId: string; expiresAt: number }>;
  deleteSession(sessionId: string): Promise<void>;
}

/** A request to change accounts the store refuses (bad name, unknown group, weak password, ...). */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface AccountStore extends SessionIssuer {
  /** How long a session lasts from login, in ms. */
  readonly sessionLifetimeMs: number;
  /** Creates a user; throws `AccountError` for a taken or invalid name, an unknown group or a weak password. */
  createUser(options: CreateUserOptions): Promise<UserInfo>;
  /** Sets (or replaces) a user's password; their sessions end. Throws `AccountError` for a weak password or an unknown user. */
  setPassword(username: string, password: string): Promise<void>;
  /** Activates or deactivates a user; a deactivated user's sessions end and tokens stop working. */
  setActive(username: string, active: boolean): Promise<void>;
  /** Replaces a user's groups; throws `AccountError` for an unknown user or group. */
  setGroups(username: string, groups: readonly string[]): Promise<void>;
  getUser(username: string): Promise<UserInfo | undefined>;
  /** By user name (byte order). */
  listUsers(): Promise<UserInfo[]>;
  /** By name (byte order). */
  listGroups(): Promise<GroupInfo[]>;
  /** Throws when the store cannot be used (for `/__heartbeat__`). */
  check(): Promise<void>;
  /** Releases the connection or file; calling it again does nothing. */
  close(): Promise<void>;
}
