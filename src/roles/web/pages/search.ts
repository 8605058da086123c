import type { FacetResult, SearchResult } from '../../../ports/crash-index.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../../schema/field-catalog.js';
import { barList } from '../charts.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';
import { DEFAULT_COLUMNS, type QueryParams } from '../super-search-params.js';
import { DAY_MS, queryString, signatureLink, superSearchContext } from './format.js';

/**
 * The Super Search page. Its URL holds Socorro's own Super Search parameters
 * (`signature=~foo&_facets=version&_columns=...`), so a page URL and an
 * `/api/SuperSearch/` URL say the same thing. The form adds two conveniences that are
 * turned into those parameters: filter rows (`f`, `op`, `v`, one triple per row, since
 * an HTML form cannot name a parameter after a field chosen in a select) and `days`
 * (a lower date bound when the search names no date).
 */

/** The operators a filter row offers: the Super Search value prefix each stands for. */
export const OPERATORS: readonly { prefix: string; label: string; takesValue: boolean }[] = [
  { prefix: '', label: 'has terms', takesValue: true },
  { prefix: '=', label: 'is', takesValue: true },
  { prefix: '!=', label: 'is not', takesValue: true },
  { prefix: '~', label: 'contains', takesValue: true },
  { prefix: '!~', label: 'does not contain', takesValue: true },
  { prefix: '^', label: 'starts with', takesValue: true },
  { prefix: '!^', label: 'does not start with', takesValue: true },
  { prefix: '$', label: 'ends with', takesValue: true },
  { prefix: '@', label: 'matches regex', takesValue: true },
  { prefix: '!@', label: 'does not match regex', takesValue: true },
  { prefix: '>', label: '>', takesValue: true },
  { prefix: '>=', label: '≥', takesValue: true },
  { prefix: '<', label: '<', takesValue: true },
  { prefix: '<=', label: '≤', takesValue: true },
  { prefix: '!__null__', label: 'exists', takesValue: false },
  { prefix: '__null__', label: 'is missing', takesValue: false },
  { prefix: '__true__', label: 'is true', takesValue: false },
];

// Longest first, so that "!=" wins over "!" and ">=" over ">".
const PREFIXES = [...OPERATORS.map((o) => o.prefix).filter((p) => p !== ''), '!'].sort((a, b) => b.length - a.length);

export interface FilterRow {
  field: string;
  /** One of `OPERATORS`' prefixes (or `!` for "none of these terms"). */
  op: string;
  value: string;
}

/** Splits a Super Search value into its operator prefix and the rest. */
export function splitValue(value: string): { op: string; value: string } {
  const prefix = PREFIXES.find((p) => value.startsWith(p));
  if (prefix === '__null__' || prefix === '!__null__' || prefix === '__true__') return { op: prefix, value: '' };
  return prefix ? { op: prefix, value: value.slice(prefix.length) } : { op: '', value };
}

export interface SearchState {
  rows: FilterRow[];
  /** What goes to `parseSuperSearch`. */
  params: QueryParams;
  days: number;
  columns: string[];
  facets: string[];
  sort: string;
  limit: number;
  offset: number;
}

