import { RE2JS } from 're2js';
import {
  RANGE_OPERATORS,
  SEARCH_LIMITS,
  SearchError,
  aggregationShape,
  type AggregateSource,
  type Aggregation,
  type DayRange,
  type FacetBucket,
  type FacetResult,
  type ProductVersion,
  type RetentionQuery,
  type SearchFilter,
  type SearchQuery,
  type SearchResult,
  type SignatureQuery,
  type SignatureSummary,
  type TopCrasher,
  type TopCrashersQuery,
  type TopCrashersResult,
} from '../ports/crash-index.js';
import type { FieldSpec } from '../schema/processed-crash.js';
import type { FieldCatalog } from '../schema/field-catalog.js';
import { DAILY_DIMENSIONS, DAYS_PER_WEEK, DAY_MS, NOT_NULL_COLUMNS, fromStored } from './crash-index-layout.js';

/**
 * The crash index's read queries, written once for both SQL databases. An adapter supplies
 * a `SqlDialect` (placeholders, JSON access, string matching) and a function that runs a
 * statement; everything that decides *what* a search means lives here, so SQLite and
 * PostgreSQL answer every query identically (the shared contract tests hold them to it).
 *
 * Semantics worth knowing:
 * - Strings compare byte-wise (SQLite's BINARY, PostgreSQL's "C" collation) and
 *   case-sensitively; NULLs sort as the largest value.
 * - A negated filter also matches crashes without the field (as Elasticsearch's `not`).
 * - Terms aggregations skip crashes without the field and order by count, then term.
 * - Regular expressions are RE2's (linear-time matching: no backreferences, no lookaround),
 *   checked here for every back end, whatever engine then runs them.
 * - A nested aggregation is one grouped query for all the buckets of its parents, never
 *   one query per bucket; the whole answer is bounded by `SEARCH_LIMITS`.
 */

export interface SqlDialect {
  readonly name: 'sqlite' | 'postgresql';
  /**
   * The fields a query may name: the node's field catalog (built-in fields and those its
   * configuration declares, which live in the JSON document).
   */
  readonly fields: Pick<FieldCatalog, 'searchableField'>;
  /** The n-th (1-based) statement parameter. */
  placeholder(index: number): string;
  /** The typed scalar value of a doc (JSON) field. */
  docValue(spec: FieldSpec): string;
  /** A FROM item named `alias` with one row per element of a list field, its value in `listValue(alias)`. */
  listElements(spec: FieldSpec, alias: string): string;
  listValue(alias: string): string;
  /** `p` is a placeholder; dialects may use it more than once (PostgreSQL) or not (SQLite). */
  contains(expr: string, p: string): string;
  startsWith(expr: string, p: string): string;
  endsWith(expr: string, p: string): string;
  /** Whole-value regular expression match (the pattern was checked by `compileSearchRegex`). */
  regex(expr: string, p: string): string;
  /** An ORDER BY term where NULLs sort as the largest value. */
  order(expr: string, descending: boolean, nullable: boolean): string;
  /**
   * The expression a terms aggregation groups by. A dialect may wrap it to keep its
   * planner from picking an index only because it yields the grouping order (see SQLite's).
   */
  groupTerm(expr: string): string;
}

export type Row = Record<string, unknown>;
export type RunQuery = (sql: string, params: unknown[]) => Promise<Row[]>;

/** Collects statement parameters and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly dialect: SqlDialect) {}
  add(value: unknown): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length);
  }
  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

/** A WHERE condition that binds its values when the statement is built. */
type Condition = (p: Params) => string;

const TEXT_OPERATORS = new Set(['has', 'is', 'contains', 'starts_with', 'ends_with', 'regex', 'missing']);
const NUMBER_OPERATORS = new Set(['has', 'is', 'gt', 'gte', 'lt', 'lte', 'missing']);
const BOOLEAN_OPERATORS = new Set(['has', 'is', 'true', 'missing']);

function allowedOperators(spec: FieldSpec): ReadonlySet<string> {
  switch (spec.type) {
    case 'integer':
    case 'number':
    case 'date':
      return NUMBER_OPERATORS;
    case 'boolean':
      return BOOLEAN_OPERATORS;
    default:
      return TEXT_OPERATORS;
  }
}

/** Resolves a field name the query uses, refusing unknown, unsearchable and (without permission) protected fields. */
export function resolveField(d: SqlDialect, name: string, allowProtected: boolean): FieldSpec {
  const spec = d.fields.searchableField(name);
  if (!spec) throw new SearchError(`unknown or unsearchable field "${name}"`);
  if (spec.protected && !allowProtected) throw new SearchError(`field "${name}" is protected`, 'forbidden');
  return spec;
}

/** The SQL expression of a scalar field (not a list). */
function scalarExpr(d: SqlDialect, spec: FieldSpec): string {
  return spec.column ? `crashes.${spec.column}` : d.docValue(spec);
}

function isNullable(spec: FieldSpec): boolean {
  return !(spec.column && NOT_NULL_COLUMNS.has(spec.column));
}

function checkValues(spec: FieldSpec, filter: SearchFilter): void {
  const { operator, values } = filter;
  if (operator === 'missing' || operator === 'true') return;
  if (values.length === 0) throw new SearchError(`no value for ${operator} on "${spec.name}"`);
  const expected = spec.type === 'integer' || spec.type === 'number' || spec.type === 'date' ? 'number' : spec.type === 'boolean' ? 'boolean' : 'string';
  for (const value of values) {
    if (typeof value !== expected || (expected === 'number' && !Number.isFinite(value))) {
      throw new SearchError(`"${spec.name}" needs ${expected} values, got ${JSON.stringify(value)}`);
    }
    if (operator === 'regex') compileSearchRegex(String(value));
  }
}

/**
 * Compiles a Super Search pattern with RE2 (whole-value matching is the caller's
 * `testExact`). RE2 matches in time linear in the value's length, but that time also
 * grows with the compiled program, hence the limits on both; patterns RE2 cannot run in
 * linear time (backreferences, lookaround) do not compile and are refused.
 */
