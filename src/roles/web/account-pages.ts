/**
 * The web login: `GET/POST /login`, `POST /logout` and `GET /account`.
 *
 * Logging in trades a user name and password for a session cookie (see
 * `auth/account-store.ts` and `auth/request-auth.ts`). The login form itself is
 * CSRF-protected before any session exists by a double submit: `GET /login` puts a random
 * value both in a SameSite=Strict cookie and in the form, and `POST /login` wants the
 * two to agree, so another site cannot log a visitor into an account of its choosing.
 * Logout is a POST with the session's CSRF token (a link or an image elsewhere cannot
 * end a session). After login the visitor goes back where they were (`next`), which
 * must be a path on this site (never an open redirect).
 *
 * Every POST here has a small body limit and a capped number of fields (anonymous ones
 * that need a session are answered before their body is read). A login with a name no
 * account can have is refused before it is logged or counted; an attempt is counted
 * (`LoginThrottle`) before its password is hashed, and hashes run one at a time
 * (`PasswordCheckLimiter`), so that logins cannot take the node's thread pool.
 *
 * On `/account` a user manages their own API tokens: a token made there may only carry
 * permissions the user has (the token store refuses others), and shows once.
 */

import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import type { SessionIssuer } from '../../ports/account-store.js';
import { TokenPermissionError, type TokenInfo, type TokenStore } from '../../ports/token-store.js';
import { PERMISSIONS, type Permission } from '../../common/permissions.js';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, parseCookies, serializeCookie } from '../../auth/cookies.js';
import { CSRF_FIELD, sameCsrfToken } from '../../auth/request-auth.js';
import { LoginThrottle } from '../../auth/login-throttle.js';
import { PasswordCheckLimiter, PasswordChecksBusyError } from '../../auth/password-check-limiter.js';
import { USER_NAME_PATTERN } from '../../auth/auth-schema.js';
import { firstValue, formBodyParser, type FormBody } from './form-body.js';
import { html, type Html } from './html.js';
import { page } from './layout.js';
import { withAccess } from '../../auth/route-access.js';

/** What the account page needs of the token store. */
export type TokenManager = Pick<TokenStore, 'create' | 'list' | 'revoke'>;

export interface AccountPagesOptions {
  accounts: SessionIssuer;
  /** API tokens, for users to manage their own on `/account`. */
  tokens?: TokenManager;
  /**
   * Mark cookies Secure (the node's public URL is https). Without it they are still
   * Secure on requests that came over https, directly or (with Fastify's `trustProxy`)
   * through a trusted proxy saying `X-Forwarded-Proto: https`.
   */
  secureCookies: boolean;
  /** Limits failed logins (default: see `LoginThrottle`). */
  throttle?: LoginThrottle;
  /** Limits password checks running at once (default: see `PasswordCheckLimiter`). */
  passwordChecks?: PasswordCheckLimiter;
  /** Single sign-on is configured: the login page offers "Sign in with LABEL" (`oidc-routes.ts`). */
  singleSignOn?: {
    label: string;
    /** Where logout goes instead of the home page (the provider's logout, `auth.oidc_logout_at_provider`); undefined: home. */
    logoutRedirect?: () => Promise<string | undefined>;
  };
}

/**
 * Where to go after login: a path on this site, else the home page. `next` arrives
 * decoded (from the query or the form). Browsers drop tabs and newlines from URLs and
 * read a backslash as `/`, so `/<TAB>/evil.example` or `/\evil.example` would leave the
 * site: only a path starting with one `/`, without control characters or backslashes, is
 * taken. What is not printable ASCII is percent-encoded, so that the `Location` header is
 * always valid (a character it cannot carry made a 500).
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 4096 || !next.startsWith('/') || next.startsWith('//')) return '/';
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(next)) return '/';
  let encoded: string;
  try {
    encoded = next.replace(/[^\u0021-\u007e]+/gu, (run) => encodeURIComponent(run));
  } catch {
    return '/'; // a lone surrogate
  }
  // Defence in depth: what a browser makes of it must stay on this origin.
  const base = 'http://mayday.invalid';
  return new URL(encoded, `${base}/login`).origin === base ? encoded : '/';
}

/**
 * A form's `return_to` that stays on this site (as `safeNext` takes it, and no longer than
 * `maxLength`), or undefined: a form posted with another is refused, not sent home.
 */
export function sameSiteReturnPath(value: string, maxLength = 4096): string | undefined {
  if (value.length > maxLength) return undefined;
  const safe = safeNext(value);
  // `safeNext` falls back to `/` for what it refuses: only `/` itself may come back as `/`.
  return safe === '/' && value !== '/' ? undefined : safe;
}

