/**
 * Date ranges and long series on the Crash Stats pages (issue 10, finding 4): every entry
 * point that takes a range clamps it, and nothing spreads a long array into
 * `Math.min`/`Math.max`. A URL such as `/signature/?from=0000-01-01&to=9999-12-31` used to
 * build a 3.6-million-day series and answer a 500 after seconds and gigabytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteBugLinks } from '../../../src/adapters/sqlite-bug-links.js';
import type { ProcessedCrashStore } from '../../../src/ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../../src/ports/queue.js';
import type { RawCrashStore } from '../../../src/ports/raw-crash-store.js';
import { barList, timeChart } from '../../../src/roles/web/charts.js';
import { webPlugin } from '../../../src/roles/web/plugin.js';
import { DAY_MS, MAX_PAGE_DAYS, dayRange } from '../../../src/roles/web/pages/format.js';
import { syntheticCrashes } from '../../../bench/search-data.js';

const NOW = Date.UTC(2025, 2, 1, 12);
const crashes = [...syntheticCrashes({ count: 150, days: 10, end: NOW, signatures: 12, seed: 4 })];
const signature = String(crashes[0]!.signature);

let dir: string;
let index: SqliteCrashIndex;
let bugLinks: SqliteBugLinks;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-page-ranges-'));
  index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  await index.upsertMany(crashes);
  bugLinks = SqliteBugLinks.open(join(dir, 'index.sqlite'));
  const rawCrashStore = { get: async () => undefined } as unknown as RawCrashStore;
  const processedCrashStore = { get: async () => undefined } as unknown as ProcessedCrashStore;
  const queue = { enqueue: async () => undefined } as unknown as ProcessingQueue;
  app = Fastify();
  await app.register(webPlugin, { crashIndex: index, rawCrashStore, processedCrashStore, queue, bugLinks, now: () => NOW });
});
afterAll(async () => {
  await app.close();
  await bugLinks.close();
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(url: string) {
  const started = performance.now();
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.body, ms: performance.now() - started };
}

const ABSURD = [
  'from=0000-01-01&to=9999-12-31',
  'from=9999-12-31&to=0000-01-01',
  'from=0000-01-01',
  'to=9999-12-31',
  'days=99999999999',
  'days=-5',
  'from=2025-02-30&to=2025-13-01',
];

describe('pages with absurd date ranges', () => {
  it('answer the signature page over at most a year, quickly', async () => {
    const { ms: yardstick } = await get(`/signature/?signature=${encodeURIComponent(signature)}`);
    for (const range of ABSURD) {
      const { status, body, ms } = await get(`/signature/?signature=${encodeURIComponent(signature)}&${range}`);
      expect(status, range).toBe(200);
      const days = Number(/Crashes \((\d+) days/.exec(body)?.[1]);
      expect(days, range).toBeGreaterThanOrEqual(1);
      expect(days, range).toBeLessThanOrEqual(MAX_PAGE_DAYS);
      expect(ms, range).toBeLessThan(Math.max(1000, 30 * yardstick));
    }
    const all = await get(`/signature/?signature=${encodeURIComponent(signature)}&from=0000-01-01&to=2025-03-01`);
    expect(all.body).toContain(`${MAX_PAGE_DAYS} days`);
    expect(Number(/id="signature-total">(\d+)</.exec(all.body)?.[1])).toBe(crashes.filter((c) => c.signature === signature).length);
  });

  it('answer top crashers, Super Search pages and deep report pages without a 500', async () => {
    for (const range of ABSURD) {
      const top = await get(`/topcrashers/?${range}`);
      expect(top.status, range).toBe(200);
      expect(top.body).toMatch(/\((\d+) days\)/);
      expect(Number(/\((\d+) days\)/.exec(top.body)![1])).toBeLessThanOrEqual(MAX_PAGE_DAYS);
    }
    for (const url of [
      `/signature/?signature=${encodeURIComponent(signature)}&page=99999999999`,
      '/search/?date=>%3D0000-01-01&date=<9999-12-31&_facets=_histogram.date',
      '/search/?days=99999999&_results_offset=99999999999',
      '/?offset=99999999999999999999',
    ]) {
      const { status } = await get(url);
      expect(status, url).toBeLessThan(500);
    }
  });

  it('dayRange never spans more than a year, nor less than a day, whatever it is given', () => {
    const date = fc.oneof(
      fc.date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.option(date, { nil: undefined }), fc.option(date, { nil: undefined }), fc.option(fc.string({ maxLength: 15 }), { nil: undefined }), (from, to, days) => {
        const range = dayRange({ from, to, days }, NOW);
        expect(range.to - range.from).toBeGreaterThanOrEqual(DAY_MS);
        expect(range.to - range.from).toBeLessThanOrEqual(MAX_PAGE_DAYS * DAY_MS);
        expect(range.days).toBe(Math.round((range.to - range.from) / DAY_MS));
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('charts', () => {
  it('draw series and bars far longer than a spread argument list can hold', () => {
    const points = Array.from({ length: 150_000 }, (_, i) => ({ x: i * 1000, y: i % 97 }));
    const svg = String(timeChart([{ name: 'long', color: '#000', points }], { id: 'long' }));
    expect(svg).toContain('id="long"');
    const bars = Array.from({ length: 150_000 }, (_, i) => ({ label: `b${i}`, count: i }));
    expect(String(barList(bars))).toContain('width:100.0%');
  });
});
