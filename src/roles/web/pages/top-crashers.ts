import type { BugLink } from '../../../ports/bug-links.js';
import type { ProductVersion, TopCrasher, TopCrashersResult } from '../../../ports/crash-index.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';
import { bugLinkList } from './bug-links.js';
import { DAY_MS, buildIdPrefixes, formatDay, percent, queryString, signatureLink, signed, type SignatureContext } from './format.js';

export interface TopCrashersView {
  product?: string;
  versions: readonly string[];
  platforms: readonly string[];
  processTypes: readonly string[];
  range: { from: number; to: number; days: number };
  /** Whether the range was given as dates (`from`/`to`) rather than `days`. */
  fixedRange?: boolean;
  /** `report`: crashes submitted in the range; `build`: crashes of builds made in the range. */
  dateRangeType?: 'report' | 'build';
  reportType?: 'any' | 'crash' | 'hang';
  rows?: number;
  result: TopCrashersResult;
  /** Share of each signature's crashes with uptime under a minute. */
  startupShares?: ReadonlyMap<string, number>;
  /** From this share a signature is marked as a startup crash. */
  startupThreshold?: number;
  bugs?: ReadonlyMap<string, readonly BugLink[]>;
  bugUrlTemplate?: string;
  /** For the form's choices. */
  productVersions: readonly ProductVersion[];
}

const PROCESS_TYPES = ['parent', 'content', 'gpu', 'plugin', 'utility', 'renderer'];
const PLATFORMS = ['Windows NT', 'Mac OS X', 'Linux', 'Android', 'iOS'];
const ROW_CHOICES = [50, 100, 200, 300];

/**
 * Top crashers: the signatures with the most crashes over the range (of report dates or
 * of build dates), ranked, with their movement against the previous period of the same
 * length (a signature climbing the list is news even when its count is modest), their
 * share and its change, per-OS split, a "new" marker for signatures first seen inside the
 * range, a startup marker for those that mostly crash in their first minute, and their
 * bugs. Each signature links to its page in the same context.
 */
