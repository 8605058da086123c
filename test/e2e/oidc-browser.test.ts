/**
 * Single sign-on in Debian's Chromium: the SSO button of Mayday's login page, the real
 * login form of a real OpenID Connect provider (`oidc-provider`, in the test process),
 * back to a report whose protected fields (the reporter's email and comments) the
 * signed-in developer now sees; logging out hides them again. An admin who signs in the
 * same way manages users on /admin/users. Screenshots go to test-artifacts/oidc/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, watchPageProblems } from '../support/browser.js';
import { corpusDumps } from '../support/corpus.js';
import { freePort } from '../support/free-port.js';
import { eventually } from '../support/mayday-process.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';

const EMAIL = 'reporter-5d2f@example.org';
const COMMENTS = 'It crashed when I opened the settings page';
const SHOTS = join(ARTIFACTS, 'oidc');

describe.skipIf(chromiumMissing)(`single sign-on in a real browser (${CHROMIUM})`, () => {
  let dir: string;
  let node: RunningNode;
  let provider: TestProvider;
  let browser: Browser;
  let url: string;
  let crashId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'mayday-oidc-browser-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({
      redirectUri: `${url}/login/oidc/callback`,
      postLogoutRedirectUri: `${url}/`,
      accounts: {
        jane: { preferred_username: 'jane', name: 'Jane Doe', email: 'jane@example.org', groups: ['mayday-devs'] },
        boss: { preferred_username: 'boss', name: 'The Boss', groups: ['mayday-admins'] },
      },
    });
    const text = `[node]\nroles = collector, processor, web\n[web]\nport = ${port}\npublic_url = ${url}\napi_rate_limit = 0\n[auth]\noidc_issuer = ${provider.issuer}\noidc_client_id = ${provider.clientId}\noidc_client_secret = ${provider.clientSecret}\noidc_scopes = openid profile email groups\noidc_group_map = mayday-devs=hackers, mayday-admins=admins\noidc_button_label = Example SSO\n`;
    const { config, findings } = loadConfig({ env: {}, file: { name: 'node.ini', text }, overrides: { 'node.data_dir': dir } });
    if (!config) throw new Error(JSON.stringify(findings));
    node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });

    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('Email', EMAIL);
    form.append('Comments', COMMENTS);
    form.append('upload_file_minidump', new Blob([readFileSync(corpusDumps()[0]!.path)]), 'crash.dmp');
    crashId = (await (await fetch(`${url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', '');
    await eventually(async () => ((await fetch(`${url}/api/ProcessedCrash/?crash_id=${crashId}`)).status === 200 ? true : undefined), 30_000, 'processing');
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await node?.close();
    await provider?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    // The provider's page imports a web font; no network here, and none needed.
    await context.route(/fonts\.googleapis\.com/, (route) => route.abort());
    return context;
  }

  /** Mayday's login page → the SSO button → the provider's form → back at `next`. */
  async function signIn(context: BrowserContext, login: string, next: string, shots = false) {
    const page = await context.newPage();
    await page.goto(`${url}/login?next=${encodeURIComponent(next)}`);
    await expect(page.locator('#sso-login').innerText()).resolves.toBe('Sign in with Example SSO');
    if (shots) await page.screenshot({ path: join(SHOTS, 'mayday-login-with-sso.png') });
    await page.click('#sso-login');
    await page.waitForURL(`${provider.issuer}/**`);
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'whatever the provider asks');
    if (shots) await page.screenshot({ path: join(SHOTS, 'provider-login.png') });
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}${next}`);
    return page;
  }

  it('signs in through the provider, sees the protected fields of a report, and logs out to hide them again', async () => {
    const context = await newContext();
    const anonymous = await context.newPage();
    await anonymous.goto(`${url}/report/index/${crashId}`);
    await expect(anonymous.content()).resolves.not.toContain(EMAIL);
    await expect(anonymous.content()).resolves.not.toContain(COMMENTS);
    await anonymous.close();

    const page = await signIn(context, 'jane', `/report/index/${crashId}`, true);
    const problems = watchPageProblems(page);
    await expect(page.content()).resolves.toContain(EMAIL);
    await expect(page.content()).resolves.toContain(COMMENTS);
    const cookie = (await context.cookies()).find((c) => c.name === 'mayday_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect((await context.cookies()).some((c) => c.name === 'mayday_oidc')).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'report-signed-in-through-sso.png'), fullPage: true });

    await page.goto(`${url}/account`);
    await expect(page.locator('#account-user').innerText()).resolves.toBe('jane');
    await page.click('#logout-form button[type=submit]');
    await page.waitForURL(`${url}/`);
    expect((await context.cookies()).some((c) => c.name === 'mayday_session')).toBe(false);
    await page.goto(`${url}/report/index/${crashId}`);
    await expect(page.content()).resolves.not.toContain(EMAIL);
    await expect(page.content()).resolves.not.toContain(COMMENTS);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lets an admin who signs in the same way manage users on /admin/users', async () => {
    const context = await newContext();
    const page = await signIn(context, 'boss', '/admin/users');
    const problems = watchPageProblems(page);
    await expect(page.locator('#user-jane .login-method').innerText()).resolves.toBe('OIDC');
    await expect(page.locator('#user-boss td').nth(1).innerText()).resolves.toBe('admins');

    await page.fill('#create-user-form input[name=username]', 'buildbot');
    await page.fill('#create-user-form input[name=password]', 'a build machine password');
    await page.check('#create-user-form input[name=groups][value=symbol_uploaders]');
    await page.click('#create-user-form button[type=submit]');
    await expect(page.locator('#admin-message').innerText()).resolves.toContain('User buildbot created');
    await expect(page.locator('#user-buildbot .login-method').innerText()).resolves.toBe('local');

    await page.click('#user-jane .active-form button');
    await expect(page.locator('#admin-message').innerText()).resolves.toContain('jane deactivated');
    await expect(page.locator('#user-jane').getAttribute('class')).resolves.toBe('inactive');
    await page.screenshot({ path: join(SHOTS, 'admin-users.png'), fullPage: true });
    expect(problems).toEqual([]);

    // Deactivated: the provider still vouches for jane, but Mayday refuses her.
    const other = await newContext();
    const refused = await other.newPage();
    await refused.goto(`${url}/login/oidc?next=/account`);
    await refused.fill('input[name=login]', 'jane');
    await refused.fill('input[name=password]', 'x');
    await refused.click('button[type=submit]');
    await refused.waitForURL(`${url}/login/oidc/callback**`);
    await expect(refused.locator('#oidc-problem').innerText()).resolves.toContain('The account jane is deactivated');
    await refused.screenshot({ path: join(SHOTS, 'sso-refused-deactivated.png') });
    await other.close();
    await context.close();
  });
});
