/**
 * The few cookie rules Mayday needs, without a dependency: reading the `Cookie` header,
 * and writing the session cookie with the attributes that make it safe.
 */

export const SESSION_COOKIE = 'mayday_session';
/** Holds the login form's CSRF token until the form comes back (double submit, before any session exists). */
export const LOGIN_CSRF_COOKIE = 'mayday_login_csrf';

/** Cookie name -> value from a `Cookie` header; the first of duplicate names wins (RFC 6265 5.4 order). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name === '' || cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. Without it, a browser-session cookie. */
  maxAge?: number;
  /** Only over https: set when the node's public URL is https. */
  secure: boolean;
  path?: string;
  sameSite?: 'Lax' | 'Strict';
}

/**
 * A `Set-Cookie` value. Always HttpOnly (page scripts never need a session id, so an XSS
 * cannot steal it) and SameSite (Lax by default: a link from elsewhere arrives logged in,
 * but a cross-site POST does not carry the cookie in browsers that honour it; the CSRF
 * token covers the others).
 */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? '/'}`, 'HttpOnly', `SameSite=${options.sameSite ?? 'Lax'}`];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
