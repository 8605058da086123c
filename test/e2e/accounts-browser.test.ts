/**
 * Logging in through the form in Debian's Chromium: a user of the `hackers` group sees
 * the protected annotations of a report, and downloads its raw dump through the browser
 * (the session cookie, no token). Screenshots go to test-artifacts/.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser } from '../support/browser.js';
import { corpusDumps } from '../support/corpus.js';
import { MAYDAY_BIN, PROJECT_ROOT, eventually, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const PASSWORD = 'hackers have long passwords';
const EMAIL = 'reporter-4c1e@example.org';

function createUser(dataDir: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAYDAY_BIN, 'users', 'create', 'hacker', '--groups', 'hackers', '--password-stdin', '--data-dir', dataDir], { cwd: PROJECT_ROOT, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', (code) => resolve(code));
    child.stdin.end(`${PASSWORD}\n`);
  });
}

describe.skipIf(chromiumMissing)(`logging in with a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  let crashId: string;
  const dump = corpusDumps()[0]!;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-browser-accounts-'));
    expect(await createUser(dataDir)).toBe(0);
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('Email', EMAIL);
    form.append('upload_file_minidump', new Blob([readFileSync(dump.path)]), 'crash.dmp');
    crashId = (await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', '');
    await eventually(async () => ((await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`)).status === 200 ? true : undefined), 15_000, 'processing');
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs in through the form, sees a protected annotation, and downloads the raw dump', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${node.url}/login?next=${encodeURIComponent(`/report/index/${crashId}`)}`);
    await page.fill('input[name=username]', 'hacker');
    await page.fill('input[name=password]', 'not it at all, no');
    await page.click('#login-form button[type=submit]');
    await expect(page.locator('#login-error').innerText()).resolves.toContain('Wrong user name or password');
    await page.screenshot({ path: join(ARTIFACTS, 'login-failed.png') });

    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForURL(`**/report/index/${crashId}`);
    const cookie = (await context.cookies()).find((c) => c.name === 'mayday_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    await expect(page.content()).resolves.toContain(EMAIL);
    await page.screenshot({ path: join(ARTIFACTS, 'report-logged-in.png'), fullPage: true });

    // The report page's own download link if it has one, else a link to the API.
    const url = `/api/RawCrash/?crash_id=${crashId}&format=raw&name=upload_file_minidump`;
    const link = page.locator('a[href*="format=raw"]').first();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      (await link.count()) > 0
        ? link.click()
        : // A string: the tests' TypeScript has no DOM types.
          page.evaluate(`(() => { const a = document.createElement('a'); a.href = ${JSON.stringify(url)}; document.body.append(a); a.click(); })()`),
    ]);
    expect(download.suggestedFilename()).toBe(`${crashId}.dmp`);
    expect(readFileSync((await download.path())!).equals(readFileSync(dump.path))).toBe(true);

    await page.goto(`${node.url}/account`);
    await expect(page.locator('#account-permissions').innerText()).resolves.toContain('download_dumps');
    await page.check('#token-form input[value=view_protected]');
    await page.fill('#token-form input[name=description]', 'my laptop');
    await page.click('#token-form button[type=submit]');
    const token = (await page.locator('#new-token .token-once').innerText()).trim();
    const viaToken = await fetch(`${node.url}/api/RawCrash/?crash_id=${crashId}`, { headers: { 'auth-token': token } });
    expect(((await viaToken.json()) as Record<string, unknown>).Email).toBe(EMAIL);
    await page.screenshot({ path: join(ARTIFACTS, 'account.png'), fullPage: true });

    await page.goto(`${node.url}/api/`);
    await expect(page.locator('code', { hasText: '/api/RawCrash/' }).count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'api-docs.png') });
    await page.goto(`${node.url}/account`);
    await page.click('#logout-form button[type=submit]');
    await page.waitForURL(`${node.url}/`);
    expect((await context.cookies()).some((c) => c.name === 'mayday_session')).toBe(false);
    await context.close();
  });

  it('keeps to the Content-Security-Policy on every page: no violation, logged in or not', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    // Reported by the browser for anything the policy blocks (an inline script or style, a
    // frame, a form posting elsewhere); collected by a script the page's CSP cannot stop.
    await context.addInitScript('document.addEventListener("securitypolicyviolation", (e) => (window.__violations ||= []).push(e.violatedDirective + " " + e.blockedURI))');
    const page = await context.newPage();
    const console: string[] = [];
    page.on('console', (message) => {
      if (/content security policy|refused to/i.test(message.text())) console.push(message.text());
    });
    const visit = async (path: string): Promise<void> => {
      const response = await page.goto(`${node.url}${path}`);
      expect(response!.status(), path).toBeLessThan(400);
      expect(await response!.headerValue('content-security-policy'), path).toMatch(/script-src 'self'/);
      expect(await page.evaluate('window.__violations ?? []'), path).toEqual([]);
    };
    const pages = ['/', `/report/index/${crashId}`, '/search/?product=Example', '/topcrashers/', '/status', '/api/'];
    for (const path of [...pages, '/login']) await visit(path);
    await page.fill('input[name=username]', 'hacker');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForURL(`${node.url}/`);
    for (const path of [...pages, '/account']) await visit(path);
    expect(console).toEqual([]);
    // The check can fail: an inline script is refused and reported.
    await page.evaluate('(() => { const s = document.createElement("script"); s.textContent = "window.ran = 1"; document.body.append(s); })()');
    await expect.poll(() => page.evaluate('window.__violations ?? []')).toEqual([expect.stringMatching(/^script-src/)]);
    expect(await page.evaluate('window.ran ?? 0')).toBe(0);
    await context.close();
  });

  it('does not show the protected annotation to an anonymous visitor', async () => {
    const page = await browser.newPage();
    await page.goto(`${node.url}/report/index/${crashId}`);
    await expect(page.content()).resolves.not.toContain(EMAIL);
    await page.close();
  });
});
