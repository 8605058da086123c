/**
 * Issue 14's acceptance: a triager's daily loop in Debian's Chromium on a real node, signed
 * in as a member of the `hackers` group. Home → top crashers (version 2.1, 3 days) → the
 * signature page, still on version 2.1 and 3 days → link a bug → the bug on top crashers →
 * a report → Reprocess → the new result; then the missing-symbols page → symbols uploaded
 * with the CLI → "Reprocess N crashes" → symbolicated. Screenshots go to test-artifacts/triage/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, signInWithForm, watchPageProblems } from '../support/browser.js';
import { eventually, PROJECT_ROOT, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const PASSWORD = 'a triager keeps a long password';
const DUMPS = path.join(PROJECT_ROOT, 'fixtures/corpus/dumps');
const SYMBOLS = path.join(PROJECT_ROOT, 'fixtures/corpus/symbols');
const SHOTS = path.join(ARTIFACTS, 'triage');

interface Processed {
  uuid: string;
  version: string;
  signature: string;
  date_processed: string;
  crashing_thread?: number;
  json_dump?: { threads?: { frames?: { module?: string | null; function?: string | null }[] }[] };
}

/** What the node is given: the dump and the version it crashed in. */
const SUBMISSIONS: readonly { dump: string; version: string }[] = [
  ...Array.from({ length: 4 }, () => ({ dump: 'example-app-null.dmp', version: '2.1' })),
  ...Array.from({ length: 2 }, () => ({ dump: 'example-app-abort.dmp', version: '2.1' })),
  ...Array.from({ length: 3 }, () => ({ dump: 'example-app-null.dmp', version: '2.0' })),
];

