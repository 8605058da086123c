import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import type { Browser, Page } from 'playwright-core';
import { runMayday, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, watchPageProblems } from '../support/browser.js';
import { presetFiles } from '../../src/configurator/presets.js';

/** Ten nodes on three hosts: three collectors, four processors, two web nodes and a scheduler. */
const TEN_NODES: readonly (readonly [name: string, host: string, role: string, port: number])[] = [
  ['collector-1', 'ingest-1', 'collector', 8101],
  ['collector-2', 'ingest-1', 'collector', 8102],
  ['processor-1', 'ingest-1', 'processor', 8111],
  ['collector-3', 'ingest-2', 'collector', 8101],
  ['processor-2', 'ingest-2', 'processor', 8111],
  ['processor-3', 'ingest-2', 'processor', 8112],
  ['processor-4', 'ops', 'processor', 8111],
  ['web-1', 'ops', 'web', 8100],
  ['web-2', 'ops', 'web', 8200],
  ['scheduler', 'ops', 'scheduler', 8121],
];

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
    await node?.stop('SIGINT');
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

  it('imports ten node files by upload, draws them readably inline and enlarged, adds and removes nodes and hosts, and downloads the graph', async () => {
    const context = await browser.newContext({ viewport: { width: 1680, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = watchPageProblems(page);
    page.on('dialog', (dialog) => void dialog.accept());

    // Eleven files, picked in one go: the distributed preset's common.ini and ten node files on three hosts.
    const upload = join(work, 'ten-nodes');
    mkdirSync(upload, { recursive: true });
    writeFileSync(join(upload, 'common.ini'), presetFiles('distributed', ['ingest-1'])[0]!.text);
    for (const [name, host, role, port] of TEN_NODES) {
      writeFileSync(join(upload, `${name}.ini`), `include = common.ini\n\n; ${name} on ${host}\n[node]\nname = ${name}\nhost = ${host}\nroles = ${role}\ndata_dir = ./var/${name}\n\n[web]\nhost = ${host}\nport = ${port}\n`);
    }
    await page.goto(`${node.url}/configurator`);
    await page.getByTestId('import-files').setInputFiles(['common.ini', ...TEN_NODES.map(([name]) => `${name}.ini`)].map((f) => join(upload, f)));
    await expect.poll(() => page.getByTestId('import-pending').locator('li').count()).toBe(11);
    await page.getByTestId('import-open').click();
    await page.getByTestId('configurator').waitFor();
    await expect.poll(() => page.getByTestId('node').count()).toBe(10);
    await expect.poll(() => nodesOn(page, 'ingest-1')).toEqual(['collector-1', 'collector-2', 'processor-1']);
    await expect.poll(() => nodesOn(page, 'ops')).toEqual(['processor-4', 'scheduler', 'web-1', 'web-2']);
    await expect.poll(() => errorCount(page)).toBe('0');
    await expect(page.getByTestId('shared-file').getAttribute('data-file')).resolves.toBe('common.ini');
    const graph = page.getByTestId('graph');
    await expect.poll(() => graph.locator('g.node').count()).toBe(10);

    // Advanced options start folded away, and open on request.
    await page.getByTestId('select-processor-1').click();
    const advanced = page.getByTestId('advanced-node');
    await expect(advanced.evaluate((d) => d.hasAttribute('open'))).resolves.toBe(false);
    const shownFields = () => page.locator('[data-testid^="field-"]').count();
    const folded = await shownFields();
    await advanced.locator('summary').click();
    await expect.poll(() => advanced.evaluate((d) => d.hasAttribute('open'))).toBe(true);
    await expect.poll(shownFields).toBeGreaterThan(folded);

    // Inline, beside the form: fitted if the text stays readable, else at full size from its left edge.
    const inline = await measureGraph(page);
    expect(inline.nameSize, JSON.stringify(inline)).toBeGreaterThanOrEqual(11);
    expect(inline.scrollLeft).toBe(0);
    expect(inline.firstHostVisible).toBe(true);
    expect(inline.overlaps).toEqual([]);
    // The panel as it shows in the window (past the window's bottom edge, the sticky column scrolls).
    const panel = (await page.getByTestId('graph-panel').boundingBox())!;
    await page.screenshot({ path: join(shots, 'ten-nodes-inline.png'), clip: { x: panel.x, y: Math.max(0, panel.y), width: panel.width, height: Math.min(panel.height, 1000 - Math.max(0, panel.y)) } });
    await shot(page, 'ten-nodes-form');

    // Enlarged: every node name at 11 CSS px or more, no two boxes on top of each other.
    await page.getByTestId('graph-expand').click();
    await expect.poll(() => page.locator('.cfg-cols.graph-large').count()).toBe(1);
    const large = await measureGraph(page);
    expect(large.names).toBe(10);
    expect(large.nameSize, JSON.stringify(large)).toBeGreaterThanOrEqual(11);
    expect(large.overlaps).toEqual([]);
    // The raw and the processed crash stores, in one bucket, are told apart by their details.
    const details = await graph.locator('g.resource[data-kind$="-store"] text:nth-of-type(3)').allTextContents();
    expect(new Set(details).size, details.join(' | ')).toBe(details.length);
    expect(details.some((d) => d.includes('raw_crash'))).toBe(true);
    expect(details.some((d) => d.includes('processed_crash'))).toBe(true);
    await graph.screenshot({ path: join(shots, 'ten-nodes-enlarged.png') });
    // Pointing at a node dims every line but its own.
    await graph.locator('g.node[data-id="node:web-1"]').hover();
    const own = await graph.locator('g.edge[data-from="node:web-1"], g.edge[data-to="node:web-1"]').count();
    expect(own).toBeGreaterThan(0);
    expect(own).toBeLessThan(await graph.locator('g.edge').count());
    await expect.poll(() => graph.locator('g.edge.lit').count()).toBe(own);
    await expect(graph.getAttribute('class')).resolves.toContain('focusing');
    await page.mouse.move(1, 1);
    await expect.poll(() => graph.locator('g.edge.lit').count()).toBe(0);
    await page.getByTestId('graph-expand').click();

    // The graph downloads: PNG, SVG, DOT and Mermaid, each what it says it is.
    const downloaded: Record<string, Buffer> = {};
    for (const kind of ['svg', 'png', 'dot', 'mermaid']) {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`download-${kind}`).click()]);
      const path = join(work, `ten-nodes-${file.suggestedFilename()}`);
      await file.saveAs(path);
      downloaded[kind] = readFileSync(path);
    }
    expect(downloaded.png!.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(downloaded.png!.readUInt32BE(16)).toBeGreaterThan(500);
    expect(downloaded.svg!.toString('utf8')).toContain('<svg');
    expect(downloaded.svg!.toString('utf8').match(/class="node[^"]*" data-id=/g)).toHaveLength(10);
    expect(downloaded.dot!.toString('utf8').startsWith('digraph')).toBe(true);
    expect(downloaded.dot!.toString('utf8')).toContain('"node:web-2" [label="web-2');
    expect(downloaded.mermaid!.toString('utf8').startsWith('flowchart')).toBe(true);
    expect(downloaded.mermaid!.toString('utf8')).toContain('web-2');

    // Add a host, put a node on it, remove the node, then the host.
    await page.getByTestId('new-host').fill('spare');
    await page.getByTestId('add-host').click();
    await page.locator('[data-testid="host"][data-host="spare"]').waitFor();
    await page.getByTestId('add-node-spare').click();
    await page.getByTestId('add-node-role-collector').uncheck();
    await page.getByTestId('add-node-role-processor').check();
    await expect(page.getByTestId('add-node-name').inputValue()).resolves.toBe('processor-5');
    await page.getByTestId('add-node-submit').click();
    await expect.poll(() => nodesOn(page, 'spare')).toEqual(['processor-5']);
    await expect.poll(() => graph.locator('g.node').count()).toBe(11);
    await expect.poll(() => graph.locator('g.host[data-id="spare"]').count()).toBe(1);
    await page.getByTestId('remove-processor-5').click();
    await expect.poll(() => nodesOn(page, 'spare')).toEqual([]);
    await expect.poll(() => graph.locator('g.node').count()).toBe(10);
    await page.getByTestId('remove-host-spare').click();
    await expect.poll(() => page.locator('[data-testid="host"][data-host="spare"]').count()).toBe(0);

    // An imported node removed: its file goes, the other nodes stay, and the host's list shrinks.
    await page.getByTestId('remove-web-2').click();
    await expect.poll(() => nodesOn(page, 'ops')).toEqual(['processor-4', 'scheduler', 'web-1']);
    await expect.poll(() => page.getByTestId('node').count()).toBe(9);
    await expect.poll(() => graph.locator('g.node').count()).toBe(9);
    await expect.poll(() => errorCount(page)).toBe('0');
    const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-zip').click()]);
    const zipPath = join(work, 'nine.zip');
    await zip.saveAs(zipPath);
    const dir = join(work, 'nine');
    await unzip(zipPath, dir);
    expect(readdirSync(dir)).toHaveLength(10);
    expect(readdirSync(dir)).not.toContain('web-2.ini');
    // An uploaded file keeps its comment.
    expect(readFileSync(join(dir, 'web-1.ini'), 'utf8')).toContain('; web-1 on ops\n');
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

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

/**
 * How the drawn graph reads on screen: the smallest node name in CSS pixels (its font size
 * times the scale the SVG is drawn at), whether the panel shows the drawing from its left
 * edge, and which boxes (nodes, resources, hosts among themselves) overlap on screen.
 */
function measureGraph(page: Page): Promise<{ names: number; nameSize: number; scale: number; scrollLeft: number; firstHostVisible: boolean; overlaps: string[] }> {
  return page.getByTestId('graph').evaluate((container) => {
    // The test's TypeScript has no DOM library: the one window function used, typed here.
    const computed = (globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle;
    const svg = container.querySelector('svg')!;
    const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute('viewBox')!.split(' ')[2]);
    const names = [...container.querySelectorAll('g.node > text:first-of-type')];
    const nameSize = Math.min(...names.map((t) => parseFloat(computed(t).fontSize) * scale));
    const view = container.getBoundingClientRect();
    const host = container.querySelector('g.host > rect')!.getBoundingClientRect();
    const boxes = (selector: string) => [...container.querySelectorAll(selector)].map((g) => ({ id: g.getAttribute('data-id') ?? '', r: g.querySelector('rect')!.getBoundingClientRect() }));
    const overlaps: string[] = [];
    for (const group of [[...boxes('g.node'), ...boxes('g.resource')], boxes('g.host')]) {
      group.forEach((a, i) => {
        for (const b of group.slice(i + 1)) {
          if (a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom) overlaps.push(`${a.id} / ${b.id}`);
        }
      });
    }
    return { names: names.length, nameSize, scale, scrollLeft: container.scrollLeft, firstHostVisible: host.left >= view.left - 1 && host.right <= view.right + 1, overlaps };
  });
}

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
