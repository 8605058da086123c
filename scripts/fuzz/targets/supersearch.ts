/**
 * Super Search parameters on hostile query strings: an input is a URL query string, read
 * as Fastify reads it (a repeated key gives an array), then `parseSuperSearch`, once for
 * an anonymous viewer and once for one with `view_protected`, with a field catalog that
 * declares fields of every type besides the built-in ones (one of them protected), as a
 * deployment's `[annotations.fields.*]` would.
 *
 * Contract (src/roles/web/super-search-params.ts): a query is returned, or a
 * `SuperSearchParamError` (400, or 403 for a protected field) is thrown, never another
 * exception; an anonymous viewer's query names no protected field anywhere; every field is
 * searchable; paging stays within its bounds; dates are numbers; the query is JSON; and,
 * when the crash index declares limits on work (`SEARCH_LIMITS`), the query keeps them.
 */
import * as crashIndex from '../../../src/ports/crash-index.js';
import type { Aggregation, SearchQuery } from '../../../src/ports/crash-index.js';
import { parseSuperSearch, SuperSearchParamError, superSearchField, type QueryParams } from '../../../src/roles/web/super-search-params.js';
import { fieldCatalog } from '../../../src/schema/field-catalog.js';
import { invariant, type FuzzTarget } from '../target.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const FIELDS = fieldCatalog([
  { name: 'gpu_vendor', annotation: 'GPUVendor', type: 'keyword' },
  { name: 'gpu_memory', type: 'integer' },
  { name: 'load_average', type: 'number' },
  { name: 'is_beta', type: 'boolean' },
  { name: 'built_at', type: 'date' },
  { name: 'feature_flags', type: 'text' },
  { name: 'account_id', type: 'keyword', protected: true },
]);
const PROTECTED = FIELDS.protectedFields;
const SEARCHABLE = new Set(FIELDS.searchable.map((f) => f.name));

/** The index's limits on one search, when this version declares them. */
const limits = (crashIndex as Record<string, unknown>).SEARCH_LIMITS as { maxAggregations?: number; maxAggregationDepth?: number; maxFacetSize?: number; maxFilterValues?: number } | undefined;

const decoder = new TextDecoder();

