import type { ProductVersion, TopCrasher, TopCrashersResult } from '../../../ports/crash-index.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';
import { DAY_MS, formatDay, percent, queryString, signatureLink, signed } from './format.js';

export interface TopCrashersView {
  product?: string;
  versions: readonly string[];
  platforms: readonly string[];
  processTypes: readonly string[];
  range: { from: number; to: number; days: number };
  result: TopCrashersResult;
  /** For the form's choices. */
  productVersions: readonly ProductVersion[];
}

const PROCESS_TYPES = ['parent', 'content', 'gpu', 'plugin', 'utility', 'renderer'];
const PLATFORMS = ['Windows NT', 'Mac OS X', 'Linux', 'Android', 'iOS'];

/**
 * Top crashers: the signatures with the most crashes over the range, ranked, with their
 * movement against the previous period of the same length (a signature climbing the list
 * is news even when its count is modest), their share and its change, per-OS split, and
 * a "new" marker for signatures first seen inside the range.
 */
export function topCrashersPage(view: TopCrashersView): string {
  const { product, result, range } = view;
  const products = [...new Set(view.productVersions.map((pv) => pv.product))].sort();
  const versions = [...new Set(view.productVersions.filter((pv) => !product || pv.product === product).map((pv) => pv.version).filter((v): v is string => v !== null))];
  const platformNames = [...new Set([...PLATFORMS, ...result.crashers.flatMap((c) => Object.keys(c.platforms)).filter((p) => p !== '')])];
  const state = { product, version: view.versions, platform: view.platforms, process_type: view.processTypes };
  const lastDay = range.to - DAY_MS;
  const body = html`<h1>Top crashers${product ? html` for ${product}` : ''}${view.versions.length ? html` ${view.versions.join(', ')}` : ''}
    <span class="badge">${result.total} crashes</span></h1>
  <div class="subnav" id="ranges">${[1, 3, 7, 14, 28].map((d) => html`<a class="${d === range.days ? 'on' : ''}" href="/topcrashers/${queryString({ ...state, days: d })}">${d} day${d > 1 ? 's' : ''}</a>`)}</div>
  <div class="card"><form class="filters" method="get" action="/topcrashers/">
    <label>Product <select name="product"><option value="">any</option>${products.map((p) => html`<option ${p === product ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>Version <select name="version"><option value="">any</option>${versions.map((v) => html`<option ${view.versions.includes(v) ? 'selected' : ''}>${v}</option>`)}</select></label>
    <label>Platform <select name="platform"><option value="">any</option>${platformNames.map((p) => html`<option ${view.platforms.includes(p) ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>Process type <select name="process_type"><option value="">any</option>${PROCESS_TYPES.map((p) => html`<option ${view.processTypes.includes(p) ? 'selected' : ''}>${p}</option>`)}</select></label>
    <label>From <input type="date" name="from" value="${formatDay(range.from)}"></label>
    <label>To <input type="date" name="to" value="${formatDay(lastDay)}"></label>
    <button type="submit">Show</button>
  </form>
  <div class="muted" style="margin-top:8px">${formatDay(range.from)} to ${formatDay(lastDay)} (${range.days} days), compared with the ${range.days} days before: ${result.previousTotal} crashes then.</div></div>
  ${
    result.crashers.length === 0
      ? html`<div class="card empty">No crashes match in this range.</div>`
      : html`<table id="top-crashers"><thead><tr><th class="num">Rank</th><th class="num">Δ</th><th>Signature</th><th class="num">Count</th><th class="num">Share</th><th class="num">Δ share</th><th>Platforms</th><th>First seen</th></tr></thead>
      <tbody>${result.crashers.map((c) => row(c, product))}</tbody></table>`
  }`;
  return page(`Top crashers${product ? ` · ${product}` : ''}`, body);
}

function row(c: TopCrasher, product: string | undefined): Html {
  const move = c.previousRank === null ? null : c.previousRank - c.rank;
  const shareChange = (c.share - c.previousShare) * 100;
  return html`<tr>
    <td class="num">${c.rank}</td>
    <td class="num ${move === null ? '' : move > 0 ? 'up' : move < 0 ? 'down' : 'muted'}" title="${c.previousRank === null ? 'not in the previous period' : `rank ${c.previousRank} in the previous period`}">${move === null ? html`<span class="muted">—</span>` : move === 0 ? '=' : move > 0 ? `▲${move}` : `▼${-move}`}</td>
    <td class="ellip">${signatureLink(c.signature, product)} ${c.isNew ? html`<span class="badge err" title="first seen in this range">new</span>` : ''}</td>
    <td class="num">${c.count}</td>
    <td class="num">${percent(c.share)}</td>
    <td class="num ${shareChange > 0.05 ? 'up' : shareChange < -0.05 ? 'down' : 'muted'}">${signed(shareChange, 1)}%</td>
    <td>${Object.entries(c.platforms)
      .sort((a, b) => b[1] - a[1])
      .map(([os, n]) => html`<span class="badge" title="${os || 'unknown'}">${os || '?'} ${n}</span> `)}</td>
    <td>${formatDay(c.firstSeen)}</td>
  </tr>`;
}
