import type { BugLink } from '../../../ports/bug-links.js';
import type { FacetBucket, ProductVersion } from '../../../ports/crash-index.js';
import { OTHER_COLOR, barList, color, timeChart } from '../charts.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';
import { BUG_LINK_STYLE, bugLinkForm, bugLinkList, fileBugLink } from './bug-links.js';
import { DAY_MS, formatDay, queryString, signatureLink, type SignatureContext } from './format.js';

/** The aggregations shown on a signature page unless the viewer picks others (`_facets`), with their titles, in order. */
export const SIGNATURE_FACETS: readonly { field: string; title: string }[] = [
  { field: 'version', title: 'Version' },
  { field: 'os_name', title: 'OS' },
  { field: 'os_pretty_version', title: 'OS version' },
  { field: 'cpu_arch', title: 'CPU' },
  { field: 'process_type', title: 'Process type' },
  { field: 'product', title: 'Product' },
  { field: 'reason', title: 'Crash reason' },
  { field: 'modules_in_stack', title: 'Modules in stack' },
  { field: 'release_channel', title: 'Release channel' },
  { field: 'build_id', title: 'Build id' },
];

/** The signature page's report columns unless the viewer picks others (`_columns`), in Super Search names. */
export const SIGNATURE_REPORT_COLUMNS = ['uuid', 'date', 'product', 'version', 'build_id', 'os_name', 'cpu_arch', 'reason', 'address'];

/** Filters with a field of their own in the page's form; others are listed as carried filters. */
const FORM_FIELDS = ['product', 'version', 'build_id', 'os_name', 'process_type'] as const;
const PLATFORMS = ['Windows NT', 'Mac OS X', 'Linux', 'Android', 'iOS'];
const PROCESS_TYPES = ['parent', 'content', 'gpu', 'plugin', 'utility', 'renderer'];
const RANGES = [3, 7, 14, 28, 90];

/** What the crash index answered for one signature page (see `signature-data.ts`). */
export interface SignatureData {
  signature: string;
  /** Crashes just queued by the Reprocess button (`POST /reprocess` comes back with `reprocessed=N`). */
  reprocessed?: number;
  range: { from: number; to: number; days: number };
  /** Whether the range was given as dates (`from`/`to`) rather than `days`. */
  fixedRange: boolean;
  /** The page's filters in Super Search syntax, by field. */
  filters: Record<string, string[]>;
  split: 'version' | 'build_id';
  /** Aggregation fields, in order. */
  facets: string[];
  /** Report columns, in order. */
  columns: string[];
  /** Super Search `_sort`. */
  sort: string;
  total: number;
  /** Midnight UTC of the first and last day the signature crashed, any time, any product. */
  firstSeen: number | null;
  lastSeen: number | null;
  /** The earliest and latest build id among the crashes the page shows. */
  firstBuild: string | null;
  lastBuild: string | null;
  chart: { name: string; counts: { day: number; count: number }[] }[];
  aggregations: Record<string, FacetBucket[]>;
  reports: { hits: readonly Record<string, unknown>[]; total: number; offset: number; limit: number };
  /** The latest user comments; undefined when the viewer may not see them. */
  comments?: { crashId: string; date: string; version: string | null; buildId: string | null; text: string }[];
  bugs: readonly BugLink[];
  /** Fields the viewer may aggregate and show, in Super Search names. */
  searchableFields: readonly string[];
}

export interface SignatureView extends SignatureData {
  /** For the form's choices. */
  productVersions: readonly ProductVersion[];
  /** This page's path and query, to come back to after a form posts. */
  returnTo: string;
  /** The session's CSRF field for the forms that post. */
  csrf: Html;
  canReprocess: boolean;
  canLinkBugs: boolean;
  bugUrlTemplate?: string;
  newBugUrlTemplate?: string;
  /** This site's origin as the viewer reached it, for the link a filed bug carries back. */
  origin: string;
}

interface PageState {
  filters: Record<string, string[]>;
  split: string;
  facets: string[];
  columns: string[];
  sort: string;
  page?: number;
  range: { days?: number; from?: string; to?: string };
}

const DEFAULT_FACETS = SIGNATURE_FACETS.map((f) => f.field).join(',');

function stateOf(view: SignatureData): PageState {
  const lastDay = view.range.to - DAY_MS;
  return {
    filters: view.filters,
    split: view.split,
    facets: view.facets,
    columns: view.columns,
    sort: view.sort,
    range: view.fixedRange ? { from: formatDay(view.range.from), to: formatDay(lastDay) } : { days: view.range.days },
  };
}

