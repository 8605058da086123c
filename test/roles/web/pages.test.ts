import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteBugLinks } from '../../../src/adapters/sqlite-bug-links.js';
import type { Permission } from '../../../src/common/permissions.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../../src/ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../../src/ports/queue.js';
import type { RawCrash, RawCrashStore } from '../../../src/ports/raw-crash-store.js';
import { webPlugin } from '../../../src/roles/web/plugin.js';
import { searchState, splitValue } from '../../../src/roles/web/pages.js';
import { syntheticCrashes } from '../../../bench/search-data.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 2, 1, 12);
const crashes = [...syntheticCrashes({ count: 300, days: 20, end: NOW, signatures: 25, seed: 7 })];
const inLastDays = (days: number) => crashes.filter((c) => Date.parse(String(c.submitted_timestamp)) >= Math.floor(NOW / DAY_MS) * DAY_MS + DAY_MS - days * DAY_MS);

/** A processed crash with a stack, inline frames, a missing-symbols module and protected data, for the report page. */
const REPORT_ID = '11111111-2222-4333-8444-555555250301';
const reportCrash: ProcessedCrash = {
  ...crashes[0]!,
  uuid: REPORT_ID,
  signature: 'crash_here',
  signature_debug: ['frame 0 crash_here: kept', 'stop: not a prefix'],
  email: 'someone@example.com',
  crashing_thread: 0,
  processor_notes: 'a note; another note',
  json_dump: {
    threads: [
      {
        thread_name: 'main',
        frames: [
          { frame: 0, module: 'app', function: 'outer_fn', file: 'src/app.cc', line: 42, trust: 'context', inlines: [{ function: 'inlined_helper', file: 'src/helper.h', line: 7 }] },
          { frame: 1, module: 'libfoo.so', module_offset: '0x1234', trust: 'cfi', missing_symbols: true },
        ],
      },
      { thread_name: 'worker <script>', frames: [{ frame: 0, module: 'libc.so.6', function: 'futex_wait', trust: 'context' }] },
    ],
    modules: [
      { filename: 'app', debug_file: 'app', debug_id: 'ABC', loaded_symbols: true },
      { filename: 'libfoo.so', debug_file: 'libfoo.so', debug_id: 'DEF', missing_symbols: true },
    ],
  },
};
const reportRaw: RawCrash = {
  uuid: REPORT_ID,
  submitted_timestamp: '2025-03-01T10:00:00.000Z',
  annotations: { ProductName: 'Harbor', Email: 'someone@example.com', Comments: 'it broke' },
  metadata: {
    collector_notes: [],
    dumps: { upload_file_minidump: { size: 10, sha256: 'x' } },
    payload: 'multipart',
    payload_compressed: false,
    user_agent: 'test',
    throttle_result: 'accept',
    throttle_rule: 'accept_everything',
    protected_annotations: ['Comments', 'Email'],
  },
};
const PENDING_ID = '11111111-2222-4333-8444-666666250301';

