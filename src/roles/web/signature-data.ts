import { SEARCH_LIMITS, type Aggregation, type CrashIndex, type FacetBucket, type FacetResult, type SearchFilter, type SearchQuery } from '../../ports/crash-index.js';
import type { BugLink, BugLinkStore } from '../../ports/bug-links.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { DAY_MS, SIGNATURE_PAGE_PARAMS, all, dayRange, first } from './pages/format.js';
import { SIGNATURE_FACETS, SIGNATURE_REPORT_COLUMNS, type SignatureData } from './pages/signature.js';
import { SuperSearchParamError, hitsUnderRequestedNames, parseSuperSearch, type QueryParams } from './super-search-params.js';

/**
 * What a signature page shows, read from the crash index for one request. Every part of
 * the page (totals, the chart, aggregations, reports, first and last build, comments)
 * answers the same filters: the page's own (product, versions, build id, platform,
 * process type) and any other Super Search filter in the URL, all in Super Search's
 * syntax, plus the page's date range. So it is all Super Search (`CrashIndex.search`),
 * with bounded aggregations; only "first/last seen" (any time, any product) comes from
 * the signature summary.
 */

export const REPORTS_PER_PAGE = 50;
/** The last page of reports Super Search can serve (its offset limit). */
const MAX_REPORT_PAGE = Math.floor(1_000_000 / REPORTS_PER_PAGE) + 1;
/** Named series in the crashes-per-day chart; the rest are summed as "other". */
export const CHART_SERIES = 5;
/** Terms per aggregation box. */
const FACET_SIZE = 10;
/** Aggregation boxes a viewer may ask for (the search also counts the split; see `SEARCH_LIMITS.maxAggregations`). */
export const MAX_PAGE_FACETS = 16;
/** Build ids one aggregation lists to find the first and last build; a view with more sorts its crashes instead. */
const BUILD_TERMS = 10_000;
/** Latest comments listed. */
const COMMENTS = 20;
export const SPLITS = ['version', 'build_id'] as const;
export type Split = (typeof SPLITS)[number];

export interface SignatureRequest {
  query: QueryParams;
  canViewProtected: boolean;
}

export interface SignatureSources {
  crashIndex: CrashIndex;
  bugLinks?: BugLinkStore;
  fields?: FieldCatalog;
  now: number;
  /** Build ids one aggregation lists before the first and last build are found by sorting instead (default 10,000; tests lower it). */
  buildTerms?: number;
}

