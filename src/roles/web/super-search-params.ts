import { SEARCH_LIMITS, aggregationShape, type Aggregation, type SearchFilter, type SearchOperator, type SearchQuery, type SearchSort } from '../../ports/crash-index.js';
import type { FieldSpec } from '../../schema/processed-crash.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';

/**
 * Socorro's Super Search parameters, turned into a crash index query. Field filters use
 * Socorro's value prefixes: `!` negates; strings take `=` (is), `~` (contains), `^`
 * (starts with), `$` (ends with), `@` (regex); numbers and dates take `>`, `>=`, `<`,
 * `<=`; booleans `__true__`; any field `__null__` (missing; `!__null__` exists). Values
 * without an operator mean "any of these" (one filter per negation, as Socorro stacks
 * them). Like Socorro, a search without a date range covers the last 7 days, and `date`
 * needs an operator.
 *
 * Protected fields are checked here, before anything runs: a viewer without the
 * permission who names one anywhere (filter, column, sort, facet, aggregation, histogram)
 * gets a refusal, never a result shaped by protected data.
 *
 * So are the bounds on work (`SEARCH_LIMITS`: facets and aggregations, their nesting,
 * `_facets_size`, regular expressions), with a 400 naming the limit. Dates are clamped to
 * years 1970 to 9999 (no crash is older than the epoch), so an absurd bound means "no
 * bound" rather than arithmetic on huge numbers. A parameter that takes one value
 * (`_results_number`, `_facets_size`, `_histogram_interval.*`, ...) uses the first when
 * repeated; field filters and list parameters use every value.
 */

/** Socorro's field names that differ from the processed crash's. */
export const FIELD_ALIASES: Readonly<Record<string, string>> = { date: 'submitted_timestamp' };

export const DEFAULT_COLUMNS = ['uuid', 'date', 'signature', 'product', 'version'];
const DEFAULT_FACETS = ['signature'];
const DEFAULT_DATE_RANGE_MS = 7 * 86_400_000;
/** The last millisecond of year 9999, the largest date Super Search compares with. */
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export class SuperSearchParamError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403,
  ) {
    super(message);
    this.name = 'SuperSearchParamError';
  }
}

export interface ParsedSuperSearch {
  query: SearchQuery;
  /** Canonical field name -> the name the caller used, to answer under its names. */
  requestedNames: Map<string, string>;
}

export type QueryParams = Record<string, string | string[] | undefined>;

/** Hits under the names the caller used (Socorro's `date`, not `submitted_timestamp`). */
export function hitsUnderRequestedNames(hits: readonly Record<string, unknown>[], requestedNames: ReadonlyMap<string, string>): Record<string, unknown>[] {
  return hits.map((hit) => Object.fromEntries(Object.entries(hit).map(([name, value]) => [requestedNames.get(name) ?? name, value])));
}

/** The searchable field a Super Search name stands for (aliases resolved), if any, among the catalog's. */
export function superSearchField(name: string, catalog: FieldCatalog = DEFAULT_FIELD_CATALOG): FieldSpec | undefined {
  return catalog.searchableField(Object.hasOwn(FIELD_ALIASES, name) ? FIELD_ALIASES[name] : name);
}

