/**
 * What a single sign-on login must remember between `GET /login/oidc` and the provider's
 * redirect back: the `state` (this browser started this login), the `nonce` (the ID token
 * was minted for it), the PKCE code verifier (only this browser can redeem the code) and
 * where to go afterwards. It travels in a short-lived HttpOnly cookie, sealed with
 * AES-256-GCM: the browser can neither read the verifier nor change any of it, and no node
 * keeps a record, so the callback may land on any web node of the deployment.
 *
 * The key is derived from the client secret, which every node of a deployment shares; a
 * public client (no secret) gets a key of the process, so its logins must come back to the
 * node that started them (one web node, or sticky sessions).
 */

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const OIDC_STATE_COOKIE = 'mayday_oidc';
/** The cookie's path: sent to `/login/oidc` and its callback only. */
export const OIDC_STATE_PATH = '/login/oidc';
/** How long a started login may take at the provider (typing a password, a second factor). */
export const OIDC_STATE_LIFETIME_MS = 10 * 60_000;

export interface OidcPendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A same-site path (`safeNext` already applied). */
  readonly next: string;
  readonly expiresAt: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class OidcStateSealer {
  private readonly key: Buffer;

  constructor(clientSecret: string | undefined) {
    this.key = clientSecret
      ? Buffer.from(hkdfSync('sha256', clientSecret, 'mayday', 'mayday oidc login state v1', 32))
      : randomBytes(32);
  }

  seal(pending: OidcPendingLogin): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(pending), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The pending login, or undefined when the cookie is missing, altered, sealed by another key, or expired. */
  open(sealed: string | undefined, now: number): OidcPendingLogin | undefined {
    if (!sealed || sealed.length > 4096) return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      const value = JSON.parse(text) as Partial<OidcPendingLogin>;
      const fields = [value.state, value.nonce, value.codeVerifier, value.next];
      if (!fields.every((f) => typeof f === 'string') || typeof value.expiresAt !== 'number') return undefined;
      return value.expiresAt > now ? (value as OidcPendingLogin) : undefined;
    } catch {
      return undefined;
    }
  }
}
