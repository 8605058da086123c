import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import type { Browser, Page } from 'playwright-core';
import { runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, watchPageProblems } from '../support/browser.js';

/**
 * Issue 12's browser acceptance: in the Configurator's form, build a deployment of two
 * collectors, three processors, a web node and a scheduler on three hosts (PostgreSQL,
 * RabbitMQ, S3), plant a mistake and see it on its field and on the graph, fix it, download
 * the zip and have the CLI validate what was downloaded. Needs `npm run build` (the page
 * serves dist/public/configurator.js).
 */
describe.skipIf(chromiumMissing)(`the Configurator in a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let browser: Browser;
  let dataDir: string;
  let work: string;
  const shots = join(ARTIFACTS, 'configurator');

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-configurator-'));
    work = mkdtempSync(join(tmpdir(), 'mayday-configurator-zip-'));
    mkdirSync(shots, { recursive: true });
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    node?.child.kill('SIGINT');
    await node?.exited;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
  const nodesOn = (page: Page, host: string) => page.locator(`[data-testid="host"][data-host="${host}"] [data-testid="node"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-node')).sort());
  const errorCount = (page: Page) => page.getByTestId('count-errors').first().getAttribute('data-count');

  it('builds a three-host deployment in the form, shows a planted error on its field and the graph, and downloads files the CLI validates', async () => {
    const context = await browser.newContext({ viewport: { width: 1680, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = watchPageProblems(page);

    await page.goto(`${node.url}/configurator`);
    await expect(page.locator('header nav a[href="/configurator"]').count()).resolves.toBe(1);

    // Start: the distributed preset over hosts a, b, c.
    await page.getByTestId('preset-distributed').check();
    await page.getByTestId('preset-hosts').fill('a,b,c');
    await page.getByTestId('preset-create').click();
    await page.getByTestId('configurator').waitFor();
    await expect.poll(() => page.getByTestId('node').count()).toBe(5);
    await expect.poll(() => errorCount(page)).toBe('0');
    await expect(page.getByTestId('shared-file').getAttribute('data-file')).resolves.toBe('common.ini');

    // A second collector on b, a third processor on c (through the add-node form).
    await page.getByTestId('add-node-b').click();
    await expect(page.getByTestId('add-node-name').inputValue()).resolves.toBe('collector-2');
    await page.getByTestId('add-node-submit').click();
    await page.locator('[data-testid="node"][data-node="collector-2"]').waitFor();

    await page.getByTestId('add-node-c').click();
    await page.getByTestId('add-node-role-collector').uncheck();
    await page.getByTestId('add-node-role-processor').check();
    await expect(page.getByTestId('add-node-name').inputValue()).resolves.toBe('processor-3');
    await page.getByTestId('add-node-submit').click();
    await page.locator('[data-testid="node"][data-node="processor-3"]').waitFor();

    // The scheduler moves from b to c.
    await page.getByTestId('move-scheduler').selectOption('c');
    await expect.poll(() => nodesOn(page, 'c')).toEqual(['processor-2', 'processor-3', 'scheduler']);
    await expect.poll(() => nodesOn(page, 'a')).toEqual(['collector', 'web']);
    await expect.poll(() => nodesOn(page, 'b')).toEqual(['collector-2', 'processor-1']);
    await expect.poll(() => errorCount(page)).toBe('0');
    await page.getByTestId('findings-clean').waitFor();

    // The new node files include the shared file, so they are on PostgreSQL, RabbitMQ and S3.
    await page.getByTestId('select-processor-3').click();
    await expect(page.getByTestId('source-storage.backend').innerText()).resolves.toContain('common.ini');
    await expect(page.getByTestId('source-queue.backend').innerText()).resolves.toContain('common.ini');
    await expect(page.getByTestId('source-database.backend').innerText()).resolves.toContain('common.ini');
    await page.getByTestId('graph').locator('g.node').first().waitFor();
    await expect.poll(() => page.getByTestId('graph').locator('g.node').count()).toBe(7);
    await shot(page, 'overview');

    // Plant a mistake: the web node overrides the queue prefix, so it publishes to queues no processor reads.
    await page.getByTestId('select-web').click();
    await expect(page.getByTestId('source-queue.prefix').innerText()).resolves.toContain('common.ini');
    await page.getByTestId('override-queue.prefix').check();
    await page.locator('[data-testid="field-queue.prefix"] input[data-option="queue.prefix"]').fill('other.');
    const prefixField = page.getByTestId('field-queue.prefix');
    await expect.poll(() => prefixField.getAttribute('data-state')).toBe('error');
    await expect(prefixField.locator('[data-testid="finding"][data-code="queue-unconsumed"]').count()).resolves.toBe(1);
    await expect(prefixField.locator('input[data-option="queue.prefix"]').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect.poll(() => errorCount(page)).not.toBe('0');
    await expect(page.locator('[data-testid="findings"] [data-code="queue-unconsumed"]').count()).resolves.toBeGreaterThan(0);
    // On the graph: the new queue and the web node's edge to it are drawn in red.
    const red = page.getByTestId('graph').locator('g.problem-error');
    await expect.poll(() => red.count()).toBeGreaterThan(0);
    await expect(page.getByTestId('graph').locator('g.resource.problem-error[data-kind="queue"]').count()).resolves.toBe(1);
    await expect(page.getByTestId('graph').locator('g.edge.problem-error[data-from="node:web"]').count()).resolves.toBe(1);
    await prefixField.scrollIntoViewIfNeeded();
    await shot(page, 'form-with-error');
    await page.getByTestId('graph-expand').click();
    await page.getByTestId('graph').screenshot({ path: join(shots, 'graph-with-error.png') });
    await page.getByTestId('graph-expand').click();

    // A click on the red queue shows the field at fault.
    await page.getByTestId('select-collector').click();
    await page.getByTestId('graph').locator('g.resource.problem-error[data-kind="queue"]').click();
    await expect.poll(() => page.getByTestId('file-form').getAttribute('data-file')).toBe('web.ini');
    await expect.poll(() => page.locator(':focus').getAttribute('data-option')).toBe('queue.prefix');

    // Fix it: stop overriding, the shared prefix applies again, and every finding clears.
    await page.getByTestId('override-queue.prefix').uncheck();
    await expect.poll(() => errorCount(page)).toBe('0');
    await page.getByTestId('findings-clean').waitFor();
    await expect.poll(() => page.getByTestId('graph').locator('g[class*="problem-"]').count()).toBe(0);
    await expect.poll(() => page.getByTestId('graph').locator('g.node').count()).toBe(7);
    await shot(page, 'form-fixed');
    await page.getByTestId('graph-expand').click();
    await page.getByTestId('graph').screenshot({ path: join(shots, 'graph.png') });
    await page.getByTestId('graph-expand').click();

    // Download the deployment and validate what was downloaded with the CLI.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-zip').click()]);
    expect(download.suggestedFilename()).toBe('mayday-deployment.zip');
    const zipPath = join(work, 'deployment.zip');
    await download.saveAs(zipPath);
    const dir = join(work, 'deployment');
    await unzip(zipPath, dir);
    expect(readdirSync(dir).sort()).toEqual(['collector-2.ini', 'collector.ini', 'common.ini', 'processor-1.ini', 'processor-2.ini', 'processor-3.ini', 'scheduler.ini', 'web.ini']);
    const validated = await runMayday(['config', 'validate', '--no-environment', dir]);
    expect(validated.code, `${validated.stdout}\n${validated.stderr}`).toBe(0);

    // The graph downloads too.
    for (const kind of ['svg', 'png', 'dot', 'mermaid']) {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`download-${kind}`).click()]);
      await file.saveAs(join(shots, file.suggestedFilename()));
    }

    // The work survives a reload (localStorage).
    await page.reload();
    await expect.poll(() => page.getByTestId('node').count()).toBe(7);
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('imports a pasted file and keeps its comments through form edits, rules and the text tab', async () => {
    const context = await browser.newContext({ viewport: { width: 1680, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${node.url}/configurator`);
    const original = '; my own notes\n[node]\nname = solo\n\n; the port the proxy expects\n[web]\nport = 9000\n';
    await page.getByTestId('paste-name').fill('solo');
    await page.getByTestId('paste-text').fill(original);
    await page.getByTestId('paste-add').click();
    await page.getByTestId('import-open').click();
    await page.locator('[data-testid="node"][data-node="solo"][data-file="solo.ini"]').waitFor();

    await page.locator('input[data-option="web.port"]').fill('9001');
    await page.getByTestId('rule-new-throttle.rules').fill('old_versions');
    await page.getByTestId('rule-add-throttle.rules').click();
    await page.getByTestId('rule-old_versions-action').selectOption('reject');
    await page.getByTestId('rule-old_versions-version').fill('^0\\.');
    await page.getByTestId('tab-text').click();
    const text = await page.getByTestId('text-editor').inputValue();
    expect(text.startsWith('; my own notes\n[node]\nname = solo\n\n; the port the proxy expects\n[web]\nport = 9001\n')).toBe(true);
    expect(text).toMatch(/\[throttle\.rules\.old_versions\]\naction = reject\nversion = \^0\\\.\n/);

    // A mistake typed in the text shows on its field in the form.
    await page.getByTestId('text-editor').fill(text.replace('port = 9001', 'port = ninety'));
    await page.getByTestId('tab-form').click();
    await expect.poll(() => page.getByTestId('field-web.port').getAttribute('data-state')).toBe('error');
    await shot(page, 'imported-with-schema-error');
    await context.close();
  });

  it('serves the bundle with a type, an ETag and a revalidation policy', async () => {
    const answer = await fetch(`${node.url}/assets/configurator.js`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = answer.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(answer.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(`${node.url}/assets/configurator.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${node.url}/assets/..%2Fcli%2Fmain.js`)).status).toBe(404);
    const pageHtml = await (await fetch(`${node.url}/configurator`)).text();
    const src = /<script type="module" src="([^"]+)"/.exec(pageHtml)?.[1];
    expect(src).toMatch(/^\/assets\/configurator\.js\?v=[0-9a-f]{12}$/);
    expect((await fetch(`${node.url}${src}`)).headers.get('cache-control')).toContain('immutable');
  });
});

/** Extracts a zip, keeping the Unix mode stored for each file (the security layer reads it). */
function unzip(zipPath: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (/(^|\/)\.\.(\/|$)/.test(entry.fileName) || entry.fileName.startsWith('/')) return reject(new Error(`unsafe name ${entry.fileName}`));
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const target = join(dir, entry.fileName);
            mkdirSync(dirname(target), { recursive: true });
            writeFileSync(target, Buffer.concat(chunks));
            const mode = (entry.externalFileAttributes >>> 16) & 0o777;
            if (mode !== 0) chmodSync(target, mode);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
