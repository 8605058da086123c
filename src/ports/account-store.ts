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
  /** The single sign-on identity (`ISSUER SUBJECT`) the user logs in with; null for a local account. */
  readonly oidcSubject: string | null;
  /** When a session was last started for the user (either way of logging in); null if never. */
  readonly lastLoginAt: number | null;
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

/** A login through the OpenID Connect provider, its claims already read (`auth/oidc-claims.ts`). */
export interface OidcLogin {
  /** `ISSUER SUBJECT`: who the provider vouches for; stable when names change. */
  readonly subject: string;
  /** The name for a new account (an existing account keeps its own). */
  readonly username: string;
  /** The Mayday groups the claims map to, replacing the user's at each login; undefined leaves them as they are. */
  readonly groups?: readonly string[];
  /** Whether an identity without an account gets one. */
  readonly createUnknown: boolean;
}

/**
 * How `oidcLogin` ended: a user to start a session for (created now, or found by identity,
 * or a password-less account of that name linked now), or why not.
 */
export type OidcLoginResult =
  | { readonly ok: true; readonly userId: number; readonly username: string; readonly created: boolean; readonly unknownGroups: readonly string[] }
  | { readonly ok: false; readonly reason: 'inactive' | 'name_taken' | 'not_provisioned' | 'invalid_name'; readonly username: string };

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
  /** Replaces the permissions granted to a user directly; throws `AccountError` for an unknown user. */
  setPermissions(username: string, permissions: readonly Permission[]): Promise<void>;
  /**
   * Finds (or creates) the user of a single sign-on identity, in one transaction: by
   * identity first; else an account of that name that has neither a password nor another
   * identity (one an admin made for the person) is linked to it; an account of that name
   * with a password is never taken over. Groups the claims name that do not exist are
   * left out and reported.
   */
  oidcLogin(login: OidcLogin): Promise<OidcLoginResult>;
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