export function compileSearchRegex(pattern: string): RE2JS {
  const { maxRegexLength, maxRegexProgram } = SEARCH_LIMITS;
  if (pattern.length > maxRegexLength) throw new SearchError(`regular expressions are limited to ${maxRegexLength} characters (this one has ${pattern.length})`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    throw new SearchError(`${JSON.stringify(pattern)} is not a regular expression Mayday can run (RE2 syntax; no backreferences or lookaround): ${(error as Error).message}`);
  }
  // `prog` is untyped in re2js's declarations; its instruction count is RE2's own measure of size.
  const program = (compiled.re2().prog as { numInst?: () => number } | undefined)?.numInst?.() ?? 0;
  if (program > maxRegexProgram) throw new SearchError(`the regular expression ${JSON.stringify(pattern.slice(0, 80))} is too large (${program} instructions; at most ${maxRegexProgram}): use fewer or smaller repetitions`);
  return compiled;
}

/** The positive condition of one filter on an expression (a column, a doc value or a list element). */
function valueCondition(d: SqlDialect, filter: SearchFilter, expr: string, p: Params): string {
  const values = filter.operator === 'true' ? [true] : filter.values;
  const stored = values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
  const any = (each: (placeholder: string) => string): string => `(${stored.map((v) => each(p.add(v))).join(' OR ')})`;
  switch (filter.operator) {
    case 'has':
    case 'is':
    case 'true':
      return stored.length === 1 ? `${expr} = ${p.add(stored[0])}` : `${expr} IN (${p.list(stored)})`;
    case 'contains':
      return any((ph) => d.contains(expr, ph));
    case 'starts_with':
      return any((ph) => d.startsWith(expr, ph));
    case 'ends_with':
      return any((ph) => d.endsWith(expr, ph));
    case 'regex':
      return any((ph) => d.regex(expr, ph));
    case 'gt':
      return stored.map((v) => `${expr} > ${p.add(v)}`).join(' AND ');
    case 'gte':
      return stored.map((v) => `${expr} >= ${p.add(v)}`).join(' AND ');
    case 'lt':
      return stored.map((v) => `${expr} < ${p.add(v)}`).join(' AND ');
    case 'lte':
      return stored.map((v) => `${expr} <= ${p.add(v)}`).join(' AND ');
    case 'missing':
      return `${expr} IS NULL`;
  }
}

function filterCondition(d: SqlDialect, filter: SearchFilter, allowProtected: boolean): Condition {
  const spec = resolveField(d, filter.field, allowProtected);
  if (!allowedOperators(spec).has(filter.operator)) throw new SearchError(`operator ${filter.operator} does not apply to ${spec.type} field "${spec.name}"`);
  checkValues(spec, filter);
  return (p) => {
    let positive: string;
    if (spec.type === 'list') {
      const from = `SELECT 1 FROM ${d.listElements(spec, 'jf')}`;
      positive = filter.operator === 'missing' ? `NOT EXISTS (${from})` : `EXISTS (${from} WHERE ${valueCondition(d, filter, d.listValue('jf'), p)})`;
    } else {
      positive = valueCondition(d, filter, scalarExpr(d, spec), p);
    }
    // IS NOT TRUE rather than NOT: a crash without the field does not match the positive
    // condition (NULL), so it matches the negated one.
    return filter.negated ? `(${positive}) IS NOT TRUE` : `(${positive})`;
  };
}

/** Filters on one field: all range filters and at least one of the others; fields ANDed together. */
export function whereOf(d: SqlDialect, query: Pick<SearchQuery, 'filters' | 'allowProtected'>): Condition[] {
  const byField = new Map<string, SearchFilter[]>();
  for (const filter of query.filters) byField.set(filter.field, [...(byField.get(filter.field) ?? []), filter]);
  const conditions: Condition[] = [];
  for (const filters of byField.values()) {
    const ranges = filters.filter((f) => RANGE_OPERATORS.has(f.operator) && !f.negated).map((f) => filterCondition(d, f, query.allowProtected));
    const others = filters.filter((f) => !(RANGE_OPERATORS.has(f.operator) && !f.negated)).map((f) => filterCondition(d, f, query.allowProtected));
    conditions.push(...ranges);
    if (others.length > 0) conditions.push((p) => `(${others.map((c) => c(p)).join(' OR ')})`);
  }
  return conditions;
}