/** A hidden form field with the session's CSRF token, for any page's POST form. */
export function csrfField(request: FastifyRequest): Html {
  return request.session ? html`<input type="hidden" name="${CSRF_FIELD}" value="${request.session.csrfToken}">` : html``;
}

/** Form styling of these pages (the shared layout styles tables and cards, not inputs). */
const FORM_STYLE = html`<style>
.form input[type=text], .form input[type=password], .form input:not([type]), .form input[type=number] { width:100%; padding:7px 9px; border:1px solid var(--line); border-radius:6px; font:inherit; }
.form label { font-weight:600; color:var(--muted); font-size:13px; }
.form button, form.inline button { background:var(--link); color:#fff; border:0; border-radius:6px; padding:7px 16px; font:inherit; cursor:pointer; }
form.inline button.danger { background:#fff; color:var(--accent); border:1px solid var(--accent); padding:3px 10px; }
.sso-or { color:var(--muted); text-align:center; margin:4px 0; }
a.sso-button { display:block; text-align:center; border:1px solid var(--link); color:var(--link); border-radius:6px; padding:7px 16px; text-decoration:none; font-weight:600; }
a.sso-button:hover { background:var(--link); color:#fff; }
.token-once { font-size:15px; padding:10px; background:#fff5d6; border-radius:6px; word-break:break-all; }
</style>`;

function loginPage(options: { csrf: string; next: string; error?: string; username?: string; singleSignOn?: string }): string {
  return page(
    'Log in',
    html`${FORM_STYLE}<h1>Log in</h1>
<div class="card form" style="max-width:420px">
  ${options.error ? html`<p class="badge err" id="login-error" role="alert">${options.error}</p>` : ''}
  <form method="post" action="/login" id="login-form">
    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrf}">
    <input type="hidden" name="next" value="${options.next}">
    <p><label>User name<br><input name="username" autocomplete="username" required value="${options.username ?? ''}" style="width:100%"></label></p>
    <p><label>Password<br><input name="password" type="password" autocomplete="current-password" required style="width:100%"></label></p>
    <p><button type="submit">Log in</button></p>
  </form>
  ${options.singleSignOn ? html`<p class="sso-or">or</p><p><a class="sso-button" id="sso-login" href="/login/oidc?next=${encodeURIComponent(options.next)}">Sign in with ${options.singleSignOn}</a></p>` : ''}
</div>`,
  );
}

const formatTime = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));

/** The permissions a user may put in a token of their own. */
function grantable(permissions: ReadonlySet<Permission>): Permission[] {
  return permissions.has('admin') ? [...PERMISSIONS] : PERMISSIONS.filter((p) => permissions.has(p));
}

function tokensSection(request: FastifyRequest, tokens: readonly TokenInfo[], message?: Html): Html {
  const session = request.session!;
  const offered = grantable(session.permissions);
  const now = Date.now();
  const live = tokens.filter((t) => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now));
  return html`<h2>API tokens</h2>
${message ?? ''}
<p class="muted">Send a token in the <code>Auth-Token</code> header (see the <a href="/api/">API</a>). A token can do only what you can.</p>
${
  live.length === 0
    ? html`<div class="card empty">No API tokens.</div>`
    : html`<table id="account-tokens"><thead><tr><th>Token</th><th>Permissions</th><th>Description</th><th>Expires</th><th>Last used</th><th></th></tr></thead><tbody>${live.map(
        (t) => html`<tr><td class="mono">${t.prefix}…</td><td>${t.permissions.join(', ')}</td><td>${t.description ?? ''}</td><td>${formatTime(t.expiresAt)}</td><td>${formatTime(t.lastUsedAt)}</td>
<td><form method="post" action="/account/tokens/revoke" class="inline">${csrfField(request)}<input type="hidden" name="id" value="${t.id}"><button class="danger" type="submit">Revoke</button></form></td></tr>`,
      )}</tbody></table>`
}
${
  offered.length === 0
    ? ''
    : html`<div class="card form" style="margin-top:16px"><form method="post" action="/account/tokens" id="token-form">${csrfField(request)}
<p><label>Permissions</label><br>${offered.map((p) => html`<label style="font-weight:400;margin-right:14px"><input type="checkbox" name="permissions" value="${p}"> ${p}</label>`)}</p>
<p><label>Description<br><input name="description" maxlength="200" placeholder="what it is for"></label></p>
<p><label>Expires after (days)<br><input name="expires_days" type="number" min="1" max="3650" value="90"></label></p>
<p><button type="submit">Create token</button></p></form></div>`
}`;
}