describe.skipIf(chromiumMissing)(`the triage loop in a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  let uploadToken: string;
  const ids: string[] = [];

  const processed = async (id: string): Promise<Processed | undefined> => {
    const response = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`);
    return response.ok ? ((await response.json()) as Processed) : undefined;
  };
  /** Whether the application's own frames of the crashing thread have function names. */
  const symbolicated = (crash: Processed): boolean => (crash.json_dump?.threads?.[crash.crashing_thread ?? -1]?.frames ?? []).some((f) => f.module === 'example-app' && Boolean(f.function));
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  async function signIn(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const problems = watchPageProblems(page);
    await signInWithForm(page, node.url, { username: 'triager', password: PASSWORD, next: '/' });
    return { context, page, problems };
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-browser-triage-'));
    const config = path.join(dataDir, 'node.ini');
    writeFileSync(config, '[web]\nbug_url_template = https://github.com/acme/app/issues/{bug}\nnew_bug_url_template = https://github.com/acme/app/issues/new?title={title}&body={body}\n');
    const made = await runMayday(['users', 'create', 'triager', '--groups', 'hackers', '--password', PASSWORD, '--data-dir', dataDir]);
    expect(made.code, made.stderr).toBe(0);
    const token = await runMayday(['tokens', 'create', '--user', 'build-bot', '--permissions', 'upload_symbols', '--data-dir', dataDir]);
    expect(token.code, token.stderr).toBe(0);
    uploadToken = token.stdout.trim().split('\n').at(-1)!.trim();
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
    for (const { dump, version } of SUBMISSIONS) {
      const form = new FormData();
      form.append('ProductName', 'Example');
      form.append('Version', version);
      form.append('upload_file_minidump', new Blob([readFileSync(path.join(DUMPS, dump))]), 'crash.dmp');
      ids.push((await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', ''));
    }
    // No symbols yet: every crash is processed, none symbolicated.
    for (const id of ids) expect(symbolicated(await eventually(() => processed(id), 20_000, `crash ${id}`))).toBe(false);
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('home → top crashers (2.1, 3 days) → signature (still 2.1, 3 days) → link a bug → on top crashers → report → Reprocess → new result', async () => {
    const { context, page, problems } = await signIn();
    await shot(page, '1-home');

    // The home page's versions table leads to the top crashers of one version.
    await page.locator('#versions tr', { hasText: '2.1' }).locator('a', { hasText: 'top crashers' }).click();
    await page.waitForURL('**/topcrashers/?product=Example&version=2.1');
    await page.locator('#ranges a', { hasText: /^3 days$/ }).click();
    await page.waitForURL(/\/topcrashers\/\?.*days=3/);
    const topCrashersUrl = page.url();
    expect(new URL(topCrashersUrl).searchParams.getAll('version')).toEqual(['2.1']);
    const rows = page.locator('#top-crashers tbody tr');
    // Two signatures in 2.1 (null deref, abort); 2.0's crashes do not count here.
    await expect(rows.count()).resolves.toBe(2);
    const topRow = rows.first();
    await expect(topRow.locator('td').nth(3).innerText()).resolves.toBe('4');
    const signature = await topRow.locator('a[href^="/signature/"]').innerText();
    await shot(page, '2-top-crashers');

    // The signature page keeps version 2.1 and 3 days: 4 crashes, not the 7 of every version.
    await topRow.locator('a[href^="/signature/"]').click();
    await page.waitForURL('**/signature/?*');
    const signatureUrl = new URL(page.url());
    expect(signatureUrl.searchParams.get('signature')).toBe(signature);
    expect(signatureUrl.searchParams.getAll('version')).toEqual(['2.1']);
    expect(signatureUrl.searchParams.get('days')).toBe('3');
    await expect(page.locator('#signature-title').innerText()).resolves.toBe(signature);
    await expect(page.locator('#signature-total').innerText()).resolves.toBe('4');
    await expect(page.locator('#reports tbody tr').count()).resolves.toBe(4);

    // Link a bug: back on the same view, the bug links to the tracker.
    await page.fill('.bug-link-add input[name=bug_id]', '4242');
    await page.click('.bug-link-add button[type=submit]');
    await page.waitForURL((url) => url.searchParams.get('days') === '3' && url.searchParams.getAll('version').join() === '2.1');
    await expect(page.locator('#bugs a.bug-link').getAttribute('href')).resolves.toBe('https://github.com/acme/app/issues/4242');
    const fileBug = new URL((await page.locator('a.file-bug').getAttribute('href'))!);
    expect(`${fileBug.origin}${fileBug.pathname}`).toBe('https://github.com/acme/app/issues/new');
    expect(fileBug.searchParams.get('title')).toContain(signature);
    expect(fileBug.searchParams.get('body')).toContain(`${node.url}/signature/`);
    await shot(page, '3-signature-bug-linked');

    // The bug column of top crashers shows it.
    await page.goto(topCrashersUrl);
    await expect(page.locator('#top-crashers tbody tr').first().locator('td.bugs a.bug-link').innerText()).resolves.toBe('4242');
    await shot(page, '4-top-crashers-bug');

    // A report of that signature: its bug, and Reprocess brings a new result.
    await page.goBack();
    await page.locator('#reports a[href^="/report/index/"]').first().click();
    await page.waitForURL('**/report/index/*');
    const crashId = page.url().split('/report/index/')[1]!.split('?')[0]!;
    await expect(page.locator('#report-bugs a.bug-link').innerText()).resolves.toBe('4242');
    const signatureLink = new URL(await page.locator('#summary a[href^="/signature/"]').first().getAttribute('href') ?? '', node.url);
    expect(signatureLink.searchParams.getAll('version')).toEqual(['2.1']);
    const before = (await processed(crashId))!;
    await page.click('#reprocess-form button[type=submit]');
    await page.waitForURL(`**/report/index/${crashId}?reprocessed=1*`);
    await page.waitForSelector('#reprocessed', { timeout: 20_000 });
    const after = (await processed(crashId))!;
    expect(after.date_processed > before.date_processed).toBe(true);
    await expect(page.locator('#summary').innerText()).resolves.toContain(after.date_processed);
    await shot(page, '5-report-reprocessed');

    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('missing symbols → upload with the CLI → "Reprocess N crashes" → symbolicated', async () => {
    const { context, page, problems } = await signIn();
    await page.goto(`${node.url}/missing-symbols/`);
    const appRow = page.locator('#missing-symbols tr', { hasText: 'example-app' }).first();
    await expect(appRow.locator('td.num').innerText()).resolves.toBe(String(SUBMISSIONS.length));
    await expect(appRow.locator('.symbols-uploaded').count()).resolves.toBe(0);
    await shot(page, '6-missing-symbols');

    // The build machine uploads without reprocessing (its token may not).
    const upload = await runMayday(['symbols', 'upload', SYMBOLS, '--url', node.url, '--token', uploadToken, '--no-reprocess']);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout + upload.stderr).toContain(`${SUBMISSIONS.length} crashes of the last 7 days missed these symbols; not queued (--no-reprocess)`);

    await page.reload();
    await expect(appRow.locator('.symbols-uploaded').innerText()).resolves.toBe('symbols uploaded');
    const button = appRow.locator('.reprocess-form button');
    await expect(button.innerText()).resolves.toBe(`Reprocess ${SUBMISSIONS.length} crashes`);
    await shot(page, '7-missing-symbols-uploaded');
    await button.click();
    await page.waitForURL('**/missing-symbols/?*reprocessed=*');
    await expect(page.locator('#notice').innerText()).resolves.toContain(`${SUBMISSIONS.length} crashes queued for reprocessing.`);
    // Polled gently: the node's per-client API budget (600 a minute) covers the whole test.
    for (const id of ids) {
      await eventually(async () => {
        const crash = await processed(id);
        if (crash && symbolicated(crash)) return true;
        await new Promise((resolve) => setTimeout(resolve, 250));
        return undefined;
      }, 30_000, `crash ${id} symbolicated`);
    }

    await page.goto(`${node.url}/report/index/${ids[0]}`);
    await expect(page.locator('#frames').innerText()).resolves.toContain('crash_null_deref');
    await shot(page, '8-report-symbolicated');
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});
