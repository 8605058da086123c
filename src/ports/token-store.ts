/**
 * API tokens, as a port: the embedded store (SQLite, `auth/token-store.ts`) and the
 * shared one (PostgreSQL, `auth/pg-token-store.ts`) both implement it, and the contract
 * tests (`test/adapters/token-store.contract.ts`) hold them to the same behaviour.
 *
 * Tokens belong to a user (see `account-store.ts`). A token carries its own permissions,
 * an optional expiry, and when it was last used; only its SHA-256 is stored. Revoking
 * keeps the row (for the audit trail) but it no longer authenticates. A token never does
 * more than its user may: creation refuses (or, for an administrator, grants) permissions
 * the user lacks, and each use caps the token by the user's permissions of that moment.
 */

import type { Permission } from '../common/permissions.js';

/** Who a valid token speaks for. */
export interface Principal {
  readonly tokenId: number;
  readonly user: string;
  readonly permissions: ReadonlySet<Permission>;
}

/** What the request authentication needs: turning a presented token into a principal. */
export interface TokenVerifier {
  /**
   * The principal of a valid, unexpired, unrevoked token of an active user; otherwise
   * undefined. Records the use (`lastUsedAt`), at most once a minute per token.
   */
  verify(token: string): Promise<Principal | undefined>;
}

export interface TokenInfo {
  readonly id: number;
  readonly user: string;
  /** The first characters of the token, kept in clear so that a person can tell tokens apart. */
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

export interface TokenStore extends TokenVerifier {
  /**
   * Creates a token (and its user if new, holding the token's permissions). The token text
   * is returned once and never stored. Throws for an invalid user name or permission list;
   * with `onlyWithinUser`, throws `TokenPermissionError` when an existing user lacks some
   * of the permissions, and otherwise grants them to the user.
   */
  create(options: CreateTokenOptions): Promise<{ token: string; info: TokenInfo }>;
  get(id: number): Promise<TokenInfo | undefined>;
  /** Every token, newest first; with `user`, only that user's. */
  list(options?: { user?: string }): Promise<TokenInfo[]>;
  /** Revokes a token by id; false if there is no such token or it was already revoked. */
  revoke(id: number): Promise<boolean>;
  /** Throws when the store cannot be used (for `/__heartbeat__`). */
  check(): Promise<void>;
  /** Releases the connection or file; calling it again does nothing. */
  close(): Promise<void>;
}
