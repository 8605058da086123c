import type { FacetBucket, SignatureSummary } from '../../../ports/crash-index.js';
import { barList, timeChart } from '../charts.js';
import { html } from '../html.js';
import { page } from '../layout.js';
import { DAY_MS, formatDay, queryString } from './format.js';

/** The aggregations shown on a signature page, with their titles, in order. */
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

export interface SignatureView {
  signature: string;
  product?: string;
  range: { from: number; to: number; days: number };
  summary: SignatureSummary;
  reports: { hits: readonly Record<string, unknown>[]; total: number; offset: number; limit: number };
}

/**
 * A signature's page: how often it crashed over time, where (versions, OS, CPU, process
 * types, modules, annotation-derived fields: each value links to a Super Search narrowed
 * to it), when it was first and last seen, and its reports.
 */
export function signaturePage(view: SignatureView): string {
  const { signature, product, summary, range, reports } = view;
  const state = { signature, product, days: range.days };
  const searchFor = (field: string, term: FacetBucket['term']): string =>
    `/search/${queryString({ signature: `=${signature}`, product, [field]: term === null ? '__null__' : `=${String(term)}`, days: range.days })}`;
  const body = html`<h1 class="mono" id="signature-title" style="word-break:break-all">${signature}</h1>
  <div class="subnav">${[7, 14, 28, 90].map((d) => html`<a class="${d === range.days ? 'on' : ''}" href="/signature/${queryString({ ...state, days: d })}">${d} days</a>`)}
    <a href="/search/${queryString({ signature: `=${signature}`, product, days: range.days })}">Super Search →</a></div>
  <div class="stats">
    <div class="card stat"><div class="muted">Crashes (${range.days} days${product ? `, ${product}` : ''})</div><div class="big" id="signature-total">${summary.total}</div></div>
    <div class="card stat"><div class="muted">First seen</div><div class="big" id="first-seen">${summary.firstSeen === null ? '—' : formatDay(summary.firstSeen)}</div></div>
    <div class="card stat"><div class="muted">Last seen</div><div class="big" id="last-seen">${summary.lastSeen === null ? '—' : formatDay(summary.lastSeen)}</div></div>
  </div>
  <div class="card"><h2 style="margin-top:0">Crashes per day</h2>
    ${timeChart([{ name: 'crashes', color: '#c62f3b', points: summary.perDay.map((d) => ({ x: d.day, y: d.count })) }], { id: 'signature-chart', height: 150, width: 900 })}</div>
  <h2>Aggregations</h2>
  <div class="grid2" id="aggregations">${SIGNATURE_FACETS.filter((f) => summary.facets[f.field] !== undefined).map(
    (f) => html`<div class="card" data-facet="${f.field}"><h3>${f.title}</h3>${barList(
      (summary.facets[f.field] ?? []).map((b) => ({ label: b.term === null ? '(none)' : String(b.term), count: b.count, href: searchFor(f.field, b.term) })),
      { total: summary.total },
    )}</div>`,
  )}</div>
  <h2>Reports <span class="badge">${reports.total}</span></h2>
  ${
    reports.hits.length === 0
      ? html`<div class="card empty">No reports in this range.</div>`
      : html`<table id="reports"><thead><tr><th>Crash</th><th>Date</th><th>Product</th><th>Version</th><th>OS</th><th>CPU</th><th>Reason</th><th>Address</th></tr></thead><tbody>${reports.hits.map(
          (h) => html`<tr><td class="mono"><a href="/report/index/${String(h.uuid)}">${String(h.uuid).slice(0, 8)}…</a></td><td>${String(h.date ?? '').replace('T', ' ').slice(0, 19)}</td>
            <td>${cell(h.product)}</td><td>${cell(h.version)}</td><td>${cell(h.os_name)}</td><td>${cell(h.cpu_arch)}</td><td>${cell(h.reason)}</td><td class="mono">${cell(h.address)}</td></tr>`,
        )}</tbody></table>
      <div class="pager">${reports.offset > 0 ? html`<a href="/signature/${queryString({ ...state, page: Math.floor(reports.offset / reports.limit) })}">← newer</a>` : ''}${
        reports.offset + reports.limit < reports.total ? html`<a href="/signature/${queryString({ ...state, page: Math.floor(reports.offset / reports.limit) + 2 })}">older →</a>` : ''
      }</div>`
  }`;
  return page(signature, body);
}

function cell(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** The signature page's report columns, in Super Search names. */
export const SIGNATURE_REPORT_COLUMNS = ['uuid', 'date', 'product', 'version', 'os_name', 'cpu_arch', 'reason', 'address'];

