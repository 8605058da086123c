import type { IndexedCrash, ProductVersion } from '../../../ports/crash-index.js';
import { timeChart } from '../charts.js';
import { html } from '../html.js';
import { page } from '../layout.js';
import { formatDate, formatDay, queryString, signatureLink, type SignatureContext } from './format.js';

export interface HomeView {
  /** The product the page is narrowed to, if any (`/?product=P`). */
  product?: string;
  productVersions: readonly ProductVersion[];
  /** Crashes per day over the chart's range (ascending, zeros included). */
  perDay: readonly { day: number; count: number }[];
  latest: readonly IndexedCrash[];
  total: number;
  offset: number;
  limit: number;
}

/**
 * The home page, or a product's page: the products and versions seen (each a way into
 * its top crashers), crash volume per day, and the latest crashes.
 */
export function homePage(view: HomeView): string {
  const { product } = view;
  const versions = view.productVersions.filter((pv) => !product || pv.product === product);
  const products = [...new Set(view.productVersions.map((pv) => pv.product))].sort();
  const crashTotal = versions.reduce((sum, pv) => sum + pv.count, 0);
  const body = html`<h1>${product ?? 'All products'} <span class="badge">${crashTotal} crashes</span></h1>
  <div class="subnav" id="products"><a class="${product ? '' : 'on'}" href="/">All</a>${products.map((p) => html`<a class="${p === product ? 'on' : ''}" href="/${queryString({ product: p })}">${p}</a>`)}</div>
  <div class="grid2" style="grid-template-columns:minmax(0,2fr) minmax(0,3fr)">
    <div class="card"><h2 style="margin-top:0">Crashes per day <span class="muted" style="font-weight:400">(last ${view.perDay.length} days)</span></h2>
      ${timeChart([{ name: product ?? 'all products', color: '#c62f3b', points: view.perDay.map((d) => ({ x: d.day, y: d.count })) }], { id: 'volume-chart', height: 160 })}
    </div>
    <div class="card"><h2 style="margin-top:0">Versions</h2>
    ${
      versions.length === 0
        ? html`<div class="empty">No crashes yet.</div>`
        : html`<table id="versions"><thead><tr><th>Product</th><th>Version</th><th class="num">Crashes</th><th class="nowrap">First seen</th><th class="nowrap">Last seen</th><th></th></tr></thead><tbody>${versions.slice(0, 15).map(
            (pv) => html`<tr><td><a href="/${queryString({ product: pv.product })}">${pv.product}</a></td><td>${pv.version ?? html`<span class="muted">none</span>`}</td><td class="num">${pv.count}</td>
              <td class="nowrap">${formatDay(pv.firstSeen)}</td><td class="nowrap">${formatDay(pv.lastSeen)}</td>
              <td class="nowrap"><a href="/topcrashers/${queryString({ product: pv.product, version: pv.version ?? undefined })}">top crashers</a></td></tr>`,
          )}</tbody></table>`
    }
    ${product ? html`<p><a href="/topcrashers/${queryString({ product })}">All ${product} top crashers →</a></p>` : html`<p><a href="/topcrashers/">Top crashers of every product →</a></p>`}
    </div>
  </div>
  <h2>Latest crashes <span class="badge">${view.total} processed</span></h2>
  ${crashTable(view.latest, { product })}
  <div class="pager">${view.offset > 0 ? html`<a href="/${queryString({ product, offset: Math.max(0, view.offset - view.limit) || undefined })}">← newer</a>` : ''}${
    view.offset + view.limit < view.total ? html`<a href="/${queryString({ product, offset: view.offset + view.limit })}">older →</a>` : ''
  }</div>`;
  return page(product ? `${product} crashes` : 'Crashes', body);
}

/** Links to signature pages keep the product the viewer narrowed the page to, if any. */
function crashTable(crashes: readonly IndexedCrash[], context: SignatureContext) {
  if (crashes.length === 0)
    return html`<div class="card empty">No crashes yet. Submit one with <code>curl -F upload_file_minidump=@crash.dmp -F ProductName=Example -F Version=1.0 URL/submit</code>, or start with <code>mayday start --demo</code>.</div>`;
  return html`<table id="crash-list"><thead><tr><th>Crash</th><th>Submitted</th><th>Product</th><th>Version</th><th>OS</th><th>CPU</th><th>Reason</th><th>Signature</th><th></th></tr></thead>
    <tbody>${crashes.map(
      (c) => html`<tr>
      <td class="mono"><a href="/report/index/${c.crashId}">${c.crashId.slice(0, 8)}…</a></td>
      <td>${formatDate(c.submittedAt)}</td>
      <td>${c.product ?? html`<span class="muted">unknown</span>`}</td>
      <td>${c.version ?? ''}</td>
      <td>${c.osName ?? ''}</td>
      <td>${c.cpuArch ?? ''}</td>
      <td>${c.reason ? html`<span class="crash-reason">${c.reason}</span>` : ''}</td>
      <td class="ellip">${signatureLink(c.signature, context)}</td>
      <td>${c.hasErrors ? html`<span class="badge warn">notes</span>` : ''}</td>
    </tr>`,
    )}</tbody></table>`;
}
