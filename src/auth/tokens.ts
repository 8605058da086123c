/**
 * API tokens: what they look like, and how they are kept.
 *
 * A token is `mdy_` followed by 32 random bytes in base64url. Only its SHA-256 is
 * stored: a leaked database does not leak usable tokens. A plain (unsalted, fast) hash
 * is enough for 256 bits of randomness, where password hashing (salts, slow KDFs) guards
 * against guessing low-entropy secrets; it also lets a token be found by its hash in one
 * indexed lookup. The first characters are kept in clear as a `prefix`, so a person can
 * tell tokens apart in `mayday tokens list` without the secret.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'mdy_';
/** Characters of the token (after `mdy_`) kept in clear for display. */
export const DISPLAY_PREFIX_LENGTH = 8;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of the whole token text. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The part shown in lists: `mdy_AbCdEfGh`. */
export function displayPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + DISPLAY_PREFIX_LENGTH);
}

/** Whether `text` has a token's shape; anything else is refused without a lookup. */
export function looksLikeToken(text: string): boolean {
  return /^mdy_[A-Za-z0-9_-]{43}$/.test(text);
}

/** Constant-time comparison of two hex hashes (defence in depth after the indexed lookup). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
