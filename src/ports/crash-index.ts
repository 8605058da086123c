import type { ProcessedCrash } from './processed-crash-store.js';

/**
 * The crash index: the searchable summary of every processed crash, for lists, search and
 * aggregations. The full processed crash lives in the processed crash store.
 *
 * What the index keeps is derived from the processed crash schema
 * (`src/schema/processed-crash.ts`): searchable fields with a `column` get an indexed
 * column, other searchable fields go into a JSON document, and every crash also counts in
 * pre-aggregated daily totals per signature, product, version, platform (`os_name`) and
 * process type, so that top crashers and signature charts never scan raw rows.
 */
export interface IndexedCrash {
  crashId: string;
  /** ms since epoch. */
  submittedAt: number;
  processedAt: number;
  product: string | null;
  version: string | null;
  releaseChannel: string | null;
  osName: string | null;
  osVersion: string | null;
  cpuArch: string | null;
  reason: string | null;
  address: string | null;
  signature: string | null;
  /** Whether processing hit errors (parse errors, missing dump, ...): processor notes are not empty. */
  hasErrors: boolean;
}

export interface CrashListQuery {
  limit: number;
  offset?: number;
  product?: string;
}

/**
 * Socorro's Super Search operators. `has` ("has one of the terms", Socorro's empty
 * operator) and `is` (`=`) both match whole values exactly here; string matching is
 * case-sensitive on every back end. `regex` must match the whole value (as Elasticsearch's
 * `regexp` does). For list fields an operator matches when any element matches.
 */
export type SearchOperator =
  | 'has'
  | 'is'
  | 'contains'
  | 'starts_with'
  | 'ends_with'
  | 'regex'
  | 'missing'
  | 'true'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte';

export const RANGE_OPERATORS: ReadonlySet<SearchOperator> = new Set(['gt', 'gte', 'lt', 'lte']);

export interface SearchFilter {
  /** A searchable processed-crash field name. */
  field: string;
  operator: SearchOperator;
  /** Already typed: dates as ms since epoch, integers as numbers, booleans as booleans. Several values mean any of them. */
  values: readonly (string | number | boolean)[];
  /** Socorro's `!` prefix: crashes the filter does not match, including those without the field. */
  negated: boolean;
}

export interface SearchSort {
  field: string;
  descending: boolean;
}

/** One level of terms counts; `sub` nests one more level per bucket (Socorro's `_aggs.<field>` and `_histogram.<field>=<sub>`). */
export interface TermsAggregation {
  kind: 'terms';
  field: string;
  size: number;
  sub?: readonly Aggregation[];
}

/** Counts per interval of a date or integer field; buckets come in ascending order, empty ones included between the first and last. */
export interface HistogramAggregation {
  kind: 'histogram';
  field: string;
  /** ms for dates (a week starts on Monday, 00:00 UTC), a plain number for integers. */
  interval: number;
  sub?: readonly Aggregation[];
}

/** The number of distinct values (Socorro's `_cardinality.<field>`). */
export interface CardinalityAggregation {
  kind: 'cardinality';
  field: string;
}

export type Aggregation = TermsAggregation | HistogramAggregation | CardinalityAggregation;

/**
 * A search over the index. Filters on different fields must all match; filters on the
 * same field: the range ones must all match, and at least one of the others must.
 */
export interface SearchQuery {
  filters: readonly SearchFilter[];
  /** Fields returned for each hit (searchable fields only). */
  columns: readonly string[];
  /** Ties are broken by crash id so that pages are stable. Default: newest first. */
  sort: readonly SearchSort[];
  limit: number;
  offset: number;
  /** Keyed by the name they are answered under (Socorro: the field name, `histogram_<field>`, `cardinality_<field>`). */
  aggregations: Readonly<Record<string, Aggregation>>;
  /**
   * Whether protected fields may be named anywhere in the query. The web layer decides
   * from the viewer's permissions and refuses first; the index refuses again, so a
   * protected field cannot leak through a caller that forgot.
   */
  allowProtected: boolean;
}

