import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsProcessedCrashStore } from '../../src/adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../../src/adapters/fs-raw-crash-store.js';
import { SqliteBugLinks } from '../../src/adapters/sqlite-bug-links.js';
import { SqliteCrashIndex } from '../../src/adapters/sqlite-crash-index.js';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';
import { webPlugin } from '../../src/roles/web/plugin.js';
import { ARTIFACTS, CHROMIUM, chromiumMissing, launchBrowser } from '../support/browser.js';

/**
 * Facet and aggregation boxes hold long terms (issue 14): a signature page whose
 * aggregations hold very long module names and stack signatures, at a desktop and a
 * narrow width; every term stays inside its card (cut with an ellipsis, whole in its
 * title) and the page never scrolls sideways. The web plugin over real SQLite stores,
 * served in-process, so the test is quick.
 */
const NOW = Date.UTC(2025, 2, 1, 12);
const SIGNATURE = `mozilla::ipc::MessageChannel::${'VeryLongTemplatedFunctionName<WithArguments, AndMore>::'.repeat(4)}Run`;
const MODULES = [`lib${'extraordinarily_long_module_name_'.repeat(8)}.so/0123456789ABCDEF0123456789ABCDEF0`, `C:\\Program Files\\${'Vendor With A Long Name\\'.repeat(6)}plugin.dll/ABCDEF0123456789`, 'libc.so.6/ABC'];

describe.skipIf(chromiumMissing)(`long terms in facet boxes in a real browser (${CHROMIUM})`, () => {
  let dir: string;
  let index: SqliteCrashIndex;
  let bugLinks: SqliteBugLinks;
  let queue: SqliteQueue;
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayday-facets-browser-'));
    index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
    await index.upsertMany(
      Array.from({ length: 12 }, (_, i) => ({
        uuid: `${String(i + 1).padStart(8, '0')}-0000-4000-8000-000000250228`,
        submitted_timestamp: new Date(NOW - (i + 1) * 3_600_000).toISOString(),
        date_processed: new Date(NOW - i * 3_600_000).toISOString(),
        product: 'Harbor',
        version: i % 3 === 0 ? '2.0' : '2.1',
        build_id: `2025022${i % 4}000000`,
        os_name: 'Linux',
        signature: SIGNATURE,
        proto_signature: `${SIGNATURE} | ${SIGNATURE.split('').reverse().join('')} | frame${i % 2}`,
        modules_in_stack: MODULES.slice(0, 1 + (i % 3)),
        uptime: 100,
        report_type: 'crash',
        success: true,
      })),
    );
    bugLinks = SqliteBugLinks.open(join(dir, 'index.sqlite'));
    queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
    app = Fastify();
    await app.register(webPlugin, {
      crashIndex: index,
      rawCrashStore: await FsRawCrashStore.open(join(dir, 'raw')),
      processedCrashStore: await FsProcessedCrashStore.open(join(dir, 'processed')),
      queue,
      bugLinks,
      now: () => NOW,
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await bugLinks?.close();
    await queue?.close();
    await index?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const width of [1280, 800]) {
    it(`keeps every term inside its card at ${width} px`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const facets = ['modules_in_stack', 'proto_signature', 'signature', 'version', 'build_id'];
      await page.goto(`${url}/signature/?signature=${encodeURIComponent(SIGNATURE)}&days=7&${facets.map((f) => `_facets=${f}`).join('&')}`);
      await expect(page.locator('#aggregations [data-facet]').count()).resolves.toBe(facets.length);
      await page.screenshot({ path: join(ARTIFACTS, `signature-long-facets-${width}.png`), fullPage: true });

      const spills = await page.locator('#aggregations [data-facet]').evaluateAll((cards) => {
        const found: string[] = [];
        for (const card of cards) {
          const box = card.getBoundingClientRect();
          for (const inner of card.querySelectorAll('table, td, a, h3')) {
            const r = inner.getBoundingClientRect();
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5) found.push(`${card.getAttribute('data-facet')}: <${inner.tagName.toLowerCase()}> ${Math.round(r.left)}..${Math.round(r.right)} outside ${Math.round(box.left)}..${Math.round(box.right)}`);
          }
        }
        return found;
      });
      expect(spills).toEqual([]);
      // Nothing on the page is wider than the window.
      await expect(page.locator('html').evaluate((root) => root.scrollWidth)).resolves.toBeLessThanOrEqual(width);
      // A cut term is whole in its tooltip.
      const module = page.locator('[data-facet="modules_in_stack"] td.bar-label').first();
      await expect(module.getAttribute('title')).resolves.toBe(MODULES[0]);
      const cut = await module.locator('a').evaluate((a) => a.scrollWidth > a.clientWidth);
      expect(cut).toBe(true);
      await page.close();
    }, 30_000);
  }
});
