import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { corpusDumps } from '../support/corpus.js';
import { eventually, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser } from '../support/browser.js';

describe.skipIf(chromiumMissing)(`crash pages in a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  const ids: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-browser-'));
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    for (const dump of corpusDumps().slice(0, 4)) {
      const form = new FormData();
      form.append('ProductName', 'Example');
      form.append('Version', '1.0');
      form.append('upload_file_minidump', new Blob([readFileSync(dump.path)]), 'crash.dmp');
      const answer = await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text();
      ids.push(answer.trim().replace('CrashID=bp-', ''));
    }
    await eventually(async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${id}`)).status));
      return statuses.every((s) => s === 200) ? true : undefined;
    }, 10_000, 'the crashes to be processed');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the latest crashes and opens one', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${node.url}/`);
    await expect(page.locator('#crash-list tbody tr').count()).resolves.toBe(4);
    await page.screenshot({ path: join(ARTIFACTS, 'crash-list.png'), fullPage: true });

    await page.locator(`a[href="/report/index/${ids[0]}"]`).click();
    await page.waitForURL(`**/report/index/${ids[0]}`);
    await expect(page.locator('#summary').innerText()).resolves.toContain('Linux');
    await expect(page.locator('#summary').innerText()).resolves.toContain('amd64');
    await expect(page.locator('#modules tbody tr').count()).resolves.toBeGreaterThan(3);
    await expect(page.locator('#frames tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#annotations').innerText()).resolves.toContain('ProductName');
    await page.screenshot({ path: join(ARTIFACTS, 'crash-report.png'), fullPage: true });
    await page.close();
  });
});
