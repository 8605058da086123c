/**
 * Super Search against hostile queries (issue 10, findings 2 to 4): regular expressions
 * that backtrack exponentially in JavaScript, aggregations that multiply into thousands
 * of queries, absurd date ranges and histogram intervals. Each is answered quickly, with
 * a result or a 400 that names the limit, never a stall or a 500. Real HTTP requests
 * (Fastify's inject) against a real SQLite index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import type { ProcessedCrash } from '../../../src/ports/processed-crash-store.js';
import { SEARCH_LIMITS } from '../../../src/ports/crash-index.js';
import { searchApiPlugin } from '../../../src/roles/web/search-api.js';
import { syntheticCrashes } from '../../../bench/search-data.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 2, 1, 12);
/** Values a backtracking engine chokes on: long runs of one letter, with or without the awaited end. */
const ADVERSARIAL = Array.from({ length: 120 }, (_, i) => `${'a'.repeat(24 + (i % 40))}${['!', 'b', '', 'ab'][i % 4]}`);
const crashes: ProcessedCrash[] = [
  ...syntheticCrashes({ count: 200, days: 6, end: NOW, signatures: 40, seed: 5 }),
  ...ADVERSARIAL.map((signature, i) => ({
    uuid: `aaaaaaaa-0000-4000-8000-${String(i).padStart(6, '0')}250301`,
    submitted_timestamp: new Date(NOW - (i % 5) * DAY_MS).toISOString(),
    date_processed: new Date(NOW).toISOString(),
    product: 'Adversary',
    signature,
  })),
];

let dir: string;
let index: SqliteCrashIndex;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-search-hardening-'));
  index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  await index.upsertMany(crashes);
  app = Fastify();
  await app.register(searchApiPlugin, { crashIndex: index, now: () => NOW });
});
afterAll(async () => {
  await app.close();
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function search(params: string) {
  const started = performance.now();
  const response = await app.inject({ method: 'GET', url: `/api/SuperSearch/?${params}` });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, ms: performance.now() - started };
}

/** How long the node takes to answer a plain search over the same rows: the yardstick for the bounds below. */
async function baseline(): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) best = Math.min(best, (await search('product=Adversary&signature=~a&_results_number=0&_facets_size=0')).ms);
  return best;
}

const regexSearch = (pattern: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> =>
  search(`product=Adversary&signature=${encodeURIComponent(`@${pattern}`)}&_results_number=0&_facets_size=0`);

describe('regular expressions', () => {
  it('answers catastrophic-backtracking patterns over many adversarial values quickly and correctly', async () => {
    const bound = Math.max(1000, 30 * (await baseline()));
    // Each with what it means, written so that JavaScript checks it in linear time.
    const cases: [string, (s: string) => boolean][] = [
      ['(.*){8}!', (s) => s.endsWith('!')],
      ['(a|a)*b', (s) => /^a*b$/.test(s)],
      ['(a*)*b', (s) => /^a*b$/.test(s)],
      ['((a+)+)+c', (s) => /^a+c$/.test(s)],
      ['(a|aa)*!', (s) => /^a*!$/.test(s)],
      ['(.*a){12}b', (s) => s.endsWith('b') && [...s.slice(0, -1)].filter((c) => c === 'a').length >= 12],
    ];
    for (const [pattern, means] of cases) {
      const { status, body, ms } = await regexSearch(pattern);
      expect(status, pattern).toBe(200);
      expect(body.total, pattern).toBe(ADVERSARIAL.filter(means).length);
      expect(ms, pattern).toBeLessThan(bound);
    }
  });

  it('runs random nested-quantifier patterns over adversarial values in bounded time', async () => {
    const bound = Math.max(1000, 30 * (await baseline()));
    const atom = fc.constantFrom('a', '.', '[ab]', 'a?', 'b', '\\w');
    const quantifier = fc.constantFrom('*', '+', '?', '{1,5}', '{2,}', '*?');
    const { pattern } = fc.letrec((tie) => ({
      pattern: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atom, tie('group'), tie('sequence'), tie('alternation')),
      group: fc.tuple(tie('pattern'), quantifier).map(([p, q]) => `(${p})${q}`),
      sequence: fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `${a}${b}`),
      alternation: fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `(${a}|${b})`),
    }));
    // Nested quantifiers followed by an end the values mostly lack: JavaScript's worst case.
    const nested = fc.tuple(pattern, quantifier, fc.constantFrom('!', 'c', 'b', '')).map(([p, q, end]) => `((${p})${q})${q === '*?' ? '*' : q}${end}`);
    await fc.assert(
      fc.asyncProperty(nested, async (p) => {
        const { status, ms } = await regexSearch(p);
        // 400 when RE2 refuses it (too large); never a 500, never a stall.
        expect([200, 400]).toContain(status);
        expect(ms).toBeLessThan(bound);
      }),
      { numRuns: 40, seed: 10 },
    );
  });

  it('refuses patterns RE2 cannot run in linear time, or too long, with a 400 that says why', async () => {
    for (const [pattern, message] of [
      ['(a)\\1', /no backreferences or lookaround/],
      ['(?=a)a', /no backreferences or lookaround/],
      ['(?<!a)b', /no backreferences or lookaround/],
      ['x'.repeat(SEARCH_LIMITS.maxRegexLength + 1), /limited to 500 characters/],
      ['[a-z]{1000}[a-z]{1000}', /too large/],
    ] as const) {
      const { status, body } = await regexSearch(pattern);
      expect(status, pattern).toBe(400);
      expect(String(body.error), pattern).toMatch(message);
    }
    const many = Array.from({ length: SEARCH_LIMITS.maxRegexFilters + 1 }, (_, i) => `signature=${encodeURIComponent(`@a{${i}}`)}`).join('&');
    const { status, body } = await search(many);
    expect(status).toBe(400);
    expect(String(body.error)).toMatch(/at most 10 per search/);
  });
});