function accountPage(request: FastifyRequest, tokens: readonly TokenInfo[] | undefined, message?: Html): string {
  const session = request.session!;
  const permissions = [...session.permissions].sort();
  return page(
    'Account',
    html`${FORM_STYLE}<h1>Account <span class="mono" id="account-user">${session.user}</span></h1>
<div class="card"><table class="kv">
  <tr><th>Permissions</th><td id="account-permissions">${permissions.length ? permissions.map((p) => html`<span class="badge">${p}</span> `) : html`<span class="muted">none: you see public data only</span>`}</td></tr>
  <tr><th>Session expires</th><td>${formatTime(session.expiresAt)}</td></tr>
</table>
${session.permissions.has('admin') ? html`<p><a href="/admin/users" id="admin-users-link">Manage users and groups</a></p>` : ''}
<form method="post" action="/logout" id="logout-form" class="inline">${csrfField(request)}<button type="submit">Log out</button></form></div>
${tokens ? tokensSection(request, tokens, message) : ''}`,
  );
}

type Form = Partial<FormBody>;
const one = firstValue;
const DAY_MS = 86_400_000;
/**
 * Body limits of these forms: the login form holds a name, a password (at most 1024
 * characters, up to 9 bytes each once encoded) and `next`; the others a few short fields.
 */
const LOGIN_BODY_LIMIT = 16 * 1024;
const FORM_BODY_LIMIT = 4 * 1024;