export function topCrashersPage(view: TopCrashersView): string {
  const { product, result, range } = view;
  const dateRangeType = view.dateRangeType ?? 'report';
  const reportType = view.reportType ?? 'any';
  const rows = view.rows ?? 50;
  const products = [...new Set(view.productVersions.map((pv) => pv.product))].sort();
  const versions = [...new Set(view.productVersions.filter((pv) => !product || pv.product === product).map((pv) => pv.version).filter((v): v is string => v !== null))];
  const platformNames = [...new Set([...PLATFORMS, ...result.crashers.flatMap((c) => Object.keys(c.platforms)).filter((p) => p !== '')])];
  const lastDay = range.to - DAY_MS;
  const rangeParams = view.fixedRange ? { from: formatDay(range.from), to: formatDay(lastDay) } : { days: range.days };
  const state = {
    product,
    version: view.versions,
    platform: view.platforms,
    process_type: view.processTypes,
    date_range_type: dateRangeType === 'report' ? undefined : dateRangeType,
    report_type: reportType === 'any' ? undefined : reportType,
    rows: rows === 50 ? undefined : rows,
  };
  const here = (change: Record<string, string | number | undefined>): string => `/topcrashers/${queryString({ ...state, ...rangeParams, ...change })}`;
  const context: SignatureContext = {
    product,
    versions: view.versions,
    platforms: view.platforms,
    processTypes: view.processTypes,
    ...rangeParams,
    filters: {
      ...(reportType === 'any' ? {} : { report_type: [reportType] }),
      ...(dateRangeType === 'build' ? { build_id: buildIdPrefixes(range.from, range.to).map((p) => `^${p}`) } : {}),
    },
  };
  const threshold = view.startupThreshold ?? 0.5;
  const body = html`<h1>Top crashers${product ? html` for ${product}` : ''}${view.versions.length ? html` ${view.versions.join(', ')}` : ''}
    <span class="badge" id="top-total">${result.total} crashes</span></h1>
  <div class="subnav" id="ranges">${[1, 3, 7, 14, 28].map((d) => html`<a class="${!view.fixedRange && d === range.days ? 'on' : ''}" href="/topcrashers/${queryString({ ...state, days: d })}">${d} day${d > 1 ? 's' : ''}</a>`)}</div>
  <div class="subnav" id="views">
    ${(['report', 'build'] as const).map((t) => html`<a class="${t === dateRangeType ? 'on' : ''}" href="${here({ date_range_type: t === 'report' ? undefined : t })}" title="${t === 'build' ? 'crashes of builds made in the range (build ids YYYYMMDDhhmmss)' : 'crashes submitted in the range'}">by ${t} date</a>`)}
    <span class="muted" style="margin:0 4px">·</span>
    ${(['any', 'crash', 'hang'] as const).map((t) => html`<a class="${t === reportType ? 'on' : ''}" href="${here({ report_type: t === 'any' ? undefined : t })}">${{ any: 'crashes and hangs', crash: 'crashes only', hang: 'hangs only' }[t]}</a>`)}
    <span class="muted" style="margin:0 4px">·</span>
    ${ROW_CHOICES.map((n) => html`<a class="${n === rows ? 'on' : ''}" href="${here({ rows: n === 50 ? undefined : n })}">${n} rows</a>`)}
  </div>
  <div class="card"><form class="filters" method="get" action="/topcrashers/">
    <label>Product <select name="product"><option value="">any</option>${products.map((p) => html`<option ${p === product ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>Version <select name="version"><option value="">any</option>${versions.map((v) => html`<option ${view.versions.includes(v) ? 'selected' : ''}>${v}</option>`)}</select></label>
    <label>Platform <select name="platform"><option value="">any</option>${platformNames.map((p) => html`<option ${view.platforms.includes(p) ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>Process type <select name="process_type"><option value="">any</option>${PROCESS_TYPES.map((p) => html`<option ${view.processTypes.includes(p) ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>Date <select name="date_range_type"><option value="report" ${dateRangeType === 'report' ? 'selected' : ''}>report date</option><option value="build" ${dateRangeType === 'build' ? 'selected' : ''}>build date</option></select></label>
    <label>Type <select name="report_type">${(['any', 'crash', 'hang'] as const).map((t) => html`<option ${t === reportType ? 'selected' : ''}>${t}</option>`)}</select></label>
    <label>Last <select name="days"><option value="">(dates)</option>${[...new Set([1, 3, 7, 14, 28, ...(view.fixedRange ? [] : [range.days])])].sort((x, y) => x - y).map((d) => html`<option value="${d}" ${!view.fixedRange && d === range.days ? 'selected' : ''}>${d} day${d > 1 ? 's' : ''}</option>`)}</select></label>
    <label>or from <input type="date" name="from" value="${view.fixedRange ? formatDay(range.from) : ''}"></label>
    <label>to <input type="date" name="to" value="${view.fixedRange ? formatDay(lastDay) : ''}"></label>
    <label>Rows <select name="rows">${ROW_CHOICES.map((n) => html`<option ${n === rows ? 'selected' : ''}>${n}</option>`)}</select></label>
    <button type="submit">Show</button>
  </form>
  <div class="muted" style="margin-top:8px">${dateRangeType === 'build' ? 'Builds made and crashing' : 'Crashes submitted'} from ${formatDay(range.from)} to ${formatDay(lastDay)} (${range.days} days)${
    reportType === 'any' ? '' : `, ${reportType} reports only`
  }, compared with the ${range.days} days before: ${result.previousTotal} crashes then.</div></div>
  ${
    result.crashers.length === 0
      ? html`<div class="card empty">No crashes match in this range.</div>`
      : html`<table id="top-crashers"><thead><tr><th class="num">Rank</th><th class="num">Δ</th><th>Signature</th><th class="num">Count</th><th class="num">Share</th><th class="num">Δ share</th><th>Platforms</th><th>Bugs</th><th>First seen</th></tr></thead>
      <tbody>${result.crashers.map((c) => row(c, context, view, threshold))}</tbody></table>`
  }`;
  return page(`Top crashers${product ? ` · ${product}` : ''}`, body);
}

function row(c: TopCrasher, context: SignatureContext, view: TopCrashersView, threshold: number): Html {
  const move = c.previousRank === null ? null : c.previousRank - c.rank;
  const shareChange = (c.share - c.previousShare) * 100;
  const startup = c.signature === null ? undefined : view.startupShares?.get(c.signature);
  return html`<tr>
    <td class="num">${c.rank}</td>
    <td class="num ${move === null ? '' : move > 0 ? 'up' : move < 0 ? 'down' : 'muted'}" title="${c.previousRank === null ? 'not in the previous period' : `rank ${c.previousRank} in the previous period`}">${move === null ? html`<span class="muted">—</span>` : move === 0 ? '=' : move > 0 ? `▲${move}` : `▼${-move}`}</td>
    <td class="ellip">${signatureLink(c.signature, context)} ${c.isNew ? html`<span class="badge err" title="first seen in this range">new</span>` : ''}${
      startup !== undefined && startup >= threshold ? html` <span class="badge warn startup" title="startup crash: ${percent(startup)} of these crashes happened in the first minute">startup</span>` : ''
    }</td>
    <td class="num">${c.count}</td>
    <td class="num">${percent(c.share)}</td>
    <td class="num ${shareChange > 0.05 ? 'up' : shareChange < -0.05 ? 'down' : 'muted'}">${signed(shareChange, 1)}%</td>
    <td>${Object.entries(c.platforms)
      .sort((a, b) => b[1] - a[1])
      .map(([os, n]) => html`<span class="badge" title="${os || 'unknown'}">${os || '?'} ${n}</span> `)}</td>
    <td class="bugs">${c.signature === null ? '' : bugLinkList(view.bugs?.get(c.signature), view.bugUrlTemplate)}</td>
    <td>${formatDay(c.firstSeen)}</td>
  </tr>`;
}
