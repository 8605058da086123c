import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually, runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser } from '../support/browser.js';

/**
 * The Crash Stats walk of issue 7 on `mayday start --demo`: home -> top crashers ->
 * signature -> report -> raw dump download (with a token that may), and a Super Search
 * with a facet; each page is screenshotted into test-artifacts/.
 */
describe.skipIf(chromiumMissing)(`Crash Stats pages in a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-crash-stats-'));
    node = await startMayday(['start', '--demo', '--data-dir', dataDir, '--port', '0']);
    const submitted = await eventually(async () => {
      const match = /submitted (\d+) sample crashes/.exec(node.stderr());
      return match ? Number(match[1]) : undefined;
    }, 20_000, 'the demo crashes to be submitted');
    expect(submitted).toBeGreaterThan(10);
    await eventually(async () => {
      // The demo's crashes span the last 30 days; Super Search looks at 7 unless told.
      const since = new Date(Date.now() - 31 * 86_400_000).toISOString().slice(0, 10);
      const answer = (await (await fetch(`${node.url}/api/SuperSearch/?date=%3E%3D${since}&_results_number=0&_facets_size=0`)).json()) as { total: number };
      return answer.total >= submitted ? true : undefined;
    }, 30_000, `the ${submitted} demo crashes to be processed`);
    const created = await runMayday(['tokens', 'create', '--data-dir', dataDir, '--permissions', 'download_dumps,view_protected', '--user', 'browser-test']);
    expect(created.code, created.stderr).toBe(0);
    token = created.stdout.trim();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `crash-stats-${name}.png`), fullPage: true });

  it('walks home -> top crashers -> signature -> report -> raw dump download', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, extraHTTPHeaders: { 'Auth-Token': token }, acceptDownloads: true });
    const page = await context.newPage();

    await page.goto(`${node.url}/`);
    await expect(page.locator('#versions tbody tr').count()).resolves.toBeGreaterThan(2);
    await expect(page.locator('#volume-chart path').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#crash-list tbody tr').count()).resolves.toBeGreaterThan(10);
    await shot(page, 'home');

    await page.locator('#products a', { hasText: /^Example$/ }).click();
    await page.waitForURL('**/?product=Example');
    await page.locator('a', { hasText: 'All Example top crashers' }).click();
    await page.waitForURL('**/topcrashers/?product=Example');
    const rows = page.locator('#top-crashers tbody tr');
    await expect(rows.count()).resolves.toBeGreaterThan(2);
    await expect(rows.first().locator('td').first().innerText()).resolves.toBe('1');
    await expect(page.locator('#top-crashers .badge', { hasText: 'new' }).count()).resolves.toBeGreaterThan(0);
    await shot(page, 'top-crashers');

    const topSignature = await rows.first().locator('a[href^="/signature/"]').innerText();
    await rows.first().locator('a[href^="/signature/"]').click();
    await page.waitForURL('**/signature/?signature=*');
    await expect(page.locator('#signature-title').innerText()).resolves.toBe(topSignature);
    expect(Number(await page.locator('#signature-total').innerText())).toBeGreaterThan(0);
    await expect(page.locator('#aggregations [data-facet="version"] tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#reports tbody tr').count()).resolves.toBeGreaterThan(0);
    await shot(page, 'signature');

    await page.locator('#reports tbody tr a').first().click();
    await page.waitForURL('**/report/index/*');
    await expect(page.locator('#summary').innerText()).resolves.toContain(topSignature);
    await expect(page.locator('#frames tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#frames').innerText()).resolves.toMatch(/crasher\.cc:\d+/);
    await expect(page.locator('#threads details').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#modules tbody tr').count()).resolves.toBeGreaterThan(3);
    await expect(page.locator('#annotations').innerText()).resolves.toContain('ProductName');
    await shot(page, 'report');

    // The link a permitted viewer gets: fetched with the browser context's credentials.
    const href = await page.locator('#downloads a').first().getAttribute('href');
    expect(href).toContain('format=raw');
    const dump = await context.request.get(new URL(href!, node.url).href);
    expect(dump.status()).toBe(200);
    expect((await dump.body()).subarray(0, 4).toString('latin1')).toBe('MDMP');
    await context.close();
  }, 60_000);

  it('runs a Super Search with a filter and a facet, and narrows by a facet value', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${node.url}/search/`);
    await page.locator('input[name="f"]').first().fill('product');
    await page.locator('select[name="op"]').first().selectOption('=');
    await page.locator('input[name="v"]').first().fill('Example');
    await page.locator('input[name="_facets"]').fill('version');
    await page.locator('#search-form button[type="submit"]').click();
    await page.waitForURL('**/search/?*');
    const total = Number((await page.locator('#search-total').innerText()).replace(/\D+/g, ''));
    expect(total).toBeGreaterThan(0);
    const facet = page.locator('#facets [data-facet="version"] tr');
    await expect(facet.count()).resolves.toBeGreaterThan(1);
    const version = await facet.first().locator('a').innerText();
    const count = Number(await facet.first().locator('td.num').first().innerText());
    await shot(page, 'search');

    await facet.first().locator('a').click();
    await page.waitForURL('**/search/?*version=*');
    expect(Number((await page.locator('#search-total').innerText()).replace(/\D+/g, ''))).toBe(count);
    await expect(page.locator('#search-results tbody tr').first().innerText()).resolves.toContain(version);
    await page.close();
  }, 30_000);

  it('opens a report, a signature and a contains search from the header box', async () => {
    const answer = (await (await fetch(`${node.url}/api/SuperSearch/?_columns=uuid&_columns=signature&_results_number=1&_facets_size=0`)).json()) as { hits: { uuid: string; signature: string }[] };
    const { uuid, signature } = answer.hits[0]!;
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${node.url}/`);
    const box = page.locator('header input[name="q"]');
    await expect(box.getAttribute('placeholder')).resolves.toBe('Crash ID or signature');

    await box.fill(`  bp-${uuid.toUpperCase()} `);
    await box.press('Enter');
    await page.waitForURL(`**/report/index/${uuid}`);
    await expect(page.locator('#summary').innerText()).resolves.toContain(signature);

    await page.locator('header input[name="q"]').fill(signature);
    await page.locator('header input[name="q"]').press('Enter');
    await page.waitForURL('**/signature/?signature=*');
    await expect(page.locator('#signature-title').innerText()).resolves.toBe(signature);

    // Not the whole signature: a part of it, which the Super Search finds as contained.
    const words = signature.slice(1).trim();
    await page.locator('header input[name="q"]').fill(words);
    await page.locator('header input[name="q"]').press('Enter');
    await page.waitForURL('**/search/?signature=*');
    expect(Number((await page.locator('#search-total').innerText()).replace(/\D+/g, ''))).toBeGreaterThan(0);
    await shot(page, 'quick-search');
    await page.close();
  }, 30_000);
});