/** A link to this signature's page in another state; defaults are left out so URLs stay short. */
function href(signature: string, state: PageState): string {
  return `/signature/${queryString({
    signature,
    ...state.filters,
    days: state.range.days,
    from: state.range.from,
    to: state.range.to,
    split: state.split === 'version' ? undefined : state.split,
    _facets: state.facets.join(',') === DEFAULT_FACETS ? undefined : state.facets.length === 0 ? '' : state.facets.join(','),
    _columns: state.columns.join(',') === SIGNATURE_REPORT_COLUMNS.join(',') ? undefined : state.columns.join(','),
    _sort: state.sort === '-date' ? undefined : state.sort,
    page: state.page && state.page > 1 ? state.page : undefined,
  })}`;
}

/** Hidden inputs that keep the parts of the state a form does not show. */
function hidden(state: PageState, omit: readonly string[]): Html {
  const inputs: Html[] = [];
  const add = (name: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '' && !omit.includes(name)) inputs.push(html`<input type="hidden" name="${name}" value="${value}">`);
  };
  for (const [field, values] of Object.entries(state.filters)) for (const value of values) add(field, value);
  add('days', state.range.days);
  add('from', state.range.from);
  add('to', state.range.to);
  if (state.split !== 'version') add('split', state.split);
  if (state.facets.join(',') !== DEFAULT_FACETS) for (const facet of state.facets) add('_facets', facet);
  if (state.columns.join(',') !== SIGNATURE_REPORT_COLUMNS.join(',')) add('_columns', state.columns.join(','));
  if (state.sort !== '-date') add('_sort', state.sort);
  return html`${inputs}`;
}

/** A form field's values when it can show them: plain or `=` values, none negated. */
function formValues(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return [];
  const plain = values.map((v) => (v.startsWith('=') ? v.slice(1) : v));
  return values.every((v) => !/^(!|~|\^|\$|@|__null__|__true__|<|>)/.test(v)) ? plain : undefined;
}

/** The context a link from this page to another signature page carries. */
export function contextOf(view: SignatureData): SignatureContext {
  const state = stateOf(view);
  return { filters: view.filters, days: state.range.days, from: state.range.from, to: state.range.to };
}

/**
 * A signature's page, for triage: how often it crashed per day (split by version or
 * build), where (aggregations by any field the viewer picks; each value narrows the
 * page), first and last seen and first and last build, its reports with the columns and
 * order the viewer picks, the users' comments (protected), its bugs, and the actions a
 * viewer may take (link a bug, file one, reprocess its crashes). Every part answers the
 * same filters: the form's and any Super Search filter carried in the URL.
 */
