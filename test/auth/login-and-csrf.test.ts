/**
 * The web login and CSRF protection, through a Fastify app with the real auth layer, the
 * account pages and two stand-in routes: one that reports who asks, one state-changing
 * route that needs `reprocess` and records that it ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { requestAuthPlugin, requirePermission } from '../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { accountPagesPlugin, safeNext } from '../../src/roles/web/account-pages.js';
import { LoginThrottle } from '../../src/auth/login-throttle.js';

const PASSWORD = 'a long enough password';
let dir: string;
let accounts: SqliteAccountStore;
let tokens: SqliteTokenStore;
const ran: string[] = [];

async function buildApp(secureCookies: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  await app.register(accountPagesPlugin, { accounts, tokens, secureCookies });
  app.get('/whoami', async (request) => ({ user: request.session?.user ?? request.principal?.user ?? null, permissions: request.permissions ? [...request.permissions].sort() : null }));
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    scope.post('/act', { preHandler: requirePermission('reprocess') }, async (request) => {
      ran.push(request.session?.user ?? request.principal?.user ?? '?');
      return { ok: true };
    });
  });
  return app;
}

let app: FastifyInstance;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-login-'));
  accounts = SqliteAccountStore.open(path.join(dir, 'mayday.sqlite'));
  tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  await accounts.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'] });
  app = await buildApp(false);
});
afterAll(async () => {
  await app.close();
  await accounts.close();
  await tokens.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Cookie name -> value from a response's Set-Cookie headers. */
function setCookies(headers: Record<string, unknown>): Map<string, string> {
  const list = ([] as string[]).concat((headers['set-cookie'] as string | string[] | undefined) ?? []);
  return new Map(list.map((c) => [c.slice(0, c.indexOf('=')), c]));
}
const cookieValue = (setCookie: string): string => decodeURIComponent(setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')));

/** GET /login, then POST the form with `password`; returns the response. */
async function login(target: FastifyInstance, password: string, next = '/account') {
  const form = await target.inject({ method: 'GET', url: `/login?next=${encodeURIComponent(next)}` });
  expect(form.statusCode).toBe(200);
  const csrfCookie = setCookies(form.headers).get('mayday_login_csrf')!;
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(form.body)![1];
  return target.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `mayday_login_csrf=${cookieValue(csrfCookie)}` },
    payload: new URLSearchParams({ csrf_token: csrf, username: 'alice', password, next }).toString(),
  });
}

async function session(): Promise<{ cookie: string; csrf: string }> {
  const response = await login(app, PASSWORD);
  const cookie = `mayday_session=${cookieValue(setCookies(response.headers).get('mayday_session')!)}`;
  const account = await app.inject({ method: 'GET', url: '/account', headers: { cookie } });
  return { cookie, csrf: /name="csrf_token" value="([^"]+)"/.exec(account.body)![1] };
}

describe('login', () => {
  it('trades the right password for an HttpOnly, SameSite=Lax session cookie and goes back to `next`', async () => {
    const response = await login(app, PASSWORD);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    const cookie = setCookies(response.headers).get('mayday_session')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=\d+/);
    expect(cookie).not.toMatch(/Secure/);
    const who = await app.inject({ method: 'GET', url: '/whoami', headers: { cookie: `mayday_session=${cookieValue(cookie)}` } });
    expect(who.json()).toEqual({ user: 'alice', permissions: ['download_dumps', 'link_bugs', 'reprocess', 'view_protected'] });
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const secure = await buildApp(true);
    const cookie = setCookies((await login(secure, PASSWORD)).headers).get('mayday_session')!;
    expect(cookie).toMatch(/; Secure/);
    await secure.close();
  });

  it('refuses a wrong password with the form again, and no session', async () => {
    const response = await login(app, 'not the password');
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('Wrong user name or password');
    expect(setCookies(response.headers).has('mayday_session')).toBe(false);
  });

  it('refuses a login form that did not come from the login page (login CSRF)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf_token: 'forged', username: 'alice', password: PASSWORD }).toString(),
    });
    expect(response.statusCode).toBe(403);
    expect(setCookies(response.headers).has('mayday_session')).toBe(false);
  });

  it('refuses further attempts (429) after too many failures for a user name', async () => {
    const throttled = Fastify();
    await throttled.register(requestAuthPlugin, { tokens, sessions: accounts });
    await throttled.register(accountPagesPlugin, { accounts, secureCookies: false, throttle: new LoginThrottle({ maxFailures: 2 }) });
    expect((await login(throttled, 'wrong one')).statusCode).toBe(401);
    expect((await login(throttled, 'wrong two')).statusCode).toBe(401);
    const refused = await login(throttled, PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(setCookies(refused.headers).has('mayday_session')).toBe(false);
    await throttled.close();
  });

  it('never redirects off the site', () => {
    expect(safeNext('/report/index/x?y=1')).toBe('/report/index/x?y=1');
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)', undefined, '/x\r\nSet-Cookie: a=b']) expect(safeNext(bad)).toBe('/');
  });

  it('sends anonymous visitors of /account to the login page', async () => {
    const response = await app.inject({ method: 'GET', url: '/account' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?next=/account');
  });
});