function values(raw: string | string[] | undefined): string[] {
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** List parameters accept repeated keys and comma-separated values alike. */
function listValues(raw: string | string[] | undefined): string[] {
  return values(raw)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function integer(raw: string | string[] | undefined, name: string, fallback: number, max: number): number {
  const all = values(raw);
  if (all.length === 0 || all[0] === '') return fallback;
  const n = Number(all[0]);
  if (!Number.isInteger(n) || n < 0) throw new SuperSearchParamError(`${name} must be a non-negative integer`, 400);
  if (n > max) throw new SuperSearchParamError(`${name} cannot be greater than ${max.toLocaleString('en')}`, 400);
  return n;
}

const STRING_PREFIXES: [string, SearchOperator][] = [
  ['__null__', 'missing'],
  ['=', 'is'],
  ['~', 'contains'],
  ['^', 'starts_with'],
  ['$', 'ends_with'],
  ['@', 'regex'],
];
// Longest first: ">=" must win over ">".
const NUMBER_PREFIXES: [string, SearchOperator][] = [
  ['__null__', 'missing'],
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['>', 'gt'],
  ['<', 'lt'],
];
const BOOLEAN_PREFIXES: [string, SearchOperator][] = [
  ['__null__', 'missing'],
  ['__true__', 'true'],
];

function prefixesOf(spec: FieldSpec): [string, SearchOperator][] {
  if (spec.type === 'integer' || spec.type === 'number' || spec.type === 'date') return NUMBER_PREFIXES;
  if (spec.type === 'boolean') return BOOLEAN_PREFIXES;
  return STRING_PREFIXES;
}

function typed(spec: FieldSpec, name: string, value: string): string | number | boolean {
  switch (spec.type) {
    case 'date': {
      const ms = Date.parse(value);
      if (!Number.isFinite(ms)) throw new SuperSearchParamError(`Bad value for parameter ${name}: not a valid date: "${value}"`, 400);
      return Math.min(MAX_DATE_MS, Math.max(0, ms));
    }
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new SuperSearchParamError(`Bad value for parameter ${name}: not a valid number: "${value}"`, 400);
      return n;
    }
    case 'boolean':
      return ['true', 't', '1', 'y', 'yes'].includes(value.toLowerCase());
    default:
      return value;
  }
}

function parseFilters(name: string, spec: FieldSpec, raw: string[]): SearchFilter[] {
  const filters: SearchFilter[] = [];
  // Values without an operator are stacked into one filter per negation flag.
  const stacked: Record<'plain' | 'negated', (string | number | boolean)[]> = { plain: [], negated: [] };
  for (const original of raw) {
    let value = original;
    const negated = value.startsWith('!');
    if (negated) value = value.slice(1);
    const prefix = prefixesOf(spec).find(([p]) => value.startsWith(p));
    if (!prefix) {
      if (spec.type === 'date') throw new SuperSearchParamError(`${name} must have a prefix operator (>, >=, <, <=)`, 400);
      stacked[negated ? 'negated' : 'plain'].push(typed(spec, name, value));
      continue;
    }
    const [text, operator] = prefix;
    value = value.slice(text.length);
    const filterValues = operator === 'missing' || operator === 'true' ? [] : [typed(spec, name, value)];
    filters.push({ field: spec.name, operator, values: filterValues, negated });
  }
  if (stacked.plain.length > 0) filters.push({ field: spec.name, operator: 'has', values: stacked.plain, negated: false });
  if (stacked.negated.length > 0) filters.push({ field: spec.name, operator: 'has', values: stacked.negated, negated: true });
  return filters;
}

/** Histogram intervals: dates take `day`, `week`, `hour`, `minute` or `<n>d`/`<n>h`/`<n>m`; integers a positive number. */
function parseInterval(spec: FieldSpec, raw: string | undefined): number {
  if (spec.type !== 'date') {
    const n = raw === undefined || raw === '' ? 1 : Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new SuperSearchParamError(`histogram interval for ${spec.name} must be a positive integer`, 400);
    return n;
  }
  const named: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
  const text = raw === undefined || raw === '' ? 'day' : raw;
  if (named[text] !== undefined) return named[text];
  const match = /^(\d+)([mhdw])$/.exec(text);
  if (!match || Number(match[1]) <= 0) throw new SuperSearchParamError(`histogram interval "${text}" is not one of minute, hour, day, week or <n>m/h/d/w`, 400);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

export interface SuperSearchOptions {
  canViewProtected: boolean;
  now: number;
  /** The node's fields (default: the built-in ones). */
  fields?: FieldCatalog;
}

export function parseSuperSearch(params: QueryParams, options: SuperSearchOptions): ParsedSuperSearch {
  const catalog = options.fields ?? DEFAULT_FIELD_CATALOG;
  const requestedNames = new Map<string, string>();
  const field = (name: string, where: string): FieldSpec => {
    const spec = superSearchField(name, catalog);
    if (!spec) throw new SuperSearchParamError(`Unknown field "${name}" in ${where}`, 400);
    if (spec.protected && !options.canViewProtected) throw new SuperSearchParamError(`Field "${name}" is protected: it needs the view_protected permission`, 403);
    if (!requestedNames.has(spec.name)) requestedNames.set(spec.name, name);
    return spec;
  };

  const filters: SearchFilter[] = [];
  for (const [key, raw] of Object.entries(params)) {
    if (key.startsWith('_') || raw === undefined) continue;
    const spec = field(key, 'filters');
    for (const filter of parseFilters(key, spec, values(raw).filter((v) => v !== ''))) filters.push(filter);
  }
  const filterValues = filters.reduce((n, f) => n + f.values.length, 0);
  if (filterValues > SEARCH_LIMITS.maxFilterValues) throw new SuperSearchParamError(`Too many filter values: ${filterValues}; at most ${SEARCH_LIMITS.maxFilterValues} per search`, 400);

  // Socorro's date defaults: one lower and one upper bound, at most 7 days apart by default.
  const dateFilters = filters.filter((f) => f.field === 'submitted_timestamp' && !f.negated);
  const upper = dateFilters.filter((f) => f.operator === 'lt' || f.operator === 'lte');
  const lower = dateFilters.filter((f) => f.operator === 'gt' || f.operator === 'gte');
  if (upper.length === 0) filters.push({ field: 'submitted_timestamp', operator: 'lte', values: [options.now], negated: false });
  if (lower.length === 0) {
    let top = upper.length > 0 ? Infinity : options.now;
    for (const f of upper) top = Math.min(top, Number(f.values[0]));
    filters.push({ field: 'submitted_timestamp', operator: 'gte', values: [top - DEFAULT_DATE_RANGE_MS], negated: false });
  }

  const columnNames = params._columns === undefined ? DEFAULT_COLUMNS.filter((c) => !superSearchField(c, catalog)?.protected || options.canViewProtected) : listValues(params._columns);
  const columns = columnNames.map((name) => field(name, '_columns').name);

  const sort: SearchSort[] = listValues(params._sort).map((value) => {
    const descending = value.startsWith('-');
    return { field: field(descending ? value.slice(1) : value, '_sort').name, descending };
  });

  const facetsSize = integer(params._facets_size, '_facets_size', 50, SEARCH_LIMITS.maxFacetSize);
  const intervals = new Map<string, number>();
  const histogram = (name: string, sub: Aggregation[]): Aggregation => {
    const spec = field(name, '_histogram');
    if (spec.type !== 'date' && spec.type !== 'integer') throw new SuperSearchParamError(`histograms need a date or integer field, not "${name}"`, 400);
    let interval = intervals.get(spec.name);
    if (interval === undefined) {
      interval = parseInterval(spec, values(params[`_histogram_interval.${name}`])[0]);
      intervals.set(spec.name, interval);
    }
    return { kind: 'histogram', field: spec.name, interval, sub };
  };
  /** A facet entry: a field, `_histogram.<field>` or `_cardinality.<field>`, answered under Socorro's names. */
  const facet = (entry: string, sub: Aggregation[] = []): [string, Aggregation] => {
    if (entry.startsWith('_histogram.')) {
      const name = entry.slice('_histogram.'.length);
      return [`histogram_${name}`, histogram(name, sub)];
    }
    if (entry.startsWith('_cardinality.')) {
      const name = entry.slice('_cardinality.'.length);
      return [`cardinality_${name}`, { kind: 'cardinality', field: field(name, '_cardinality').name }];
    }
    const spec = field(entry, '_facets');
    return [entry, { kind: 'terms', field: spec.name, size: facetsSize, sub }];
  };

  const aggregations: Record<string, Aggregation> = {};
  const facetEntries = params._facets === undefined ? DEFAULT_FACETS : listValues(params._facets);
  for (const entry of facetEntries) {
    const [name, aggregation] = facet(entry);
    aggregations[name] = aggregation;
  }
  for (const [key, raw] of Object.entries(params)) {
    const subs = (): Aggregation[] => listValues(raw).map((entry) => facet(entry)[1]);
    if (key.startsWith('_aggs.')) {
      // Socorro's `_aggs.a.b=c` nests c under b under a.
      const path = key.slice('_aggs.'.length).split('.');
      let aggregation: Aggregation = facet(path[path.length - 1]!, subs())[1];
      for (let i = path.length - 2; i >= 0; i--) aggregation = facet(path[i]!, [aggregation])[1];
      aggregations[path[0]!] = aggregation;
    } else if (key.startsWith('_histogram.')) {
      const name = key.slice('_histogram.'.length);
      aggregations[`histogram_${name}`] = histogram(name, subs());
    }
  }
  if (facetsSize === 0) for (const key of Object.keys(aggregations)) delete aggregations[key];
  const { count, depth } = aggregationShape(Object.values(aggregations));
  if (count > SEARCH_LIMITS.maxAggregations) {
    throw new SuperSearchParamError(`Too many facets and aggregations: ${count}, nested ones included; at most ${SEARCH_LIMITS.maxAggregations} per search`, 400);
  }
  if (depth > SEARCH_LIMITS.maxAggregationDepth) throw new SuperSearchParamError(`Aggregations nest ${depth} levels deep; at most ${SEARCH_LIMITS.maxAggregationDepth}`, 400);
  const regexes = filters.reduce((n, f) => n + (f.operator === 'regex' ? f.values.length : 0), 0);
  if (regexes > SEARCH_LIMITS.maxRegexFilters) throw new SuperSearchParamError(`Too many regular expressions: ${regexes}; at most ${SEARCH_LIMITS.maxRegexFilters} per search`, 400);

  return {
    query: {
      filters,
      columns,
      sort,
      limit: integer(params._results_number, '_results_number', 100, 1000),
      offset: integer(params._results_offset, '_results_offset', 0, 1_000_000),
      aggregations,
      allowProtected: options.canViewProtected,
    },
    requestedNames,
  };
}

/**
 * Socorro's SuperSearchFields entry for every searchable field of the catalog, declared
 * ones included. Beside Socorro's keys: `type` (the field's type), `is_protected`,
 * `is_custom` (declared in the configuration) and `source_annotations`.
 */
export function superSearchFieldsDocument(catalog: FieldCatalog = DEFAULT_FIELD_CATALOG): Record<string, Record<string, unknown>> {
  const types: Record<FieldSpec['type'], [string, string]> = {
    keyword: ['str', 'string'],
    text: ['str', 'string'],
    list: ['str', 'string'],
    integer: ['int', 'number'],
    number: ['int', 'number'],
    date: ['datetime', 'date'],
    boolean: ['bool', 'bool'],
    object: ['str', 'object'],
  };
  const entry = (name: string, spec: FieldSpec): Record<string, unknown> => {
    const [dataValidationType, queryType] = types[spec.type];
    return {
      name,
      namespace: 'processed_crash',
      in_database_name: spec.name,
      description: spec.description,
      data_validation_type: dataValidationType,
      query_type: queryType,
      form_field_choices: [],
      permissions_needed: spec.protected ? ['crashstats.view_pii'] : [],
      is_exposed: true,
      is_returned: true,
      is_mandatory: false,
      has_full_version: false,
      type: spec.type,
      is_protected: spec.protected,
      is_custom: spec.custom === true,
      source_annotations: spec.annotations ?? [],
    };
  };
  const document: Record<string, Record<string, unknown>> = {};
  for (const spec of catalog.searchable) document[spec.name] = entry(spec.name, spec);
  for (const [alias, target] of Object.entries(FIELD_ALIASES)) document[alias] = entry(alias, catalog.searchableField(target)!);
  return document;
}
