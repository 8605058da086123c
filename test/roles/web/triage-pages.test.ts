/**
 * The triage pages of issue 14 through the real web plugin over real stores (the crash
 * index and bug links on SQLite and on PostgreSQL, a SQLite queue, file raw and processed
 * stores): the signature page's
 * filters, split chart, chosen aggregations and columns, first and last build, comments
 * and actions; top crashers by build date, by report type, with the startup marker, rows
 * and bugs; and the context every link into a signature page carries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { PgBugLinks } from '../../../src/adapters/pg-bug-links.js';
import { PgCrashIndex } from '../../../src/adapters/pg-crash-index.js';
import { SqliteBugLinks } from '../../../src/adapters/sqlite-bug-links.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import type { Permission } from '../../../src/common/permissions.js';
import type { BugLinkStore } from '../../../src/ports/bug-links.js';
import type { CrashIndex } from '../../../src/ports/crash-index.js';
import type { ProcessedCrash } from '../../../src/ports/processed-crash-store.js';
import { webPlugin } from '../../../src/roles/web/plugin.js';
import { reprocessPagePlugin } from '../../../src/roles/web/reprocess-page-route.js';
import { buildIdPrefixes, signatureHref, superSearchContext } from '../../../src/roles/web/pages/format.js';
import { chartSeries, loadSignatureData } from '../../../src/roles/web/signature-data.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../../adapters/pg-support.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 2, 1, 12);
const TODAY = Date.UTC(2025, 2, 1);

const A = 'app::Crash';
const B = 'net::Socket::Read';
const C = 'gfx::Paint';
const D = 'hang::Wait';
const LONG_MODULE = `lib${'very_long_module_name_'.repeat(12)}.so/0123456789ABCDEF0123456789ABCDEF0`;

let serial = 0;
function crash(fields: { signature: string; daysAgo: number; product?: string; version?: string; build_id?: string; os_name?: string; process_type?: string; uptime?: number; report_type?: string; user_comments?: string; modules_in_stack?: string[] }): ProcessedCrash {
  const submitted = TODAY - fields.daysAgo * DAY_MS + 3_600_000 + serial * 1000;
  const d = new Date(submitted);
  const ymd = `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  const id = `${String(++serial).padStart(8, '0')}-0000-4000-8000-000000${ymd}`;
  return {
    uuid: id,
    submitted_timestamp: d.toISOString(),
    date_processed: new Date(submitted + 1000).toISOString(),
    product: fields.product ?? 'Harbor',
    version: fields.version ?? '2.1',
    build_id: fields.build_id ?? '20250225120000',
    os_name: fields.os_name ?? 'Linux',
    process_type: fields.process_type ?? 'parent',
    cpu_arch: 'amd64',
    reason: 'SIGSEGV /SEGV_MAPERR',
    address: '0x0',
    signature: fields.signature,
    uptime: fields.uptime ?? 1000,
    report_type: fields.report_type ?? 'crash',
    modules_in_stack: fields.modules_in_stack ?? ['libapp.so/ABC'],
    success: true,
    ...(fields.user_comments ? { user_comments: fields.user_comments } : {}),
  };
}

const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
const crashes: ProcessedCrash[] = [
  // A: a 2.1 startup crash on Linux, a 2.0 content crash on Windows, hangs on Mac, and one in Quill.
  ...times(3, () => crash({ signature: A, daysAgo: 1, uptime: 10 })),
  crash({ signature: A, daysAgo: 2, uptime: 500, user_comments: 'it broke when <b>saving</b>' }),
  ...times(3, () => crash({ signature: A, daysAgo: 10, version: '2.0', build_id: '20250210080000', os_name: 'Windows NT', process_type: 'content' })),
  ...times(2, () => crash({ signature: A, daysAgo: 0, build_id: '20250226000000', os_name: 'Mac OS X', process_type: 'gpu', report_type: 'hang', user_comments: 'froze again' })),
  crash({ signature: A, daysAgo: 3, product: 'Quill', version: '1.0', build_id: '20250101000000', modules_in_stack: [LONG_MODULE] }),
  // B: a new build's startup crash; C: an old build's; D: hangs of a new build.
  ...times(5, () => crash({ signature: B, daysAgo: 1, build_id: '20250228000000', uptime: 30 })),
  ...times(6, () => crash({ signature: C, daysAgo: 2, version: '2.0', build_id: '20250101000000', uptime: 5000 })),
  ...times(2, () => crash({ signature: D, daysAgo: 1, build_id: '20250227000000', report_type: 'hang' })),
  // A long tail, one crash each, for the row counts.
  ...Array.from({ length: 60 }, (_, i) => crash({ signature: `tail::Frame${String(i).padStart(2, '0')}`, daysAgo: 1 })),
];

interface Backend {
  name: string;
  skip: string | false;
  open(dir: string): Promise<{ index: CrashIndex; bugLinks: BugLinkStore; dispose(): Promise<void> }>;
}
const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    async open(dir) {
      const index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
      const bugLinks = SqliteBugLinks.open(join(dir, 'index.sqlite'));
      return { index, bugLinks, dispose: async () => void (await bugLinks.close(), await index.close()) };
    },
  },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    async open() {
      const schema = freshSchema();
      const index = await PgCrashIndex.open({ connectionString: pgUrl, schema });
      const bugLinks = await PgBugLinks.open({ connectionString: pgUrl, schema });
      return { index, bugLinks, dispose: async () => void (await bugLinks.close(), await index.close(), await dropSchema(schema)) };
    },
  },
];

let dir: string;
let index: CrashIndex;
let bugLinks: BugLinkStore;
let queue: SqliteQueue;
let app: FastifyInstance;
let dispose: () => Promise<void>;

for (const backend of BACKENDS) describe.skipIf(backend.skip)(`triage pages over ${backend.name}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayday-triage-pages-'));
    ({ index, bugLinks, dispose } = await backend.open(dir));
    await index.upsertMany(crashes);
    await bugLinks.add(B, 'PROJ-42', 'triager');
    queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
    app = Fastify();
    // Stands in for the auth layer: the test names the permissions in a header.
    app.addHook('onRequest', async (request) => {
      const granted = request.headers['x-test-permissions'];
      if (typeof granted === 'string') request.permissions = new Set(granted.split(',') as Permission[]);
    });
    await app.register(webPlugin, {
      crashIndex: index,
      rawCrashStore: await FsRawCrashStore.open(join(dir, 'raw')),
      processedCrashStore: await FsProcessedCrashStore.open(join(dir, 'processed')),
      queue,
      bugLinks,
      bugUrlTemplate: 'https://bugs.example.com/browse/{bug}',
      newBugUrlTemplate: 'https://bugs.example.com/new?title={title}&body={body}',
      now: () => NOW,
    });
    // The route the Reprocess button posts to (the auth layer's CSRF check is not part of this app).
    await app.register(reprocessPagePlugin, { crashIndex: index, rawCrashStore: await FsRawCrashStore.open(join(dir, 'raw')), queue, now: () => NOW });
  });
  afterAll(async () => {
    await app.close();
    await queue.close();
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function get(url: string, permissions?: Permission[]) {
    const response = await app.inject({ method: 'GET', url, headers: permissions ? { 'x-test-permissions': permissions.join(',') } : {} });
    return { status: response.statusCode, body: response.body };
  }

  const sig = (s: string) => `/signature/?signature=${encodeURIComponent(s)}`;
  const total = (body: string) => Number(/id="signature-total">(\d+)</.exec(body)?.[1]);
  const facetCount = (body: string, facet: string, term: string): number | undefined => {
    const card = new RegExp(`data-facet="${facet}"[\\s\\S]*?</table>`).exec(body)?.[0] ?? '';
    const match = new RegExp(`title="${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[\\s\\S]*?<td class="num">(\\d+)</td>`).exec(card);
    return match ? Number(match[1]) : undefined;
  };
  const reportIds = (body: string) => [...(/<table id="reports">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '').matchAll(/href="\/report\/index\/([^"]+)"/g)].map((m) => m[1]!);
  /** The decoded hrefs of a page's links to signature pages. */
  const signatureLinks = (body: string) => [...body.matchAll(/href="(\/signature\/\?[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  const paramsOf = (href: string) => new URL(href, 'http://x').searchParams;

  describe('signature page filters', () => {
    it('applies product, several versions, build id, platform, process type and the range to everything', async () => {
      expect(total((await get(`${sig(A)}&days=28`)).body)).toBe(10);
      const harbor = await get(`${sig(A)}&days=28&product=Harbor`);
      expect(total(harbor.body)).toBe(9);
      expect(facetCount(harbor.body, 'product', 'Quill')).toBeUndefined();
      expect(total((await get(`${sig(A)}&days=28&version=2.0&version=1.0`)).body)).toBe(4);
      expect(total((await get(`${sig(A)}&days=28&build_id=20250225120000`)).body)).toBe(4);
      expect(total((await get(`${sig(A)}&days=28&os_name=Mac+OS+X`)).body)).toBe(2);
      expect(total((await get(`${sig(A)}&days=28&process_type=content`)).body)).toBe(3);
      expect(total((await get(`${sig(A)}&days=3`)).body)).toBe(6);
      expect(total((await get(`${sig(A)}&from=2025-02-19&to=2025-02-19`)).body)).toBe(3);
    });

    it('applies any Super Search filter carried in the URL, and lists it', async () => {
      const { status, body } = await get(`${sig(A)}&days=28&uptime=<60`);
      expect(status).toBe(200);
      expect(total(body)).toBe(3);
      expect(facetCount(body, 'version', '2.1')).toBe(3);
      expect(reportIds(body)).toHaveLength(3);
      expect(body).toMatch(/id="carried-filters"[\s\S]*uptime &lt;60/);
      const negated = await get(`${sig(A)}&days=28&os_name=!Linux`);
      expect(total(negated.body)).toBe(5);
    });

    it('keeps the filters in its form and in every link it makes', async () => {
      const { body } = await get(`${sig(A)}&days=3&product=Harbor&version=2.1&os_name=Linux`);
      expect(body).toMatch(/<select name="product"[^>]*>[\s\S]*?<option selected>Harbor<\/option>/);
      expect(body).toMatch(/<select name="version" multiple[^>]*>[\s\S]*?<option selected>2.1<\/option>/);
      const links = signatureLinks(body).map(paramsOf);
      expect(links.length).toBeGreaterThan(10);
      for (const params of links) {
        // A product bar narrows to `=Harbor`: the same filter.
        expect(params.get('product')?.replace(/^=/, '')).toBe('Harbor');
        if (params.get('days')) expect(params.get('days')).toMatch(/^\d+$/);
      }
      expect(links.filter((p) => p.get('version') === '2.1' && p.get('os_name') === 'Linux' && p.get('days') === '3').length).toBeGreaterThan(5);
    });

    it('refuses bad parameters with a 4xx that says why', async () => {
      const split = await get(`${sig(A)}&split=weekday`);
      expect(split.status).toBe(400);
      expect(split.body).toContain('split must be one of version, build_id');
      const unknown = await get(`${sig(A)}&no_such_field=1`);
      expect(unknown.status).toBe(400);
      expect(unknown.body).toContain('no_such_field');
      expect((await get(`${sig(A)}&uptime=<abc`)).status).toBe(400);
    });
  });

  describe('signature page chart', () => {
    it('splits crashes per day by version, or by build', async () => {
      const byVersion = await get(`${sig(A)}&days=28`);
      const legend = (body: string) => [...(/id="signature-chart"[\s\S]*?<div class="legend">([\s\S]*?)<\/div>/.exec(body)?.[1] ?? '').matchAll(/<\/i>([^<]+)<\/span>/g)].map((m) => m[1]);
      expect(legend(byVersion.body)).toEqual(['2.1', '2.0', '1.0']);
      const byBuild = await get(`${sig(A)}&days=28&split=build_id`);
      expect(legend(byBuild.body)).toEqual(['20250225120000', '20250210080000', '20250226000000', '20250101000000']);
      expect(byBuild.body).toMatch(/<a class="on" href="[^"]*split=build_id[^"]*">by build<\/a>/);
    });

    it('counts the top values per day and the rest as "other"', () => {
      const range = { from: TODAY - 2 * DAY_MS, to: TODAY + DAY_MS };
      const days = [
        { term: new Date(TODAY - DAY_MS).toISOString(), count: 7, facets: { t: [{ term: '2.1', count: 4 }, { term: '2.0', count: 2 }, { term: '1.0', count: 1 }] } },
        { term: new Date(TODAY).toISOString(), count: 2, facets: { t: [{ term: '2.0', count: 2 }] } },
      ];
      expect(chartSeries(range, days, ['2.1', '2.0'])).toEqual([
        { name: '2.1', counts: [{ day: TODAY - 2 * DAY_MS, count: 0 }, { day: TODAY - DAY_MS, count: 4 }, { day: TODAY, count: 0 }] },
        { name: '2.0', counts: [{ day: TODAY - 2 * DAY_MS, count: 0 }, { day: TODAY - DAY_MS, count: 2 }, { day: TODAY, count: 2 }] },
        { name: 'other', counts: [{ day: TODAY - 2 * DAY_MS, count: 0 }, { day: TODAY - DAY_MS, count: 1 }, { day: TODAY, count: 0 }] },
      ]);
      // Nothing left over: no "other" series.
      expect(chartSeries(range, days, ['2.1', '2.0', '1.0']).map((s) => s.name)).toEqual(['2.1', '2.0', '1.0']);
    });
  });

  describe('signature page aggregations and reports', () => {
    it('aggregates by the fields the viewer picks', async () => {
      const { body } = await get(`${sig(A)}&days=28&_facets=report_type&_facets=process_type`);
      expect([...body.matchAll(/data-facet="([^"]+)"/g)].map((m) => m[1])).toEqual(['report_type', 'process_type']);
      expect(facetCount(body, 'report_type', 'hang')).toBe(2);
      expect(facetCount(body, 'report_type', 'crash')).toBe(8);
      // The selector offers the other fields, and keeps the chosen ones.
      expect(body).toMatch(/id="aggregate-by"[\s\S]*?<input type="hidden" name="_facets" value="report_type">[\s\S]*?<option>uptime<\/option>/);
      expect(body).not.toMatch(/id="aggregate-by"[\s\S]*?<option>user_comments<\/option>[\s\S]*?<\/form>/);
    });

    it('aggregates by protected fields only for viewers with view_protected', async () => {
      const denied = await get(`${sig(A)}&days=28&_facets=user_comments`);
      expect(denied.status).toBe(403);
      expect(denied.body).toContain('view_protected');
      const allowed = await get(`${sig(A)}&days=28&_facets=user_comments`, ['view_protected']);
      expect(allowed.status).toBe(200);
      expect(facetCount(allowed.body, 'user_comments', 'froze again')).toBe(2);
    });

    it('shows the report columns the viewer picks, sorted by any of them', async () => {
      const mine = crashes.filter((c) => c.signature === A);
      const ascending = await get(`${sig(A)}&days=28&_columns=date,uptime,build_id&_sort=uptime`);
      expect(ascending.body).toMatch(/<thead><tr><th>Crash<\/th><th><a [^>]*>date<\/a><\/th><th><a [^>]*>uptime ▲<\/a><\/th><th><a [^>]*>build_id<\/a><\/th><\/tr><\/thead>/);
      const uptimes = (body: string) => [...(/<table id="reports">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '').matchAll(/<tr><td class="mono">[\s\S]*?<\/td><td class="[^"]*">[^<]*<\/td><td class="">(\d+)<\/td>/g)].map((m) => Number(m[1]));
      expect(uptimes(ascending.body)).toEqual(mine.map((c) => Number(c.uptime)).sort((a, b) => a - b));
      // The sorted header links to the other direction.
      expect(ascending.body).toMatch(/href="[^"]*_sort=-uptime[^"]*"[^>]*>uptime ▲/);
      const descending = await get(`${sig(A)}&days=28&_columns=date,uptime,build_id&_sort=-uptime`);
      expect(uptimes(descending.body)).toEqual(mine.map((c) => Number(c.uptime)).sort((a, b) => b - a));
      expect((await get(`${sig(A)}&_columns=email`)).status).toBe(403);
    });

    it('shows the first and last build among the crashes shown', async () => {
      const all = await get(`${sig(A)}&days=28`);
      expect(all.body).toContain('id="first-build">20250101000000<');
      expect(all.body).toContain('id="last-build">20250226000000<');
      const harbor20 = await get(`${sig(A)}&days=28&product=Harbor&version=2.0`);
      expect(harbor20.body).toContain('id="first-build">20250210080000<');
      expect(harbor20.body).toContain('id="last-build">20250210080000<');
      const negated = await get(`${sig(A)}&days=28&build_id=!20250226000000`);
      expect(negated.body).toContain('id="last-build">20250225120000<');
    });

    it('finds the first and last build by sorting when the view has more builds than one aggregation lists', async () => {
      const load = (query: Record<string, string>, buildTerms?: number) => loadSignatureData({ crashIndex: index, now: NOW, buildTerms }, { query: { signature: A, days: '28', ...query }, canViewProtected: false });
      const queries: Record<string, string>[] = [{}, { product: 'Harbor' }, { build_id: '!20250226000000' }, { os_name: 'Mac OS X' }];
      for (const query of queries) {
        const [aggregated, sorted] = await Promise.all([load(query), load(query, 1)]);
        expect([sorted.firstBuild, sorted.lastBuild], JSON.stringify(query)).toEqual([aggregated.firstBuild, aggregated.lastBuild]);
      }
      expect((await load({ build_id: '!20250226000000' }, 1)).lastBuild).toBe('20250225120000');
    });
  });

  describe('signature page comments, bugs and actions', () => {
    it('lists the latest comments, escaped and linked to their reports, only with view_protected', async () => {
      const anonymous = await get(`${sig(A)}&days=28`);
      expect(anonymous.body).not.toContain('id="comments"');
      expect(anonymous.body).not.toContain('froze again');
      const { body } = await get(`${sig(A)}&days=28`, ['view_protected']);
      const section = /<table id="comments">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '';
      expect(section).toContain('it broke when &lt;b&gt;saving&lt;/b&gt;');
      expect(section.match(/froze again/g)).toHaveLength(2);
      const commented = crashes.filter((c) => c.signature === A && c.user_comments);
      for (const c of commented) expect(section).toContain(`/report/index/${c.uuid}`);
      // Newest first.
      expect(section.indexOf('froze again')).toBeLessThan(section.indexOf('it broke'));
      // Filters apply to the comments too.
      const linux = await get(`${sig(A)}&days=28&os_name=Linux`, ['view_protected']);
      expect(linux.body).not.toContain('froze again');
    });

    it('shows its bugs and a prefilled "file a bug" link', async () => {
      const { body } = await get(`${sig(B)}&days=7`);
      expect(body).toContain('href="https://bugs.example.com/browse/PROJ-42"');
      const file = /href="(https:\/\/bugs\.example\.com\/new\?[^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, '&');
      expect(file).toBeDefined();
      const filed = new URL(file!);
      expect(filed.searchParams.get('title')).toBe(B);
      expect(filed.searchParams.get('body')).toContain('Crashes: 5');
      expect(filed.searchParams.get('body')).toContain('/signature/?signature=net%3A%3ASocket%3A%3ARead');
      expect(body).not.toContain('bug-link-add');
      expect((await get(`${sig(B)}&days=7`, ['link_bugs'])).body).toContain('bug-link-add');
    });

    it('offers Reprocess, for the shown range, only to viewers with the reprocess permission', async () => {
      expect((await get(`${sig(A)}&days=3&product=Harbor`)).body).not.toContain('id="reprocess-form"');
      const { body } = await get(`${sig(A)}&days=3&product=Harbor`, ['reprocess']);
      const form = /<form method="post" action="\/reprocess" id="reprocess-form"[\s\S]*?<\/form>/.exec(body)?.[0] ?? '';
      expect(form).toContain(`name="signature" value="${A}"`);
      expect(form).toContain('name="product" value="Harbor"');
      expect(form).toContain('name="from" value="2025-02-27"');
      expect(form).toContain('name="to" value="2025-03-01"');
      expect(form).toContain(`name="return_to" value="/signature/?signature=app%3A%3ACrash&amp;days=3&amp;product=Harbor"`);

      // Posted as a browser would, it queues the crashes shown and comes back to the page, which says so.
      const fields = new URLSearchParams([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
      const posted = await app.inject({ method: 'POST', url: '/reprocess', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-test-permissions': 'reprocess' }, payload: fields.toString() });
      expect(posted.statusCode).toBe(303);
      const back = String(posted.headers.location);
      expect(back).toBe('/signature/?signature=app%3A%3ACrash&days=3&product=Harbor&reprocessed=6');
      const shown = crashes.filter((c) => c.signature === A && c.product === 'Harbor' && Date.parse(String(c.submitted_timestamp)) >= TODAY - 2 * DAY_MS);
      expect(shown).toHaveLength(6);
      for (const c of shown) expect(await queue.has(c.uuid)).toBe(true);
      const after = await get(back, ['reprocess']);
      expect(after.status).toBe(200);
      expect(after.body).toMatch(/id="reprocessed">[\s\S]*?6 crashes of this signature queued/);
      expect(total(after.body)).toBe(6);
    });
  });

  describe('top crashers', () => {
    const rowsOf = (body: string) =>
      [...(/<table id="top-crashers">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '').matchAll(/<tr>\s*<td class="num">(\d+)<\/td>[\s\S]*?href="([^"]+)"[^>]*>([^<]+)<\/a>[\s\S]*?<td class="num">(\d+)<\/td>([\s\S]*?)<\/tr>/g)].map((m) => ({
        rank: Number(m[1]),
        href: m[2]!.replace(/&amp;/g, '&'),
        signature: m[3]!.replace(/&amp;/g, '&'),
        count: Number(m[4]),
        rest: m[5]!,
      }));

    it('ranks by report date with 50 rows by default, and 100, 200 or 300 on request', async () => {
      const { body } = await get('/topcrashers/?product=Harbor&days=3');
      const rows = rowsOf(body);
      expect(rows).toHaveLength(50);
      expect(rows.slice(0, 3).map((r) => [r.signature, r.count])).toEqual([
        [A, 6],
        [C, 6],
        [B, 5],
      ]);
      expect(rowsOf((await get('/topcrashers/?product=Harbor&days=3&rows=100')).body)).toHaveLength(64);
      const bad = await get('/topcrashers/?rows=7');
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('rows must be one of 50, 100, 200, 300');
    });

    it('ranks by build date: crashes of builds made in the range', async () => {
      const { status, body } = await get('/topcrashers/?product=Harbor&days=3&date_range_type=build');
      expect(status).toBe(200);
      const rows = rowsOf(body);
      expect(rows.slice(0, 2).map((r) => [r.signature, r.count])).toEqual([
        [B, 5],
        [D, 2],
      ]);
      expect(rows.map((r) => r.signature)).not.toContain(C);
      expect(rows.map((r) => r.signature)).not.toContain(A);
      expect(body).toContain('id="top-total">7 crashes');
      // Its links keep the build range and lead to a page with the same count.
      const link = rows[0]!.href;
      expect(paramsOf(link).getAll('build_id')).toEqual(['^20250227', '^20250228', '^20250301']);
      expect(total((await get(link)).body)).toBe(5);
      expect((await get('/topcrashers/?date_range_type=ship')).status).toBe(400);
    });

    it('shows crashes or hangs only', async () => {
      const hangs = rowsOf((await get('/topcrashers/?product=Harbor&days=3&report_type=hang')).body);
      expect(hangs.map((r) => [r.signature, r.count])).toEqual([
        [A, 2],
        [D, 2],
      ]);
      const crashesOnly = rowsOf((await get('/topcrashers/?product=Harbor&days=3&report_type=crash')).body);
      expect(crashesOnly.find((r) => r.signature === A)?.count).toBe(4);
      expect(crashesOnly.map((r) => r.signature)).not.toContain(D);
      const link = hangs[0]!.href;
      expect(paramsOf(link).get('report_type')).toBe('hang');
      expect(total((await get(link)).body)).toBe(2);
    });

    it('marks startup crashes (most crashes in the first minute)', async () => {
      const html = (await get('/topcrashers/?product=Harbor&days=3')).body;
      const rowHtml = (s: string) => html.split('<tr>').find((r) => r.includes(`>${s}</a>`)) ?? '';
      expect(rowHtml(B)).toContain('badge warn startup');
      // Three of A's six crashes in these days: half, the threshold.
      expect(rowHtml(A)).toContain('title="startup crash: 50.0% of these crashes happened in the first minute"');
      expect(rowHtml(C)).not.toContain('startup');
      // Without the Linux startup crashes, A is not one.
      const mac = (await get('/topcrashers/?product=Harbor&days=3&platform=Mac+OS+X')).body;
      expect(mac.split('<tr>').find((r) => r.includes(`>${A}</a>`))).not.toContain('startup');
      // In the build view, too.
      expect((await get('/topcrashers/?product=Harbor&days=3&date_range_type=build')).body.split('<tr>').find((r) => r.includes(`>${B}</a>`))).toContain('badge warn startup');
    });

    it('shows each signature\'s bugs, and keeps movement, share and "new"', async () => {
      const { body } = await get('/topcrashers/?product=Harbor&days=3');
      const rowB = body.split('<tr>').find((r) => r.includes(`>${B}</a>`))!;
      expect(rowB).toContain('href="https://bugs.example.com/browse/PROJ-42"');
      expect(rowB).toContain('title="first seen in this range">new<');
      expect(rowB).toMatch(/<td class="num">\d+\.\d%<\/td>/);
      expect(body).toContain('<th>Bugs</th>');
    });

    it('links to signature pages in the viewer\'s context', async () => {
      const { body } = await get('/topcrashers/?product=Harbor&version=2.1&platform=Linux&process_type=parent&days=3');
      const rows = rowsOf(body);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const params = paramsOf(row.href);
        expect(params.get('product')).toBe('Harbor');
        expect(params.get('version')).toBe('2.1');
        expect(params.get('os_name')).toBe('Linux');
        expect(params.get('process_type')).toBe('parent');
        expect(params.get('days')).toBe('3');
      }
      // The signature page shows what top crashers counted.
      const rowA = rows.find((r) => r.signature === A)!;
      const page = await get(rowA.href);
      expect(total(page.body)).toBe(rowA.count);
      expect(page.body).toMatch(/<a class="on" href="[^"]*">3 days<\/a>/);
      const fixed = rowsOf((await get('/topcrashers/?product=Harbor&from=2025-02-27&to=2025-02-28')).body)[0]!;
      expect([paramsOf(fixed.href).get('from'), paramsOf(fixed.href).get('to'), paramsOf(fixed.href).get('days')]).toEqual(['2025-02-27', '2025-02-28', null]);
    });
  });

  describe('links from other pages keep the context', () => {
    it('from Super Search: its filters and range', async () => {
      const { body } = await get('/search/?product=Harbor&version=2.1&os_name=!Windows+NT&days=3&_columns=uuid,signature');
      const links = signatureLinks(body);
      expect(links.length).toBeGreaterThan(0);
      for (const href of links) {
        const params = paramsOf(href);
        expect(params.get('product')).toBe('Harbor');
        expect(params.get('version')).toBe('2.1');
        expect(params.get('os_name')).toBe('!Windows NT');
        expect(params.get('days')).toBe('3');
      }
      const toA = links.find((h) => paramsOf(h).get('signature') === A)!;
      expect(total((await get(toA)).body)).toBe(6);
    });

    it('from the home page: the product it is narrowed to', async () => {
      const links = signatureLinks((await get('/?product=Harbor')).body);
      expect(links.length).toBeGreaterThan(0);
      for (const href of links) expect(paramsOf(href).get('product')).toBe('Harbor');
    });

    it('builds context hrefs and build id prefixes', () => {
      expect(signatureHref('a::b', { product: 'P', versions: ['1', '2'], platforms: ['Linux'], days: 3, filters: { report_type: ['hang'], signature: ['~x'], days: ['9'] } })).toBe(
        '/signature/?signature=a%3A%3Ab&product=P&version=1&version=2&os_name=Linux&report_type=hang&days=3',
      );
      expect(signatureHref('s', { days: 3, from: '2025-01-01', to: '2025-01-02' })).toBe('/signature/?signature=s&from=2025-01-01&to=2025-01-02');
      expect(buildIdPrefixes(Date.UTC(2024, 11, 30), Date.UTC(2026, 1, 3))).toEqual(['20241230', '20241231', '2025', '202601', '20260201', '20260202']);
      expect(buildIdPrefixes(Date.UTC(2025, 1, 27), Date.UTC(2025, 2, 2))).toEqual(['20250227', '20250228', '20250301']);
      expect(superSearchContext([{ field: 'product', op: '=', value: 'P' }, { field: 'date', op: '>=', value: '2025-02-01T00:00:00Z' }, { field: 'date', op: '<', value: '2025-02-03T00:00:00Z' }, { field: 'signature', op: '~', value: 'x' }], 7)).toEqual({
        filters: { product: ['=P'] },
        from: '2025-02-01',
        to: '2025-02-02',
      });
    });
  });
});