function list(raw: string | string[] | undefined): string[] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function each(raw: string | string[] | undefined): string[] {
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The page's state from its URL: filter rows from both the rows and plain field parameters. */
export function searchState(query: QueryParams, now: number): SearchState {
  const rows: FilterRow[] = [];
  const fieldsIn = each(query.f);
  const opsIn = each(query.op);
  const valuesIn = each(query.v);
  fieldsIn.forEach((field, i) => {
    const op = opsIn[i] ?? '';
    const value = valuesIn[i] ?? '';
    const takesValue = OPERATORS.find((o) => o.prefix === op)?.takesValue ?? true;
    if (field && (!takesValue || value !== '')) rows.push({ field, op, value: takesValue ? value : '' });
  });
  for (const [key, raw] of Object.entries(query)) {
    if (key.startsWith('_') || ['f', 'op', 'v', 'days', 'page'].includes(key)) continue;
    for (const value of each(raw)) if (value !== '') rows.push({ field: key, ...splitValue(value) });
  }
  const days = Math.min(365, Math.max(1, Number.parseInt(String(each(query.days)[0] ?? ''), 10) || 7));

  const params: QueryParams = {};
  for (const row of rows) {
    const value = row.op === '__null__' || row.op === '!__null__' || row.op === '__true__' ? row.op : `${row.op}${row.value}`;
    // Pushed, not copied: a URL with thousands of rows must not cost their square.
    const existing = params[row.field];
    if (Array.isArray(existing)) existing.push(value);
    else params[row.field] = [value];
  }
  if (!rows.some((r) => r.field === 'date' || r.field === 'submitted_timestamp')) params.date = [`>=${new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS - days * DAY_MS).toISOString()}`];
  const columns = list(query._columns);
  const facets = list(query._facets);
  const sort = list(query._sort).join(',');
  const limit = Math.min(500, Math.max(1, Number.parseInt(String(each(query._results_number)[0] ?? ''), 10) || 50));
  const offset = Math.max(0, Number.parseInt(String(each(query._results_offset)[0] ?? ''), 10) || 0);
  if (columns.length) params._columns = columns;
  params._facets = facets.length ? facets : ['signature'];
  if (sort) params._sort = sort;
  params._results_number = String(limit);
  params._results_offset = String(offset);
  return { rows, params, days, columns, facets: facets.length ? facets : ['signature'], sort, limit, offset };
}

/** The URL parameters of the state, in Socorro's form (rows become `field=prefixvalue`). */
function stateParams(state: SearchState, override: { offset?: number } = {}): Record<string, string | string[] | number | undefined> {
  const out: Record<string, string | string[] | number | undefined> = {};
  const byField = new Map<string, string[]>();
  for (const row of state.rows) {
    const value = row.op === '__null__' || row.op === '!__null__' || row.op === '__true__' ? row.op : `${row.op}${row.value}`;
    const values = byField.get(row.field);
    if (values) values.push(value);
    else byField.set(row.field, [value]);
  }
  for (const [field, values] of byField) out[field] = values;
  out.days = state.days === 7 ? undefined : state.days;
  out._columns = state.columns.length ? state.columns.join(',') : undefined;
  out._facets = state.facets.join(',');
  out._sort = state.sort || undefined;
  out._results_number = state.limit === 50 ? undefined : state.limit;
  const offset = override.offset ?? state.offset;
  out._results_offset = offset || undefined;
  return out;
}

export interface SearchView {
  state: SearchState;
  /** The viewer may see protected fields: they are offered in the form only then. */
  canViewProtected: boolean;
  /** The node's fields, declared ones included (default: built-in only). */
  fields?: FieldCatalog;
  result?: SearchResult;
  error?: string;
}

export function searchPage(view: SearchView): string {
  const { state, result } = view;
  const fields = (view.fields ?? DEFAULT_FIELD_CATALOG).searchable.filter((f) => !f.protected || view.canViewProtected).map((f) => f.name);
  const fieldNames = ['date', ...fields.filter((f) => f !== 'submitted_timestamp')];
  const rows = [...state.rows, { field: '', op: '', value: '' }, { field: '', op: '', value: '' }].slice(0, Math.max(3, state.rows.length + 1));
  const columns = state.columns.length ? state.columns : DEFAULT_COLUMNS;
  const body = html`<h1>Super Search ${result ? html`<span class="badge" id="search-total">${result.total} crashes</span>` : ''}</h1>
  <div class="card"><form method="get" action="/search/" id="search-form">
    <datalist id="fields">${fieldNames.map((f) => html`<option value="${f}">`)}</datalist>
    <div id="filter-rows">${rows.map(
      (row) => html`<div class="filters" style="margin-bottom:6px">
      <input name="f" list="fields" placeholder="field" value="${row.field}" aria-label="Field">
      <select name="op" aria-label="Operator">${OPERATORS.map((o) => html`<option value="${o.prefix}" ${o.prefix === row.op ? 'selected' : ''}>${o.label}</option>`)}${
        row.op === '!' ? html`<option value="!" selected>has none of</option>` : ''
      }</select>
      <input name="v" placeholder="value" value="${row.value}" aria-label="Value" style="min-width:320px">
    </div>`,
    )}</div>
    <div class="filters" style="margin-top:10px">
      <label>Last <select name="days">${[1, 3, 7, 14, 28, 90, 365].map((d) => html`<option value="${d}" ${d === state.days ? 'selected' : ''}>${d} days</option>`)}</select></label>
      <label>Columns <input name="_columns" list="fields" value="${columns.join(',')}" style="min-width:300px"></label>
      <label>Facets <input name="_facets" value="${state.facets.join(',')}"></label>
      <label>Sort <input name="_sort" value="${state.sort}" placeholder="-date"></label>
      <label>Per page <select name="_results_number">${[25, 50, 100, 200].map((n) => html`<option ${n === state.limit ? 'selected' : ''}>${n}</option>`)}</select></label>
      <button type="submit">Search</button>
    </div>
  </form>
  <div class="muted" style="margin-top:8px">Same parameters as <a href="/api/SuperSearch/${queryString(stateParams(state))}">/api/SuperSearch/</a>. Several values of one field mean any of them; filters on different fields must all match. Dates default to the last ${state.days} days. Every field, its type and meaning: <a href="/documentation/datadictionary/">the data dictionary</a>.</div></div>
  ${view.error ? html`<div class="card" id="search-error"><span class="badge err">error</span> ${view.error}</div>` : ''}
  ${result ? results(view, columns) : ''}`;
  return page('Super Search', body);
}

function results(view: SearchView, columns: string[]): Html {
  const { state } = view;
  const result = view.result!;
  const facets = Object.entries(result.facets);
  const narrow = (field: string, term: unknown): string => {
    const rows = [...state.rows, { field, op: term === null ? '__null__' : '=', value: term === null ? '' : String(term) }];
    return `/search/${queryString(stateParams({ ...state, rows }, { offset: 0 }))}`;
  };
  return html`<div style="display:grid;grid-template-columns:minmax(0,3fr) minmax(260px,1fr);gap:16px;align-items:start">
  <div>${
    result.hits.length === 0
      ? html`<div class="card empty">No crashes match.</div>`
      : html`<table id="search-results"><thead><tr>${columns.map((c) => html`<th>${sortLink(state, c)}</th>`)}</tr></thead><tbody>${result.hits.map(
          (hit) => html`<tr>${columns.map((c) => html`<td class="${c === 'signature' ? 'ellip' : ''}">${cell(c, hit[c], state)}</td>`)}</tr>`,
        )}</tbody></table>`
  }
  <div class="pager">${state.offset > 0 ? html`<a href="/search/${queryString(stateParams(state, { offset: Math.max(0, state.offset - state.limit) }))}">← previous</a>` : ''}
    <span class="muted">${result.total === 0 ? '' : `${state.offset + 1}–${Math.min(result.total, state.offset + state.limit)} of ${result.total}`}</span>
    ${state.offset + state.limit < result.total ? html`<a href="/search/${queryString(stateParams(state, { offset: state.offset + state.limit }))}">next →</a>` : ''}</div></div>
  <div id="facets">${facets.map(([name, facet]) => html`<div class="card" data-facet="${name}"><h3 style="margin:0 0 6px">${name}</h3>${facetBody(name, facet, narrow, result.total)}</div>`)}</div>
  </div>`;
}

function facetBody(name: string, facet: FacetResult, narrow: (field: string, term: unknown) => string, total: number): Html {
  if (!Array.isArray(facet)) return html`<div class="big">${facet.value}</div>`;
  const isTerms = !name.startsWith('histogram_');
  return barList(
    facet.map((b) => ({ label: b.term === null ? '(none)' : String(b.term), count: b.count, href: isTerms ? narrow(name, b.term) : undefined })),
    { total },
  );
}

function sortLink(state: SearchState, column: string): Html {
  const current = state.sort.split(',')[0] ?? '';
  const next = current === `-${column}` ? column : `-${column}`;
  const arrow = current === column ? ' ▲' : current === `-${column}` ? ' ▼' : '';
  return html`<a href="/search/${queryString(stateParams({ ...state, sort: next }, { offset: 0 }))}" style="color:inherit">${column}${arrow}</a>`;
}

function cell(column: string, value: unknown, state: SearchState): Html | string {
  if (value === null || value === undefined) return '';
  if (column === 'uuid') return html`<a class="mono" href="/report/index/${String(value)}">${String(value).slice(0, 8)}…</a>`;
  // The signature page keeps the search's filters and range.
  if (column === 'signature') return signatureLink(String(value), superSearchContext(state.rows, state.days));
  if (column === 'date' || column.endsWith('_timestamp') || column === 'date_processed') return String(value).replace('T', ' ').slice(0, 19);
  return Array.isArray(value) ? value.join(', ') : String(value);
}