export function signaturePage(view: SignatureView): string {
  const { signature, range } = view;
  const state = stateOf(view);
  const lastDay = range.to - DAY_MS;
  const rangeLabel = view.fixedRange ? `${range.days} days, ${formatDay(range.from)} to ${formatDay(lastDay)}` : `${range.days} days`;
  const formFields = Object.fromEntries(FORM_FIELDS.map((f) => [f, formValues(view.filters[f])]));
  const carried = Object.entries(view.filters).filter(([field]) => !(FORM_FIELDS as readonly string[]).includes(field) || formFields[field] === undefined || (field === 'build_id' && view.filters[field]!.length > 1));
  const without = (field: string): PageState => ({ ...state, filters: Object.fromEntries(Object.entries(state.filters).filter(([f]) => f !== field)) });
  const superSearch = `/search/${queryString({ ...view.filters, signature: `=${signature}`, days: view.fixedRange ? undefined : range.days, date: view.fixedRange ? [`>=${formatDay(range.from)}`, `<${formatDay(range.to)}`] : undefined })}`;

  const body = html`${BUG_LINK_STYLE}<h1 class="mono" id="signature-title" style="word-break:break-all">${signature}</h1>
  <div class="subnav" id="ranges">${RANGES.map((d) => html`<a class="${!view.fixedRange && d === range.days ? 'on' : ''}" href="${href(signature, { ...state, range: { days: d } })}">${d} days</a>`)}
    <a href="${superSearch}">Super Search →</a></div>
  ${view.reprocessed !== undefined ? html`<div class="card" id="reprocessed"><span class="badge ok">queued</span> ${view.reprocessed} crash${view.reprocessed === 1 ? '' : 'es'} of this signature queued for processing again; their new results show here once processed.</div>` : ''}
  ${filterForm(view, state, formFields, carried, without)}
  <div class="stats">
    <div class="card stat"><div class="muted">Crashes (${rangeLabel})</div><div class="big" id="signature-total">${view.total}</div></div>
    <div class="card stat"><div class="muted">First seen <span title="any product, any time">(ever)</span></div><div class="big" id="first-seen">${view.firstSeen === null ? '—' : formatDay(view.firstSeen)}</div></div>
    <div class="card stat"><div class="muted">Last seen</div><div class="big" id="last-seen">${view.lastSeen === null ? '—' : formatDay(view.lastSeen)}</div></div>
    <div class="card stat"><div class="muted">First build <span title="the earliest build id among the crashes shown">(shown)</span></div><div class="big mono" id="first-build">${view.firstBuild ?? '—'}</div></div>
    <div class="card stat"><div class="muted">Last build</div><div class="big mono" id="last-build">${view.lastBuild ?? '—'}</div></div>
  </div>
  ${actions(view, rangeLabel)}
  <div class="card"><h2 style="margin-top:0">Crashes per day <span class="subnav" id="split" style="display:inline-flex;margin:0 0 0 12px;vertical-align:1px">${(['version', 'build_id'] as const).map(
    (s) => html`<a class="${s === view.split ? 'on' : ''}" href="${href(signature, { ...state, split: s })}">by ${s === 'version' ? 'version' : 'build'}</a>`,
  )}</span></h2>
    ${timeChart(
      view.chart.map((s, i) => ({ name: s.name, color: s.name === 'other' && i === view.chart.length - 1 ? OTHER_COLOR : color(i), points: s.counts.map((c) => ({ x: c.day, y: c.count })) })),
      { id: 'signature-chart', height: 170, width: 900 },
    )}</div>
  <h2>Aggregations</h2>
  ${aggregateBy(view, state)}
  <div class="grid2" id="aggregations">${view.facets
    .filter((f) => view.aggregations[f] !== undefined)
    .map(
      (f) => html`<div class="card" data-facet="${f}"><h3 title="${f}">${SIGNATURE_FACETS.find((s) => s.field === f)?.title ?? f} <a class="muted" style="float:right;text-decoration:none" title="Remove this aggregation" href="${href(signature, { ...state, facets: state.facets.filter((x) => x !== f) })}">×</a></h3>${barList(
        (view.aggregations[f] ?? []).map((b) => ({
          label: b.term === null ? '(none)' : String(b.term),
          count: b.count,
          href: href(signature, { ...state, page: undefined, filters: { ...state.filters, [f]: [b.term === null ? '__null__' : `=${String(b.term)}`] } }),
        })),
        { total: view.total },
      )}</div>`,
    )}</div>
  <h2>Reports <span class="badge">${view.reports.total}</span></h2>
  ${reports(view, state)}
  ${view.comments ? comments(view.comments) : ''}`;
  return page(signature, body);
}

