/**
 * Password hashing for local accounts, with `node:crypto`'s scrypt.
 *
 * Unlike API tokens (256 random bits, a plain SHA-256 is enough), passwords are
 * low-entropy secrets a person chose: each gets its own random salt (so equal passwords
 * hash differently and precomputed tables are useless) and a deliberately costly KDF
 * (so guessing from a leaked database is slow). The stored text names the algorithm and
 * its parameters, `scrypt$N$r$p$salt$hash`, so the cost can be raised later without
 * invalidating existing hashes. Hashing runs on libuv's pool (async scrypt): a login
 * does not stall the event loop for the other requests.
 */

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: N=2^15, r=8, p=1 (about 32 MB and tens of ms per hash). */
const DEFAULT_PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

function scryptAsync(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes a password with a fresh salt; the result is what the users table stores. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, DEFAULT_PARAMS);
  return ['scrypt', DEFAULT_PARAMS.N, DEFAULT_PARAMS.r, DEFAULT_PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Whether `password` matches `stored`, compared in constant time. A malformed or
 * unknown-algorithm hash never matches (rather than throwing: a damaged row must not let
 * anyone in, nor take the login page down).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || (N & (N - 1)) !== 0) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (expected.length !== KEY_LENGTH) return false;
  const actual = await scryptAsync(password, salt, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** A hash of no one's password, verified against when a user does not exist, so that the answer takes as long. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

/** What a password must be: long enough to resist guessing; no composition rules (NIST SP 800-63B). */
export const MIN_PASSWORD_LENGTH = 10;
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'a password may have at most 1024 characters';
  return undefined;
}