/** Reads the page's parameters and everything it shows; bad parameters throw `SuperSearchParamError` (a 4xx with its message). */
export async function loadSignatureData(sources: SignatureSources, request: SignatureRequest): Promise<SignatureData> {
  const { crashIndex, now } = sources;
  const buildTerms = sources.buildTerms ?? BUILD_TERMS;
  const catalog = sources.fields ?? DEFAULT_FIELD_CATALOG;
  const q = request.query;
  const signature = first(q.signature)!;
  const fixed = first(q.from) !== undefined || first(q.to) !== undefined;
  const range = dayRange({ days: first(q.days), from: first(q.from), to: first(q.to) }, now, 28);
  const split = (first(q.split) ?? 'version') as Split;
  if (!SPLITS.includes(split)) throw new SuperSearchParamError(`split must be one of ${SPLITS.join(', ')}, not "${first(q.split)}"`, 400);
  const pageNumber = Math.min(MAX_REPORT_PAGE, Math.max(1, Number.parseInt(first(q.page) ?? '1', 10) || 1));
  const offset = (pageNumber - 1) * REPORTS_PER_PAGE;

  // The page's filters: every parameter that is not the page's own, in Super Search syntax.
  const filters: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(q)) {
    if (key.startsWith('_') || SIGNATURE_PAGE_PARAMS.has(key) || raw === undefined) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== '');
    if (values.length > 0) filters[key] = values;
  }
  const facets = [...new Set(q._facets === undefined ? SIGNATURE_FACETS.map((f) => f.field) : all(q._facets))];
  if (facets.length > MAX_PAGE_FACETS) throw new SuperSearchParamError(`At most ${MAX_PAGE_FACETS} aggregations on a signature page (this asks for ${facets.length})`, 400);
  const columns = [...new Set(q._columns === undefined ? SIGNATURE_REPORT_COLUMNS : all(q._columns))];
  const sort = all(q._sort).join(',') || '-date';

  const parsed = parseSuperSearch(
    {
      ...filters,
      signature: `=${signature}`,
      date: [`>=${new Date(range.from).toISOString()}`, `<${new Date(range.to).toISOString()}`],
      // The crash id links each row, whether or not it is a chosen column.
      _columns: [...new Set(['uuid', ...columns])],
      _sort: sort,
      _facets: facets.length > 0 ? facets : ['signature'],
      _facets_size: String(FACET_SIZE),
      _results_number: String(REPORTS_PER_PAGE),
      _results_offset: String(offset),
    },
    { canViewProtected: request.canViewProtected, now, fields: catalog },
  );
  if (facets.length === 0) delete (parsed.query.aggregations as Record<string, unknown>).signature;
  const base = parsed.query.filters;
  const only = (query: Partial<SearchQuery>): SearchQuery => ({ filters: base, columns: [], sort: [], limit: 0, offset: 0, aggregations: {}, allowProtected: request.canViewProtected, ...query });
  const hasFilterOn = (field: string): boolean => base.some((f) => f.field === field);
  const exists = (field: string): SearchFilter[] => (hasFilterOn(field) ? [] : [{ field, operator: 'missing', values: [], negated: true }]);

  // Per-day counts of every split value a day has, bounded so one answer stays under the bucket limit.
  const subSize = Math.max(CHART_SERIES, Math.min(1000, Math.floor((SEARCH_LIMITS.maxFacetBuckets - range.days) / range.days)));
  // Each aggregation is a search of its own: the index answers one from its daily counts only
  // when all of a search's aggregations are dimensions of them, so version, platform, product
  // and process type stay cheap beside row-counted fields such as modules.
  const facetSearch = async ([name, aggregation]: [string, Aggregation]): Promise<[string, FacetResult | undefined]> => [name, (await crashIndex.search(only({ aggregations: { [name]: aggregation } }))).facets[name]];
  const [main, facetResults, builds, perDay, comments, seen, bugs] = await Promise.all([
    crashIndex.search({ ...parsed.query, aggregations: {} }),
    Promise.all(Object.entries(parsed.query.aggregations).filter(([name]) => name !== 'build_id').map(facetSearch)),
    // Every build id of the view (most frequent first): the build id box, and the first and last build.
    crashIndex.search(only({ aggregations: { builds: { kind: 'terms', field: 'build_id', size: buildTerms } } })),
    crashIndex.search(only({ aggregations: { days: { kind: 'histogram', field: 'submitted_timestamp', interval: DAY_MS, sub: [{ kind: 'terms', field: split, size: subSize }] } } })),
    request.canViewProtected
      ? crashIndex.search(
          only({
            filters: [...base, ...exists('user_comments')],
            columns: ['uuid', 'submitted_timestamp', 'version', 'build_id', 'user_comments'],
            sort: [{ field: 'submitted_timestamp', descending: true }],
            limit: hasFilterOn('user_comments') ? 100 : COMMENTS,
          }),
        )
      : undefined,
    crashIndex.signatureSummary({ signature, range: { from: range.to - DAY_MS, to: range.to }, facets: [], facetsSize: 0, allowProtected: false }),
    sources.bugLinks ? sources.bugLinks.forSignatures([signature]) : new Map<string, BugLink[]>(),
  ]);

  const buildBuckets = (Array.isArray(builds.facets.builds) ? builds.facets.builds : []) as FacetBucket[];
  const aggregations: Record<string, FacetBucket[]> = {};
  for (const [name, facet] of facetResults) if (Array.isArray(facet)) aggregations[name] = facet;
  if (parsed.query.aggregations.build_id) aggregations.build_id = buildBuckets.slice(0, FACET_SIZE);
  const { firstBuild, lastBuild } = buildBuckets.length < buildTerms ? buildRange(buildBuckets) : await buildRangeBySort();
  const splitTerms = (split === 'build_id' ? buildBuckets : (aggregations[split] ?? (await facetSearch(['split', { kind: 'terms', field: split, size: CHART_SERIES }]))[1] ?? [])) as FacetBucket[];
  const hits = hitsUnderRequestedNames(main.hits, parsed.requestedNames);

  /** When the view has more build ids than one aggregation lists: the ends of the build order. */
  async function buildRangeBySort(): Promise<{ firstBuild: string | null; lastBuild: string | null }> {
    const buildOf = (hits: Record<string, unknown>[]): string | null => {
      const hit = hits.find((h) => typeof h.build_id === 'string' && h.build_id !== '');
      return hit ? String(hit.build_id) : null;
    };
    const [earliest, latest] = await Promise.all([
      // Build ids are YYYYMMDDhhmmss: their string order is their time order. Ascending puts crashes without one last.
      crashIndex.search(only({ columns: ['build_id'], sort: [{ field: 'build_id', descending: false }], limit: 1 })),
      // Descending puts crashes without a build id first: leave them out, unless the viewer filters
      // build ids already (another filter on the field would be OR-ed with theirs), then skip them.
      crashIndex.search(only({ filters: [...base, ...exists('build_id')], columns: ['build_id'], sort: [{ field: 'build_id', descending: true }], limit: hasFilterOn('build_id') ? 100 : 1 })),
    ]);
    return { firstBuild: buildOf(earliest.hits), lastBuild: buildOf(latest.hits) };
  }

  const reprocessed = Number.parseInt(first(q.reprocessed) ?? '', 10);
  return {
    signature,
    reprocessed: Number.isInteger(reprocessed) && reprocessed >= 0 ? reprocessed : undefined,
    range,
    fixedRange: fixed,
    filters,
    split,
    facets,
    columns,
    sort,
    total: main.total,
    firstSeen: seen.firstSeen,
    lastSeen: seen.lastSeen,
    firstBuild,
    lastBuild,
    chart: chartSeries(range, perDay.facets.days, splitTerms.map((b) => b.term).filter((t): t is string => typeof t === 'string' && t !== '').slice(0, CHART_SERIES)),
    aggregations,
    reports: { hits, total: main.total, offset, limit: REPORTS_PER_PAGE },
    comments: comments?.hits
      .filter((h) => typeof h.user_comments === 'string' && h.user_comments.trim() !== '')
      .slice(0, COMMENTS)
      .map((h) => ({ crashId: String(h.uuid), date: String(h.submitted_timestamp), version: h.version === null ? null : String(h.version), buildId: h.build_id === null ? null : String(h.build_id), text: String(h.user_comments) })),
    bugs: bugs.get(signature) ?? [],
    searchableFields: catalog.searchable.filter((f) => !f.protected || request.canViewProtected).map((f) => (f.name === 'submitted_timestamp' ? 'date' : f.name)),
  };
}

