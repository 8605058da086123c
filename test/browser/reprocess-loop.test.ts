/**
 * The reprocessing loop in Debian's Chromium, on a real node: a crash processed without
 * symbols is on the missing-symbols page (in the site's layout); a triager uploads the
 * symbols through the page's form with "reprocess" checked and the crash comes back
 * symbolicated; then the report page's Reprocess button shows "reprocessing…" until the
 * new result is there. Screenshots go to test-artifacts/.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, signInWithForm, watchPageProblems } from '../support/browser.js';
import { symbolFiles } from '../support/corpus.js';
import { eventually, PROJECT_ROOT, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';

const PASSWORD = 'triagers have long passwords';
const DUMP = path.join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp');
const SYMBOLS = path.join(PROJECT_ROOT, 'fixtures/corpus/symbols');

interface Processed {
  crashing_thread?: number;
  date_processed: string;
  json_dump?: { threads?: { frames?: { function?: string | null }[] }[] };
}

describe.skipIf(chromiumMissing)(`reprocessing from the pages (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  let crashId: string;

  const processed = async (): Promise<Processed | undefined> => {
    const response = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${crashId}`);
    return response.ok ? ((await response.json()) as Processed) : undefined;
  };
  const symbolicated = (crash: Processed) => (crash.json_dump?.threads?.[crash.crashing_thread ?? -1]?.frames ?? []).some((f) => f.function?.startsWith('crash_null_deref('));

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mayday-browser-reprocess-'));
    const made = await runMayday(['users', 'create', 'triager', '--permissions', 'reprocess,upload_symbols', '--password', PASSWORD, '--data-dir', dataDir]);
    expect(made.code, made.stderr).toBe(0);
    // The configured mapping from the build's paths to the repository, at the crash's revision.
    const config = path.join(dataDir, 'node.ini');
    writeFileSync(config, '[source_links.rules.app]\nprefix = /srv/example-app/\nurl = https://github.com/example/app/blob/{revision}/{path}#L{line}\nrevision_annotation = SourceRevision\n');
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0', '--config', config]);
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('SourceRevision', '0123abcd');
    form.append('upload_file_minidump', new Blob([readFileSync(DUMP)]), 'crash.dmp');
    crashId = (await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', '');
    const first = await eventually(processed, 15_000, 'processing');
    expect(symbolicated(first)).toBe(false);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uploads the symbols through the missing-symbols page, then reprocesses from the report page', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const problems = watchPageProblems(page);
    await signInWithForm(page, node.url, { username: 'triager', password: PASSWORD, next: '/missing-symbols/' });
    await expect(page.locator('header nav a[href="/missing-symbols/"]').count()).resolves.toBe(1);
    await expect(page.locator('#missing-symbols').innerText()).resolves.toContain('example-app');
    await expect(page.locator('#upload-form input[name=reprocess]').isChecked()).resolves.toBe(true);
    await expect(page.locator('#missing-symbols .reprocess-form').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'missing-symbols.png'), fullPage: true });

    await page.setInputFiles('#upload-form input[type=file]', symbolFiles(SYMBOLS));
    await page.click('#upload-form button[type=submit]');
    await page.waitForURL('**/missing-symbols/?uploaded=*');
    const notice = await page.locator('#notice').innerText();
    expect(notice).toMatch(/Uploaded \d+ symbol files; 1 crash of the last 7 days missed them\./);
    expect(notice).toContain('1 crash queued for reprocessing.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'missing-symbols-uploaded.png'), fullPage: true });
    const after = await eventually(async () => {
      const crash = await processed();
      return crash && symbolicated(crash) ? crash : undefined;
    }, 15_000, 'the crash to come back symbolicated');

    await page.goto(`${node.url}/report/index/${crashId}`);
    await expect(page.locator('#frames').innerText()).resolves.toContain('crash_null_deref');
    const source = page.locator('#frames a.source-link').first();
    await expect(source.getAttribute('href')).resolves.toMatch(/^https:\/\/github\.com\/example\/app\/blob\/0123abcd\/crasher\.cc#L\d+$/);
    await expect(source.innerText()).resolves.toMatch(/^crasher\.cc:\d+$/);
    await page.click('#reprocess-form button[type=submit]');
    await page.waitForURL(`**/report/index/${crashId}?reprocessed=1&reprocessed_at=*`);
    // Either still waiting (the notice, refreshing) or already done: the notice says which.
    const first = await page.locator('#reprocessing, #reprocessed').first().getAttribute('id');
    if (first === 'reprocessing') await page.screenshot({ path: path.join(ARTIFACTS, 'report-reprocessing.png'), fullPage: false });
    await page.waitForSelector('#reprocessed', { timeout: 15_000 });
    const again = (await processed())!;
    expect(again.date_processed > after.date_processed).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-reprocessed.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
