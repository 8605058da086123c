import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDumps } from '../support/corpus.js';
import { eventually, startMayday, type MaydayProcess } from '../support/mayday-process.js';
import { ARTIFACTS, chromiumMissing, launchBrowser } from '../support/browser.js';

describe('processing status page', () => {
  let node: MaydayProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mayday-status-'));
    node = await startMayday(['start', '--data-dir', dataDir, '--port', '0'], { MAYDAY_NODE_HEARTBEAT_INTERVAL: '200ms', MAYDAY_WEB_STATUS_SAMPLE_INTERVAL: '300ms' });
  });
  afterAll(async () => {
    await node.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports queues, processors, means, the last completed crash and a history', async () => {
    // Once the history has seen the processor, what it does next shows in the history.
    await eventually(async () => {
      const s = (await (await fetch(`${node.url}/status/json`)).json()) as { history: { processorsWorking: number }[] };
      return s.history.some((h) => h.processorsWorking === 1) ? true : undefined;
    }, 10_000, 'a sample that includes the processor');
    const ids: string[] = [];
    for (const dump of corpusDumps().slice(0, 6)) {
      const form = new FormData();
      form.append('ProductName', 'Example');
      form.append('upload_file_minidump', new Blob([readFileSync(dump.path)]), 'crash.dmp');
      ids.push((await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text()).trim().replace('CrashID=bp-', ''));
    }
    const status = await eventually(async () => {
      const s = (await (await fetch(`${node.url}/status/json`)).json()) as Record<string, unknown> & { processors: { processed: number }[]; history: { processed: number }[] };
      const processed = s.processors.reduce((t, p) => t + p.processed, 0);
      return processed === 6 && s.history.reduce((t, h) => t + h.processed, 0) > 0 ? s : undefined;
    }, 10_000, 'the status to show the processed crashes');
    expect(status).toMatchObject({ processors_working: 1, waiting_total: 0, schema_versions: { crash_index: expect.any(Number) } });
    expect(status.mean_time_to_process_seconds).toBeGreaterThan(0);
    expect(ids).toContain((status.most_recently_completed as { crash_id: string }).crash_id);
    expect((status.queues as { queue: string }[]).map((q) => q.queue)).toEqual(['priority', 'standard', 'reprocessing']);
  });

  it.skipIf(chromiumMissing)('renders the page with its graphs', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      await page.goto(`${node.url}/status`);
      await expect(page.locator('#processors-working .big').innerText()).resolves.toBe('1');
      await expect(page.locator('#chart-waiting path').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('#processors tbody tr').count()).resolves.toBe(1);
      await page.screenshot({ path: join(ARTIFACTS, 'status.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