describe('aggregations', () => {
  it('refuses hundreds of nested aggregations with a 400 naming the limit, before running them', async () => {
    const { status, body, ms } = await search(`_aggs.uuid=${Array(600).fill('uuid').join(',')}&_facets_size=10000&_results_number=0`);
    expect(status).toBe(400);
    expect(String(body.error)).toMatch(/at most 20 per search/);
    expect(ms).toBeLessThan(Math.max(1000, 30 * (await baseline())));
  });

  it('refuses deep nesting, too large facets and too many filter values', async () => {
    const deep = await search('_aggs.product.version.os_name=cpu_arch&_results_number=0');
    expect(deep.status).toBe(400);
    expect(String(deep.body.error)).toMatch(/4 levels deep; at most 3/);
    expect((await search('_aggs.product.version=os_name&_results_number=0')).status).toBe(200);
    const size = await search('_facets_size=10001');
    expect(size.status).toBe(400);
    expect(String(size.body.error)).toMatch(/10,000/);
    const values = await search(Array.from({ length: SEARCH_LIMITS.maxFilterValues + 1 }, (_, i) => `signature=s${i}`).join('&'));
    expect(values.status).toBe(400);
    expect(String(values.body.error)).toMatch(/at most 1000 per search/);
  });

  it('answers the most nested aggregations allowed over every crash with the same counts as one level', async () => {
    const subs = Array(SEARCH_LIMITS.maxAggregations - 1).fill('uuid').join(',');
    const { status, body } = await search(`_aggs.uuid=${subs}&_facets=&_facets_size=10000&_results_number=0`);
    expect(status).toBe(200);
    const buckets = (body.facets as Record<string, { term: string; count: number; facets: Record<string, { term: string; count: number }[]> }[]>).uuid!;
    expect(buckets.length).toBe(body.total);
    for (const bucket of buckets) expect(bucket.facets.uuid).toEqual([{ term: bucket.term, count: 1 }]);
  });
});

describe('date ranges', () => {
  it('answers absurd date bounds and histogram intervals without a 500', async () => {
    const bound = Math.max(1000, 30 * (await baseline()));
    for (const params of [
      'date=>=0000-01-01&date=<9999-12-31&_results_number=0',
      'date=>=0000-01-01&date=<9999-12-31&_histogram.date=product&_histogram_interval.date=1m&_results_number=0',
      'date=>=-271821-04-20&date=<%2B275760-09-13&_histogram.date=signature&_histogram_interval.date=1m&_results_number=0',
      'date=<1000-01-01&_histogram.date=product&_results_number=0',
      '_histogram.uptime=signature&_histogram_interval.uptime=1&_results_number=0',
      '_histogram.date=signature&_histogram_interval.date=1000000000d&_results_number=0',
    ]) {
      const { status, body, ms } = await search(params);
      expect(status, params).toBeLessThan(500);
      expect(ms, params).toBeLessThan(bound);
      if (status === 400) expect(String(body.error), params).toMatch(/buckets|at most/);
    }
    const all = await search('date=>=0000-01-01&date=<9999-12-31&_results_number=0&_facets_size=0');
    expect(all.body.total).toBe(crashes.length);
  });
});
