import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import type { Permission } from '../../../src/common/permissions.js';
import type { FacetBucket } from '../../../src/ports/crash-index.js';
import { searchApiPlugin } from '../../../src/roles/web/search-api.js';
import { PROCESSED_CRASH_FIELDS } from '../../../src/schema/processed-crash.js';
import { syntheticCrashes } from '../../../bench/search-data.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 2, 1, 12);
const crashes = [...syntheticCrashes({ count: 400, days: 14, end: NOW, signatures: 30, seed: 11 })];
const recent = crashes.filter((c) => Date.parse(String(c.submitted_timestamp)) >= NOW - 7 * DAY_MS);

let dir: string;
let index: SqliteCrashIndex;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-search-api-'));
  index = SqliteCrashIndex.open(join(dir, 'index.sqlite'));
  await index.upsertMany(crashes);
  app = Fastify();
  // Stands in for the auth layer: the test names the permissions in a header.
  app.addHook('onRequest', async (request) => {
    const granted = request.headers['x-test-permissions'];
    if (typeof granted === 'string') request.permissions = new Set(granted.split(',') as Permission[]);
  });
  await app.register(searchApiPlugin, { crashIndex: index, now: () => NOW });
});
afterAll(async () => {
  await app.close();
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, permissions?: Permission[]) {
  const response = await app.inject({ method: 'GET', url, headers: permissions ? { 'x-test-permissions': permissions.join(',') } : {} });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

function counts(items: readonly Record<string, unknown>[], field: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const item of items) {
    const v = item[field];
    if (v !== undefined && v !== null) map.set(String(v), (map.get(String(v)) ?? 0) + 1);
  }
  return map;
}

describe('GET /api/SuperSearch/', () => {
  it("answers Socorro's shape with default columns, the 7-day default range and a signature facet", async () => {
    const { status, body } = await get('/api/SuperSearch/?product=Lumen');
    expect(status).toBe(200);
    const expected = recent.filter((c) => c.product === 'Lumen');
    expect(body.total).toBe(expected.length);
    expect(body.errors).toEqual([]);
    const hits = body.hits as Record<string, unknown>[];
    expect(Object.keys(hits[0]!).sort()).toEqual(['date', 'product', 'signature', 'uuid', 'version']);
    const facet = (body.facets as Record<string, FacetBucket[]>).signature!;
    expect(facet[0]).toEqual({ term: [...counts(expected, 'signature').entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0], count: Math.max(...counts(expected, 'signature').values()) });
  });

  it('takes operators, negation, columns, sort and pagination', async () => {
    const url = '/api/SuperSearch/?product=Lumen&os_name=!Linux&signature=~::&uptime=>=1000&_columns=uuid&_columns=uptime&_sort=-uptime&_results_number=5&_results_offset=2&_facets_size=0';
    const { body } = await get(url);
    const expected = recent
      .filter((c) => c.product === 'Lumen' && c.os_name !== 'Linux' && String(c.signature).includes('::') && (c.uptime as number) >= 1000)
      .sort((a, b) => (b.uptime as number) - (a.uptime as number) || (a.uuid < b.uuid ? -1 : 1));
    expect(body.total).toBe(expected.length);
    expect(body.hits).toEqual(expected.slice(2, 7).map((c) => ({ uuid: c.uuid, uptime: c.uptime })));
    expect(body.facets).toEqual({});
  });

  it('explicit date ranges replace the default', async () => {
    const from = new Date(Math.floor(NOW / DAY_MS) * DAY_MS - 14 * DAY_MS).toISOString();
    const { body } = await get(`/api/SuperSearch/?date=>=${from}&_results_number=0`);
    expect(body.total).toBe(crashes.length);
    expect((await get('/api/SuperSearch/?date=2025-01-01')).status).toBe(400);
  });

  it('answers _aggs.<field> and _histogram.<field> with nested facets', async () => {
    const { body } = await get('/api/SuperSearch/?product=Quill&_aggs.os_name=process_type&_histogram.date=os_name&_facets=_cardinality.signature&_results_number=0');
    const quill = recent.filter((c) => c.product === 'Quill');
    const facets = body.facets as Record<string, unknown>;
    const os = facets.os_name as FacetBucket[];
    expect(new Map(os.map((b) => [b.term, b.count]))).toEqual(counts(quill, 'os_name'));
    for (const bucket of os) {
      const inner = bucket.facets!.process_type as FacetBucket[];
      expect(new Map(inner.map((b) => [b.term, b.count]))).toEqual(counts(quill.filter((c) => c.os_name === bucket.term), 'process_type'));
    }
    const histogram = facets.histogram_date as FacetBucket[];
    expect(histogram.reduce((s, b) => s + b.count, 0)).toBe(quill.length);
    expect(facets.cardinality_signature).toEqual({ value: counts(quill, 'signature').size });
  });

  it('refuses bad parameters with 400', async () => {
    expect((await get('/api/SuperSearch/?no_such_field=1')).status).toBe(400);
    expect((await get('/api/SuperSearch/?uptime=abc')).status).toBe(400);
    expect((await get('/api/SuperSearch/?_results_number=5000')).status).toBe(400);
    expect((await get('/api/SuperSearch/?_sort=modules_in_stack')).status).toBe(400);
    expect((await get('/api/SuperSearch/?signature=@(')).status).toBe(400);
  });

  describe('protected fields', () => {
    const protectedNames = PROCESSED_CRASH_FIELDS.filter((f) => f.protected && f.searchable).map((f) => f.name);
    const withEmail = recent.filter((c) => c.email !== undefined);

    it('are refused to viewers without view_protected wherever the query names them', async () => {
      expect(protectedNames).toContain('email');
      for (const name of protectedNames) {
        for (const url of [
          `/api/SuperSearch/?${name}=x`,
          `/api/SuperSearch/?${name}=__null__`,
          `/api/SuperSearch/?_columns=uuid&_columns=${name}`,
          `/api/SuperSearch/?_sort=${name}`,
          `/api/SuperSearch/?_facets=${name}`,
          `/api/SuperSearch/?_aggs.signature=${name}`,
          `/api/SuperSearch/?_aggs.${name}=signature`,
          `/api/SuperSearch/?_facets=_cardinality.${name}`,
        ]) {
          for (const permissions of [undefined, ['download_dumps', 'reprocess'] as Permission[]]) {
            const { status, body } = await get(url, permissions);
            expect(status, `${url} ${permissions}`).toBe(403);
            expect(JSON.stringify(body)).not.toContain('@example.com');
          }
        }
      }
    });

    it('never appear in answers to viewers without the permission', async () => {
      const { status, body } = await get('/api/SuperSearch/?_results_number=1000&_facets=signature&_facets=annotation_keys');
      expect(status).toBe(200);
      const text = JSON.stringify(body);
      expect(text).not.toContain('@example.com');
      expect(text).not.toContain('https://example.com');
      for (const hit of body.hits as Record<string, unknown>[]) for (const name of protectedNames) expect(hit).not.toHaveProperty(name);
    });

    it('are searchable, returned and counted for viewers with view_protected (or admin)', async () => {
      expect(withEmail.length).toBeGreaterThan(0);
      for (const permissions of [['view_protected'], ['admin']] as Permission[][]) {
        const { status, body } = await get('/api/SuperSearch/?email=!__null__&_columns=uuid&_columns=email&_facets=email&_results_number=1000', permissions);
        expect(status).toBe(200);
        expect(body.total).toBe(withEmail.length);
        expect(new Set((body.hits as Record<string, unknown>[]).map((h) => h.email))).toEqual(new Set(withEmail.map((c) => c.email)));
        expect((body.facets as Record<string, FacetBucket[]>).email!.reduce((s, b) => s + b.count, 0)).toBe(withEmail.length);
      }
    });
  });
});

describe('GET /api/SuperSearchFields/', () => {
  it('lists every searchable field with its type and the permission it needs, and the date alias', async () => {
    const { status, body } = await get('/api/SuperSearchFields/');
    expect(status).toBe(200);
    const searchable = PROCESSED_CRASH_FIELDS.filter((f) => f.searchable);
    expect(Object.keys(body).sort()).toEqual([...searchable.map((f) => f.name), 'date'].sort());
    for (const spec of searchable) {
      const entry = body[spec.name] as Record<string, unknown>;
      expect(entry.name).toBe(spec.name);
      expect(entry.permissions_needed).toEqual(spec.protected ? ['crashstats.view_pii'] : []);
      expect(entry.description).toBe(spec.description);
    }
    expect((body.date as Record<string, unknown>).query_type).toBe('date');
  });
});