function whereSql(conditions: readonly Condition[], p: Params): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.map((c) => c(p)).join(' AND ')}`;
}

function limitNumber(value: number, name: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new SearchError(`${name} must be an integer from 0 to ${max}`);
  return value;
}

/** Socorro's Super Search: hits, total and aggregations of one query. */
export async function search(d: SqlDialect, run: RunQuery, query: SearchQuery, source: AggregateSource = 'daily'): Promise<SearchResult> {
  const conditions = whereOf(d, query);
  const columns = query.columns.map((name) => resolveField(d, name, query.allowProtected));
  const sorts = query.sort.map((s) => {
    const spec = resolveField(d, s.field, query.allowProtected);
    if (spec.type === 'list') throw new SearchError(`cannot sort on list field "${spec.name}"`);
    return d.order(scalarExpr(d, spec), s.descending, isNullable(spec));
  });
  if (sorts.length === 0) sorts.push(d.order('crashes.submitted_at', true, false));
  const limit = limitNumber(query.limit, '_results_number', 1000);
  const offset = limitNumber(query.offset, '_results_offset', 1_000_000);
  const values = query.filters.reduce((n, f) => n + f.values.length, 0);
  if (values > SEARCH_LIMITS.maxFilterValues) throw new SearchError(`at most ${SEARCH_LIMITS.maxFilterValues} filter values per search (this one has ${values})`);
  const regexes = query.filters.reduce((n, f) => n + (f.operator === 'regex' ? f.values.length : 0), 0);
  if (regexes > SEARCH_LIMITS.maxRegexFilters) throw new SearchError(`at most ${SEARCH_LIMITS.maxRegexFilters} regular expressions per search (this one has ${regexes})`);
  // Validate every aggregation before running anything.
  checkAggregations(d, Object.values(query.aggregations), query.allowProtected);

  const fromRollup = source === 'daily' ? rollupSearchPlan(query) : undefined;
  const counted = fromRollup ? await countFromRollup(d, run, fromRollup, new BucketBudget()) : undefined;
  let total: number;
  if (counted) total = counted.total;
  else {
    const countParams = new Params(d);
    const countSql = `SELECT COUNT(*) AS n FROM crashes ${whereSql(conditions, countParams)}`;
    total = Number((await run(countSql, countParams.values))[0]?.n ?? 0);
  }

  let hits: Record<string, unknown>[] = [];
  if (limit > 0 && columns.length > 0 && offset < total) {
    const selected = new Set(['crashes.crash_id']);
    const needsDoc = columns.some((c) => !c.column);
    for (const spec of columns) if (spec.column) selected.add(`crashes.${spec.column}`);
    if (needsDoc) selected.add('crashes.doc');
    const p = new Params(d);
    const sql = `SELECT ${[...selected].join(', ')} FROM crashes ${whereSql(conditions, p)} ORDER BY ${[...sorts, 'crashes.crash_id ASC'].join(', ')} LIMIT ${limit} OFFSET ${offset}`;
    const rows = await run(sql, p.values);
    hits = rows.map((row) => {
      const doc = needsDoc ? parseDoc(row.doc) : {};
      const hit: Record<string, unknown> = {};
      for (const spec of columns) hit[spec.name] = fromStored(spec, spec.column ? row[spec.column] : doc[spec.name]);
      return hit;
    });
  }

  if (counted) return { hits, total, facets: counted.facets };
  const facets: Record<string, FacetResult> = {};
  const context: AggregationContext = { d, run, conditions, budget: new BucketBudget() };
  for (const [name, aggregation] of Object.entries(query.aggregations)) {
    facets[name] = await runAggregation(context, aggregation, total);
  }
  return { hits, total, facets };
}

/** The dimensions of the daily counts a search can be answered from, by field name. */
const ROLLUP_SEARCH_FIELDS: ReadonlySet<string> = new Set(['product', 'os_name', 'signature', 'version', 'process_type']);
const PLATFORM_ROLLUP_FIELDS: ReadonlySet<string> = new Set(['product', 'os_name', 'signature']);

interface RollupSearchPlan {
  /** Field -> the values it must be one of. */
  readonly filters: ReadonlyMap<string, readonly string[]>;
  /** ms since epoch, [from, to). */
  readonly from: number;
  readonly to: number;
  /** Facet name -> terms aggregation over a rollup dimension. */
  readonly facets: readonly { name: string; field: string; size: number }[];
  readonly table: 'signature_platform_daily' | 'signature_daily';
}

/**
 * Whether a search's total and facets can come from the daily counts: the common Crash
 * Stats search (a product, a platform, a version or a signature over a date range, with
 * facets on those) counted crash rows, hundreds of milliseconds per facet at ten million
 * crashes. It can when every filter is a plain "is" or "has" on a dimension of the daily counts (or
 * the date range), every aggregation is a terms facet on one, without nesting, and the range
 * holds at least one whole UTC day. The whole days are then counted from the narrowest
 * rollup, the partial days at either end from the rows.
 */
function rollupSearchPlan(query: SearchQuery): RollupSearchPlan | undefined {
  let from = -Infinity;
  let to = Infinity;
  const filters = new Map<string, string[]>();
  for (const filter of query.filters) {
    if (filter.negated) return undefined;
    if (filter.field === 'submitted_timestamp' && RANGE_OPERATORS.has(filter.operator)) {
      const value = filter.values[0];
      if (filter.values.length !== 1 || typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
      if (filter.operator === 'gte') from = Math.max(from, value);
      else if (filter.operator === 'gt') from = Math.max(from, value + 1);
      else if (filter.operator === 'lt') to = Math.min(to, value);
      else to = Math.min(to, value + 1);
      continue;
    }
    // On these single-valued fields "has" (Super Search's plain `field=value`) is "is".
    if ((filter.operator !== 'is' && filter.operator !== 'has') || !ROLLUP_SEARCH_FIELDS.has(filter.field)) return undefined;
    // The daily counts keep a missing value as "": a search for "" cannot be told from one for nothing.
    if (filter.values.some((v) => typeof v !== 'string' || v === '')) return undefined;
    filters.set(filter.field, [...(filters.get(filter.field) ?? []), ...(filter.values as string[])]);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to) || Math.ceil(from / DAY_MS) >= Math.floor(to / DAY_MS)) return undefined;
  const facets: { name: string; field: string; size: number }[] = [];
  for (const [name, aggregation] of Object.entries(query.aggregations)) {
    if (aggregation.kind !== 'terms' || (aggregation.sub && aggregation.sub.length > 0) || !ROLLUP_SEARCH_FIELDS.has(aggregation.field)) return undefined;
    facets.push({ name, field: aggregation.field, size: aggregation.size });
  }
  const used = [...filters.keys(), ...facets.map((f) => f.field)];
  return { filters, from, to, facets, table: used.every((f) => PLATFORM_ROLLUP_FIELDS.has(f)) ? 'signature_platform_daily' : 'signature_daily' };
}

/** Total and facets of a search from the daily counts (whole days) and the rows (the partial days at either end). */
async function countFromRollup(d: SqlDialect, run: RunQuery, plan: RollupSearchPlan, budget: BucketBudget): Promise<{ total: number; facets: Record<string, FacetBucket[]> }> {
  const firstDay = Math.ceil(plan.from / DAY_MS);
  const endDay = Math.floor(plan.to / DAY_MS);
  const counted = async (field: string | undefined): Promise<Map<string, number>> => {
    const rollup = new Params(d);
    const rollupWhere = [`day >= ${rollup.add(firstDay)}`, `day < ${rollup.add(endDay)}`, ...[...plan.filters].map(([f, values]) => `${f} IN (${rollup.list(values)})`)];
    if (field) rollupWhere.push(`${field} <> ''`);
    const rows = new Params(d);
    const edges = [
      plan.from < firstDay * DAY_MS ? `(submitted_at >= ${rows.add(plan.from)} AND submitted_at < ${rows.add(firstDay * DAY_MS)})` : undefined,
      plan.to > endDay * DAY_MS ? `(submitted_at >= ${rows.add(endDay * DAY_MS)} AND submitted_at < ${rows.add(plan.to)})` : undefined,
    ].filter((e): e is string => e !== undefined);
    const term = field ? `${field} AS term, ` : '';
    const group = field ? ` GROUP BY ${field}` : '';
    const answers = await run(`SELECT ${term}SUM(count) AS n FROM ${plan.table} WHERE ${rollupWhere.join(' AND ')}${group}`, rollup.values);
    if (edges.length > 0) {
      const rowWhere = [`(${edges.join(' OR ')})`, ...[...plan.filters].map(([f, values]) => `${f} IN (${rows.list(values)})`)];
      if (field) rowWhere.push(`${field} IS NOT NULL`, `${field} <> ''`);
      answers.push(...(await run(`SELECT ${term}COUNT(*) AS n FROM crashes WHERE ${rowWhere.join(' AND ')}${group}`, rows.values)));
    }
    const counts = new Map<string, number>();
    for (const row of answers) {
      const key = field ? String(row.term) : '';
      counts.set(key, (counts.get(key) ?? 0) + Number(row.n ?? 0));
    }
    return counts;
  };
  const total = (await counted(undefined)).get('') ?? 0;
  const facets: Record<string, FacetBucket[]> = {};
  for (const facet of plan.facets) {
    if (total === 0) {
      facets[facet.name] = [];
      continue;
    }
    const buckets = [...(await counted(facet.field))]
      .filter(([, count]) => count > 0)
      // By count, then by term in byte order, as the databases sort with the "C" collation.
      .sort(([a, x], [b, y]) => y - x || Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .slice(0, facet.size)
      .map(([term, count]) => ({ term, count }));
    budget.spend(buckets.length);
    facets[facet.name] = buckets;
  }
  return { total, facets };
}

function parseDoc(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return JSON.parse(value) as Record<string, unknown>;
  return (value ?? {}) as Record<string, unknown>;
}

/** Refuses aggregations the index will not run: unknown or protected fields, bad intervals, past `SEARCH_LIMITS`. */
function checkAggregations(d: SqlDialect, aggregations: readonly Aggregation[], allowProtected: boolean): void {
  const { maxAggregations, maxAggregationDepth } = SEARCH_LIMITS;
  const { count, depth } = aggregationShape(aggregations);
  if (count > maxAggregations) throw new SearchError(`at most ${maxAggregations} facets and aggregations per search, nested ones included (this one asks for ${count})`);
  if (depth > maxAggregationDepth) throw new SearchError(`aggregations nest at most ${maxAggregationDepth} levels deep (this one has ${depth})`);
  const check = (aggregation: Aggregation): void => {
    const spec = resolveField(d, aggregation.field, allowProtected);
    if (aggregation.kind === 'histogram') {
      if (spec.type !== 'date' && spec.type !== 'integer') throw new SearchError(`histograms need a date or integer field, not "${spec.name}"`);
      if (!Number.isInteger(aggregation.interval) || aggregation.interval <= 0) throw new SearchError(`histogram interval must be a positive integer`);
    }
    if (aggregation.kind === 'terms') limitNumber(aggregation.size, '_facets_size', SEARCH_LIMITS.maxFacetSize);
    if (aggregation.kind !== 'cardinality') for (const sub of aggregation.sub ?? []) check(sub);
  };
  for (const aggregation of aggregations) check(aggregation);
}

/** Elasticsearch's week buckets start on Monday; 1970-01-01 was a Thursday. */
const WEEK_OFFSET_MS = -3 * DAY_MS;
/** Empty histogram buckets are filled in between the first and the last only below this many. */
const MAX_HISTOGRAM_BUCKETS = 10_000;
/** Parent keys named in a nested query's IN list (past this, the rows of other keys are read and dropped). */
const MAX_KEYS_LISTED = 1000;

/** Counts the buckets of one answer against `SEARCH_LIMITS.maxFacetBuckets`. */
class BucketBudget {
  private used = 0;
  /** The most rows a query may return: one more than what is left, so that going over is seen. */
  get rowLimit(): number {
    return SEARCH_LIMITS.maxFacetBuckets - this.used + 1;
  }
  spend(buckets: number): void {
    this.used += buckets;
    if (this.used > SEARCH_LIMITS.maxFacetBuckets) {
      throw new SearchError(`the facets would hold more than ${SEARCH_LIMITS.maxFacetBuckets.toLocaleString('en')} buckets: lower _facets_size, narrow the search, or ask for fewer or less nested facets`);
    }
  }
}

interface AggregationContext {
  d: SqlDialect;
  run: RunQuery;
  conditions: readonly Condition[];
  budget: BucketBudget;
}

type BucketKey = string | number;

/** How one level of terms or histogram buckets keys a crash row. */
interface BucketLevel {
  /** The FROM items the key needs (a list field's elements), or ''. */
  join: string;
  /** The key's SQL expression: the term, or the start of the histogram bucket. */
  key: string;
  /** Histogram keys are computed numbers, compared as such. */
  numeric: boolean;
}

/** Parent buckets a nested aggregation is computed for: their level, and the keys at that level. */
interface Ancestor {
  level: BucketLevel;
  keys: ReadonlySet<BucketKey>;
}

/** A bucket with the keys of its path from the top level, which nested aggregations group by. */
interface KeyedBucket {
  bucket: FacetBucket;
  path: BucketKey[];
}

/** One aggregation's answer for one parent bucket (or for the whole search, at the top). */
interface PathResult {
  result: FacetResult;
  buckets: KeyedBucket[];
}

const pathKey = (path: readonly BucketKey[]): string => JSON.stringify(path);

function bucketLevel(d: SqlDialect, aggregation: Aggregation, depth: number): BucketLevel & { value: string } {
  const spec = d.fields.searchableField(aggregation.field)!;
  const alias = `j${depth}`;
  const list = spec.type === 'list';
  const value = list ? d.listValue(alias) : scalarExpr(d, spec);
  const join = list ? ` CROSS JOIN ${d.listElements(spec, alias)}` : '';
  if (aggregation.kind !== 'histogram') return { join, key: d.groupTerm(value), value, numeric: false };
  const { interval } = aggregation;
  const offset = spec.type === 'date' && interval === 7 * DAY_MS ? WEEK_OFFSET_MS : 0;
  // Integer division truncates in both databases; values before the epoch are not expected.
  return { join, key: `((${value} - (${offset})) / ${interval}) * ${interval} + (${offset})`, value, numeric: true };
}

/**
 * Runs one top-level aggregation and everything nested in it: one query per aggregation,
 * however many buckets its parents have.
 */
async function runAggregation(context: AggregationContext, aggregation: Aggregation, total: number): Promise<FacetResult> {
  if (total === 0 && aggregation.kind !== 'cardinality') return [];
  const byPath = await runAggregationTree(context, aggregation, []);
  return byPath.get(pathKey([]))?.result ?? (aggregation.kind === 'cardinality' ? { value: 0 } : []);
}

async function runAggregationTree(context: AggregationContext, aggregation: Aggregation, ancestors: readonly Ancestor[]): Promise<Map<string, PathResult>> {
  const byPath = await aggregate(context, aggregation, ancestors);
  if (aggregation.kind === 'cardinality' || !aggregation.sub || aggregation.sub.length === 0) return byPath;
  // Empty buckets (histogram gaps) get no nested facets.
  const owners = [...byPath.values()].flatMap((r) => r.buckets).filter((b) => b.bucket.count > 0);
  if (owners.length === 0) return byPath;
  const level: Ancestor = { level: bucketLevel(context.d, aggregation, ancestors.length), keys: new Set(owners.map((o) => o.path[o.path.length - 1]!)) };
  for (const owner of owners) owner.bucket.facets = {};
  for (const sub of aggregation.sub) {
    const name = subName(sub);
    for (const owner of owners) owner.bucket.facets![name] = sub.kind === 'cardinality' ? { value: 0 } : [];
    const children = await runAggregationTree(context, sub, [...ancestors, level]);
    for (const owner of owners) {
      const child = children.get(pathKey(owner.path));
      if (child) owner.bucket.facets![name] = child.result;
    }
  }
  return byPath;
}

/**
 * One aggregation for every parent bucket at once: the parents' keys are grouped by too
 * (and, when there are not too many, listed, so that other rows are not even counted).
 * Answers keyed by the parent bucket's path (`[]` at the top level).
 */
async function aggregate(context: AggregationContext, aggregation: Aggregation, ancestors: readonly Ancestor[]): Promise<Map<string, PathResult>> {
  const { d, run, conditions, budget } = context;
  const spec = d.fields.searchableField(aggregation.field)!;
  const own = bucketLevel(d, aggregation, ancestors.length);
  const p = new Params(d);
  const parts = conditions.map((c) => c(p));
  for (const { level, keys } of ancestors) parts.push(keys.size <= MAX_KEYS_LISTED ? `${level.key} IN (${p.list([...keys])})` : `${level.key} IS NOT NULL`);
  const from = `crashes${ancestors.map((a) => a.level.join).join('')}${own.join}`;
  const parentKeys = ancestors.map((a, i) => `${a.level.key} AS a${i}`);
  const parentColumns = ancestors.map((_, i) => `a${i}`);
  const parentGroup = ancestors.map((a) => `${a.level.key}, `).join('');
  const where = (extra?: string): string => {
    const all = extra ? [...parts, extra] : parts;
    return all.length > 0 ? `WHERE ${all.join(' AND ')}` : '';
  };
  const select = (...columns: string[]): string => [...parentKeys, ...columns].join(', ');
  const pathOf = (row: Row): BucketKey[] => ancestors.map((a, i) => normalizeKey(a.level, row[`a${i}`]));
  const results = new Map<string, PathResult>();
  const resultAt = (path: BucketKey[], empty: () => FacetResult): PathResult => {
    const key = pathKey(path);
    let result = results.get(key);
    if (!result) results.set(key, (result = { result: empty(), buckets: [] }));
    return result;
  };

  if (aggregation.kind === 'cardinality') {
    const sql = `SELECT ${select(`COUNT(DISTINCT ${own.value}) AS n`)} FROM ${from} ${where()}${ancestors.length > 0 ? ` GROUP BY ${ancestors.map((a) => a.level.key).join(', ')}` : ''}`;
    for (const row of await run(sql, p.values)) resultAt(pathOf(row), () => ({ value: 0 })).result = { value: Number(row.n ?? 0) };
    return results;
  }

  if (aggregation.kind === 'terms') {
    const notNull = `${own.key} IS NOT NULL`;
    const sql =
      ancestors.length === 0
        ? `SELECT ${own.key} AS term, COUNT(*) AS n FROM ${from} ${where(notNull)} GROUP BY ${own.key} ORDER BY n DESC, term ASC LIMIT ${Math.min(aggregation.size, budget.rowLimit)}`
        : `SELECT ${parentColumns.join(', ')}, term, n FROM (` +
          `SELECT ${parentColumns.join(', ')}, term, n, ROW_NUMBER() OVER (PARTITION BY ${parentColumns.join(', ')} ORDER BY n DESC, term ASC) AS rn FROM (` +
          `SELECT ${select(`${own.key} AS term`, 'COUNT(*) AS n')} FROM ${from} ${where(notNull)} GROUP BY ${parentGroup}${own.key}) AS g` +
          `) AS r WHERE rn <= ${aggregation.size} ORDER BY rn LIMIT ${budget.rowLimit}`;
    const rows = await run(sql, p.values);
    budget.spend(rows.length);
    for (const row of rows) {
      const path = pathOf(row);
      const at = resultAt(path, () => []);
      const bucket: FacetBucket = { term: fromStored(spec, row.term) as FacetBucket['term'], count: Number(row.n) };
      (at.result as FacetBucket[]).push(bucket);
      at.buckets.push({ bucket, path: [...path, normalizeKey(own, row.term)] });
    }
    return results;
  }

  const { interval } = aggregation;
  const sql = `SELECT ${select(`${own.key} AS bucket`, 'COUNT(*) AS n')} FROM ${from} ${where(`${own.value} IS NOT NULL`)} GROUP BY ${parentGroup}${own.key} ORDER BY bucket ASC LIMIT ${budget.rowLimit}`;
  const rows = await run(sql, p.values);
  budget.spend(rows.length);
  // Rows come in ascending bucket order, so each path's counts do too.
  const countsByPath = new Map<string, { path: BucketKey[]; counts: Map<number, number> }>();
  for (const row of rows) {
    const path = pathOf(row);
    const key = pathKey(path);
    let entry = countsByPath.get(key);
    if (!entry) countsByPath.set(key, (entry = { path, counts: new Map() }));
    entry.counts.set(Number(row.bucket), Number(row.n));
  }
  for (const { path, counts } of countsByPath.values()) {
    const starts = [...counts.keys()];
    const first = starts[0]!;
    const last = starts[starts.length - 1]!;
    // Empty buckets between the first and the last are answered too (Elasticsearch's
    // date_histogram does), unless there would be absurdly many; they count as buckets
    // before any is made.
    const fill = (last - first) / interval < MAX_HISTOGRAM_BUCKETS;
    if (fill) budget.spend((last - first) / interval + 1 - starts.length);
    const keys: number[] = [];
    if (fill) for (let k = first; k <= last; k += interval) keys.push(k);
    else for (const k of starts) keys.push(k);
    const at = resultAt(path, () => []);
    for (const k of keys) {
      const bucket: FacetBucket = { term: fromStored(spec, k) as FacetBucket['term'], count: counts.get(k) ?? 0 };
      (at.result as FacetBucket[]).push(bucket);
      at.buckets.push({ bucket, path: [...path, k] });
    }
  }
  return results;
}

/** A bucket key as both the parent's query and its children's return it. */
function normalizeKey(level: BucketLevel, value: unknown): BucketKey {
  return level.numeric ? Number(value) : (value as BucketKey);
}

/** The name a nested aggregation is answered under, as Socorro names them. */
export function subName(aggregation: Aggregation): string {
  if (aggregation.kind === 'histogram') return `histogram_${aggregation.field}`;
  if (aggregation.kind === 'cardinality') return `cardinality_${aggregation.field}`;
  return aggregation.field;
}

// ---------------------------------------------------------------------------------------
// Top crashers and signature pages: from the daily counts, or the same answer from raw rows.

function days(range: DayRange): { from: number; to: number } {
  const from = Math.floor(range.from / DAY_MS);
  const to = Math.floor(range.to / DAY_MS);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) throw new SearchError('the date range must be finite and not reversed');
  // Signature summaries answer one entry per day: the span bounds the work and the answer.
  if (to - from > SEARCH_LIMITS.maxRangeDays) throw new SearchError(`the date range spans ${to - from} days; at most ${SEARCH_LIMITS.maxRangeDays}`);
  return { from, to };
}

interface Slice {
  product?: string;
  versions?: readonly string[];
  platforms?: readonly string[];
  processTypes?: readonly string[];
  signature?: string;
}

/** The WHERE clause of a slice over the daily counts (source daily) or the raw rows. */
function sliceWhere(p: Params, source: AggregateSource, range: { from: number; to: number }, slice: Slice): string {
  const parts: string[] = [];
  if (source === 'daily') parts.push(`day >= ${p.add(range.from)}`, `day < ${p.add(range.to)}`);
  else parts.push(`submitted_at >= ${p.add(range.from * DAY_MS)}`, `submitted_at < ${p.add(range.to * DAY_MS)}`);
  // The daily counts keep a missing value as "" (a key column cannot be NULL); the raw rows
  // are compared the same way so both sources agree.
  const column = (name: string): string => (source === 'daily' ? name : `COALESCE(${name}, '')`);
  if (slice.product !== undefined) parts.push(`product = ${p.add(slice.product)}`);
  if (slice.signature !== undefined) parts.push(`signature = ${p.add(slice.signature)}`);
  const any = (name: string, values: readonly string[] | undefined): void => {
    if (values && values.length > 0) parts.push(`${column(name)} IN (${p.list(values)})`);
  };
  any('version', slice.versions);
  any('os_name', slice.platforms);
  any('process_type', slice.processTypes);
  return `WHERE ${parts.join(' AND ')}`;
}

interface Ranked {
  signature: string;
  count: number;
  platforms: Record<string, number>;
}

/** Whether a slice can be answered by the platform rollups (no version or process type filter). */
function platformSlice(slice: Slice): boolean {
  return !(slice.versions && slice.versions.length > 0) && !(slice.processTypes && slice.processTypes.length > 0);
}

/** Product, signature and platform conditions of a slice over the platform rollups. */
function platformConditions(p: Params, slice: Slice): string {
  const parts: string[] = [];
  if (slice.product !== undefined) parts.push(` AND product = ${p.add(slice.product)}`);
  if (slice.signature !== undefined) parts.push(` AND signature = ${p.add(slice.signature)}`);
  if (slice.platforms && slice.platforms.length > 0) parts.push(` AND os_name IN (${p.list(slice.platforms)})`);
  return parts.join('');
}

/**
 * A FROM item with (signature, os_name, count) rows covering the days of `range` for a
 * platform slice: the whole weeks inside the range from the weekly rollup, the days before
 * the first and after the last whole week from the daily one. A 30-day range then reads
 * four weekly rows and two days' rows per signature and platform instead of thirty.
 */
function platformCounts(p: Params, range: { from: number; to: number }, slice: Slice): string {
  const firstWeek = Math.ceil(range.from / DAYS_PER_WEEK);
  const endWeek = Math.floor(range.to / DAYS_PER_WEEK);
  const parts: string[] = [];
  const days = (from: number, to: number): void => {
    if (to > from) parts.push(`SELECT signature, os_name, count FROM signature_platform_daily WHERE day >= ${p.add(from)} AND day < ${p.add(to)}${platformConditions(p, slice)}`);
  };
  if (endWeek > firstWeek) {
    days(range.from, firstWeek * DAYS_PER_WEEK);
    parts.push(`SELECT signature, os_name, count FROM signature_platform_weekly WHERE week >= ${p.add(firstWeek)} AND week < ${p.add(endWeek)}${platformConditions(p, slice)}`);
    days(endWeek * DAYS_PER_WEEK, range.to);
  } else {
    days(range.from, range.to);
  }
  // An empty range still needs a (row-less) FROM item.
  if (parts.length === 0) parts.push(`SELECT signature, os_name, count FROM signature_platform_daily WHERE 1 = 0`);
  return `(${parts.join(' UNION ALL ')}) AS counts`;
}

async function rankSignatures(d: SqlDialect, run: RunQuery, source: AggregateSource, range: { from: number; to: number }, slice: Slice): Promise<{ total: number; ranked: Ranked[] }> {
  const p = new Params(d);
  const sql =
    source === 'raw'
      ? `SELECT COALESCE(signature, '') AS signature, COALESCE(os_name, '') AS os_name, COUNT(*) AS n FROM crashes ${sliceWhere(p, source, range, slice)} GROUP BY COALESCE(signature, ''), COALESCE(os_name, '')`
      : platformSlice(slice)
        ? `SELECT signature, os_name, SUM(count) AS n FROM ${platformCounts(p, range, slice)} GROUP BY signature, os_name`
        : `SELECT signature, os_name, SUM(count) AS n FROM signature_daily ${sliceWhere(p, source, range, slice)} GROUP BY signature, os_name`;
  const bySignature = new Map<string, Ranked>();
  let total = 0;
  for (const row of await run(sql, p.values)) {
    const signature = String(row.signature);
    const n = Number(row.n);
    total += n;
    let entry = bySignature.get(signature);
    if (!entry) bySignature.set(signature, (entry = { signature, count: 0, platforms: {} }));
    entry.count += n;
    const platform = String(row.os_name);
    entry.platforms[platform] = (entry.platforms[platform] ?? 0) + n;
  }
  const ranked = [...bySignature.values()].sort((a, b) => b.count - a.count || (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return { total, ranked };
}

async function firstSeenDays(d: SqlDialect, run: RunQuery, source: AggregateSource, signatures: readonly string[]): Promise<Map<string, number>> {
  const firstSeen = new Map<string, number>();
  if (source === 'daily') {
    // One index seek per signature (MIN over the (signature, day) index), rather than a
    // GROUP BY that reads every day row of every listed signature.
    for (let i = 0; i < signatures.length; i += 500) {
      const chunk = signatures.slice(i, i + 500);
      const p = new Params(d);
      const values = chunk.map((s) => `(${p.add(s)})`).join(', ');
      const sql = `SELECT v.column1 AS signature, (SELECT MIN(day) FROM signature_platform_daily AS s WHERE s.signature = v.column1) AS first FROM (VALUES ${values}) AS v`;
      for (const row of await run(sql, p.values)) if (row.first !== null && row.first !== undefined) firstSeen.set(String(row.signature), Math.floor(Number(row.first)));
    }
    return firstSeen;
  }
  const named = signatures.filter((s) => s !== '');
  for (let i = 0; i < named.length; i += 500) {
    const chunk = named.slice(i, i + 500);
    const p = new Params(d);
    const sql = `SELECT signature, MIN(submitted_at) / ${DAY_MS} AS first FROM crashes WHERE signature IN (${p.list(chunk)}) GROUP BY signature`;
    for (const row of await run(sql, p.values)) firstSeen.set(String(row.signature), Math.floor(Number(row.first)));
  }
  if (signatures.includes('')) {
    const sql = `SELECT MIN(submitted_at) / ${DAY_MS} AS first FROM crashes WHERE signature IS NULL OR signature = ''`;
    const first = (await run(sql, []))[0]?.first;
    if (first !== null && first !== undefined) firstSeen.set('', Math.floor(Number(first)));
  }
  return firstSeen;
}

export async function topCrashers(d: SqlDialect, run: RunQuery, query: TopCrashersQuery, source: AggregateSource): Promise<TopCrashersResult> {
  const range = days(query.range);
  const length = range.to - range.from;
  const previousRange = { from: range.from - length, to: range.from };
  const [current, previous] = [await rankSignatures(d, run, source, range, query), await rankSignatures(d, run, source, previousRange, query)];
  const top = current.ranked.slice(0, limitNumber(query.limit, 'limit', 10_000));
  const previousRanks = new Map(previous.ranked.map((r, i) => [r.signature, { rank: i + 1, count: r.count }]));
  const firstSeen = await firstSeenDays(d, run, source, top.map((r) => r.signature));
  const crashers: TopCrasher[] = top.map((r, i) => {
    const before = previousRanks.get(r.signature);
    const first = firstSeen.get(r.signature) ?? range.from;
    return {
      rank: i + 1,
      previousRank: before?.rank ?? null,
      signature: r.signature === '' ? null : r.signature,
      count: r.count,
      share: current.total > 0 ? r.count / current.total : 0,
      previousCount: before?.count ?? 0,
      previousShare: previous.total > 0 ? (before?.count ?? 0) / previous.total : 0,
      platforms: r.platforms,
      firstSeen: first * DAY_MS,
      isNew: first >= range.from,
    };
  });
  return { total: current.total, previousTotal: previous.total, crashers };
}

const DAILY_FACETS: ReadonlySet<string> = new Set<string>(DAILY_DIMENSIONS);
/** The facets `signature_facet_daily` counts (see `SIGNATURE_FACET_DAILY`). */
const SIGNATURE_FACETS: ReadonlySet<string> = new Set(['cpu_arch', 'reason']);

export async function signatureSummary(d: SqlDialect, run: RunQuery, query: SignatureQuery, source: AggregateSource): Promise<SignatureSummary> {
  const range = days(query.range);
  const slice: Slice = { signature: query.signature, product: query.product };
  const specs = query.facets.map((name) => resolveField(d, name, query.allowProtected));
  const size = limitNumber(query.facetsSize, 'facetsSize', SEARCH_LIMITS.maxFacetSize);

  const p = new Params(d);
  const perDaySql =
    source === 'daily'
      ? `SELECT day, SUM(count) AS n FROM signature_platform_daily ${sliceWhere(p, source, range, slice)} GROUP BY day`
      : `SELECT submitted_at / ${DAY_MS} AS day, COUNT(*) AS n FROM crashes ${sliceWhere(p, source, range, slice)} GROUP BY submitted_at / ${DAY_MS}`;
  // An empty range asks only for first and last seen (top crashers ask that of up to 300 signatures): no per-day query.
  const counts = new Map(range.to > range.from ? (await run(perDaySql, p.values)).map((row) => [Math.floor(Number(row.day)), Number(row.n)]) : []);
  const perDay: { day: number; count: number }[] = [];
  for (let day = range.from; day < range.to; day++) perDay.push({ day: day * DAY_MS, count: counts.get(day) ?? 0 });
  const total = perDay.reduce((sum, entry) => sum + entry.count, 0);

  const seenParams = new Params(d);
  const seenSql =
    source === 'daily'
      ? `SELECT MIN(day) AS first, MAX(day) AS last FROM signature_platform_daily WHERE signature = ${seenParams.add(query.signature)}`
      : `SELECT MIN(submitted_at) / ${DAY_MS} AS first, MAX(submitted_at) / ${DAY_MS} AS last FROM crashes WHERE signature = ${seenParams.add(query.signature)}`;
  const seen = (await run(seenSql, seenParams.values))[0] ?? {};
  const dayOf = (v: unknown): number | null => (v === null || v === undefined ? null : Math.floor(Number(v)) * DAY_MS);

  const facets: Record<string, FacetBucket[]> = {};
  const budget = new BucketBudget();
  const rawConditions = whereOf(d, {
    allowProtected: query.allowProtected,
    filters: [
      { field: 'signature', operator: 'is', values: [query.signature], negated: false },
      { field: 'submitted_timestamp', operator: 'gte', values: [range.from * DAY_MS], negated: false },
      { field: 'submitted_timestamp', operator: 'lt', values: [range.to * DAY_MS], negated: false },
      ...(query.product !== undefined ? [{ field: 'product', operator: 'is' as const, values: [query.product], negated: false }] : []),
    ],
  });
  for (const spec of specs) {
    if (source === 'daily' && (DAILY_FACETS.has(spec.name) || SIGNATURE_FACETS.has(spec.name))) {
      const fp = new Params(d);
      // Platform and product counts have a narrower rollup of their own, CPU and reason one keyed by signature.
      const table = SIGNATURE_FACETS.has(spec.name) ? 'signature_facet_daily' : spec.name === 'os_name' || spec.name === 'product' ? 'signature_platform_daily' : 'signature_daily';
      const sql = `SELECT ${spec.name} AS term, SUM(count) AS n FROM ${table} ${sliceWhere(fp, source, range, slice)} AND ${spec.name} <> '' GROUP BY ${spec.name} ORDER BY n DESC, term ASC LIMIT ${size}`;
      facets[spec.name] = (await run(sql, fp.values)).map((row) => ({ term: String(row.term), count: Number(row.n) }));
    } else {
      facets[spec.name] = (await runAggregation({ d, run, conditions: rawConditions, budget }, { kind: 'terms', field: spec.name, size }, total)) as FacetBucket[];
    }
  }
  return { total, firstSeen: dayOf(seen.first), lastSeen: dayOf(seen.last), perDay, facets };
}

export async function productVersions(run: RunQuery): Promise<ProductVersion[]> {
  const rows = await run(
    `SELECT product, version, SUM(count) AS n, MIN(day) AS first, MAX(day) AS last FROM product_version_daily WHERE product <> '' GROUP BY product, version ORDER BY last DESC, product ASC, version DESC`,
    [],
  );
  return rows.map((row) => ({
    product: String(row.product),
    version: row.version === '' || row.version === null ? null : String(row.version),
    count: Number(row.n),
    firstSeen: Number(row.first) * DAY_MS,
    lastSeen: Number(row.last) * DAY_MS,
  }));
}

/** The ids a retention rule lets go of (see `RetentionQuery`), in id order. */
export async function retentionCrashIds(d: SqlDialect, run: RunQuery, query: RetentionQuery): Promise<string[]> {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return d.placeholder(params.length);
  };
  const where = [`submitted_at < ${p(query.before)}`];
  if (query.from !== undefined) where.push(`submitted_at >= ${p(query.from)}`);
  if (query.product !== undefined) where.push(`COALESCE(product, '') = ${p(query.product)}`);
  for (const product of query.exceptProducts ?? []) where.push(`COALESCE(product, '') <> ${p(product)}`);
  if (query.afterId !== undefined) where.push(`crash_id > ${p(query.afterId)}`);
  const rows = await run(`SELECT crash_id FROM crashes WHERE ${where.join(' AND ')} ORDER BY crash_id LIMIT ${p(query.limit)}`, params);
  return rows.map((row) => String(row.crash_id));
}