function filterForm(
  view: SignatureView,
  state: PageState,
  formFields: Record<string, string[] | undefined>,
  carried: [string, string[]][],
  without: (field: string) => PageState,
): Html {
  const products = [...new Set(view.productVersions.map((pv) => pv.product))].sort();
  const product = formFields.product?.length === 1 ? formFields.product[0] : undefined;
  const chosenVersions = formFields.version ?? [];
  const versions = [...new Set([...chosenVersions, ...view.productVersions.filter((pv) => !product || pv.product === product).map((pv) => pv.version).filter((v): v is string => v !== null)])].slice(0, 60);
  const platforms = [...new Set([...PLATFORMS, ...(formFields.os_name ?? [])])];
  const processTypes = [...new Set([...PROCESS_TYPES, ...(formFields.process_type ?? [])])];
  const select = (name: string, options: readonly string[], chosen: readonly string[], multiple = false): Html =>
    html`<select name="${name}" ${multiple ? html`multiple size="4"` : ''}>${multiple ? '' : html`<option value="">any</option>`}${options.map((o) => html`<option ${chosen.includes(o) ? 'selected' : ''}>${o}</option>`)}</select>`;
  const shown = FORM_FIELDS.filter((f) => formFields[f] !== undefined && !(f === 'build_id' && (view.filters.build_id?.length ?? 0) > 1));
  const keep: PageState = { ...state, filters: Object.fromEntries(Object.entries(state.filters).filter(([f]) => !(shown as readonly string[]).includes(f))), range: {} };
  return html`<div class="card"><form class="filters" method="get" action="/signature/" id="signature-filters">
    <input type="hidden" name="signature" value="${view.signature}">${hidden(keep, [])}
    ${shown.includes('product') ? html`<label>Product ${select('product', products, formFields.product ?? [])}</label>` : ''}
    ${shown.includes('version') ? html`<label title="Ctrl- or Cmd-click for several">Versions ${select('version', versions, chosenVersions, true)}</label>` : ''}
    ${shown.includes('build_id') ? html`<label>Build id <input name="build_id" value="${formFields.build_id?.[0] ?? ''}" placeholder="any" size="16"></label>` : ''}
    ${shown.includes('os_name') ? html`<label>Platform ${select('os_name', platforms, formFields.os_name ?? [])}</label>` : ''}
    ${shown.includes('process_type') ? html`<label>Process type ${select('process_type', processTypes, formFields.process_type ?? [])}</label>` : ''}
    <label>Last <select name="days"><option value="">(dates)</option>${[...new Set([...RANGES, ...(view.fixedRange ? [] : [view.range.days])])].sort((x, y) => x - y).map((d) => html`<option value="${d}" ${!view.fixedRange && d === view.range.days ? 'selected' : ''}>${d} days</option>`)}</select></label>
    <label>or from <input type="date" name="from" value="${state.range.from ?? ''}"></label>
    <label>to <input type="date" name="to" value="${state.range.to ?? ''}"></label>
    <button type="submit">Apply</button>
  </form>
  ${
    carried.length > 0
      ? html`<div class="muted" id="carried-filters" style="margin-top:8px">Also filtered by: ${carried.map(
          ([field, values]) => html`<span class="badge" title="Super Search filter">${field} ${values.join(' or ')} <a href="${href(view.signature, without(field))}" title="Remove this filter" style="text-decoration:none">×</a></span> `,
        )}</div>`
      : ''
  }</div>`;
}

function actions(view: SignatureView, rangeLabel: string): Html {
  const lastDay = view.range.to - DAY_MS;
  const product = view.filters.product?.length === 1 ? view.filters.product[0]!.replace(/^=/, '') : undefined;
  const details = [
    ...(view.firstBuild ? [`First build: ${view.firstBuild}`, `Last build: ${view.lastBuild}`] : []),
    ...(view.aggregations.version?.length ? [`Versions: ${view.aggregations.version.map((b) => `${String(b.term)} (${b.count})`).join(', ')}`] : []),
  ];
  const fileBug = fileBugLink(view.newBugUrlTemplate, { signature: view.signature, url: `${view.origin}${view.returnTo}`, count: view.total, countLabel: `(${rangeLabel})`, details });
  return html`<div class="card" id="bugs"><strong>Bugs</strong> ${bugLinkList(view.bugs, view.bugUrlTemplate, { empty: html`<span class="muted">none linked</span>` })}
    ${fileBug.text ? html` · ${fileBug}` : ''}
    ${view.canLinkBugs ? bugLinkForm({ signature: view.signature, returnTo: view.returnTo, csrf: view.csrf, links: view.bugs }) : ''}
    ${
      view.canReprocess
        ? html`<form method="post" action="/reprocess" id="reprocess-form" class="filters" style="margin-top:10px">${view.csrf}
      <input type="hidden" name="signature" value="${view.signature}">${product && !/^(!|~|\^|\$|@|__)/.test(product) ? html`<input type="hidden" name="product" value="${product}">` : ''}
      <input type="hidden" name="from" value="${formatDay(view.range.from)}"><input type="hidden" name="to" value="${formatDay(lastDay)}">
      <input type="hidden" name="return_to" value="${view.returnTo}">
      <button type="submit" title="Queue every crash of this signature${product ? ` (${product})` : ''} from ${formatDay(view.range.from)} to ${formatDay(lastDay)} for processing again">Reprocess ${formatDay(view.range.from)} – ${formatDay(lastDay)}</button></form>`
        : ''
    }</div>`;
}

