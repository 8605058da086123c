import type { CrashIndex, FacetBucket, SearchFilter, TopCrasher, TopCrashersResult } from '../../ports/crash-index.js';
import type { BugLink, BugLinkStore } from '../../ports/bug-links.js';
import { all, buildIdPrefixes, dayRange, first } from './pages/format.js';
import { SuperSearchParamError, type QueryParams } from './super-search-params.js';

/**
 * Top crashers as Socorro has them, read for one request: by report date (the crash
 * index's daily counts) or by build date (crashes whose build id, YYYYMMDDhhmmss, falls in
 * the range), every report type or only crashes or hangs, 50 to 300 rows, each signature
 * with its share of startup crashes (uptime under a minute) and its bugs.
 *
 * The daily counts know neither build ids nor report types, so those views rank through
 * Super Search (`CrashIndex.search`, one terms aggregation per period) instead; the
 * startup shares are one more search, over the signatures shown.
 */

export const ROWS = [50, 100, 200, 300] as const;
export const DATE_RANGE_TYPES = ['report', 'build'] as const;
export const REPORT_TYPES = ['any', 'crash', 'hang'] as const;
/** Uptime (seconds) under which a crash is a startup crash, as Socorro counts it. */
export const STARTUP_UPTIME = 60;
/** The share of startup crashes from which a signature is marked as a startup crash. */
export const STARTUP_SHARE = 0.5;
/** Signatures ranked in the previous period when ranking through Super Search (a signature past them has no previous rank). */
const PREVIOUS_RANKS = 1000;

export interface TopCrashersRequest {
  product?: string;
  versions: string[];
  platforms: string[];
  processTypes: string[];
  range: { from: number; to: number; days: number };
  /** Whether the range was given as dates (`from`/`to`) rather than `days`. */
  fixedRange: boolean;
  dateRangeType: (typeof DATE_RANGE_TYPES)[number];
  reportType: (typeof REPORT_TYPES)[number];
  rows: (typeof ROWS)[number];
}

export interface TopCrashersData {
  result: TopCrashersResult;
  /** Share (0..1) of each shown signature's crashes with uptime under a minute, by signature ('' for none). */
  startupShares: Map<string, number>;
  bugs: Map<string, BugLink[]>;
}

/** The page's parameters; a value outside the choices is a 400 naming them. */
export function topCrashersRequest(q: QueryParams, now: number): TopCrashersRequest {
  const choice = <T extends string | number>(name: string, choices: readonly T[], fallback: T): T => {
    const raw = first(q[name]);
    if (raw === undefined) return fallback;
    const found = choices.find((c) => String(c) === raw);
    if (found === undefined) throw new SuperSearchParamError(`${name} must be one of ${choices.join(', ')}, not "${raw}"`, 400);
    return found;
  };
  return {
    product: first(q.product),
    versions: all(q.version),
    platforms: all(q.platform),
    processTypes: all(q.process_type),
    range: dayRange({ days: first(q.days), from: first(q.from), to: first(q.to) }, now),
    fixedRange: first(q.from) !== undefined || first(q.to) !== undefined,
    dateRangeType: choice('date_range_type', DATE_RANGE_TYPES, 'report'),
    reportType: choice('report_type', REPORT_TYPES, 'any'),
    rows: choice('rows', ROWS, 50),
  };
}

/** The Super Search filters of the page's choices over one period of report (or build) days. */
export function topCrashersFilters(request: TopCrashersRequest, period: { from: number; to: number }): SearchFilter[] {
  const has = (field: string, values: readonly string[]): SearchFilter[] => (values.length > 0 ? [{ field, operator: 'has', values, negated: false }] : []);
  return [
    { field: 'submitted_timestamp', operator: 'gte', values: [period.from], negated: false },
    { field: 'submitted_timestamp', operator: 'lt', values: [period.to], negated: false },
    ...has('product', request.product ? [request.product] : []),
    ...has('version', request.versions),
    ...has('os_name', request.platforms),
    ...has('process_type', request.processTypes),
    ...has('report_type', request.reportType === 'any' ? [] : [request.reportType]),
    // Socorro's build range also keeps the report range: builds made in the period, crashing in it.
    ...(request.dateRangeType === 'build' ? [{ field: 'build_id', operator: 'starts_with' as const, values: buildIdPrefixes(period.from, period.to), negated: false }] : []),
  ];
}

