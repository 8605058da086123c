import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { corpusDumps } from '../support/corpus.js';
import { eventually, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser, watchPageProblems } from '../support/browser.js';
import { SqliteOpsHistory } from '../../src/adapters/sqlite-ops-history.js';
import { SCHEDULED_JOBS } from '../../src/schema/scheduled-jobs.js';
import type { OpsOverview } from '../../src/roles/web/ops-api.js';
import { QUEUE_CHARTS } from '../../src/dashboard/web/queue-page-model.js';

/**
 * Issue 13's browser acceptance: the Operations Dashboard on a real all-roles node, with a
 * second node (web only) on the same data directory that is then killed. The table lists
 * the nodes `up`, the topology is drawn with numbers on it, a number changes without a
 * reload while crashes are submitted, the killed node turns stale then down (red in the
 * table, the problems and the graph), and its detail page removes it. Needs `npm run build`
 * (the page serves dist/public/dashboard.js). Screenshots in test-artifacts/dashboard/.
 */

// Heartbeats every second, so that rates move within the test; a node is stale after 5 s of silence and down after 10 s.
const ENV = { MAYDAY_NODE_HEARTBEAT_INTERVAL: '1s', MAYDAY_DASHBOARD_DOWN_AFTER: '10s' };

describe.skipIf(chromiumMissing)(`the Operations Dashboard in a real browser (${CHROMIUM})`, () => {
  let node: MaydayProcess;
  let other: MaydayProcess | undefined;
  let browser: Browser;
  let dataDir: string;
  /** Before the nodes start: history written before it cannot meet the points their recorders write. */
  let startedAt: number;
  const shots = join(ARTIFACTS, 'dashboard');
  const dump = readFileSync(corpusDumps()[0].path);

  beforeAll(async () => {
    startedAt = Date.now();
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-dashboard-'));
    mkdirSync(shots, { recursive: true });
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0'], { ...ENV, MAYDAY_NODE_NAME: 'allinone' });
    other = await startMayday(['start', '--data-dir', dataDir, '--port', '0'], { ...ENV, MAYDAY_NODE_NAME: 'web-2', MAYDAY_NODE_ROLES: 'web' });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    other?.child.kill('SIGKILL');
    await node?.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  const row = (page: Page, name: string) => page.locator(`[data-testid="component"][data-name="${name}"]`);

  async function submit(): Promise<void> {
    const form = new FormData();
    form.append('ProductName', 'Example');
    form.append('Version', '1.0');
    form.append('upload_file_minidump', new Blob([dump]), 'crash.dmp');
    const response = await fetch(`${node.url}/submit`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    await response.text();
  }

  it('shows the nodes up and the topology with live numbers, updates without a reload, and turns a killed node red', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const problems = watchPageProblems(page);

    await page.goto(`${node.url}/dashboard`);
    await expect(page.locator('header nav a[href="/dashboard"]').count()).resolves.toBe(1);
    await page.getByTestId('live').and(page.locator('[data-state="live"]')).waitFor();
    await expect(page.getByTestId('updated-at').innerText()).resolves.toMatch(/^updated \d\d:\d\d:\d\d$/);

    // The table: both nodes up, with their figures and units.
    await row(page, 'allinone').waitFor();
    await row(page, 'web-2').waitFor();
    await expect(row(page, 'allinone').getAttribute('data-status')).resolves.toBe('up');
    await expect(row(page, 'web-2').getAttribute('data-status')).resolves.toBe('up');
    await expect(row(page, 'allinone').locator('[data-testid="status"]').innerText()).resolves.toMatch(/up/i);
    await expect.poll(() => row(page, 'allinone').locator('[data-stat="rss_bytes"]').innerText()).toMatch(/^\d[\d.]* (MiB|GiB)$/);
    await expect.poll(() => row(page, 'allinone').locator('[data-stat="cpu_percent"]').innerText()).toMatch(/^[\d.]+ %$/);
    await expect(row(page, 'allinone').locator('[data-testid="last-seen"]').innerText()).resolves.toMatch(/ago$|just now/);
    await expect(page.getByTestId('problems').getAttribute('data-count')).resolves.toBe('0');
    await expect(page.locator('[data-testid="queue"]').count()).resolves.toBeGreaterThan(0);

    // The topology: laid out with the Configurator's code, the nodes green, numbers on the boxes and the queue.
    const topology = page.getByTestId('topology');
    await topology.locator('g.node').first().waitFor();
    await expect(topology.locator('g.node').count()).resolves.toBe(2);
    await expect(topology.locator('g.node.status-up').count()).resolves.toBe(2);
    // Boxes are nodes' keys (name@host), as everywhere on the Dashboard.
    const nodeBox = topology.locator(`g.node[data-id="node:allinone@${hostname()}"]`);
    await expect.poll(() => nodeBox.locator('text.live').allTextContents()).toEqual([expect.stringMatching(/^● up/), expect.stringMatching(/accepted\/s$/), expect.stringMatching(/processed\/s$/), expect.stringMatching(/req\/s$/)]);
    const queueBox = topology.locator('g.resource[data-kind="queue"]');
    await expect(queueBox.count()).resolves.toBe(1);
    await expect.poll(() => queueBox.locator('text.live').first().textContent()).toMatch(/^\d+ waiting · \d+ in flight$/);

    // Storages and services: the six dependencies the nodes probe, every one reachable, with a latency and how many nodes reach it.
    const dependencies = page.locator('[data-testid="dependency"]');
    await expect.poll(() => dependencies.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')).sort())).toEqual(['crash_index', 'node_registry', 'processed_crash_store', 'queue', 'raw_crash_store', 'symbol_store']);
    await expect(dependencies.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-reachable')))).resolves.toEqual(Array(6).fill('true'));
    await expect(page.locator('[data-testid="dependency"][data-name="crash_index"]').innerText()).resolves.toContain('crash index (database)');
    for (const text of await dependencies.locator('[data-testid="latency"]').allInnerTexts()) expect(text).toMatch(/^[\d.e-]+ (ms|s)$/);
    for (const text of await dependencies.locator('[data-testid="reach"]').allInnerTexts()) expect(text).toMatch(/^([1-9]\d*) of \1 nodes?$/);
    await expect(page.locator('[data-testid="unreachable-from"]').count()).resolves.toBe(0);

    // Scheduler jobs: the all-in-one node's scheduler runs its jobs at start; each appears after its first run.
    const verify = page.locator('[data-testid="job"][data-job="verify-processed"]');
    await expect.poll(() => verify.getAttribute('data-outcome'), { timeout: 15_000 }).toBe('success');
    await expect(verify.locator('[data-testid="job-outcome"]').innerText()).resolves.toBe('ok');
    await expect(verify.locator('[data-testid="job-last-run"]').innerText()).resolves.toMatch(/^(just now|\d+ s ago)$/);
    await expect.poll(() => verify.locator('[data-testid="job-next-run"]').innerText()).toMatch(/^in \d+ (s|min|h)/);
    const jobNames = await page.locator('[data-testid="job"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));
    expect(jobNames).toContain('alerts');
    for (const name of jobNames) expect(Object.keys(SCHEDULED_JOBS)).toContain(name);
    await expect(page.locator('[data-testid="job"][data-outcome="failure"]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid="job"][data-overdue="true"]').count()).resolves.toBe(0);

    // No dead letters, no alerts (none configured): the alerts panel is not shown at all.
    await expect(page.getByTestId('dead-letters').getAttribute('data-count')).resolves.toBe('0');
    await expect(page.getByTestId('alerts').count()).resolves.toBe(0);
    await shot(page, 'overview-idle');
    await shot(page, 'overview-idle-full', true);

    // Crashes submitted: a number changes on the page, which is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const processedCell = row(page, 'allinone').locator('[data-stat="processed_per_second"]');
    const accepted = row(page, 'allinone').locator('[data-stat="collector_accepted_per_second"]');
    const before = { processed: await processedCell.innerText(), accepted: await accepted.innerText(), graph: await nodeBox.locator('text.live[data-line="2"]').textContent() };
    // The edges from the collector to the raw crash store and to the queue keep room for a rate ("0/s", greyed, while idle).
    const running = (await (await fetch(`${node.url}/api/ops/overview`)).json()) as OpsOverview;
    const kinds = new Map(running.topology.resources.map((r) => [r.id, r.kind]));
    const intoStores = running.topology.edges.filter((e) => e.from === `node:allinone@${hostname()}` && ['raw-store', 'queue'].includes(kinds.get(e.to) ?? '')).map((e) => e.id);
    expect(intoStores.length).toBe(2);
    const rateOf = (id: string) => topology.locator(`g.edge-label[data-id=${JSON.stringify(id)}] text.edge-rate`);
    const lineOf = (id: string) => topology.locator(`g.edge[data-id=${JSON.stringify(id)}] > path`);
    for (const id of intoStores) await expect(rateOf(id).textContent()).resolves.toMatch(/^(0\/s)?$/);
    const rates = () => Promise.all(intoStores.map((id) => rateOf(id).textContent()));
    let submitting = true;
    const load = (async () => {
      while (submitting) {
        await submit();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      await expect.poll(() => accepted.innerText(), { timeout: 15_000 }).toMatch(/^[1-9][\d.]* accepted\/s$|^0\.\d+ accepted\/s$/);
      await expect.poll(() => processedCell.innerText(), { timeout: 15_000 }).toMatch(/^(0\.\d*[1-9]|[1-9][\d.]*) processed\/s$/);
      await expect.poll(() => nodeBox.locator('text.live[data-line="2"]').textContent(), { timeout: 15_000 }).toMatch(/^(0\.\d*[1-9]|[1-9][\d.]*) processed\/s$/);
      // Throughput on the edges: a rate above zero, in the colour of the flow, on a line a little thicker, drawn in place.
      const nonZero = /^(0\.\d*[1-9]|[1-9][\d.]*k?)\/s$/;
      await expect.poll(async () => (await rates()).some((text) => nonZero.test(text ?? '')), { timeout: 15_000 }).toBe(true);
      const busy = intoStores[(await rates()).findIndex((text) => nonZero.test(text ?? ''))];
      await expect(rateOf(busy).getAttribute('fill')).resolves.not.toBe('#8a96a8');
      await expect.poll(async () => Number(await lineOf(busy).getAttribute('stroke-width'))).toBeGreaterThan(1.5);
      await expect(topology.getAttribute('data-layout')).resolves.toBe('current');
      await page.getByTestId('topology-panel').screenshot({ path: join(shots, 'topology-rates.png') });
      await shot(page, 'overview-busy');
    } finally {
      submitting = false;
      await load;
    }
    const after = { processed: await processedCell.innerText(), accepted: await accepted.innerText(), graph: await nodeBox.locator('text.live[data-line="2"]').textContent() };
    expect(after).not.toEqual(before);
    await expect(page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    // Laid out once: the numbers changed in place.
    await expect(topology.getAttribute('data-layout')).resolves.toBe('current');

    // The detail page of the all-in-one node: its figures and the history panel (a fresh node has none yet: "no history yet").
    await page.goto(`${node.url}/dashboard/component/allinone`);
    await page.getByTestId('summary').waitFor();
    await expect(page.getByTestId('summary').innerText()).resolves.toContain('collector');
    await expect.poll(() => page.locator('[data-testid="figures"] [data-stat="rss_bytes"] td').innerText()).toMatch(/MiB|GiB/);
    await expect(page.getByTestId('config').innerText()).resolves.toMatch(/[0-9a-f]{12}|not reported/);
    await expect(page.getByTestId('remove').count()).resolves.toBe(0);
    await page.locator('[data-testid="history-none"], [data-testid="chart"]').first().waitFor();
    await page.getByTestId('range-24h').click();
    await expect(page.getByTestId('range-24h').getAttribute('aria-pressed')).resolves.toBe('true');
    await shot(page, 'component', true);

    // The charts, on an hour of history put in the node's own history store (the node
    // records a point a minute: too slow for a test), with a five-minute outage drawn as a gap.
    const to = Date.now();
    const history = SqliteOpsHistory.open(join(dataDir, 'mayday.sqlite'));
    const points = Array.from({ length: 60 }, (_, i) => to - (60 - i) * 60_000)
        .map((at) => Math.floor(at / 60_000) * 60_000)
        .filter((at, i) => i < 30 || i > 35)
        .map((at, i) => ({
          component: `allinone@${hostname()}`,
          at,
          metrics: {
            cpu_percent: 20 + 15 * Math.sin(i / 6),
            rss_bytes: (150 + i) * 2 ** 20,
            heap_used_bytes: (40 + i / 2) * 2 ** 20,
            collector_accepted_per_second: 4 + 2 * Math.sin(i / 5),
            processed_per_second: 3.8 + 2 * Math.sin(i / 5),
            web_requests_per_second: 1.5,
            collector_save_latency_p95_ms: 12,
            processing_time_p95_ms: 60 + 10 * Math.cos(i / 4),
            stackwalk_time_p95_ms: 25,
            web_latency_p95_ms: 30,
            collector_rejected_per_second: 0,
            collector_errors_per_second: 0,
            failed_per_second: i % 17 === 0 ? 0.5 : 0,
            web_5xx_per_second: 0,
          },
        }));
    await history.record(points);
    await history.close();
    const asked = page.waitForResponse((r) => r.url().includes('/api/ops/history?') && r.status() === 200);
    await page.getByTestId('range-1h').click();
    expect(decodeURIComponent((await asked).url())).toContain(`component=allinone@${hostname()}&from=`);
    await expect.poll(() => page.locator('[data-testid="chart"] canvas').count()).toBe(5);
    await expect(page.locator('[data-chart="memory"] .u-legend').innerText()).resolves.toMatch(/Resident memory/i);
    await shot(page, 'component-history', true);

    // The second node is killed: stale (amber) after 5 s, down (red) after 10 s, on the table, the problems and the graph.
    await page.goto(`${node.url}/dashboard`);
    await row(page, 'web-2').waitFor();
    other!.child.kill('SIGKILL');
    await other!.exited;
    other = undefined;
    await expect.poll(() => row(page, 'web-2').getAttribute('data-status'), { timeout: 15_000, interval: 250 }).toBe('stale');
    await expect(page.locator('[data-testid="problem"][data-kind="node-stale"]').count()).resolves.toBe(1);
    await expect.poll(() => topology.locator('g.node.status-stale').count()).toBe(1);
    await shot(page, 'overview-stale');
    await expect.poll(() => row(page, 'web-2').getAttribute('data-status'), { timeout: 15_000, interval: 250 }).toBe('down');
    await expect(page.locator('[data-testid="problem"]').first().getAttribute('data-severity')).resolves.toBe('critical');
    await expect(page.title()).resolves.toMatch(/^\(\d+\) Dashboard/);
    await expect.poll(() => topology.locator(`g.node.status-down[data-id="node:web-2@${hostname()}"]`).count()).toBe(1);
    await expect(topology.locator(`g.node[data-id="node:web-2@${hostname()}"] > rect`).first().getAttribute('stroke')).resolves.toBe('#d32f2f');
    await expect(row(page, 'allinone').getAttribute('data-status')).resolves.toBe('up');
    await shot(page, 'overview-down');
    await page.getByTestId('topology-panel').screenshot({ path: join(shots, 'topology-down.png') });
    await expect(page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBeUndefined();

    // Its detail page removes it (a DELETE; no session here, so no CSRF token is needed).
    await row(page, 'web-2').locator('a.dash-name').click();
    await page.waitForURL(`**/dashboard/component/${encodeURIComponent(`web-2@${hostname()}`)}`);
    await page.getByTestId('remove-card').waitFor();
    await shot(page, 'component-down');
    await page.getByTestId('remove').click();
    await page.getByTestId('remove-confirm').click();
    await page.waitForURL(/\/dashboard$/);
    await row(page, 'allinone').waitFor();
    await expect.poll(() => row(page, 'web-2').count()).toBe(0);
    await expect.poll(() => page.getByTestId('problems').getAttribute('data-count')).toBe('0');
    await expect.poll(() => topology.locator('g.node').count()).toBe(1);
    await shot(page, 'overview-after-removal');

    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);

  it('says when the stream breaks, keeps the last figures, and comes back by itself', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // One overview, then the connection ends and every reconnection is refused (as by a
    // proxy in front of a restarting node), until the stream is let through again.
    let mode: 'once' | 'refuse' | 'pass' = 'once';
    await page.route('**/api/ops/stream', async (route) => {
      if (mode === 'pass') return route.continue();
      if (mode === 'refuse') return route.fulfill({ status: 502, body: 'bad gateway' });
      const overview = await (await fetch(`${node.url}/api/ops/overview`)).text();
      mode = 'refuse';
      return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: `retry: 300\n\nevent: overview\ndata: ${overview}\n\n` });
    });
    await page.goto(`${node.url}/dashboard`);
    await page.locator('[data-testid="component"]').first().waitFor();
    await page.locator('[data-testid="live"][data-state="broken"]').waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('live').innerText()).resolves.toMatch(/NOT LIVE.*retrying/s);
    await expect(page.locator('[data-testid="component"]').count()).resolves.toBeGreaterThan(0);
    // The last figures stay, greyed out: a frozen page must not look all clear.
    await expect(page.getByTestId('dashboard-body').getAttribute('class')).resolves.toContain('dash-frozen');
    await shot(page, 'stream-broken');
    mode = 'pass';
    await page.locator('[data-testid="live"][data-state="live"]').waitFor({ timeout: 40_000 });
    await context.close();
  }, 90_000);

  it("opens a queue's page from the overview: its live figures, who drains it, its history charts; an unknown queue is said so", async () => {
    // Nearly an hour of the standard queue's history in the node's store, all before the node
    // started: a backlog builds up (more in than out), the web node stops recording for five
    // minutes (a gap), and the backlog drains.
    const end = Math.floor(startedAt / 60_000) * 60_000 - 60_000;
    const history = SqliteOpsHistory.open(join(dataDir, 'mayday.sqlite'));
    const written = Array.from({ length: 55 }, (_, i) => ({ i, at: end - (54 - i) * 60_000 }))
      .filter(({ i }) => i < 28 || i > 33)
      .map(({ i, at }) => {
        // 6 in and 4 out a second build up 120 crashes a minute; then 2 in and 6 out drain 240 a minute.
        const building = i >= 8 && i < 34;
        const backlog = i < 8 ? 0 : building ? (i - 7) * 120 : Math.max(0, 3120 - (i - 33) * 240);
        const wave = Math.sin(i / 3);
        const enqueued = building ? 6 + 0.3 * wave : backlog > 0 ? 2 + 0.3 * wave : 3 + 0.5 * wave;
        const dequeued = building ? 4 : backlog > 0 ? 6 : enqueued;
        return {
          component: 'queue:standard',
          at,
          metrics: {
            waiting: backlog,
            in_flight: backlog > 0 ? 4 : i % 3,
            // First in, first out: the oldest has waited about as long as the crashes before it take to leave.
            oldest_age_seconds: Math.round(backlog / dequeued),
            enqueued_per_second: enqueued,
            dequeued_per_second: dequeued,
          },
        };
      });
    await history.record(written);
    await history.close();

    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const problems = watchPageProblems(page);
    await page.goto(`${node.url}/dashboard`);
    const link = page.locator('[data-testid="queue"][data-queue="standard"] a[data-testid="queue-link"]');
    await expect(link.getAttribute('href')).resolves.toBe('/dashboard/queue/standard');
    const asked = page.waitForResponse((r) => r.url().includes('/api/ops/history?') && r.status() === 200);
    await link.click();
    await page.waitForURL('**/dashboard/queue/standard');
    await expect(page.title()).resolves.toBe('standard queue · Dashboard · Mayday');
    await expect(page.locator('h1').innerText()).resolves.toMatch(/^standard queue/);
    const response = await asked;
    expect(decodeURIComponent(response.url())).toContain('component=queue:standard&from=');
    const served = (await response.json()) as { points: { component: string; at: number }[] };
    // What was written is served (and, after it, whatever the node recorded itself since it started).
    expect(served.points.filter((p) => p.at < startedAt).map((p) => p.at)).toEqual(written.map((p) => p.at));

    // Its live figures: the same as /api/ops/queues (the node is idle, so they hold still).
    await page.locator('[data-testid="live"][data-state="live"]').waitFor();
    const real = ((await (await fetch(`${node.url}/api/ops/queues`)).json()) as OpsOverview).queues.find((q) => q.queue === 'standard')!;
    const figure = (name: string) => page.locator(`[data-testid="queue-figures"] [data-figure="${name}"] td`).innerText();
    await expect.poll(() => figure('waiting')).toBe(String(real.waiting));
    await expect(figure('in-flight')).resolves.toBe(String(real.inFlight));
    await expect(figure('oldest')).resolves.toMatch(/^(none|\d+ s|\d+ min)$/);
    await expect(figure('rates')).resolves.toMatch(/^[\d.e-]+\/s · [\d.e-]+\/s$/);
    await expect(figure('dead-letters')).resolves.toBe(String(real.deadLetters ?? 0));
    // An idle queue: no problem, no alert, no growing badge.
    await expect(page.getByTestId('problems').count()).resolves.toBe(0);
    await expect(page.getByTestId('alerts').count()).resolves.toBe(0);
    await expect(page.getByTestId('growing').count()).resolves.toBe(0);
    // Who drains it: the all-in-one node, a processor, up, linked to its page.
    const drainer = page.locator(`[data-testid="queue-node"][data-key="allinone@${hostname()}"]`);
    await expect(drainer.getAttribute('data-status')).resolves.toBe('up');
    await expect(drainer.locator('a').getAttribute('href')).resolves.toBe(`/dashboard/component/${encodeURIComponent(`allinone@${hostname()}`)}`);
    await expect(page.getByTestId('processors-summary').innerText()).resolves.toBe('1 processor running.');

    // The four charts, drawn, with their series named in the legends (in flight apart from waiting: a few beside thousands).
    await expect.poll(() => page.locator('[data-testid="chart"] canvas').count()).toBe(4);
    await expect(page.locator('[data-testid="chart"]').evaluateAll((charts) => charts.map((c) => c.getAttribute('data-chart')))).resolves.toEqual(['waiting', 'in-flight', 'oldest', 'flow']);
    await expect(page.locator('[data-chart="waiting"] .u-legend').innerText()).resolves.toMatch(/Waiting/);
    await expect(page.locator('[data-chart="in-flight"] .u-legend').innerText()).resolves.toMatch(/In flight/);
    await expect(page.locator('[data-chart="oldest"] .u-legend').innerText()).resolves.toMatch(/Oldest waiting crash/);
    await expect(page.locator('[data-chart="flow"] .u-legend').innerText()).resolves.toMatch(/In \(put on\)[\s\S]*Out \(processed or dead-lettered\)/);
    await expect(page.locator('.dash-chart-empty').count()).resolves.toBe(0);
    await shot(page, 'queue-history', true);
    // The day: the same component asked over 24 h (drawn from ten-minute points once the node has rolled them up).
    const wider = page.waitForResponse((r) => r.url().includes('/api/ops/history?'));
    await page.getByTestId('range-24h').click();
    await expect(page.getByTestId('range-24h').getAttribute('aria-pressed')).resolves.toBe('true');
    const params = new URL((await wider).url()).searchParams;
    expect([params.get('component'), Number(params.get('to')) - Number(params.get('from'))]).toEqual(['queue:standard', 86_400_000]);
    await page.locator('[data-testid="chart"] canvas, [data-testid="history-none"]').first().waitFor();
    expect(problems).toEqual([]);

    // A node that keeps no history answers 404 on /api/ops/history: "no history yet", as on a component's page.
    await page.route('**/api/ops/history?**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'this node keeps no history' }) }));
    await page.goto(`${node.url}/dashboard/queue/priority`);
    await expect(page.getByTestId('history-none').innerText()).resolves.toMatch(/^No history yet/);
    await expect.poll(() => figure('waiting')).toMatch(/^\d+$/);
    await page.unroute('**/api/ops/history?**');

    // A mistyped queue: a 404 that names the queues there are.
    const missing = await page.goto(`${node.url}/dashboard/queue/standrad`);
    expect(missing?.status()).toBe(404);
    await expect(page.getByTestId('queue-missing').innerText()).resolves.toMatch(/There is no queue named standrad\. The queues are priority, standard, reprocessing\./);
    await expect(page.getByTestId('queue-missing').locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).resolves.toEqual(['/dashboard/queue/priority', '/dashboard/queue/standard', '/dashboard/queue/reprocessing', '/dashboard']);
    await shot(page, 'queue-missing');
    expect(problems).toEqual([expect.stringMatching(/^404 .*\/api\/ops\/history\?component=queue%3Apriority/), expect.stringMatching(/^404 .*\/dashboard\/queue\/standrad$/)]);
    await context.close();
  }, 60_000);

  it('shows alerts, an unreachable storage, failed and overdue jobs, a growing queue and dead letters', async () => {
    // The real overview, made to show trouble that a test cannot easily cause (a storage
    // gone, a job failing for minutes, alerts firing), fed to the page by a stand-in EventSource.
    const real = (await (await fetch(`${node.url}/api/ops/overview`)).json()) as OpsOverview;
    const at = real.at;
    const trouble: OpsOverview = {
      ...real,
      alerts: [
        { key: 'backlog:standard', rule: 'backlog', subject: 'standard', severity: 'warning', status: 'firing', message: 'the oldest crash in the standard queue has waited 17 min', since: at - 20 * 60_000, firedAt: at - 15 * 60_000 },
        { key: 'processor_down:processor-2', rule: 'processor_down', subject: 'processor-2', severity: 'critical', status: 'firing', message: 'processor-2 on vm is down: no heartbeat for 4 min', since: at - 4 * 60_000, firedAt: at - 3 * 60_000 },
        { key: 'failing:allinone', rule: 'failing', subject: 'allinone', severity: 'warning', status: 'pending', message: 'allinone fails 14% of its crashes', since: at - 90_000 },
      ],
      dependencies: real.dependencies.map((d) => (d.name === 'symbol_store' ? { ...d, reachableFrom: [], unreachableFrom: d.reachableFrom, latencyMs: null } : d)),
      jobs: real.jobs.map((j) =>
        j.job === 'retention'
          ? { ...j, lastOutcome: 'failure', lastError: 'SQLITE_BUSY: database is locked', failuresInARow: 3, lastRunAt: at - 4 * 60_000, nextRunAt: at + 60_000 }
          : j.job === 'missing-symbols'
            ? { ...j, nextRunAt: at - 5 * 60_000 }
            : j.job === 'verify-processed'
              ? { ...j, running: true }
              : j,
      ),
      queues: real.queues.map((q) => (q.queue === 'standard' ? { ...q, waiting: 340, inFlight: 2, oldestAgeSeconds: 1020, growingFor: 12, deadLetters: 3 } : q.queue === 'priority' ? { ...q, waiting: 5, growingFor: 4 } : { ...q, growingFor: 0 })),
      deadLetters: 3,
      problems: [
        { severity: 'critical', kind: 'dependency-unreachable', subject: 'symbol_store', message: 'allinone cannot reach the symbol store' },
        { severity: 'warning', kind: 'job-failed', subject: 'retention', message: 'the scheduler job retention failed 3 times in a row: SQLITE_BUSY: database is locked' },
        { severity: 'warning', kind: 'queue-growing', subject: 'standard', message: 'the standard queue has grown for 12 minutes (340 waiting)' },
      ],
    };
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    await page.addInitScript((data: string) => {
      class StandIn extends EventTarget {
        static readonly CONNECTING = 0;
        static readonly OPEN = 1;
        static readonly CLOSED = 2;
        readyState = 1;
        private timer: ReturnType<typeof setInterval>;
        constructor() {
          super();
          const send = (): boolean => this.dispatchEvent(new MessageEvent('overview', { data }));
          setTimeout(send, 50);
          this.timer = setInterval(send, 2000);
        }
        close(): void {
          clearInterval(this.timer);
          this.readyState = 2;
        }
      }
      (globalThis as unknown as { EventSource: unknown }).EventSource = StandIn;
    }, JSON.stringify(trouble));
    await page.goto(`${node.url}/dashboard`);
    await page.getByTestId('alerts').waitFor();

    // Alerts: firing first, critical before warning; the pending one last, greyed, "pending since".
    const alerts = page.locator('[data-testid="alert"]');
    await expect(alerts.evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-status')}:${r.getAttribute('data-severity')}`))).resolves.toEqual(['firing:critical', 'firing:warning', 'pending:warning']);
    await expect(alerts.nth(0).innerText()).resolves.toMatch(/processor_down[\s\S]*firing for 3 min/);
    await expect(alerts.nth(2).innerText()).resolves.toMatch(/PENDING[\s\S]*pending since \d\d:\d\d:\d\d \(1 min\)/);

    // The storage nobody reaches: red, first, with the nodes that cannot reach it.
    const symbols = page.locator('[data-testid="dependency"][data-name="symbol_store"]');
    await expect(symbols.getAttribute('data-reachable')).resolves.toBe('false');
    await expect(page.locator('[data-testid="dependency"]').first().getAttribute('data-name')).resolves.toBe('symbol_store');
    await expect(symbols.getByTestId('unreachable-from').innerText()).resolves.toContain('allinone');
    await expect(symbols.getByTestId('reach').innerText()).resolves.toMatch(/^0 of \d+ nodes?$/);

    // Jobs: the failed one red with its error, the overdue one said so, the running one marked.
    const retention = page.locator('[data-testid="job"][data-job="retention"]');
    await expect(retention.getAttribute('data-outcome')).resolves.toBe('failure');
    await expect(retention.getByTestId('job-outcome').innerText()).resolves.toBe('failed ×3');
    await expect(retention.getByTestId('job-outcome').getAttribute('title')).resolves.toContain('SQLITE_BUSY');
    await expect(retention.getByTestId('job-last-run').innerText()).resolves.toBe('4 min ago');
    await expect(page.locator('[data-testid="job"]').first().getAttribute('data-job')).resolves.toBe('retention');
    await expect(page.locator('[data-testid="job"][data-job="missing-symbols"] [data-testid="job-next-run"]').innerText()).resolves.toBe('overdue by 5 min');
    await expect(page.locator('[data-testid="job"][data-job="verify-processed"] [data-testid="job-running"]').count()).resolves.toBe(1);

    // Queues: growing for 12 and 4 minutes (3 or more is shown), and the dead letters linked.
    await expect(page.locator('[data-testid="queue"][data-queue="standard"] [data-testid="growing"]').innerText()).resolves.toBe('↑ growing 12 min');
    await expect(page.locator('[data-testid="queue"][data-queue="priority"] [data-testid="growing"]').innerText()).resolves.toBe('↑ growing 4 min');
    await expect(page.locator('[data-testid="queue"][data-queue="reprocessing"] [data-testid="growing"]').count()).resolves.toBe(0);
    await expect(page.getByTestId('dead-letters').innerText()).resolves.toMatch(/^3 dead letters/);
    await expect(page.getByTestId('dead-letters').locator('a').getAttribute('href')).resolves.toBe('/api/DeadLetters/');

    // The new kinds of problem are listed like the others, critical first.
    await expect(page.locator('[data-testid="problem"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')))).resolves.toEqual(['dependency-unreachable', 'job-failed', 'queue-growing']);
    await expect(page.title()).resolves.toMatch(/^\(3\) Dashboard/);
    await shot(page, 'overview-trouble');
    await shot(page, 'overview-trouble-full', true);

    // The growing queue's own page (the stand-in stream feeds it too): the badge, its problem
    // and its alert only, its figures, its dead letters, and its history.
    await page.locator('[data-testid="queue"][data-queue="standard"] a[data-testid="queue-link"]').click();
    await page.waitForURL('**/dashboard/queue/standard');
    await expect(page.locator('h1 [data-testid="growing"]').innerText()).resolves.toBe('↑ growing 12 min');
    await expect(page.locator('[data-testid="problem"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')))).resolves.toEqual(['queue-growing']);
    await expect(page.locator('[data-testid="alert"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).resolves.toEqual(['backlog:standard']);
    const figure = (name: string) => page.locator(`[data-testid="queue-figures"] [data-figure="${name}"] td`).innerText();
    await expect(figure('waiting')).resolves.toBe('340');
    await expect(figure('in-flight')).resolves.toBe('2');
    await expect(figure('oldest')).resolves.toBe('17 min');
    await expect(figure('dead-letters')).resolves.toBe('3 · list them');
    await expect(page.locator('[data-testid="queue-figures"] [data-figure="dead-letters"] a').getAttribute('href')).resolves.toBe('/api/DeadLetters/');
    await expect.poll(() => page.locator('[data-testid="chart"] canvas').count()).toBe(QUEUE_CHARTS.length);
    await shot(page, 'queue-trouble', true);
    await context.close();
  }, 60_000);
});