export interface FacetBucket {
  /** Dates come back as ISO 8601 strings, the start of the bucket for histograms. */
  term: string | number | boolean | null;
  count: number;
  facets?: Record<string, FacetResult>;
}

export type FacetResult = FacetBucket[] | { value: number };

export interface SearchResult {
  /** One object per crash with the requested columns; dates as ISO 8601 strings, missing values as null. */
  hits: Record<string, unknown>[];
  total: number;
  facets: Record<string, FacetResult>;
}

/** A half-open range of UTC days [from, to), in ms since epoch; both ends are rounded down to midnight UTC. */
export interface DayRange {
  from: number;
  to: number;
}

/** Where aggregate queries read from: the pre-aggregated daily counts (default) or the raw rows (for benchmarks and checks). */
export type AggregateSource = 'daily' | 'raw';

export interface TopCrashersQuery {
  product?: string;
  versions?: readonly string[];
  /** `os_name` values. */
  platforms?: readonly string[];
  processTypes?: readonly string[];
  range: DayRange;
  limit: number;
}

export interface TopCrasher {
  /** 1-based. */
  rank: number;
  /** Rank over the previous period of the same length; null when the signature did not crash then. */
  previousRank: number | null;
  signature: string | null;
  count: number;
  /** Fraction of all crashes matching the query in the range (0..1). */
  share: number;
  previousCount: number;
  previousShare: number;
  /** Count per `os_name` (null platforms under ""). */
  platforms: Record<string, number>;
  /** Midnight UTC of the first day the signature crashed, any product. */
  firstSeen: number;
  /** First seen inside the range. */
  isNew: boolean;
}

export interface TopCrashersResult {
  total: number;
  previousTotal: number;
  crashers: TopCrasher[];
}

export interface SignatureQuery {
  signature: string;
  range: DayRange;
  product?: string;
  /** Fields to count by; `product`, `version`, `os_name` and `process_type` come from the daily counts, others from the signature's rows. */
  facets: readonly string[];
  facetsSize: number;
  allowProtected: boolean;
}

export interface SignatureSummary {
  total: number;
  /** Midnight UTC of the first and last day the signature crashed (any time, any product); null if never. */
  firstSeen: number | null;
  lastSeen: number | null;
  /** Crashes per day over the range, every day present (zeros included), ascending. */
  perDay: { day: number; count: number }[];
  facets: Record<string, FacetBucket[]>;
}