export async function loadTopCrashers(sources: { crashIndex: CrashIndex; bugLinks?: BugLinkStore }, request: TopCrashersRequest): Promise<TopCrashersData> {
  const { crashIndex } = sources;
  const { range } = request;
  const result =
    request.dateRangeType === 'report' && request.reportType === 'any'
      ? await crashIndex.topCrashers({
          product: request.product,
          versions: request.versions,
          platforms: request.platforms,
          processTypes: request.processTypes,
          range: { from: range.from, to: range.to },
          limit: request.rows,
        })
      : await rankBySearch(crashIndex, request);
  const signatures = result.crashers.map((c) => c.signature ?? '');
  const [startupShares, bugs] = await Promise.all([
    startupSharesOf(crashIndex, request, result.crashers),
    sources.bugLinks && signatures.some((s) => s !== '') ? sources.bugLinks.forSignatures(signatures.filter((s) => s !== '')) : new Map<string, BugLink[]>(),
  ]);
  return { result, startupShares, bugs };
}

function signatureOf(term: FacetBucket['term']): string {
  return term === null ? '' : String(term);
}

/** Top crashers through Super Search: the same answer as the daily counts give, for filters they do not keep. */
async function rankBySearch(crashIndex: CrashIndex, request: TopCrashersRequest): Promise<TopCrashersResult> {
  const { range } = request;
  const previousPeriod = { from: range.from - (range.to - range.from), to: range.from };
  const query = (period: { from: number; to: number }, size: number, sub: boolean) =>
    crashIndex.search({
      filters: topCrashersFilters(request, period),
      columns: [],
      sort: [],
      limit: 0,
      offset: 0,
      aggregations: { signature: { kind: 'terms', field: 'signature', size, ...(sub ? { sub: [{ kind: 'terms' as const, field: 'os_name', size: 20 }] } : {}) } },
      allowProtected: false,
    });
  const [current, previous] = await Promise.all([query(range, request.rows, true), query(previousPeriod, PREVIOUS_RANKS, false)]);
  const buckets = (facet: unknown): FacetBucket[] => (Array.isArray(facet) ? (facet as FacetBucket[]) : []);
  const previousRanks = new Map(buckets(previous.facets.signature).map((b, i) => [signatureOf(b.term), { rank: i + 1, count: b.count }]));
  const top = buckets(current.facets.signature);
  // First seen (any product, any time) from the signature summaries' daily counts; an empty
  // range asks for nothing else (one index seek per signature, not a day's counts as well).
  const firstSeen = await Promise.all(
    top.map(async (b) => (b.term === null ? null : (await crashIndex.signatureSummary({ signature: String(b.term), range: { from: range.to, to: range.to }, facets: [], facetsSize: 0, allowProtected: false })).firstSeen)),
  );
  const crashers: TopCrasher[] = top.map((b, i) => {
    const before = previousRanks.get(signatureOf(b.term));
    const platforms: Record<string, number> = {};
    for (const os of buckets(b.facets?.os_name)) platforms[os.term === null ? '' : String(os.term)] = os.count;
    const first = firstSeen[i] ?? range.from;
    return {
      rank: i + 1,
      previousRank: before?.rank ?? null,
      signature: b.term === null ? null : String(b.term),
      count: b.count,
      share: current.total > 0 ? b.count / current.total : 0,
      previousCount: before?.count ?? 0,
      previousShare: previous.total > 0 ? (before?.count ?? 0) / previous.total : 0,
      platforms,
      firstSeen: first,
      isNew: first >= range.from,
    };
  });
  return { total: current.total, previousTotal: previous.total, crashers };
}

/** Each shown signature's share of crashes with uptime under a minute, in the same view: one search. */
async function startupSharesOf(crashIndex: CrashIndex, request: TopCrashersRequest, crashers: readonly TopCrasher[]): Promise<Map<string, number>> {
  const named = crashers.map((c) => c.signature).filter((s): s is string => s !== null);
  const shares = new Map<string, number>();
  if (named.length === 0) return shares;
  const startup = await crashIndex.search({
    filters: [
      ...topCrashersFilters(request, request.range),
      { field: 'signature', operator: 'has', values: named, negated: false },
      { field: 'uptime', operator: 'lt', values: [STARTUP_UPTIME], negated: false },
    ],
    columns: [],
    sort: [],
    limit: 0,
    offset: 0,
    aggregations: { signature: { kind: 'terms', field: 'signature', size: named.length } },
    allowProtected: false,
  });
  const counts = new Map((Array.isArray(startup.facets.signature) ? startup.facets.signature : []).map((b) => [signatureOf(b.term), b.count]));
  for (const c of crashers) if (c.signature !== null && c.count > 0) shares.set(c.signature, (counts.get(c.signature) ?? 0) / c.count);
  return shares;
}