function aggregateBy(view: SignatureView, state: PageState): Html {
  const choices = view.searchableFields.filter((f) => !view.facets.includes(f) && f !== 'date');
  return html`<form class="filters" method="get" action="/signature/" id="aggregate-by" style="margin:-4px 0 12px">
    <input type="hidden" name="signature" value="${view.signature}">${hidden(state, ['_facets'])}${view.facets.map((f) => html`<input type="hidden" name="_facets" value="${f}">`)}
    <label>Aggregate by <select name="_facets"><option value="">choose a field</option>${choices.map((f) => html`<option>${f}</option>`)}</select></label><button type="submit">Add</button>
    ${view.facets.join(',') !== DEFAULT_FACETS ? html`<a href="${href(view.signature, { ...state, facets: SIGNATURE_FACETS.map((f) => f.field) })}">defaults</a>` : ''}
  </form>`;
}

function reports(view: SignatureView, state: PageState): Html {
  const { reports: r, signature } = view;
  const pageNumber = Math.floor(r.offset / r.limit) + 1;
  const current = state.sort.split(',')[0] ?? '';
  const header = (column: string): Html => {
    const next = current === `-${column}` ? column : `-${column}`;
    const arrow = current === column ? ' ▲' : current === `-${column}` ? ' ▼' : '';
    return html`<th><a href="${href(signature, { ...state, sort: next, page: undefined })}" style="color:inherit" title="Sort by ${column}">${column}${arrow}</a></th>`;
  };
  const context = contextOf(view);
  const columnsForm = html`<form class="filters" method="get" action="/signature/" id="report-columns" style="margin:-4px 0 10px">
    <input type="hidden" name="signature" value="${signature}">${hidden(state, ['_columns', '_sort'])}
    <datalist id="signature-fields">${view.searchableFields.map((f) => html`<option value="${f}">`)}</datalist>
    <label>Columns <input name="_columns" list="signature-fields" value="${view.columns.join(',')}" size="60"></label>
    <label>Sort <input name="_sort" value="${view.sort}" size="14"></label><button type="submit">Show</button></form>`;
  if (r.hits.length === 0) return html`${columnsForm}<div class="card empty">No reports match.</div>`;
  return html`${columnsForm}<div class="table-scroll"><table id="reports"><thead><tr><th>Crash</th>${view.columns.filter((c) => c !== 'uuid').map(header)}</tr></thead><tbody>${r.hits.map(
    (h) => html`<tr><td class="mono"><a href="/report/index/${String(h.uuid)}">${String(h.uuid).slice(0, 8)}…</a></td>${view.columns
      .filter((c) => c !== 'uuid')
      .map((c) => html`<td class="${c === 'signature' ? 'ellip' : c === 'address' || c === 'build_id' ? 'mono' : c === 'date' || c.endsWith('_timestamp') ? 'nowrap' : ''}">${cell(c, h[c], context)}</td>`)}</tr>`,
  )}</tbody></table></div>
  <div class="pager">${r.offset > 0 ? html`<a href="${href(signature, { ...state, page: pageNumber - 1 })}">← newer</a>` : ''}${
    r.offset + r.limit < r.total ? html`<a href="${href(signature, { ...state, page: pageNumber + 1 })}">older →</a>` : ''
  }</div>`;
}

function cell(column: string, value: unknown, context: SignatureContext): Html | string {
  if (value === null || value === undefined) return '';
  if (column === 'signature') return signatureLink(String(value), context);
  if (column === 'date' || column.endsWith('_timestamp') || column.endsWith('_datetime') || column === 'date_processed') return String(value).replace('T', ' ').slice(0, 19);
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function comments(list: NonNullable<SignatureView['comments']>): Html {
  return html`<h2>Comments <span class="badge">${list.length === 0 ? 'none' : `latest ${list.length}`}</span> <span class="badge warn" title="Only viewers with view_protected see these">protected</span></h2>
  ${
    list.length === 0
      ? html`<div class="card empty" id="comments">No crash in this view has a comment.</div>`
      : html`<div class="table-scroll"><table id="comments"><thead><tr><th>Crash</th><th>Date</th><th>Version</th><th>Build</th><th>Comment</th></tr></thead><tbody>${list.map(
          (c) => html`<tr><td class="mono"><a href="/report/index/${c.crashId}">${c.crashId.slice(0, 8)}…</a></td><td class="nowrap">${c.date.replace('T', ' ').slice(0, 16)}</td><td>${c.version ?? ''}</td><td class="mono">${c.buildId ?? ''}</td><td style="white-space:pre-wrap;overflow-wrap:anywhere">${c.text}</td></tr>`,
        )}</tbody></table></div>`
  }`;
}