function paramsOf(input: Uint8Array): QueryParams {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(decoder.decode(input))) {
    const before = params[key];
    params[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return params;
}

function shape(aggregations: readonly Aggregation[], level = 1): { count: number; depth: number; fields: string[] } {
  let count = 0;
  let depth = 0;
  const fields: string[] = [];
  for (const a of aggregations) {
    count++;
    depth = Math.max(depth, level);
    fields.push(a.field);
    if ('sub' in a && a.sub) {
      const inner = shape(a.sub, level + 1);
      count += inner.count;
      depth = Math.max(depth, inner.depth);
      fields.push(...inner.fields);
    }
  }
  return { count, depth, fields };
}

function check(query: SearchQuery, canViewProtected: boolean): void {
  const aggregations = shape(Object.values(query.aggregations));
  const named = [...query.filters.map((f) => f.field), ...query.columns, ...query.sort.map((s) => s.field), ...aggregations.fields];
  for (const field of named) {
    invariant(SEARCHABLE.has(field), () => `the query names ${field}, which is not searchable`);
    if (!canViewProtected) invariant(!PROTECTED.has(field), () => `an anonymous query names the protected field ${field}`);
  }
  invariant(query.allowProtected === canViewProtected, 'allowProtected does not follow the viewer');
  invariant(Number.isInteger(query.limit) && query.limit >= 0 && query.limit <= 1000, () => `limit ${query.limit}`);
  invariant(Number.isInteger(query.offset) && query.offset >= 0, () => `offset ${query.offset}`);
  for (const filter of query.filters) {
    const spec = superSearchField(filter.field, FIELDS);
    for (const value of filter.values) {
      if (spec?.type === 'date') invariant(typeof value === 'number' && Number.isFinite(value), () => `date filter value ${String(value)}`);
      if (typeof value === 'number') invariant(Number.isFinite(value), () => `a ${filter.field} filter value that is not finite`);
    }
  }
  const dates = query.filters.filter((f) => f.field === 'submitted_timestamp' && !f.negated);
  invariant(dates.some((f) => f.operator === 'lt' || f.operator === 'lte') && dates.some((f) => f.operator === 'gt' || f.operator === 'gte'), 'a search without both date bounds');
  if (limits?.maxAggregations !== undefined) invariant(aggregations.count <= limits.maxAggregations, () => `${aggregations.count} aggregations`);
  if (limits?.maxAggregationDepth !== undefined) invariant(aggregations.depth <= limits.maxAggregationDepth, () => `aggregations ${aggregations.depth} deep`);
  if (limits?.maxFilterValues !== undefined) {
    // The two default date bounds are the parser's own.
    const values = query.filters.reduce((n, f) => n + f.values.length, 0);
    invariant(values <= limits.maxFilterValues + 2, () => `${values} filter values`);
  }
  JSON.stringify(query);
}

function run(params: QueryParams, canViewProtected: boolean): void {
  let parsed;
  try {
    parsed = parseSuperSearch(params, { canViewProtected, now: NOW, fields: FIELDS });
  } catch (error) {
    if (error instanceof SuperSearchParamError) {
      invariant(error.status === 400 || error.status === 403, () => `status ${error.status}`);
      invariant(error.status === 400 || !canViewProtected, 'a 403 for a viewer who may see protected fields');
      return;
    }
    throw error;
  }
  check(parsed.query, canViewProtected);
  for (const [canonical, asked] of parsed.requestedNames) invariant(superSearchField(asked, FIELDS)?.name === canonical, () => `${asked} answered as ${canonical}`);
}

const SEEDS = [
  'product=Example',
  'product=Lumen&os_name=!Linux&signature=~::&uptime=>=1000&_columns=uuid&_columns=uptime&_sort=-uptime&_results_number=5&_results_offset=2&_facets_size=0',
  'product=Quill&_aggs.os_name=process_type&_histogram.date=os_name&_facets=_cardinality.signature&_results_number=0',
  'date=>=2026-01-01&date=<2026-01-08T00:00:00Z&_histogram.date=product&_histogram_interval.date=6h',
  'date=2025-01-01',
  'signature=@(.*){8}!&signature=^OOM&signature=$abort&signature=!=foo',
  'email=!__null__&_columns=uuid&_columns=email&_facets=email&_results_number=1000',
  'uptime=abc&build_id=__null__&_results_offset=1000001',
  '_aggs.signature.product.version=os_name&_facets_size=10000',
  'hang=__true__&uptime=<10&uptime=>=0&_histogram.uptime=signature&_histogram_interval.uptime=60',
  '_columns=uuid,signature,,product&_sort=-date,signature&_facets=_histogram.date,_cardinality.product',
  'no_such_field=1',
  'url=~example.com&user_comments=~crash',
  '_results_number=&_facets_size=&_results_offset=',
  'gpu_vendor=NVIDIA&gpu_memory=>=1024&is_beta=__true__&built_at=>=2026-01-01&_facets=gpu_vendor&_histogram.gpu_memory=is_beta&_sort=-load_average',
  'account_id=acct-1&_columns=uuid,account_id&feature_flags=~webgpu',
];

export const target: FuzzTarget = {
  name: 'supersearch',
  maxLength: 4 * 1024,
  text: true,
  dictionary: [
    '&',
    '=',
    ',',
    '!',
    '~',
    '^',
    '$',
    '@',
    '>',
    '>=',
    '<',
    '<=',
    '__null__',
    '__true__',
    '%00',
    '%2C',
    '%26',
    '_columns=',
    '_sort=',
    '_sort=-',
    '_facets=',
    '_facets_size=',
    '_results_number=',
    '_results_offset=',
    '_aggs.',
    '_histogram.',
    '_histogram_interval.',
    '_cardinality.',
    'date=',
    '2026-01-01T00:00:00Z',
    '0000-01-01',
    '9999-12-31',
    '-271821-04-20',
    '1e400',
    '-0',
    ...[...SEARCHABLE, 'date', 'constructor', '__proto__', 'toString'],
  ],
  seeds() {
    return SEEDS.map((s) => new TextEncoder().encode(s));
  },
  execute(input) {
    const params = paramsOf(input);
    run(params, false);
    run(params, true);
  },
};