/**
 * The chart's series: one per top split value (the signature's most frequent versions or
 * builds over the whole range), and "other" for the rest of each day, every day of the
 * range present.
 */
export function chartSeries(range: { from: number; to: number }, days: unknown, top: readonly string[]): { name: string; counts: { day: number; count: number }[] }[] {
  const byDay = new Map<number, FacetBucket>();
  if (Array.isArray(days)) for (const bucket of days as FacetBucket[]) byDay.set(Date.parse(String(bucket.term)), bucket);
  const series = top.map((name) => ({ name, counts: [] as { day: number; count: number }[] }));
  const other = { name: 'other', counts: [] as { day: number; count: number }[] };
  let otherTotal = 0;
  for (let day = range.from; day < range.to; day += DAY_MS) {
    const bucket = byDay.get(day);
    const terms = new Map<string, number>();
    const sub = bucket?.facets ? Object.values(bucket.facets)[0] : undefined;
    if (Array.isArray(sub)) for (const b of sub) if (typeof b.term === 'string') terms.set(b.term, b.count);
    let named = 0;
    series.forEach((s, i) => {
      const count = terms.get(top[i]!) ?? 0;
      named += count;
      s.counts.push({ day, count });
    });
    const rest = (bucket?.count ?? 0) - named;
    otherTotal += rest;
    other.counts.push({ day, count: rest });
  }
  return otherTotal > 0 || series.length === 0 ? [...series, other] : series;
}

/** The earliest and latest build id among terms (build ids are YYYYMMDDhhmmss: string order is time order). */
function buildRange(buckets: readonly FacetBucket[]): { firstBuild: string | null; lastBuild: string | null } {
  let firstBuild: string | null = null;
  let lastBuild: string | null = null;
  for (const { term } of buckets) {
    if (typeof term !== 'string' || term === '') continue;
    if (firstBuild === null || term < firstBuild) firstBuild = term;
    if (lastBuild === null || term > lastBuild) lastBuild = term;
  }
  return { firstBuild, lastBuild };
}
