import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Aggregation, CrashIndex, FacetBucket, FacetResult, SearchFilter, SearchQuery } from '../../src/ports/crash-index.js';
import { SEARCH_LIMITS, SearchError } from '../../src/ports/crash-index.js';
import type { ProcessedCrash } from '../../src/ports/processed-crash-store.js';
import { COLUMN_FIELDS, DAY_MS } from '../../src/adapters/crash-index-layout.js';
import { syntheticCrashes } from '../../bench/search-data.js';
import { fieldCatalog, type FieldCatalog } from '../../src/schema/field-catalog.js';

/**
 * The crash index contract: every adapter (SQLite, PostgreSQL) must pass exactly these
 * tests, so that search, top crashers and signature pages mean the same on both. Expected
 * values are computed from the generated crashes in JavaScript, never written down.
 */

export interface ContractSubject {
  index: CrashIndex & { columnNames(): Promise<string[]> };
  /** Runs SQL on the index's database behind its back (to damage it on purpose). */
  exec(sql: string): Promise<void>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

const END = Date.UTC(2025, 0, 15);
const DAYS = 21;

function crash(uuid: string, fields: Record<string, unknown>): ProcessedCrash {
  return { uuid, submitted_timestamp: new Date(END - DAY_MS).toISOString(), date_processed: new Date(END - DAY_MS + 1000).toISOString(), ...fields };
}

function query(overrides: Partial<SearchQuery>): SearchQuery {
  return { filters: [], columns: ['uuid'], sort: [], limit: 100, offset: 0, aggregations: {}, allowProtected: false, ...overrides };
}

function filter(field: string, operator: SearchFilter['operator'], values: SearchFilter['values'] = [], negated = false): SearchFilter {
  return { field, operator, values, negated };
}

function countBy<T>(items: readonly T[], key: (item: T) => string | null | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k === null || k === undefined) continue;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function sortedFacet(counts: Map<string, number>, size: number): { term: string; count: number }[] {
  return [...counts.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, size)
    .map(([term, count]) => ({ term, count }));
}

/** A crash's values for an aggregation's field, as the index stores them (dates in ms, lists de-duplicated). */
function fieldValues(crash: ProcessedCrash, field: string): (string | number)[] {
  const value = crash[field];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return [...new Set(value.map(String))];
  if (field === 'submitted_timestamp') return [Date.parse(String(value))];
  return [typeof value === 'number' ? Math.trunc(value) : String(value)];
}

/**
 * What an aggregation answers, computed naively in JavaScript: for every bucket, its
 * nested aggregations over that bucket's crashes (one pass per bucket, as a reference).
 */
function naiveAggregation(crashes: readonly ProcessedCrash[], aggregation: Aggregation): FacetResult {
  if (aggregation.kind === 'cardinality') return { value: new Set(crashes.flatMap((c) => fieldValues(c, aggregation.field))).size };
  const members = new Map<string | number, ProcessedCrash[]>();
  const add = (key: string | number, c: ProcessedCrash): void => {
    const list = members.get(key);
    if (list) list.push(c);
    else members.set(key, [c]);
  };
  let keys: (string | number)[];
  if (aggregation.kind === 'terms') {
    for (const c of crashes) for (const v of fieldValues(c, aggregation.field)) add(v, c);
    keys = [...members.keys()].sort((a, b) => members.get(b)!.length - members.get(a)!.length || (a < b ? -1 : a > b ? 1 : 0)).slice(0, aggregation.size);
  } else {
    const { interval } = aggregation;
    const offset = aggregation.field === 'submitted_timestamp' && interval === 7 * DAY_MS ? -3 * DAY_MS : 0;
    for (const c of crashes) for (const v of fieldValues(c, aggregation.field)) add(Math.trunc((Number(v) - offset) / interval) * interval + offset, c);
    const starts = [...members.keys()].map(Number).sort((a, b) => a - b);
    keys = [];
    if (starts.length > 0) for (let k = starts[0]!; k <= starts[starts.length - 1]!; k += interval) keys.push(k);
  }
  return keys.map((key) => {
    const inBucket = members.get(key) ?? [];
    const bucket: FacetBucket = { term: aggregation.field === 'submitted_timestamp' ? new Date(Number(key)).toISOString() : key, count: inBucket.length };
    if (aggregation.sub && aggregation.sub.length > 0 && inBucket.length > 0) {
      bucket.facets = {};
      for (const sub of aggregation.sub) bucket.facets[sub.kind === 'histogram' ? `histogram_${sub.field}` : sub.kind === 'cardinality' ? `cardinality_${sub.field}` : sub.field] = naiveAggregation(inBucket, sub);
    }
    return bucket;
  });
}

/** Opens a fresh, empty index; `fields` is the node's field catalog (default: built-in fields only). */
export type OpenSubject = (options?: { fields?: FieldCatalog }) => Promise<ContractSubject>;

export function crashIndexContract(name: string, open: OpenSubject, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`crash index contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let subject: ContractSubject;
    let index: ContractSubject['index'];
    const generated = [...syntheticCrashes({ count: 600, days: DAYS, end: END, signatures: 40, seed: 7 })];

    beforeAll(async () => {
      subject = await open();
      index = subject.index;
      await index.upsertMany(generated);
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it('has a column for every schema field that declares one', async () => {
      const columns = new Set(await index.columnNames());
      for (const spec of COLUMN_FIELDS) expect(columns.has(spec.column!), `${spec.name} -> ${spec.column}`).toBe(true);
      expect(columns.has('doc')).toBe(true);
    });

    it('indexes a processed crash and reads its summary back', async () => {
      const sample = generated[3]!;
      const got = await index.get(sample.uuid);
      expect(got).toMatchObject({
        crashId: sample.uuid,
        submittedAt: Date.parse(String(sample.submitted_timestamp)),
        product: sample.product,
        version: sample.version,
        osName: sample.os_name,
        signature: sample.signature,
        hasErrors: sample.processor_notes !== '',
      });
      expect(await index.count()).toBe(generated.length);
      const latest = await index.latest({ limit: 5 });
      const newest = [...generated].sort((a, b) => Date.parse(String(b.submitted_timestamp)) - Date.parse(String(a.submitted_timestamp)))[0]!;
      expect(latest[0]!.crashId).toBe(newest.uuid);
      const lumen = await index.latest({ limit: 3, product: 'Quill' });
      expect(lumen.every((c) => c.product === 'Quill')).toBe(true);
    });

    it('keeps one row per crash and moves its daily count when reprocessing changes it', async () => {
      const id = 'aaaaaaaa-0000-4000-8000-000000250114';
      await index.upsert(crash(id, { product: 'Moved', version: '1.0', signature: 'old_signature', os_name: 'Linux' }));
      await index.upsert(crash(id, { product: 'Moved', version: '1.0', signature: 'old_signature', os_name: 'Linux' }));
      const range = { from: END - 3 * DAY_MS, to: END };
      let top = await index.topCrashers({ product: 'Moved', range, limit: 10 });
      expect(top.crashers.map((c) => [c.signature, c.count])).toEqual([['old_signature', 1]]);
      await index.upsert(crash(id, { product: 'Moved', version: '1.0', signature: 'new_signature', os_name: 'Linux' }));
      top = await index.topCrashers({ product: 'Moved', range, limit: 10 });
      expect(top.crashers.map((c) => [c.signature, c.count])).toEqual([['new_signature', 1]]);
      expect((await index.search(query({ filters: [filter('product', 'is', ['Moved'])] }))).total).toBe(1);
      expect((await index.topCrashers({ product: 'Moved', range, limit: 10 }, 'raw')).crashers.map((c) => c.signature)).toEqual(['new_signature']);
    });

    it('bulk upserts like single upserts, the last of duplicates winning', async () => {
      const a = 'bbbbbbbb-0000-4000-8000-000000250114';
      await index.upsertMany([
        crash(a, { product: 'Bulk', signature: 'first' }),
        crash(a, { product: 'Bulk', signature: 'second' }),
      ]);
      const result = await index.search(query({ filters: [filter('product', 'is', ['Bulk'])], columns: ['uuid', 'signature'] }));
      expect(result.hits).toEqual([{ uuid: a, signature: 'second' }]);
      const top = await index.topCrashers({ product: 'Bulk', range: { from: END - 2 * DAY_MS, to: END }, limit: 5 });
      expect(top.total).toBe(1);
    });

    it('keeps one row when reprocessing moves a crash to another day', async () => {
      const id = 'abababab-0000-4000-8000-000000250114';
      const range = { from: END - 5 * DAY_MS, to: END };
      await index.upsert(crash(id, { product: 'Moving', signature: 'moving', submitted_timestamp: new Date(END - 4 * DAY_MS).toISOString() }));
      await index.upsert(crash(id, { product: 'Moving', signature: 'moving', submitted_timestamp: new Date(END - 2 * DAY_MS).toISOString() }));
      expect((await index.search(query({ filters: [filter('product', 'is', ['Moving'])] }))).total).toBe(1);
      expect((await index.get(id))?.submittedAt).toBe(END - 2 * DAY_MS);
      const top = await index.topCrashers({ product: 'Moving', range, limit: 5 });
      expect(top.total).toBe(1);
      expect(top).toEqual(await index.topCrashers({ product: 'Moving', range, limit: 5 }, 'raw'));
    });

    describe('search operators', () => {
      const ids = {
        one: 'cccccccc-0000-4000-8000-000000000001',
        two: 'cccccccc-0000-4000-8000-000000000002',
        three: 'cccccccc-0000-4000-8000-000000000003',
      };
      beforeAll(async () => {
        await index.upsertMany([
          crash(ids.one, { product: 'Ops', signature: 'Foo::bar', uptime: 10, modules_in_stack: ['libfoo.so', 'libc.so'], email: 'a@example.com', abort_message: 'assert x' }),
          crash(ids.two, { product: 'Ops', signature: 'foo::Baz', uptime: 200, modules_in_stack: ['libbar.so'], success: false }),
          crash(ids.three, { product: 'Ops', signature: null, uptime: null, success: true }),
        ]);
      });
      const ops = async (...filters: SearchFilter[]): Promise<string[]> =>
        (await index.search(query({ filters: [filter('product', 'is', ['Ops']), ...filters], sort: [{ field: 'uuid', descending: false }] }))).hits.map(
          (h) => String(h.uuid),
        );

      it('matches exactly, case-sensitively, any of several values', async () => {
        expect(await ops(filter('signature', 'is', ['Foo::bar']))).toEqual([ids.one]);
        expect(await ops(filter('signature', 'has', ['foo::bar']))).toEqual([]);
        expect(await ops(filter('signature', 'has', ['Foo::bar', 'foo::Baz']))).toEqual([ids.one, ids.two]);
      });
      it('contains, starts with, ends with, regex (whole value)', async () => {
        expect(await ops(filter('signature', 'contains', ['::']))).toEqual([ids.one, ids.two]);
        expect(await ops(filter('signature', 'starts_with', ['foo']))).toEqual([ids.two]);
        expect(await ops(filter('signature', 'starts_with', ['oo']))).toEqual([]);
        expect(await ops(filter('signature', 'ends_with', ['Foo']))).toEqual([]);
        expect(await ops(filter('signature', 'ends_with', ['bar']))).toEqual([ids.one]);
        expect(await ops(filter('signature', 'regex', ['[Ff]oo::.a.']))).toEqual([ids.one, ids.two]);
        expect(await ops(filter('signature', 'regex', ['oo']))).toEqual([]);
      });
      it('missing and exists', async () => {
        expect(await ops(filter('signature', 'missing'))).toEqual([ids.three]);
        expect(await ops(filter('signature', 'missing', [], true))).toEqual([ids.one, ids.two]);
        expect(await ops(filter('modules_in_stack', 'missing'))).toEqual([ids.three]);
      });
      it('negation includes crashes without the field', async () => {
        expect(await ops(filter('signature', 'is', ['Foo::bar'], true))).toEqual([ids.two, ids.three]);
        expect(await ops(filter('uptime', 'gt', [50], true))).toEqual([ids.one, ids.three]);
      });
      it('ranges on integers and dates; all ranges on one field must hold', async () => {
        expect(await ops(filter('uptime', 'gte', [10]), filter('uptime', 'lt', [200]))).toEqual([ids.one]);
        expect(await ops(filter('uptime', 'lte', [200]))).toEqual([ids.one, ids.two]);
        expect(await ops(filter('submitted_timestamp', 'gte', [END - DAY_MS]), filter('submitted_timestamp', 'lt', [END - DAY_MS + 1]))).toEqual([
          ids.one,
          ids.two,
          ids.three,
        ]);
      });
      it('booleans and fields kept in the JSON document', async () => {
        expect(await ops(filter('success', 'true'))).toEqual([ids.three]);
        expect(await ops(filter('success', 'true', [], true))).toEqual([ids.one, ids.two]);
        expect(await ops(filter('abort_message', 'contains', ['assert']))).toEqual([ids.one]);
      });
      it('list fields match when any element does', async () => {
        expect(await ops(filter('modules_in_stack', 'is', ['libc.so']))).toEqual([ids.one]);
        expect(await ops(filter('modules_in_stack', 'starts_with', ['libb']))).toEqual([ids.two]);
      });
      it('ORs several non-range filters on one field', async () => {
        expect(await ops(filter('signature', 'starts_with', ['Foo']), filter('signature', 'missing'))).toEqual([ids.one, ids.three]);
      });
      it('returns typed columns, from columns and document alike', async () => {
        const result = await index.search(
          query({ filters: [filter('uuid', 'is', [ids.one])], columns: ['uuid', 'uptime', 'submitted_timestamp', 'modules_in_stack', 'success', 'email'], allowProtected: true }),
        );
        expect(result.hits).toEqual([
          { uuid: ids.one, uptime: 10, submitted_timestamp: new Date(END - DAY_MS).toISOString(), modules_in_stack: ['libfoo.so', 'libc.so'], success: null, email: 'a@example.com' },
        ]);
      });
      it('refuses protected fields unless allowed, anywhere in the query', async () => {
        const forbidden = [
          query({ filters: [filter('email', 'is', ['a@example.com'])] }),
          query({ columns: ['uuid', 'email'] }),
          query({ sort: [{ field: 'email', descending: false }] }),
          query({ aggregations: { email: { kind: 'terms', field: 'email', size: 5 } } }),
          query({ aggregations: { signature: { kind: 'terms', field: 'signature', size: 5, sub: [{ kind: 'terms', field: 'email', size: 5 }] } } }),
        ];
        for (const q of forbidden) await expect(index.search(q)).rejects.toMatchObject({ name: 'SearchError', kind: 'forbidden' });
        const allowed = await index.search(query({ filters: [filter('email', 'is', ['a@example.com'])], allowProtected: true }));
        expect(allowed.hits.map((h) => h.uuid)).toEqual([ids.one]);
      });
      it('refuses unknown fields, wrong operators and bad values', async () => {
        await expect(index.search(query({ filters: [filter('no_such_field', 'is', ['x'])] }))).rejects.toBeInstanceOf(SearchError);
        await expect(index.search(query({ filters: [filter('json_dump', 'is', ['x'])] }))).rejects.toBeInstanceOf(SearchError);
        await expect(index.search(query({ filters: [filter('uptime', 'contains', ['1'])] }))).rejects.toBeInstanceOf(SearchError);
        await expect(index.search(query({ filters: [filter('uptime', 'gt', ['ten'])] }))).rejects.toBeInstanceOf(SearchError);
        await expect(index.search(query({ filters: [filter('signature', 'regex', ['(unclosed'])] }))).rejects.toBeInstanceOf(SearchError);
        await expect(index.search(query({ sort: [{ field: 'modules_in_stack', descending: false }] }))).rejects.toBeInstanceOf(SearchError);
      });
    });

    describe('hits, sort, pagination and facets', () => {
      const inProduct = (p: string) => generated.filter((c) => c.product === p);

      it('counts, sorts (nulls last ascending) and pages', async () => {
        const q = query({ filters: [filter('product', 'is', ['Lumen'])], columns: ['uuid', 'uptime'], sort: [{ field: 'uptime', descending: true }], limit: 7, offset: 5 });
        const result = await index.search(q);
        const expected = inProduct('Lumen')
          .map((c) => ({ uuid: c.uuid, uptime: c.uptime as number }))
          .sort((a, b) => b.uptime - a.uptime || (a.uuid < b.uuid ? -1 : 1))
          .slice(5, 12);
        expect(result.total).toBe(inProduct('Lumen').length);
        expect(result.hits).toEqual(expected);
        const opsAsc = await index.search(query({ filters: [filter('product', 'is', ['Ops'])], sort: [{ field: 'uptime', descending: false }] }));
        expect(opsAsc.hits.map((h) => h.uuid).at(-1)).toBe('cccccccc-0000-4000-8000-000000000003');
        const opsDesc = await index.search(query({ filters: [filter('product', 'is', ['Ops'])], sort: [{ field: 'uptime', descending: true }] }));
        expect(opsDesc.hits.map((h) => h.uuid)[0]).toBe('cccccccc-0000-4000-8000-000000000003');
      });

      it('default order is newest first', async () => {
        const result = await index.search(query({ filters: [filter('product', 'is', ['Harbor'])], columns: ['uuid', 'submitted_timestamp'] }));
        const times = result.hits.map((h) => Date.parse(String(h.submitted_timestamp)));
        expect(times).toEqual([...times].sort((a, b) => b - a));
      });

      it('terms facets: by count then term, missing values skipped', async () => {
        const result = await index.search(
          query({ filters: [filter('product', 'is', ['Lumen'])], aggregations: { signature: { kind: 'terms', field: 'signature', size: 5 }, cpu_arch: { kind: 'terms', field: 'cpu_arch', size: 50 } } }),
        );
        expect(result.facets.signature).toEqual(sortedFacet(countBy(inProduct('Lumen'), (c) => c.signature as string), 5));
        expect(result.facets.cpu_arch).toEqual(sortedFacet(countBy(inProduct('Lumen'), (c) => c.cpu_arch as string), 50));
      });

      it('facets on list fields count crashes per element', async () => {
        const result = await index.search(query({ filters: [filter('product', 'is', ['Quill'])], aggregations: { modules_in_stack: { kind: 'terms', field: 'modules_in_stack', size: 100 } } }));
        const counts = new Map<string, number>();
        for (const c of inProduct('Quill')) for (const m of new Set(c.modules_in_stack as string[])) counts.set(m, (counts.get(m) ?? 0) + 1);
        expect(result.facets.modules_in_stack).toEqual(sortedFacet(counts, 100));
      });

      it('nested terms, date histograms with nested facets, cardinality', async () => {
        const result = await index.search(
          query({
            filters: [filter('product', 'is', ['Harbor'])],
            aggregations: {
              os_name: { kind: 'terms', field: 'os_name', size: 10, sub: [{ kind: 'terms', field: 'process_type', size: 10 }] },
              histogram_submitted_timestamp: { kind: 'histogram', field: 'submitted_timestamp', interval: DAY_MS, sub: [{ kind: 'terms', field: 'os_name', size: 10 }] },
              cardinality_signature: { kind: 'cardinality', field: 'signature' },
            },
          }),
        );
        const harbor = inProduct('Harbor');
        const os = result.facets.os_name as FacetBucket[];
        expect(os.map((b) => ({ term: b.term, count: b.count }))).toEqual(sortedFacet(countBy(harbor, (c) => c.os_name as string), 10));
        for (const bucket of os) {
          expect(bucket.facets?.process_type).toEqual(sortedFacet(countBy(harbor.filter((c) => c.os_name === bucket.term), (c) => c.process_type as string), 10));
        }
        const byDay = countBy(harbor, (c) => new Date(Math.floor(Date.parse(String(c.submitted_timestamp)) / DAY_MS) * DAY_MS).toISOString());
        const histogram = result.facets.histogram_submitted_timestamp as FacetBucket[];
        expect(histogram.filter((b) => b.count > 0).map((b) => [b.term, b.count])).toEqual([...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
        // Gaps are filled, so consecutive buckets are one interval apart.
        for (let i = 1; i < histogram.length; i++) expect(Date.parse(String(histogram[i]!.term)) - Date.parse(String(histogram[i - 1]!.term))).toBe(DAY_MS);
        const first = histogram.find((b) => b.count > 0)!;
        const firstOs = sortedFacet(countBy(harbor.filter((c) => new Date(Math.floor(Date.parse(String(c.submitted_timestamp)) / DAY_MS) * DAY_MS).toISOString() === first.term), (c) => c.os_name as string), 10);
        expect(first.facets?.os_name).toEqual(firstOs);
        expect(result.facets.cardinality_signature).toEqual({ value: new Set(harbor.map((c) => c.signature)).size });
      });
    });

    describe('bounded work', () => {
      it('answers nested aggregations as a per-bucket computation would, lists and three levels included', async () => {
        const shapes: Aggregation[] = [
          { kind: 'terms', field: 'signature', size: 8, sub: [{ kind: 'terms', field: 'product', size: 5 }, { kind: 'terms', field: 'os_name', size: 2 }, { kind: 'cardinality', field: 'version' }, { kind: 'histogram', field: 'submitted_timestamp', interval: DAY_MS }] },
          { kind: 'terms', field: 'modules_in_stack', size: 50, sub: [{ kind: 'terms', field: 'modules_in_stack', size: 4 }, { kind: 'cardinality', field: 'modules_in_stack' }] },
          { kind: 'terms', field: 'os_name', size: 10, sub: [{ kind: 'terms', field: 'modules_in_stack', size: 3, sub: [{ kind: 'terms', field: 'process_type', size: 10 }, { kind: 'cardinality', field: 'signature' }] }] },
          { kind: 'histogram', field: 'submitted_timestamp', interval: 7 * DAY_MS, sub: [{ kind: 'terms', field: 'version', size: 3, sub: [{ kind: 'histogram', field: 'uptime', interval: 5000 }] }] },
          { kind: 'terms', field: 'uptime', size: 15, sub: [{ kind: 'terms', field: 'cpu_arch', size: 5 }] },
        ];
        // Only the generated crashes (other tests add their own).
        const ours = filter('uuid', 'is', generated.map((c) => c.uuid));
        const filterSets: SearchFilter[][] = [[ours], [ours, filter('product', 'is', ['Lumen'])], [ours, filter('modules_in_stack', 'has', ['xul.dll', 'libxul.so']), filter('os_name', 'is', ['Linux'], true)]];
        for (const filters of filterSets) {
          const matching = (await index.search(query({ filters, columns: ['uuid'], limit: 1000, allowProtected: true }))).hits.map((h) => String(h.uuid));
          const crashes = generated.filter((c) => matching.includes(c.uuid));
          for (const [i, shape] of shapes.entries()) {
            const result = await index.search(query({ filters, columns: [], aggregations: { [`a${i}`]: shape } }));
            expect(result.facets[`a${i}`], `${JSON.stringify(filters)} shape ${i}`).toEqual(naiveAggregation(crashes, shape));
          }
        }
      });

      it('refuses too many aggregations, too deep nesting and too many buckets, naming the limit', async () => {
        const uuids = Array.from({ length: SEARCH_LIMITS.maxAggregations }, (): Aggregation => ({ kind: 'terms', field: 'uuid', size: 10 }));
        await expect(index.search(query({ aggregations: { uuid: { kind: 'terms', field: 'uuid', size: 10_000, sub: uuids } } }))).rejects.toThrow(/at most 20 facets/);
        let deep: Aggregation = { kind: 'terms', field: 'os_name', size: 5 };
        for (let i = 0; i < SEARCH_LIMITS.maxAggregationDepth; i++) deep = { kind: 'terms', field: 'os_name', size: 5, sub: [deep] };
        await expect(index.search(query({ aggregations: { os_name: deep } }))).rejects.toThrow(/nest at most 3 levels/);
        await expect(index.search(query({ aggregations: { signature: { kind: 'terms', field: 'signature', size: SEARCH_LIMITS.maxFacetSize + 1 } } }))).rejects.toBeInstanceOf(SearchError);
        // Minute buckets over six days, filled between each platform's first and last crash, six times over.
        const minutes: Aggregation = { kind: 'histogram', field: 'submitted_timestamp', interval: 60_000 };
        const since = END - 6 * DAY_MS;
        const spans = new Map<string, { first: number; last: number }>();
        for (const c of generated) {
          const t = Date.parse(String(c.submitted_timestamp));
          if (t < since || typeof c.os_name !== 'string') continue;
          const span = spans.get(c.os_name) ?? { first: t, last: t };
          spans.set(c.os_name, { first: Math.min(span.first, t), last: Math.max(span.last, t) });
        }
        const filled = [...spans.values()].reduce((n, s) => n + Math.floor(s.last / 60_000) - Math.floor(s.first / 60_000) + 1, 0);
        expect(6 * filled).toBeGreaterThan(SEARCH_LIMITS.maxFacetBuckets);
        const sixDays = [filter('submitted_timestamp', 'gte', [since]), filter('submitted_timestamp', 'lt', [END])];
        await expect(
          index.search(query({ filters: sixDays, aggregations: { os_name: { kind: 'terms', field: 'os_name', size: 10, sub: Array.from({ length: 6 }, () => minutes) } } })),
        ).rejects.toThrow(/more than 100,000 buckets/);
        // Within the limits, nested facets on every crash still answer.
        const within = await index.search(query({ aggregations: { uuid: { kind: 'terms', field: 'uuid', size: 10_000, sub: uuids.slice(1) } } }));
        expect((within.facets.uuid as FacetBucket[]).every((b) => (b.facets!.uuid as FacetBucket[])[0]!.term === b.term)).toBe(true);
      });

      it('runs regular expressions in linear time: catastrophic patterns over adversarial values finish', async () => {
        const ids = Array.from({ length: 120 }, (_, i) => `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`);
        await index.upsertMany(ids.map((id, i) => crash(id, { product: 'Adversary', signature: `${'a'.repeat(30 + (i % 20))}${i % 2 ? '!' : ''}` })));
        const adversary = filter('product', 'is', ['Adversary']);
        for (const [pattern, matches] of [
          ['(.*){8}!', 60],
          ['(a|a)*b', 0],
          ['(a*)*b', 0],
          ['((a+)+)+!', 60],
          ['(?:a|aa)*c', 0],
        ] as const) {
          const result = await index.search(query({ filters: [adversary, filter('signature', 'regex', [pattern])], columns: [], limit: 0 }));
          expect(result.total, pattern).toBe(matches);
        }
      });

      it('refuses patterns RE2 cannot run, or that are too large, with a SearchError', async () => {
        const refused = async (patterns: string[]) => index.search(query({ filters: [filter('signature', 'regex', patterns)] }));
        for (const pattern of ['(a)\\1', '(?=a)a', '(?<=a)b', '(?!a)b', 'a)|(b', '(unclosed', 'x'.repeat(SEARCH_LIMITS.maxRegexLength + 1), '[a-z]{1000}[a-z]{1000}']) {
          await expect(refused([pattern]), pattern).rejects.toBeInstanceOf(SearchError);
        }
        await expect(refused(Array.from({ length: SEARCH_LIMITS.maxRegexFilters + 1 }, (_, i) => `sig${i}.*`))).rejects.toThrow(/at most 10 regular expressions/);
        await expect(index.search(query({ filters: [filter('signature', 'has', Array.from({ length: SEARCH_LIMITS.maxFilterValues + 1 }, (_, i) => `s${i}`))] }))).rejects.toThrow(/at most 1000 filter values/);
      });
    });

    describe('top crashers and signature pages', () => {
      const range = { from: END - 7 * DAY_MS, to: END };
      const inRange = (c: ProcessedCrash, from: number, to: number): boolean => {
        const t = Date.parse(String(c.submitted_timestamp));
        return t >= from && t < to;
      };

      it('ranks signatures by count with shares, previous ranks, platforms and new markers', async () => {
        const result = await index.topCrashers({ product: 'Lumen', range, limit: 10 });
        const current = generated.filter((c) => c.product === 'Lumen' && inRange(c, range.from, range.to));
        const previous = generated.filter((c) => c.product === 'Lumen' && inRange(c, range.from - 7 * DAY_MS, range.from));
        const expected = sortedFacet(countBy(current, (c) => c.signature as string), 10);
        expect(result.total).toBe(current.length);
        expect(result.previousTotal).toBe(previous.length);
        expect(result.crashers.map((c) => ({ term: c.signature, count: c.count }))).toEqual(expected);
        const previousRanking = sortedFacet(countBy(previous, (c) => c.signature as string), 1000).map((e) => e.term);
        for (const crasher of result.crashers) {
          expect(crasher.share).toBeCloseTo(crasher.count / current.length, 10);
          const rank = previousRanking.indexOf(crasher.signature!);
          expect(crasher.previousRank).toBe(rank === -1 ? null : rank + 1);
          const platforms = Object.fromEntries(countBy(current.filter((c) => c.signature === crasher.signature), (c) => c.os_name as string));
          expect(crasher.platforms).toEqual(platforms);
          const first = Math.min(...generated.filter((c) => c.signature === crasher.signature).map((c) => Date.parse(String(c.submitted_timestamp))));
          expect(crasher.firstSeen).toBe(Math.floor(first / DAY_MS) * DAY_MS);
          expect(crasher.isNew).toBe(crasher.firstSeen >= range.from);
        }
      });

      it('gives the same answers from the daily counts and from raw rows', async () => {
        const queries = [
          { product: 'Lumen', range, limit: 20 },
          { product: 'LumenMobile', versions: ['61.0', '62.0'], platforms: ['Windows NT'], processTypes: ['content', 'parent'], range, limit: 20 },
          { range: { from: END - 14 * DAY_MS, to: END }, limit: 50 },
        ];
        for (const q of queries) expect(await index.topCrashers(q, 'daily')).toEqual(await index.topCrashers(q, 'raw'));
        const sq = { signature: generated[0]!.signature as string, range: { from: END - 14 * DAY_MS, to: END }, facets: ['version', 'os_name', 'process_type', 'product', 'cpu_arch', 'reason'], facetsSize: 10, allowProtected: false };
        expect(await index.signatureSummary(sq, 'daily')).toEqual(await index.signatureSummary(sq, 'raw'));
        expect(await index.signatureSummary({ ...sq, product: 'Lumen' }, 'daily')).toEqual(await index.signatureSummary({ ...sq, product: 'Lumen' }, 'raw'));
      });

      it('answers searches from the daily counts as from the rows: whole days, partial ends, filters and facets', async () => {
        const between = (from: number, to: number): SearchFilter[] => [filter('submitted_timestamp', 'gte', [from]), filter('submitted_timestamp', 'lt', [to])];
        const facets = { signature: { kind: 'terms' as const, field: 'signature', size: 10 }, os_name: { kind: 'terms' as const, field: 'os_name', size: 5 }, version: { kind: 'terms' as const, field: 'version', size: 3 } };
        const queries: SearchQuery[] = [
          // Day-aligned, a product and a platform: the platform rollup.
          query({ filters: [filter('product', 'is', ['Lumen']), filter('os_name', 'is', ['Linux', 'Windows NT']), ...between(END - 7 * DAY_MS, END)], aggregations: { signature: facets.signature, os_name: facets.os_name } }),
          // As the web sends it: `has`, a range ending within the last day.
          query({ filters: [filter('product', 'has', ['Lumen']), filter('os_name', 'has', ['Windows NT']), filter('submitted_timestamp', 'gte', [END - 7 * DAY_MS - 1234]), filter('submitted_timestamp', 'lte', [END - 4321])], aggregations: { signature: facets.signature } }),
          // Partial days at both ends, a version: the daily counts and the rows.
          query({ filters: [filter('product', 'is', ['LumenMobile']), filter('version', 'is', ['61.0']), ...between(END - 9 * DAY_MS + 3_600_000, END - DAY_MS - 7_200_000)], aggregations: facets }),
          // `gt` and `lte`, several values of one field in two filters, no facets.
          query({ filters: [filter('product', 'is', ['Quill']), filter('product', 'is', ['Lumen']), filter('submitted_timestamp', 'gt', [END - 12 * DAY_MS - 1]), filter('submitted_timestamp', 'lte', [END - 2 * DAY_MS + 5])] }),
          // Not answerable from the counts (a negated filter): the rows, same result.
          query({ filters: [filter('product', 'is', ['Lumen'], true), ...between(END - 7 * DAY_MS, END)], aggregations: { signature: facets.signature } }),
          // Nothing matches.
          query({ filters: [filter('product', 'is', ['Nothing']), ...between(END - 7 * DAY_MS, END)], aggregations: { signature: facets.signature } }),
        ];
        for (const q of queries) {
          const fromCounts = await index.search(q, 'daily');
          expect(fromCounts, JSON.stringify(q.filters)).toEqual(await index.search(q, 'raw'));
        }
        expect((await index.search(queries[0]!)).total).toBeGreaterThan(0);
        expect(((await index.search(queries[1]!)).facets.signature as FacetBucket[]).length).toBeGreaterThan(0);
        // The counts really are read: damaged, they show (then are mended).
        const day = Math.floor(END / DAY_MS) - 3;
        await subject.exec(`UPDATE signature_platform_daily SET count = count + 1000 WHERE product = 'Lumen' AND day = ${day}`);
        try {
          for (const q of [queries[0]!, queries[1]!]) expect((await index.search(q)).total).not.toBe((await index.search(q, 'raw')).total);
        } finally {
          await subject.exec(`UPDATE signature_platform_daily SET count = count - 1000 WHERE product = 'Lumen' AND day = ${day}`);
        }
      });

      it('combines whole weeks and partial days for long ranges, whatever the range ends', async () => {
        // Every start and length from 1 to 20 days exercises ranges with no whole week, a
        // partial week at one or both ends, and several whole weeks (weeks are epoch-aligned).
        for (let length = 1; length <= 20; length += 3) {
          for (let start = length; start <= DAYS; start += 2) {
            const r = { from: END - start * DAY_MS, to: END - (start - length) * DAY_MS };
            for (const q of [{ product: 'Lumen', range: r, limit: 15 }, { platforms: ['Linux', 'Mac OS X'], range: r, limit: 15 }]) {
              expect(await index.topCrashers(q, 'daily'), JSON.stringify(q)).toEqual(await index.topCrashers(q, 'raw'));
            }
          }
        }
      });

      it('moves CPU and reason counts of a signature page when reprocessing changes them, and when a crash goes', async () => {
        const id = 'cdcdcdcd-0000-4000-8000-000000250110';
        const sq = { signature: 'facet_signature', range: { from: END - 7 * DAY_MS, to: END }, facets: ['cpu_arch', 'reason'], facetsSize: 10, allowProtected: false };
        await index.upsert(crash(id, { product: 'Faceted', signature: 'facet_signature', cpu_arch: 'x86', reason: 'SIGSEGV' }));
        expect((await index.signatureSummary(sq)).facets).toEqual({ cpu_arch: [{ term: 'x86', count: 1 }], reason: [{ term: 'SIGSEGV', count: 1 }] });
        await index.upsert(crash(id, { product: 'Faceted', signature: 'facet_signature', cpu_arch: 'arm64', reason: 'SIGABRT' }));
        expect((await index.signatureSummary(sq)).facets).toEqual({ cpu_arch: [{ term: 'arm64', count: 1 }], reason: [{ term: 'SIGABRT', count: 1 }] });
        expect(await index.signatureSummary(sq, 'daily')).toEqual(await index.signatureSummary(sq, 'raw'));
        expect(await index.remove([id])).toBe(1);
        expect((await index.signatureSummary(sq)).facets).toEqual({ cpu_arch: [], reason: [] });
      });

      it('moves rollup counts of long ranges when reprocessing changes a signature', async () => {
        const long = { product: 'Rolled', range: { from: END - 21 * DAY_MS, to: END }, limit: 10 };
        const ids = ['cccccccc-0000-4000-8000-000000250101', 'cccccccc-0000-4000-8000-000000250102'];
        const at = (days: number): string => new Date(END - days * DAY_MS).toISOString();
        await index.upsertMany(ids.map((id, i) => crash(id, { product: 'Rolled', signature: 'before', os_name: 'Linux', submitted_timestamp: at(10 + i) })));
        expect((await index.topCrashers(long)).crashers.map((c) => [c.signature, c.count])).toEqual([['before', 2]]);
        await index.upsert(crash(ids[0]!, { product: 'Rolled', signature: 'after', os_name: 'Windows NT', submitted_timestamp: at(10) }));
        const top = await index.topCrashers(long);
        expect(top.crashers.map((c) => [c.signature, c.count, c.platforms])).toEqual([
          ['after', 1, { 'Windows NT': 1 }],
          ['before', 1, { Linux: 1 }],
        ]);
        expect(top).toEqual(await index.topCrashers(long, 'raw'));
        expect((await index.productVersions()).filter((v) => v.product === 'Rolled').map((v) => v.count)).toEqual([2]);
      });

      it('signature summary: per-day counts, first and last seen, facets', async () => {
        const signature = generated[0]!.signature as string;
        const sRange = { from: END - 14 * DAY_MS, to: END };
        const summary = await index.signatureSummary({ signature, range: sRange, product: 'Lumen', facets: ['version', 'cpu_arch', 'modules_in_stack'], facetsSize: 5, allowProtected: false });
        const rows = generated.filter((c) => c.signature === signature && c.product === 'Lumen' && inRange(c, sRange.from, sRange.to));
        expect(summary.total).toBe(rows.length);
        expect(summary.perDay).toHaveLength(14);
        expect(summary.perDay.reduce((s, d) => s + d.count, 0)).toBe(rows.length);
        expect(summary.facets.version).toEqual(sortedFacet(countBy(rows, (c) => c.version as string), 5));
        expect(summary.facets.cpu_arch).toEqual(sortedFacet(countBy(rows, (c) => c.cpu_arch as string), 5));
        const all = generated.filter((c) => c.signature === signature).map((c) => Date.parse(String(c.submitted_timestamp)));
        expect(summary.firstSeen).toBe(Math.floor(Math.min(...all) / DAY_MS) * DAY_MS);
        expect(summary.lastSeen).toBe(Math.floor(Math.max(...all) / DAY_MS) * DAY_MS);
        await expect(index.signatureSummary({ signature, range: sRange, facets: ['email'], facetsSize: 5, allowProtected: false })).rejects.toMatchObject({ kind: 'forbidden' });
      });

      it('refuses summaries and rankings over absurd ranges rather than counting every day', async () => {
        const signature = generated[0]!.signature as string;
        const huge = { from: Date.UTC(0, 0, 1), to: Date.UTC(9999, 11, 31) };
        await expect(index.signatureSummary({ signature, range: huge, facets: [], facetsSize: 5, allowProtected: false })).rejects.toThrow(/at most 3660/);
        await expect(index.topCrashers({ range: huge, limit: 10 })).rejects.toBeInstanceOf(SearchError);
        const longest = { from: END - SEARCH_LIMITS.maxRangeDays * DAY_MS, to: END };
        expect((await index.signatureSummary({ signature, range: longest, facets: [], facetsSize: 5, allowProtected: false })).perDay).toHaveLength(SEARCH_LIMITS.maxRangeDays);
      });

      it('lists products and versions with counts', async () => {
        const versions = await index.productVersions();
        const quill = versions.filter((v) => v.product === 'Quill');
        const expected = countBy(generated.filter((c) => c.product === 'Quill'), (c) => c.version as string);
        expect(new Map(quill.map((v) => [v.version!, v.count]))).toEqual(expected);
      });
    });

    describe('retention', () => {
      // Days well before the generated crashes, so the rest of the suite never sees them.
      const dayOne = Math.floor(END / DAY_MS) - 60;
      const dayTwo = dayOne + 1;
      const on = (day: number, i: number): string => new Date(day * DAY_MS + 3_600_000 + i * 1000).toISOString();
      const id = (prefix: string, i: number): string => `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const old = [0, 1, 2, 3].map((i) => crash(id('dddddddd', i), { product: 'Old', signature: `old_${i % 2}`, os_name: 'Linux', version: '1.0', submitted_timestamp: on(i < 2 ? dayOne : dayTwo, i) }));
      const kept = [4, 5].map((i) => crash(id('eeeeeeee', i), { product: 'Kept', signature: 'kept', os_name: 'Windows NT', version: '2.0', submitted_timestamp: on(i === 4 ? dayOne : dayTwo, i) }));
      const range = { from: dayOne * DAY_MS, to: (dayTwo + 1) * DAY_MS };
      const consistent = async (): Promise<void> => {
        for (const q of [{ range, limit: 20 }, { product: 'Old', range, limit: 20 }, { product: 'Kept', range, limit: 20 }, { range, versions: ['1.0', '2.0'], limit: 20 }]) {
          expect(await index.topCrashers(q, 'daily')).toEqual(await index.topCrashers(q, 'raw'));
        }
      };

      it('lists the ids a rule lets go of, by product, in id order and in pages', async () => {
        await index.upsertMany([...old, ...kept]);
        const before = (dayTwo + 1) * DAY_MS;
        const page1 = await index.crashIds({ before, from: dayOne * DAY_MS, product: 'Old', limit: 3 });
        const page2 = await index.crashIds({ before, from: dayOne * DAY_MS, product: 'Old', afterId: page1[page1.length - 1], limit: 3 });
        expect([...page1, ...page2]).toEqual(old.map((c) => c.uuid).sort());
        expect(await index.crashIds({ before, from: dayOne * DAY_MS, exceptProducts: ['Old'], limit: 10 })).toEqual(kept.map((c) => c.uuid).sort());
        expect(await index.crashIds({ before: dayTwo * DAY_MS, from: dayOne * DAY_MS, limit: 10 })).toEqual([old[0]!, old[1]!, kept[0]!].map((c) => c.uuid).sort());
        const days = await index.daysBefore(dayTwo + 1);
        expect(days).toContain(dayOne);
        expect(days).toContain(dayTwo);
        expect(days.every((d) => d < dayTwo + 1)).toBe(true);
        expect(days).toEqual([...days].sort((a, b) => a - b));
      });

      it('removes crashes with their share of every count', async () => {
        expect(await index.remove([old[2]!.uuid, old[3]!.uuid, 'ffffffff-0000-4000-8000-000000000000'])).toBe(2);
        expect(await index.get(old[2]!.uuid)).toBeUndefined();
        expect((await index.topCrashers({ product: 'Old', range, limit: 10 })).total).toBe(2);
        await consistent();
        expect((await index.productVersions()).filter((v) => v.product === 'Old').map((v) => v.count)).toEqual([2]);
      });

      it('drops a whole day at once, and takes that day again afterwards', async () => {
        expect(await index.dropDay(dayOne)).toBe(3);
        for (const c of [old[0]!, old[1]!, kept[0]!]) expect(await index.get(c.uuid)).toBeUndefined();
        expect(await index.get(kept[1]!.uuid)).toBeDefined();
        expect(await index.daysBefore(dayTwo + 1)).not.toContain(dayOne);
        expect((await index.productVersions()).some((v) => v.product === 'Old')).toBe(false);
        await consistent();
        // A crash of a dropped day indexed again (reprocessing) finds its day again.
        await index.upsert(old[0]!);
        expect((await index.get(old[0]!.uuid))?.product).toBe('Old');
        await consistent();
        expect(await index.dropDay(dayOne)).toBe(1);
        expect(await index.dropDay(dayTwo)).toBe(1);
        expect((await index.search(query({ filters: [filter('product', 'is', ['Old', 'Kept'])] }))).total).toBe(0);
      });

      it('maintenance finds daily counts that disagree with the crashes and corrects them', async () => {
        const now = dayTwo * DAY_MS + 12 * 3_600_000;
        await index.upsertMany([...old, ...kept]);
        expect(await index.maintain(now)).toMatch(/daily counts agree with the crashes/);
        // The daily counts of one day and a rollup of the other drift from the crashes.
        await subject.exec(`UPDATE signature_daily SET count = count + 5 WHERE day = ${dayTwo} AND product = 'Old'`);
        await subject.exec(`DELETE FROM signature_platform_daily WHERE day = ${dayOne} AND product = 'Kept'`);
        const byVersion = { range, versions: ['1.0', '2.0'], limit: 20 };
        expect(await index.topCrashers(byVersion, 'daily')).not.toEqual(await index.topCrashers(byVersion, 'raw'));
        expect(await index.topCrashers({ range, limit: 20 }, 'daily')).not.toEqual(await index.topCrashers({ range, limit: 20 }, 'raw'));
        expect(await index.maintain(now)).toMatch(/corrected for \d{4}-\d{2}-\d{2} \(\d+ counts\), \d{4}-\d{2}-\d{2} \(\d+ counts\)/);
        await consistent();
        expect(await index.maintain(now)).toMatch(/agree/);
        expect(await index.dropDay(dayOne)).toBe(3);
        expect(await index.dropDay(dayTwo)).toBe(3);
      });
    });

    describe('declared fields (the configuration\'s [annotations.fields.*], kept in the JSON document)', () => {
      const fields = fieldCatalog([
        { name: 'gpu_vendor', annotation: 'GPUVendor', type: 'keyword', description: 'GPU vendor' },
        { name: 'gpu_memory', annotation: 'GPUMemoryMB', type: 'integer' },
        { name: 'feature_flags', type: 'text' },
        { name: 'load_average', type: 'number' },
        { name: 'is_beta', type: 'boolean' },
        { name: 'built_at', type: 'date' },
        { name: 'account_id', type: 'keyword', protected: true },
      ]);
      const at = (n: number): string => `dddddddd-0000-4000-8000-${String(n).padStart(12, '0')}`;
      const vendors = ['NVIDIA', 'AMD', 'Intel', 'NVIDIA', undefined, 'NVIDIA', 'AMD', 'Apple', 'Intel', 'NVIDIA'];
      const declared = vendors.map((vendor, i) =>
        crash(at(i), {
          product: 'Custom',
          ...(vendor !== undefined ? { gpu_vendor: vendor } : {}),
          ...(i % 4 !== 3 ? { gpu_memory: 512 * (i + 1) } : {}),
          feature_flags: i % 2 === 0 ? 'webgpu,fast-path' : 'legacy',
          load_average: i / 4,
          is_beta: i % 3 === 0,
          built_at: new Date(END - (i + 1) * DAY_MS).toISOString(),
          account_id: `acct-${i % 3}`,
        }),
      );
      let custom: ContractSubject;
      beforeAll(async () => {
        custom = await open({ fields });
        await custom.index.upsertMany(declared);
      });
      afterAll(async () => {
        await custom?.dispose();
      });
      const byId = (a: ProcessedCrash, b: ProcessedCrash): number => (a.uuid < b.uuid ? -1 : 1);
      const matching = (test: (c: ProcessedCrash) => boolean): string[] => declared.filter(test).sort(byId).map((c) => c.uuid);
      const found = async (...filters: SearchFilter[]): Promise<string[]> =>
        (await custom.index.search(query({ filters: [filter('product', 'is', ['Custom']), ...filters], sort: [{ field: 'uuid', descending: false }], allowProtected: true }))).hits.map((h) => String(h.uuid));

      it('filters with is, contains, negation and missing on a keyword field', async () => {
        expect(await found(filter('gpu_vendor', 'is', ['NVIDIA']))).toEqual(matching((c) => c.gpu_vendor === 'NVIDIA'));
        expect(await found(filter('gpu_vendor', 'has', ['AMD', 'Apple']))).toEqual(matching((c) => c.gpu_vendor === 'AMD' || c.gpu_vendor === 'Apple'));
        expect(await found(filter('gpu_vendor', 'contains', ['nte']))).toEqual(matching((c) => String(c.gpu_vendor ?? '').includes('nte')));
        expect(await found(filter('gpu_vendor', 'is', ['NVIDIA'], true))).toEqual(matching((c) => c.gpu_vendor !== 'NVIDIA'));
        expect(await found(filter('gpu_vendor', 'missing'))).toEqual(matching((c) => c.gpu_vendor === undefined));
        expect(await found(filter('feature_flags', 'contains', ['webgpu']))).toEqual(matching((c) => String(c.feature_flags).includes('webgpu')));
        expect((await found(filter('gpu_vendor', 'is', ['NVIDIA']))).length).toBeGreaterThan(1);
      });

      it('filters integer, number, boolean and date fields by range and value', async () => {
        const memory = (c: ProcessedCrash): number | undefined => c.gpu_memory as number | undefined;
        expect(await found(filter('gpu_memory', 'gte', [1536]), filter('gpu_memory', 'lt', [4096]))).toEqual(matching((c) => memory(c) !== undefined && memory(c)! >= 1536 && memory(c)! < 4096));
        expect(await found(filter('gpu_memory', 'is', [1024]))).toEqual(matching((c) => memory(c) === 1024));
        expect(await found(filter('gpu_memory', 'missing'))).toEqual(matching((c) => memory(c) === undefined));
        expect(await found(filter('load_average', 'gt', [1.1]))).toEqual(matching((c) => (c.load_average as number) > 1.1));
        expect(await found(filter('is_beta', 'true'))).toEqual(matching((c) => c.is_beta === true));
        const cut = END - 4.5 * DAY_MS;
        expect(await found(filter('built_at', 'gte', [cut]))).toEqual(matching((c) => Date.parse(String(c.built_at)) >= cut));
        await expect(custom.index.search(query({ filters: [filter('gpu_memory', 'contains', ['1'])] }))).rejects.toThrow(SearchError);
      });

      it('answers terms facets, histograms and cardinality on declared fields', async () => {
        const result = await custom.index.search(
          query({
            filters: [filter('product', 'is', ['Custom'])],
            aggregations: {
              gpu_vendor: { kind: 'terms', field: 'gpu_vendor', size: 10, sub: [{ kind: 'terms', field: 'is_beta', size: 5 }] },
              gpu_memory: { kind: 'terms', field: 'gpu_memory', size: 3 },
              histogram_gpu_memory: { kind: 'histogram', field: 'gpu_memory', interval: 2048 },
              cardinality_gpu_vendor: { kind: 'cardinality', field: 'gpu_vendor' },
            },
          }),
        );
        const vendorFacet = result.facets.gpu_vendor as FacetBucket[];
        expect(vendorFacet.map(({ term, count }) => ({ term, count }))).toEqual(sortedFacet(countBy(declared, (c) => c.gpu_vendor as string | undefined), 10));
        const nvidia = vendorFacet.find((b) => b.term === 'NVIDIA')!;
        const nvidiaBeta = countBy(declared.filter((c) => c.gpu_vendor === 'NVIDIA'), (c) => String(c.is_beta));
        expect(Object.fromEntries((nvidia.facets!.is_beta as FacetBucket[]).map((b) => [String(b.term), b.count]))).toEqual(Object.fromEntries(nvidiaBeta));
        expect(result.facets.gpu_memory).toEqual(naiveAggregation(declared, { kind: 'terms', field: 'gpu_memory', size: 3 }));
        expect(result.facets.histogram_gpu_memory).toEqual(naiveAggregation(declared, { kind: 'histogram', field: 'gpu_memory', interval: 2048 }));
        expect(result.facets.cardinality_gpu_vendor).toEqual({ value: new Set(declared.map((c) => c.gpu_vendor).filter(Boolean)).size });
      });

      it('sorts on declared fields (missing values last ascending, first descending) and returns their typed values', async () => {
        const columns = ['uuid', 'gpu_memory', 'gpu_vendor', 'is_beta', 'built_at', 'load_average'];
        const ascending = await custom.index.search(query({ filters: [filter('product', 'is', ['Custom'])], columns, sort: [{ field: 'gpu_memory', descending: false }] }));
        const present = declared.filter((c) => c.gpu_memory !== undefined).sort((a, b) => (a.gpu_memory as number) - (b.gpu_memory as number) || byId(a, b));
        const absent = declared.filter((c) => c.gpu_memory === undefined).sort(byId);
        expect(ascending.hits.map((h) => h.uuid)).toEqual([...present, ...absent].map((c) => c.uuid));
        const descending = await custom.index.search(query({ filters: [filter('product', 'is', ['Custom'])], columns, sort: [{ field: 'gpu_memory', descending: true }] }));
        const presentDescending = [...present].sort((a, b) => (b.gpu_memory as number) - (a.gpu_memory as number) || byId(a, b));
        expect(descending.hits.map((h) => h.uuid)).toEqual([...absent, ...presentDescending].map((c) => c.uuid));
        const byVendor = await custom.index.search(query({ filters: [filter('product', 'is', ['Custom'])], columns: ['uuid', 'gpu_vendor'], sort: [{ field: 'gpu_vendor', descending: false }] }));
        const vendorsSorted = byVendor.hits.map((h) => h.gpu_vendor);
        expect(vendorsSorted).toEqual([...declared.map((c) => (c.gpu_vendor as string | undefined) ?? null)].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0)));
        const first = declared[0]!;
        const hit = ascending.hits.find((h) => h.uuid === first.uuid)!;
        expect(hit).toEqual({ uuid: first.uuid, gpu_memory: first.gpu_memory, gpu_vendor: first.gpu_vendor, is_beta: first.is_beta, built_at: first.built_at, load_average: first.load_average });
      });

      it('refuses a protected declared field without permission, anywhere in the query', async () => {
        const refused = async (q: Partial<SearchQuery>): Promise<void> => {
          await expect(custom.index.search(query({ ...q, allowProtected: false }))).rejects.toMatchObject({ kind: 'forbidden' });
        };
        await refused({ filters: [filter('account_id', 'is', ['acct-1'])] });
        await refused({ columns: ['uuid', 'account_id'] });
        await refused({ sort: [{ field: 'account_id', descending: false }] });
        await refused({ aggregations: { account_id: { kind: 'terms', field: 'account_id', size: 5 } } });
        expect(await found(filter('account_id', 'is', ['acct-1']))).toEqual(matching((c) => c.account_id === 'acct-1'));
      });

      it('knows declared fields only in the index whose catalog declares them', async () => {
        await expect(index.search(query({ filters: [filter('gpu_vendor', 'is', ['NVIDIA'])] }))).rejects.toThrow(/unknown or unsearchable field "gpu_vendor"/);
        // The shared index kept no declared field in its documents.
        await index.upsert(declared[0]!);
        expect((await index.search(query({ filters: [filter('product', 'is', ['Custom'])] }))).total).toBe(1);
        await index.remove([declared[0]!.uuid]);
      });
    });
  });
}
