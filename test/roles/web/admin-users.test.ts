/**
 * `/admin/users` through a Fastify app with the real auth layer and account store: who may
 * see and post (anonymous, a session without admin, a forged form, an admin token), and
 * each action's effect on the store the CLI shares, with its refusals as 400 pages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { requestAuthPlugin } from '../../../src/auth/request-auth.js';
import { routeAccessPlugin } from '../../../src/auth/route-access.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { adminUsersPlugin } from '../../../src/roles/web/admin-users-page.js';

const PASSWORD = 'a long enough password';
let dir: string;
let accounts: SqliteAccountStore;
let tokens: SqliteTokenStore;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-admin-users-'));
  accounts = SqliteAccountStore.open(path.join(dir, 'mayday.sqlite'));
  tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  await accounts.createUser({ username: 'root', password: PASSWORD, groups: ['admins'] });
  await accounts.createUser({ username: 'dev', password: PASSWORD, groups: ['hackers'] });
  app = Fastify();
  await app.register(routeAccessPlugin);
  await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  await app.register(adminUsersPlugin, { accounts, singleSignOn: true });
});
afterAll(async () => {
  await app.close();
  await accounts.close();
  await tokens.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sessionOf(username: string): Promise<{ cookie: string; csrf: string; id: string }> {
  const user = (await accounts.getUser(username))!;
  const { sessionId } = await accounts.createSession(user.id);
  return { cookie: `mayday_session=${sessionId}`, csrf: (await accounts.verifySession(sessionId))!.csrfToken, id: sessionId };
}

function post(url: string, who: { cookie: string; csrf?: string }, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  if (who.csrf !== undefined) body.append('csrf_token', who.csrf);
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  return app.inject({ method: 'POST', url, headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
}

const message = (body: string): string => /id="admin-message"[^>]*>([^<]*)</.exec(body)?.[1] ?? '';

describe('/admin/users access', () => {
  it('sends anonymous browsers to the login page, and refuses anonymous API callers, sessions without admin and forged forms', async () => {
    const browser = await app.inject({ method: 'GET', url: '/admin/users', headers: { accept: 'text/html' } });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/login?next=%2Fadmin%2Fusers');
    expect((await app.inject({ method: 'GET', url: '/admin/users' })).statusCode).toBe(401);
    const dev = await sessionOf('dev');
    expect((await app.inject({ method: 'GET', url: '/admin/users', headers: { cookie: dev.cookie } })).statusCode).toBe(403);
    expect((await post('/admin/users', dev, { username: 'mallory', permissions: 'admin' })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/admin/users', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=mallory' })).statusCode).toBe(401);
    const root = await sessionOf('root');
    const forged = await post('/admin/users', { cookie: root.cookie, csrf: 'not the token' }, { username: 'mallory', permissions: 'admin' });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('CSRF');
    expect(await accounts.getUser('mallory')).toBeUndefined();
  });

  it('shows users and groups to an admin session, and to an admin API token', async () => {
    const root = await sessionOf('root');
    const page = await app.inject({ method: 'GET', url: '/admin/users', headers: { cookie: root.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('id="user-dev"');
    expect(page.body).toContain(`name="csrf_token" value="${root.csrf}"`);
    expect(page.body).toMatch(/<td class="mono">hackers<\/td><td>view_protected, download_dumps, reprocess, link_bugs<\/td>/);
    const { token } = await tokens.create({ user: 'root', permissions: ['admin'] });
    expect((await app.inject({ method: 'GET', url: '/admin/users', headers: { 'auth-token': token } })).statusCode).toBe(200);
  });
});

describe('/admin/users actions', () => {
  it('creates users, with groups, permissions and a password or none, refusing bad ones with the store\'s message', async () => {
    const root = await sessionOf('root');
    const made = await post('/admin/users', root, { username: 'builder', password: PASSWORD, groups: 'symbol_uploaders', permissions: ['reprocess', 'link_bugs'] });
    expect(made.statusCode).toBe(200);
    expect(message(made.body)).toBe('User builder created.');
    expect(await accounts.getUser('builder')).toMatchObject({ hasPassword: true, groups: ['symbol_uploaders'], ownPermissions: ['reprocess', 'link_bugs'] });
    expect(await accounts.authenticate('builder', PASSWORD)).toBeDefined();
    expect(message((await post('/admin/users', root, { username: 'sso-person' })).body)).toContain('without a password');

    const refusals: [Record<string, string>, RegExp][] = [
      [{ username: 'builder' }, /user builder already exists/],
      [{ username: 'bad name' }, /is not a valid user name/],
      [{ username: 'x1', groups: 'wizards' }, /unknown group wizards/],
      [{ username: 'x2', permissions: 'fly' }, /unknown permission fly/],
      [{ username: 'x3', password: 'short' }, /at least \d+ characters/],
      [{ username: '' }, /no user name given/],
    ];
    for (const [fields, expected] of refusals) {
      const refused = await post('/admin/users', root, fields);
      expect(refused.statusCode, JSON.stringify(fields)).toBe(400);
      expect(message(refused.body)).toMatch(expected);
    }
    expect((await accounts.listUsers()).map((u) => u.username)).not.toContain('x1');
  });

  it('replaces groups and own permissions; a session sees the change at once', async () => {
    const root = await sessionOf('root');
    const dev = await sessionOf('dev');
    const saved = await post('/admin/users/access', root, { username: 'dev', groups: ['symbol_uploaders'], permissions: 'reprocess' });
    expect(saved.statusCode).toBe(200);
    expect(message(saved.body)).toBe('Groups and permissions of dev saved.');
    expect([...(await accounts.verifySession(dev.id))!.permissions].sort()).toEqual(['reprocess', 'upload_symbols']);
    // Nothing checked: no groups, no own permissions.
    await post('/admin/users/access', root, { username: 'dev' });
    expect(await accounts.getUser('dev')).toMatchObject({ groups: [], ownPermissions: [], permissions: [] });
    expect((await post('/admin/users/access', root, { username: 'nobody' })).statusCode).toBe(400);
    expect((await post('/admin/users/access', root, { username: 'dev', groups: 'wizards' })).statusCode).toBe(400);
    await post('/admin/users/access', root, { username: 'dev', groups: 'hackers' });
  });

  it('deactivates (ending sessions) and reactivates, but not oneself', async () => {
    const root = await sessionOf('root');
    const dev = await sessionOf('dev');
    const off = await post('/admin/users/active', root, { username: 'dev', active: '0' });
    expect(message(off.body)).toContain('dev deactivated');
    expect(await accounts.verifySession(dev.id)).toBeUndefined();
    expect(off.body).toMatch(/<tr id="user-dev" class="inactive"/);
    expect(message((await post('/admin/users/active', root, { username: 'dev', active: '1' })).body)).toBe('dev reactivated.');
    expect((await accounts.getUser('dev'))!.active).toBe(true);
    const self = await post('/admin/users/active', root, { username: 'root', active: '0' });
    expect(self.statusCode).toBe(400);
    expect(message(self.body)).toBe('you cannot deactivate yourself');
    expect((await post('/admin/users/active', root, { username: 'dev', active: 'maybe' })).statusCode).toBe(400);
    expect((await post('/admin/users/active', root, { username: 'nobody', active: '0' })).statusCode).toBe(400);
  });

  it('resets a password (ending sessions), refusing a weak one', async () => {
    const root = await sessionOf('root');
    const dev = await sessionOf('dev');
    const weak = await post('/admin/users/password', root, { username: 'dev', password: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(await accounts.verifySession(dev.id)).toBeDefined();
    const reset = await post('/admin/users/password', root, { username: 'dev', password: 'a brand new long password' });
    expect(message(reset.body)).toBe('Password of dev set; their sessions ended.');
    expect(await accounts.verifySession(dev.id)).toBeUndefined();
    expect(await accounts.authenticate('dev', 'a brand new long password')).toBeDefined();
    expect(await accounts.authenticate('dev', PASSWORD)).toBeUndefined();
  });
});