export const accountPagesPlugin: FastifyPluginAsync<AccountPagesOptions> = async (app, options) => {
  const { accounts, secureCookies, tokens } = options;
  const throttle = options.throttle ?? new LoginThrottle();
  const passwordChecks = options.passwordChecks ?? new PasswordCheckLimiter();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser({ maxFields: 100 }));
  /** Secure cookies when the public URL is https, or this request came over https. */
  const secure = (request: FastifyRequest): boolean => secureCookies || request.protocol === 'https';

  const sendLoginForm = (request: FastifyRequest, reply: FastifyReply, status: number, form: { next: string; error?: string; username?: string }): FastifyReply => {
    const csrf = randomBytes(24).toString('base64url');
    return reply
      .code(status)
      .header('set-cookie', serializeCookie(LOGIN_CSRF_COOKIE, csrf, { secure: secure(request), path: '/login', sameSite: 'Strict', maxAge: 3600 }))
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(loginPage({ csrf, ...form, singleSignOn: options.singleSignOn?.label }));
  };

  app.get<{ Querystring: { next?: string } }>('/login', withAccess('public'), async (request, reply) => {
    const next = safeNext(request.query.next);
    if (request.session) return reply.redirect(next, 303);
    return sendLoginForm(request, reply, 200, { next });
  });

  app.post<{ Body: Form | undefined }>('/login', withAccess('public', { bodyLimit: LOGIN_BODY_LIMIT }), async (request, reply) => {
    const form = request.body ?? {};
    const next = safeNext(one(form.next));
    const expected = parseCookies(request.headers.cookie).get(LOGIN_CSRF_COOKIE);
    if (expected === undefined || !sameCsrfToken(form[CSRF_FIELD], expected)) {
      return sendLoginForm(request, reply, 403, { next, error: 'The form expired or came from another site. Please log in again.' });
    }
    const username = one(form.username) ?? '';
    // No account has such a name: refused before it is logged, counted or hashed.
    if (!USER_NAME_PATTERN.test(username)) {
      request.log.info({ userNameLength: username.length, ip: request.ip }, 'login failed: not a valid user name');
      return sendLoginForm(request, reply, 401, { next, error: 'Wrong user name or password.' });
    }
    // Counted now, before the slow hash: parallel guesses cannot all get through.
    const attempt = throttle.reserve(username, request.ip);
    if (!attempt.allowed) {
      request.log.warn({ user: username, ip: request.ip }, 'login refused: too many failed attempts');
      reply.header('retry-after', String(Math.ceil(attempt.retryAfterMs / 1000)));
      return sendLoginForm(request, reply, 429, { next, username, error: `Too many failed attempts. Try again in ${Math.ceil(attempt.retryAfterMs / 60_000)} minute(s).` });
    }
    let userId: number | undefined;
    try {
      userId = await passwordChecks.run(() => accounts.authenticate(username, one(form.password) ?? ''));
    } catch (error) {
      if (!(error instanceof PasswordChecksBusyError)) throw error;
      attempt.withdraw();
      request.log.warn({ user: username, ip: request.ip }, 'login refused: too many logins being checked');
      reply.header('retry-after', '1');
      return sendLoginForm(request, reply, 429, { next, username, error: 'Too many logins are being checked right now. Please try again in a moment.' });
    }
    if (userId === undefined) {
      request.log.info({ user: username, ip: request.ip }, 'login failed');
      return sendLoginForm(request, reply, 401, { next, username, error: 'Wrong user name or password.' });
    }
    attempt.succeeded();
    const { sessionId, expiresAt } = await accounts.createSession(userId);
    request.log.info({ user: username }, 'logged in');
    return reply
      .header('set-cookie', [
        serializeCookie(SESSION_COOKIE, sessionId, { secure: secure(request), maxAge: (expiresAt - Date.now()) / 1000 }),
        serializeCookie(LOGIN_CSRF_COOKIE, '', { secure: secure(request), path: '/login', sameSite: 'Strict', maxAge: 0 }),
      ])
      .redirect(next, 303);
  });

  // These forms mean nothing without a session: anonymous ones are answered before their body is read.

  app.post('/logout', withAccess('session', { bodyLimit: FORM_BODY_LIMIT }, '/'), async (request, reply) => {
    // `request.permissions` is set only when the CSRF token matched (request-auth.ts).
    if (!request.session) return reply.redirect('/', 303);
    if (request.csrfRejected || request.permissions === undefined) return reply.code(403).type('text/html; charset=utf-8').send(page('Log out', html`<h1>Log out</h1><div class="card">The form came from another site; you are still logged in.</div>`));
    const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (sessionId) await accounts.deleteSession(sessionId);
    const after = (await options.singleSignOn?.logoutRedirect?.()) ?? '/';
    return reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { secure: secure(request), maxAge: 0 })).redirect(after, 303);
  });

  app.get('/account', withAccess('session', {}, '/login?next=/account'), async (request, reply) => {
    if (!request.session) return reply.redirect('/login?next=/account', 303);
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(accountPage(request, await tokens?.list({ user: request.session.user })));
  });

  if (!tokens) return;

  /** A state-changing account request: logged in, and its CSRF token checked (request-auth.ts). */
  const refuse = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (!request.session) return reply.redirect('/login?next=/account', 303);
    if (request.permissions === undefined) return reply.code(403).type('text/html; charset=utf-8').send(page('Account', html`<h1>Account</h1><div class="card">The form came from another site; nothing was changed.</div>`));
    return undefined;
  };
  const show = async (request: FastifyRequest, reply: FastifyReply, status: number, message: Html): Promise<FastifyReply> =>
    reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(accountPage(request, await tokens.list({ user: request.session!.user }), message));

  app.post<{ Body: Form | undefined }>('/account/tokens', withAccess('session', { bodyLimit: FORM_BODY_LIMIT }, '/login?next=/account'), async (request, reply) => {
    const refused = refuse(request, reply);
    if (refused) return refused;
    const form = request.body ?? {};
    const wanted = [form.permissions ?? []].flat().filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p));
    const days = Number(one(form.expires_days) ?? '90');
    if (wanted.length === 0) return show(request, reply, 400, html`<p class="badge err">Choose at least one permission.</p>`);
    if (!(days >= 1 && days <= 3650)) return show(request, reply, 400, html`<p class="badge err">A token expires after 1 to 3650 days.</p>`);
    try {
      const description = one(form.description)?.slice(0, 200) || undefined;
      const { token, info } = await tokens.create({ user: request.session!.user, permissions: wanted, expiresInMs: days * DAY_MS, description, onlyWithinUser: true });
      request.log.info({ user: info.user, tokenId: info.id, permissions: info.permissions }, 'API token created from the account page');
      return show(request, reply, 201, html`<div class="card" id="new-token"><p>Your new token (${info.permissions.join(', ')}). Copy it now: it is not shown again.</p><div class="mono token-once">${token}</div></div>`);
    } catch (error) {
      if (error instanceof TokenPermissionError) return show(request, reply, 403, html`<p class="badge err">You lack ${error.missing.join(', ')}.</p>`);
      throw error;
    }
  });

  app.post<{ Body: Form | undefined }>('/account/tokens/revoke', withAccess('session', { bodyLimit: FORM_BODY_LIMIT }, '/login?next=/account'), async (request, reply) => {
    const refused = refuse(request, reply);
    if (refused) return refused;
    const id = Number(one(request.body?.id));
    // Only one's own tokens: someone else's id is "not found", as an unknown one.
    const own = (await tokens.list({ user: request.session!.user })).find((t) => t.id === id && t.revokedAt === null);
    if (!own || !(await tokens.revoke(id))) return show(request, reply, 404, html`<p class="badge err">No such token.</p>`);
    request.log.info({ user: own.user, tokenId: id }, 'API token revoked from the account page');
    return reply.redirect('/account', 303);
  });
};
