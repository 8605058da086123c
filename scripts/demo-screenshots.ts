/**
 * Screenshots of what a first visit to `mayday start --demo` shows: the home page, the
 * top crashers and the top signature's page (7 and 28 days), into test-artifacts/demo/ (to be
 * looked at).
 *
 *   npx tsx scripts/demo-screenshots.ts [--url http://127.0.0.1:8000]
 *
 * Without --url it starts `mayday start --demo` (the built CLI) on a scratch data
 * directory and waits for every sample crash to be processed. Needs Chromium
 * (/usr/bin/chromium, or CHROMIUM_PATH).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test-artifacts/demo');
const given = process.argv.includes('--url') ? process.argv[process.argv.indexOf('--url') + 1] : undefined;

async function startDemo(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mayday-demo-shots-'));
  const child = spawn(process.execPath, [join(root, 'bin/mayday.js'), 'start', '--demo', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((r) => child.on('exit', r));
  const submitted = await new Promise<{ url: string; count: number }>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${err}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const url = /is running at (http:\/\/[^\s/]+)\//.exec(err)?.[1];
      const count = /--demo: submitted (\d+) sample crashes/.exec(err)?.[1];
      if (url && count) {
        clearTimeout(timer);
        resolvePromise({ url, count: Number(count) });
      }
    });
  });
  for (let i = 0; i < 600; i++) {
    const home = await (await fetch(`${submitted.url}/`)).text();
    if (home.includes(`${submitted.count} processed`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: submitted.url,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const node = given ? { url: given, stop: async () => undefined } : await startDemo();
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const shot = async (name: string) => {
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    console.log(join(out, `${name}.png`), page.url());
  };
  await page.goto(`${node.url}/`);
  await shot('home');
  await page.goto(`${node.url}/topcrashers/?product=Example`);
  await shot('top-crashers');
  await page.locator('#top-crashers tbody tr').first().locator('a[href^="/signature/"]').click();
  await page.waitForURL('**/signature/?signature=*');
  await shot('signature');
  await page.locator('a', { hasText: /^28 days$/ }).first().click();
  await page.waitForURL('**days=28*');
  await shot('signature-28-days');
} finally {
  await browser.close();
  await node.stop();
}
