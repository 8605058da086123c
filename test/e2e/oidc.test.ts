/**
 * Single sign-on end to end, over real HTTP: a real OpenID Connect provider
 * (`oidc-provider`) in the test process, a Mayday node configured for it, and the whole
 * code flow (Mayday → the provider's login form → the provider's redirect → the code
 * exchange and ID token checks → a Mayday session), then the refusals: a callback without
 * its login state, a forged state, a denied sign-in, a name a local account holds, and a
 * provider that is down (the node starts anyway, and the login page says so).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { OIDC_STATE_COOKIE } from '../../src/auth/oidc-state.js';
import { loadConfig } from '../../src/config/load.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { CookieAgent, formAction, unescapeHtml } from '../support/cookie-agent.js';
import { freePort } from '../support/free-port.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';

let dir: string;
let node: RunningNode;
let provider: TestProvider;
let publicUrl: string;

async function startMaydayFor(issuer: string, dataDir: string, port: number, extra = ''): Promise<RunningNode> {
  const text = `[node]
roles = collector, web
[web]
port = ${port}
public_url = http://127.0.0.1:${port}
api_rate_limit = 0
[auth]
oidc_issuer = ${issuer}
oidc_client_id = mayday
oidc_client_secret = the mayday client secret, long enough for HS256
oidc_scopes = openid profile email groups
oidc_group_map = mayday-devs=hackers, mayday-admins=admins
oidc_button_label = Test IdP
${extra}`;
  const { config, findings } = loadConfig({ env: {}, file: { name: 'node.ini', text }, overrides: { 'node.data_dir': dataDir } });
  if (!config) throw new Error(JSON.stringify(findings));
  return startNode(config, { cwd: dataDir, log: pino({ level: 'silent' }) });
}

/** From Mayday's SSO button to the provider's login form; returns the form's page. */
async function toProviderLogin(agent: CookieAgent, next = '/account'): Promise<{ body: string; url: string }> {
  const login = await agent.follow(`${publicUrl}/login?next=${encodeURIComponent(next)}`);
  const href = unescapeHtml(/id="sso-login" href="([^"]+)"/.exec(login.body)![1]!);
  const atProvider = await agent.follow(new URL(href, publicUrl).href);
  expect(atProvider.url.startsWith(provider.issuer)).toBe(true);
  expect(atProvider.body).toContain('name="login"');
  return atProvider;
}

/** Signs in at the provider's form as `login`; the hops and the page Mayday ends on. */
async function signIn(agent: CookieAgent, login: string, next?: string) {
  const form = await toProviderLogin(agent, next);
  return agent.postForm(formAction(form.body, form.url), { prompt: 'login', login, password: 'any password: the dev form checks none' });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-oidc-'));
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  provider = await startTestProvider({
    redirectUri: `${publicUrl}/login/oidc/callback`,
    postLogoutRedirectUri: `${publicUrl}/`,
    accounts: {
      jane: { preferred_username: 'jane', name: 'Jane Doe', email: 'jane@example.org', groups: ['mayday-devs', 'marketing'] },
      boss: { preferred_username: 'boss', groups: ['mayday-admins'] },
      taken: { preferred_username: 'taken' },
      'odd name': { preferred_username: 'Odd Name' },
    },
  });
  node = await startMaydayFor(provider.issuer, dir, port, 'oidc_logout_at_provider = true\n');
  const accounts = SqliteAccountStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  await accounts.createUser({ username: 'taken', password: 'a local password, long enough' });
  await accounts.close();
}, 60_000);
afterAll(async () => {
  await node?.close();
  await provider?.close();
  rmSync(dir, { recursive: true, force: true });
});

const users = async () => {
  const accounts = SqliteAccountStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  try {
    return await accounts.listUsers();
  } finally {
    await accounts.close();
  }
};