export interface ProductVersion {
  product: string;
  version: string | null;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/** Crashes to let go of (retention): submitted in [from, before), of some products. */
export interface RetentionQuery {
  /** ms since epoch, exclusive. */
  readonly before: number;
  /** ms since epoch, inclusive; none: from the beginning. */
  readonly from?: number;
  /** Only this product's crashes (`''`: crashes without a product). */
  readonly product?: string;
  /** Every product's crashes but these (`''`: crashes without a product). */
  readonly exceptProducts?: readonly string[];
  /** Paging: only ids after this one (ids come in id order). */
  readonly afterId?: string;
  readonly limit: number;
}

export interface CrashIndex {
  /**
   * Insert or replace the processed crash: indexing the same crash twice leaves one row, and
   * its daily counts move with it (a reprocessed crash whose signature changed stops
   * counting for the old signature).
   */
  upsert(crash: ProcessedCrash): Promise<void>;
  /** The bulk path (loading, benchmarks): same result as `upsert` on each, in far fewer round trips. */
  upsertMany(crashes: readonly ProcessedCrash[]): Promise<void>;
  get(crashId: string): Promise<IndexedCrash | undefined>;
  latest(query: CrashListQuery): Promise<IndexedCrash[]>;
  count(): Promise<number>;
  /**
   * Socorro's Super Search over the index; throws `SearchError` for a query it cannot
   * answer. Its total and facets come from the daily counts where the query allows
   * (`source` 'raw' always counts the rows: the tests compare the two).
   */
  search(query: SearchQuery, source?: AggregateSource): Promise<SearchResult>;
  topCrashers(query: TopCrashersQuery, source?: AggregateSource): Promise<TopCrashersResult>;
  signatureSummary(query: SignatureQuery, source?: AggregateSource): Promise<SignatureSummary>;
  /** Every product and version seen, with counts, newest first (from the daily counts). */
  productVersions(): Promise<ProductVersion[]>;
  /** The schema version after migrations (shown by `/status` and `/__version__`). */
  schemaVersion(): Promise<number>;
  /** Ids of the crashes a retention rule lets go of, in id order. */
  crashIds(query: RetentionQuery): Promise<string[]>;
  /** Removes these crashes and their share of the daily counts; returns how many it removed. */
  remove(crashIds: readonly string[]): Promise<number>;
  /** UTC day numbers (`floor(ms / 86,400,000)`) before `beforeDay` that hold crashes, oldest first. */
  daysBefore(beforeDay: number): Promise<number[]>;
  /**
   * Removes every crash submitted on one UTC day and its daily counts, at once: PostgreSQL
   * drops the day's partition rather than deleting rows. Returns how many crashes went.
   */
  dropDay(day: number): Promise<number>;
  /**
   * Housekeeping, run by the scheduler: the next days' storage made ready (PostgreSQL's
   * partitions), planner statistics refreshed, and the daily counts of yesterday and today
   * checked against the crashes themselves and corrected where they differ. Resolves with
   * one line saying what it did.
   */
  maintain(now: number): Promise<string>;
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Bounds on the work one query may ask of the index. Every back end refuses past them
 * (`SearchError`, naming the limit); the web layer checks the same numbers first, so a
 * caller learns which parameter to change before anything runs.
 */
export const SEARCH_LIMITS = {
  /** Aggregations in one search, nested ones included: each is one grouped SQL query. */
  maxAggregations: 20,
  /** Levels of aggregations: a facet, one per bucket of it, one more (Socorro's `_aggs.a.b=c`). */
  maxAggregationDepth: 3,
  /** Terms per facet (Socorro's `_facets_size`). */
  maxFacetSize: 10_000,
  /** Buckets in one answer, every aggregation and level together (empty histogram buckets included). */
  maxFacetBuckets: 100_000,
  /** Filter values in one search, all fields together (each is a statement parameter and a comparison per crash). */
  maxFilterValues: 1000,
  /** Regular expression filters (`@`) in one search, and the length of each pattern. */
  maxRegexFilters: 10,
  maxRegexLength: 500,
  /**
   * Instructions of a compiled pattern. Matching is linear in the value's length times
   * this (RE2's guarantee); `a{1000}` alone compiles to about a thousand.
   */
  maxRegexProgram: 1000,
  /** Days a top crashers or signature summary range may span (the pages clamp to less). */
  maxRangeDays: 3660,
} as const;

/** The number of aggregations (nested ones included) and the deepest nesting of a query's aggregations. */
export function aggregationShape(aggregations: readonly Aggregation[]): { count: number; depth: number } {
  let count = 0;
  let depth = 0;
  const visit = (list: readonly Aggregation[], level: number): void => {
    for (const aggregation of list) {
      count++;
      depth = Math.max(depth, level);
      if (aggregation.kind !== 'cardinality' && aggregation.sub) visit(aggregation.sub, level + 1);
    }
  };
  visit(aggregations, 1);
  return { count, depth };
}

/** A query the index cannot answer: unknown or unsearchable field, wrong operator for the type, protected field not allowed. */
export class SearchError extends Error {
  constructor(
    message: string,
    /** `forbidden` for a protected field without permission. */
    readonly kind: 'bad_argument' | 'forbidden' = 'bad_argument',
  ) {
    super(message);
    this.name = 'SearchError';
  }
}