describe('CSRF', () => {
  it('refuses a cross-site POST that carries only the session cookie', async () => {
    const { cookie } = await session();
    const before = ran.length;
    const response = await app.inject({ method: 'POST', url: '/act', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, payload: 'x=1' });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatch(/CSRF/);
    expect(ran.length).toBe(before);
    const wrong = await app.inject({ method: 'POST', url: '/act', headers: { cookie, 'x-csrf-token': 'guess' } });
    expect(wrong.statusCode).toBe(403);
    expect(ran.length).toBe(before);
  });

  it("accepts the session's token in the X-CSRF-Token header or the csrf_token form field", async () => {
    const { cookie, csrf } = await session();
    const before = ran.length;
    expect((await app.inject({ method: 'POST', url: '/act', headers: { cookie, 'x-csrf-token': csrf } })).statusCode).toBe(200);
    const form = await app.inject({ method: 'POST', url: '/act', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `csrf_token=${encodeURIComponent(csrf)}` });
    expect(form.statusCode).toBe(200);
    expect(ran.slice(before)).toEqual(['alice', 'alice']);
  });

  it("does not accept another session's token", async () => {
    const one = await session();
    const two = await session();
    expect((await app.inject({ method: 'POST', url: '/act', headers: { cookie: one.cookie, 'x-csrf-token': two.csrf } })).statusCode).toBe(403);
  });

  it('needs none for API calls with an Auth-Token (and ignores the cookie then)', async () => {
    const { token } = await tokens.create({ user: 'alice', permissions: ['reprocess'] });
    const { cookie } = await session();
    const response = await app.inject({ method: 'POST', url: '/act', headers: { 'auth-token': token, cookie } });
    expect(response.statusCode).toBe(200);
    expect(ran.at(-1)).toBe('alice');
  });

  it('protects logout: a forged logout leaves the session alive, a real one ends it', async () => {
    const { cookie, csrf } = await session();
    const forged = await app.inject({ method: 'POST', url: '/logout', headers: { cookie } });
    expect(forged.statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/whoami', headers: { cookie } })).json().user).toBe('alice');
    const real = await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `csrf_token=${encodeURIComponent(csrf)}` });
    expect(real.statusCode).toBe(303);
    expect(setCookies(real.headers).get('mayday_session')).toMatch(/Max-Age=0/);
    expect((await app.inject({ method: 'GET', url: '/whoami', headers: { cookie } })).json()).toEqual({ user: null, permissions: null });
  });

  it('treats an unknown or expired session as anonymous, not as an error', async () => {
    const response = await app.inject({ method: 'GET', url: '/whoami', headers: { cookie: `mayday_session=${'A'.repeat(43)}` } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: null, permissions: null });
  });
});

describe('API tokens on /account', () => {
  const form = (fields: [string, string][]): string => new URLSearchParams(fields).toString();
  const post = (url: string, cookie: string, fields: [string, string][]) =>
    app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form(fields) });

  it("makes a token within the user's permissions, shows it once, and it works", async () => {
    const { cookie, csrf } = await session();
    const account = await app.inject({ method: 'GET', url: '/account', headers: { cookie } });
    // Only what alice (hackers) has is offered.
    expect(account.body).toContain('value="view_protected"');
    expect(account.body).not.toContain('value="upload_symbols"');
    const made = await post('/account/tokens', cookie, [['csrf_token', csrf], ['permissions', 'reprocess'], ['permissions', 'view_protected'], ['description', 'laptop'], ['expires_days', '30']]);
    expect(made.statusCode).toBe(201);
    const token = /mdy_[A-Za-z0-9_-]{43}/.exec(made.body)![0];
    const principal = await tokens.verify(token);
    expect([...principal!.permissions].sort()).toEqual(['reprocess', 'view_protected']);
    const info = (await tokens.list({ user: 'alice' })).find((t) => t.description === 'laptop')!;
    expect(info.expiresAt! - info.createdAt).toBe(30 * 86_400_000);
    expect((await app.inject({ method: 'GET', url: '/account', headers: { cookie } })).body).not.toContain(token);
  });

  it('refuses permissions the user lacks, and forms without the CSRF token', async () => {
    const { cookie, csrf } = await session();
    const before = (await tokens.list({ user: 'alice' })).length;
    const beyond = await post('/account/tokens', cookie, [['csrf_token', csrf], ['permissions', 'upload_symbols']]);
    expect(beyond.statusCode).toBe(403);
    expect(beyond.body).toContain('You lack upload_symbols');
    const forged = await post('/account/tokens', cookie, [['permissions', 'reprocess']]);
    expect(forged.statusCode).toBe(403);
    expect((await tokens.list({ user: 'alice' })).length).toBe(before);
  });

  it("revokes one's own tokens only", async () => {
    const { cookie, csrf } = await session();
    const mine = await tokens.create({ user: 'alice', permissions: ['reprocess'] });
    const theirs = await tokens.create({ user: 'mallory', permissions: ['reprocess'] });
    expect((await post('/account/tokens/revoke', cookie, [['csrf_token', csrf], ['id', String(theirs.info.id)]])).statusCode).toBe(404);
    expect(await tokens.verify(theirs.token)).toBeDefined();
    expect((await post('/account/tokens/revoke', cookie, [['id', String(mine.info.id)]])).statusCode).toBe(403);
    expect((await post('/account/tokens/revoke', cookie, [['csrf_token', csrf], ['id', String(mine.info.id)]])).statusCode).toBe(303);
    expect(await tokens.verify(mine.token)).toBeUndefined();
  });
});