let dir: string;
let index: SqliteCrashIndex;
let bugLinks: SqliteBugLinks;
let app: FastifyInstance;
const enqueued: [string, string][] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-pages-'));
  index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  await index.upsertMany(crashes);
  bugLinks = SqliteBugLinks.open(join(dir, 'index.sqlite'));
  // Only the methods the pages call; the rest of each port is not reached.
  const rawCrashStore = { get: async (id: string) => (id === REPORT_ID ? reportRaw : id === PENDING_ID ? { ...reportRaw, uuid: PENDING_ID } : undefined) } as unknown as RawCrashStore;
  const processedCrashStore = { get: async (id: string) => (id === REPORT_ID ? reportCrash : undefined) } as unknown as ProcessedCrashStore;
  const queue = { enqueue: async (id: string, name: string) => void enqueued.push([id, name]), has: async () => false } as unknown as ProcessingQueue;
  app = Fastify();
  // Stands in for the auth layer: the test names the permissions in a header.
  app.addHook('onRequest', async (request) => {
    const granted = request.headers['x-test-permissions'];
    if (typeof granted === 'string') request.permissions = new Set(granted.split(',') as Permission[]);
  });
  await app.register(webPlugin, { crashIndex: index, rawCrashStore, processedCrashStore, queue, bugLinks, now: () => NOW });
});
afterAll(async () => {
  await app.close();
  await bugLinks.close();
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, permissions?: Permission[]) {
  const response = await app.inject({ method: 'GET', url, headers: permissions ? { 'x-test-permissions': permissions.join(',') } : {} });
  return { status: response.statusCode, body: response.body };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const map = new Map<string, number>();
  for (const item of items) map.set(key(item), (map.get(key(item)) ?? 0) + 1);
  return map;
}

describe('home page', () => {
  it('lists products with their versions, a volume chart and the latest crashes', async () => {
    const { status, body } = await get('/');
    expect(status).toBe(200);
    for (const product of new Set(crashes.map((c) => String(c.product)))) expect(body).toContain(`href="/?product=${product}"`);
    expect(body).toContain('id="volume-chart"');
    expect(body).toContain(`${crashes.length} processed`);
    expect(body.match(/href="\/report\/index\//g)?.length).toBe(50);
    expect(body).toContain('/topcrashers/?product=');
  });

  it('narrows to one product', async () => {
    const product = String(crashes[0]!.product);
    const { body } = await get(`/?product=${product}`);
    const count = crashes.filter((c) => c.product === product).length;
    expect(body).toContain(`${count} crashes`);
    const otherProduct = crashes.find((c) => c.product !== product)!;
    expect(body).not.toContain(`/report/index/${otherProduct.uuid}`);
  });
});

describe('top crashers page', () => {
  it('ranks signatures over the range with counts, shares and platforms', async () => {
    const product = String(crashes[0]!.product);
    const { status, body } = await get(`/topcrashers/?product=${product}&days=7`);
    expect(status).toBe(200);
    const expected = [...countBy(inLastDays(7).filter((c) => c.product === product), (c) => String(c.signature)).entries()].sort((a, b) => b[1] - a[1]);
    const rows = [...body.matchAll(/<tr>\s*<td class="num">(\d+)<\/td>[\s\S]*?href="\/signature\/\?signature=([^&"]+)[\s\S]*?<td class="num">(\d+)<\/td>/g)];
    expect(rows.length).toBe(expected.length);
    expect(Number(rows[0]![3])).toBe(expected[0]![1]);
    expect(decodeURIComponent(rows[0]![2]!.replace(/\+/g, ' ')).replace(/&amp;/g, '&')).toBe(expected[0]![0]);
    expect(body).toContain('7 days');
  });

  it('takes explicit from/to dates', async () => {
    const { body } = await get('/topcrashers/?from=2025-02-20&to=2025-02-21');
    expect(body).toContain('2025-02-20 to 2025-02-21 (2 days)');
  });
});

describe('signature page', () => {
  it('shows totals, first/last seen, aggregations and reports', async () => {
    const signature = String(crashes[0]!.signature);
    const { status, body } = await get(`/signature/?signature=${encodeURIComponent(signature)}&days=28`);
    expect(status).toBe(200);
    const mine = inLastDays(28).filter((c) => c.signature === signature);
    expect(body).toContain(`<div class="big" id="signature-total">${mine.length}</div>`);
    expect(body).toContain('data-facet="os_name"');
    expect(body).toContain('data-facet="version"');
    expect(body).toContain(`<span class="badge">${mine.length}</span>`);
    const newest = [...mine].sort((a, b) => Date.parse(String(b.submitted_timestamp)) - Date.parse(String(a.submitted_timestamp)));
    for (const crash of newest.slice(0, 3)) expect(body).toContain(`/report/index/${crash.uuid}`);
    const firstDay = new Date(Math.min(...crashes.filter((c) => c.signature === signature).map((c) => Date.parse(String(c.submitted_timestamp))))).toISOString().slice(0, 10);
    expect(body).toContain(`id="first-seen">${firstDay}`);
  });

  it('asks for a signature when none is given', async () => {
    expect((await get('/signature/')).status).toBe(400);
  });
});

describe('Super Search page', () => {
  it('filters with operators, shows chosen columns and facets with counts', async () => {
    const { status, body } = await get('/search/?os_name=!Linux&f=signature&op=~&v=::&_columns=uuid,os_name,signature&_facets=os_name&days=7');
    expect(status).toBe(200);
    const expected = inLastDays(7).filter((c) => c.os_name !== 'Linux' && String(c.signature).includes('::'));
    expect(body).toContain(`id="search-total">${expected.length} crashes`);
    expect(body).not.toMatch(/<td[^>]*>Linux<\/td>/);
    const facet = countBy(expected, (c) => String(c.os_name));
    for (const [os, n] of facet) expect(body).toMatch(new RegExp(`>${os}</a></td>[\\s\\S]*?<td class="num">${n}</td>`));
  });

  it('refuses protected fields to viewers without view_protected, and allows them with it', async () => {
    const denied = await get('/search/?email=__null__');
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('protected');
    expect((await get('/search/?email=__null__', ['view_protected'])).status).toBe(200);
  });

  it('reads filter values back into operator and value', () => {
    expect(splitValue('!~foo')).toEqual({ op: '!~', value: 'foo' });
    expect(splitValue('>=3')).toEqual({ op: '>=', value: '3' });
    expect(splitValue('!__null__')).toEqual({ op: '!__null__', value: '' });
    expect(splitValue('plain')).toEqual({ op: '', value: 'plain' });
    const state = searchState({ f: ['product', 'email'], op: ['=', '__null__'], v: ['Harbor', ''], days: '3' }, NOW);
    expect(state.params.product).toEqual(['=Harbor']);
    expect(state.params.email).toEqual(['__null__']);
    expect(state.params.date).toEqual([`>=${new Date(Date.UTC(2025, 1, 27)).toISOString()}`]);
  });
});

describe('report page', () => {
  it('shows the signature explanation, frames with inlines, threads and missing symbols', async () => {
    const { status, body } = await get(`/report/index/${REPORT_ID}`);
    expect(status).toBe(200);
    expect(body).toContain('id="signature-debug"');
    expect(body).toContain('stop: not a prefix');
    expect(body).toContain('inlined_helper');
    expect(body).toContain('src/helper.h:7');
    expect(body).toContain('src/app.cc:42');
    expect(body).toContain('worker &lt;script&gt;');
    expect(body).toContain('missing-symbols');
    expect(body).toContain('another note');
  });

  it('hides protected annotations and fields, and the download link, without permissions', async () => {
    const { body } = await get(`/report/index/${REPORT_ID}`);
    expect(body).not.toContain('someone@example.com');
    expect(body).not.toContain('it broke');
    expect(body).toContain('2 protected annotations hidden');
    expect(body).not.toContain('format=raw');
  });

  it('shows them to viewers with view_protected and download_dumps', async () => {
    const { body } = await get(`/report/index/${REPORT_ID}`, ['view_protected', 'download_dumps']);
    expect(body).toContain('someone@example.com');
    expect(body).toContain('it broke');
    expect(body).toContain(`/api/RawCrash/?crash_id=${REPORT_ID}&amp;format=raw&amp;name=upload_file_minidump`);
  });

  it('shows a pending crash and puts it on the priority queue', async () => {
    const { body } = await get(`/report/index/${PENDING_ID}`);
    expect(body).toContain('id="pending"');
    expect(enqueued).toContainEqual([PENDING_ID, 'priority']);
    expect((await get('/report/index/11111111-2222-4333-8444-777777250301')).status).toBe(404);
  });
});