describe('single sign-on through a real OpenID Connect provider', () => {
  it('logs in through the provider: a new user in the mapped groups, with a Mayday session and its CSRF token', async () => {
    const agent = new CookieAgent();
    const start = await agent.fetch(`${publicUrl}/login/oidc?next=/account`);
    expect(start.hop.status).toBe(303);
    const authorize = new URL(start.hop.location!);
    expect(authorize.origin).toBe(provider.issuer);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: 'mayday',
      response_type: 'code',
      redirect_uri: `${publicUrl}/login/oidc/callback`,
      scope: 'openid profile email groups',
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[\w-]{20,}$/),
      nonce: expect.stringMatching(/^[\w-]{20,}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
    });
    // The login state is sealed: neither the verifier nor the state reads in the cookie.
    const stateCookie = start.hop.setCookies.find((c) => c.startsWith(`${OIDC_STATE_COOKIE}=`))!;
    expect(stateCookie).toMatch(/Path=\/login\/oidc; HttpOnly; SameSite=Lax; Max-Age=600/);
    expect(stateCookie).not.toContain(authorize.searchParams.get('state'));

    const done = await signIn(agent, 'jane');
    expect(done.status).toBe(200);
    expect(done.url).toBe(`${publicUrl}/account`);
    const callback = done.hops.find((h) => h.url.startsWith(`${publicUrl}/login/oidc/callback?`))!;
    expect(callback.status).toBe(303);
    expect(callback.location).toBe('/account');
    expect(callback.setCookies.find((c) => c.startsWith('mayday_session='))).toMatch(/HttpOnly; SameSite=Lax/);
    expect(callback.setCookies.find((c) => c.startsWith(`${OIDC_STATE_COOKIE}=;`))).toMatch(/Max-Age=0/);
    expect(agent.cookies.has(OIDC_STATE_COOKIE)).toBe(false);
    expect(done.body).toContain('id="account-user">jane<');
    expect(/id="account-permissions">([\s\S]*?)<\/td>/.exec(done.body)![1]).toContain('view_protected');

    const jane = (await users()).find((u) => u.username === 'jane')!;
    expect(jane).toMatchObject({ hasPassword: false, oidcSubject: `${provider.issuer} jane`, groups: ['hackers'], active: true });
    expect(jane.lastLoginAt).toBeGreaterThan(Date.now() - 60_000);

    // The session is a normal one: its CSRF token makes a token on /account, and logs out.
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(done.body)![1]!;
    const made = await agent.postForm(`${publicUrl}/account/tokens`, { csrf_token: csrf, permissions: 'view_protected', expires_days: '1' });
    expect(made.status).toBe(201);
    const forged = await agent.postForm(`${publicUrl}/logout`, { csrf_token: 'not the token' });
    expect(forged.status).toBe(403);
    // Logout ends the Mayday session and offers the provider's logout (auth.oidc_logout_at_provider).
    const out = await agent.postForm(`${publicUrl}/logout`, { csrf_token: csrf });
    expect(out.url).toBe(`${publicUrl}/logout/oidc`);
    expect(agent.cookies.has('mayday_session')).toBe(false);
    const providerLogout = new URL(unescapeHtml(/href="([^"]+)" id="provider-logout"/.exec(out.body)![1]!));
    expect(providerLogout.origin).toBe(provider.issuer);
    expect(Object.fromEntries(providerLogout.searchParams)).toEqual({ client_id: 'mayday', post_logout_redirect_uri: `${publicUrl}/` });
    expect((await agent.follow(providerLogout.href)).status).toBe(200);
    expect((await agent.follow(`${publicUrl}/account`)).url).toBe(`${publicUrl}/login?next=/account`);
  });

  it('sets the groups from the claims at every login, and finds the user by subject', async () => {
    provider.accounts.set('boss', { preferred_username: 'boss', groups: ['mayday-admins'] });
    const first = await signIn(new CookieAgent(), 'boss');
    expect(first.url).toBe(`${publicUrl}/account`);
    expect((await users()).find((u) => u.username === 'boss')).toMatchObject({ groups: ['admins'] });
    // Demoted at the provider, and renamed: the same account, now without admins.
    provider.accounts.set('boss', { preferred_username: 'former-boss', groups: ['mayday-devs'] });
    await signIn(new CookieAgent(), 'boss');
    const all = await users();
    expect(all.find((u) => u.username === 'boss')).toMatchObject({ groups: ['hackers'] });
    expect(all.some((u) => u.username === 'former-boss')).toBe(false);
  });

  it('goes back to a same-site next only', async () => {
    const away = await signIn(new CookieAgent(), 'jane', 'https://evil.example/');
    expect(away.url).toBe(`${publicUrl}/`);
    const report = await signIn(new CookieAgent(), 'jane', '/search/?product=Example');
    expect(report.url).toBe(`${publicUrl}/search/?product=Example`);
  });

  it('refuses a callback without its login state, or with a state that is not its own, with a page', async () => {
    const bare = await new CookieAgent().follow(`${publicUrl}/login/oidc/callback?code=abc&state=def`);
    expect(bare.status).toBe(400);
    expect(bare.body).toContain('This sign-in was not started in this browser, or took too long');
    expect(bare.body).not.toMatch(/at .*\.js:\d+|Error:/);

    const tampered = new CookieAgent();
    await tampered.fetch(`${publicUrl}/login/oidc`);
    const sealed = tampered.cookies.get(OIDC_STATE_COOKIE)!;
    tampered.cookies.set(OIDC_STATE_COOKIE, `${sealed.slice(0, -4)}AAAA`);
    expect((await tampered.follow(`${publicUrl}/login/oidc/callback?code=abc&state=def`)).status).toBe(400);

    // A real state cookie, but the state (or code) of another login: the check fails, no session.
    const crossed = new CookieAgent();
    await crossed.fetch(`${publicUrl}/login/oidc`);
    const wrong = await crossed.follow(`${publicUrl}/login/oidc/callback?code=abc&state=someone-elses-state&iss=${encodeURIComponent(provider.issuer)}`);
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain('could not be verified');
    expect(crossed.cookies.has('mayday_session')).toBe(false);

    // The provider's redirect replayed after the login finished: the state is spent.
    const agent = new CookieAgent();
    const done = await signIn(agent, 'jane');
    const callback = done.hops.find((h) => h.url.startsWith(`${publicUrl}/login/oidc/callback?`))!;
    const replay = await new CookieAgent().follow(callback.url);
    expect(replay.status).toBe(400);
  });

  it('says so when the person cancels at the provider', async () => {
    const agent = new CookieAgent();
    const form = await toProviderLogin(agent);
    const cancel = unescapeHtml(/href="([^"]*\/abort)"/.exec(form.body)![1]!);
    const denied = await agent.follow(new URL(cancel, form.url).href);
    expect(denied.url.startsWith(`${publicUrl}/login/oidc/callback?error=access_denied`)).toBe(true);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('Test IdP did not sign you in');
    expect(agent.cookies.has('mayday_session')).toBe(false);
  });

  it('never takes over a local account with a password, and refuses names no account can have', async () => {
    const taken = await signIn(new CookieAgent(), 'taken');
    expect(taken.status).toBe(403);
    expect(taken.body).toContain('A local account named taken already exists');
    expect((await users()).find((u) => u.username === 'taken')!.oidcSubject).toBeNull();
    // "Odd Name" is no user name: the subject names the account instead (here not one either).
    const odd = await signIn(new CookieAgent(), 'odd name');
    expect(odd.status).toBe(403);
    expect(odd.body).toContain('cannot be a Mayday user name');
  });

  it('keeps the local login beside the button', async () => {
    const login = await new CookieAgent().follow(`${publicUrl}/login`);
    expect(login.body).toContain('id="login-form"');
    expect(login.body).toContain('Sign in with Test IdP');
  });
});

describe('a provider that is down', () => {
  it('does not stop the node from starting; the login answers 503 with a page, and with the local login unaffected', async () => {
    const downDir = mkdtempSync(path.join(tmpdir(), 'mayday-oidc-down-'));
    const issuerPort = await freePort();
    const down = await startMaydayFor(`http://127.0.0.1:${issuerPort}`, downDir, await freePort()).catch((error: unknown) => error);
    try {
      expect(down).not.toBeInstanceOf(Error);
      const running = down as RunningNode;
      const agent = new CookieAgent();
      const refused = await agent.follow(`${running.url}/login/oidc`);
      expect(refused.status).toBe(503);
      expect(refused.body).toContain('Test IdP cannot be reached right now');
      expect(refused.body).toContain('Back to the login page');
      // The local login is unaffected.
      expect((await agent.follow(`${running.url}/login`)).status).toBe(200);
    } finally {
      if (!(down instanceof Error)) await (down as RunningNode).close();
      rmSync(downDir, { recursive: true, force: true });
    }
  });
});
