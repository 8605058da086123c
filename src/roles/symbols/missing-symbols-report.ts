/**
 * The missing-symbols report in its two outside forms: CSV (the columns of Socorro's
 * missing-symbols export first: debug file, debug id, code file, code id) and an HTML
 * page. Module names come from minidumps, i.e. from whoever crashed: both forms escape
 * them (HTML entities; CSV quoting plus a guard against spreadsheet formulas).
 */

import { CSRF_FIELD } from '../../auth/request-auth.js';
import type { MissingSymbolsSummary } from '../../ports/symbol-store.js';
// The site's page shell, so that this page looks like the others (ARCHITECTURE.md allows this one import).
import { html } from '../web/html.js';
import { page } from '../web/layout.js';

export const CSV_COLUMNS = ['debug_file', 'debug_id', 'code_file', 'code_id', 'os', 'cpu', 'crash_count', 'last_seen'] as const;

/** The JSON shape of one report line (snake case, as the rest of the API). */
export function toJsonRow(row: MissingSymbolsSummary): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  return {
    debug_file: row.debugFile,
    debug_id: row.debugId,
    code_file: row.codeFile,
    code_id: row.codeId,
    os: row.os,
    cpu: row.cpu,
    crash_count: row.crashCount,
    last_seen: new Date(row.lastSeen).toISOString(),
  };
}

/**
 * One CSV field (RFC 4180). A field a spreadsheet would run as a formula (`=`, `+`,
 * `-`, `@`, tab, CR first) gets a leading apostrophe.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly MissingSymbolsSummary[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const json = toJsonRow(row);
    lines.push(CSV_COLUMNS.map((column) => csvField(json[column])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** What the missing-symbols page shows besides the report. */
export interface MissingSymbolsPageView {
  rows: readonly MissingSymbolsSummary[];
  days: number;
  /** The viewer's session CSRF token (forms carry it); absent for token or anonymous viewers. */
  csrfToken?: string;
  /** The viewer may reprocess: Reprocess buttons per module and for all. */
  canReprocess: boolean;
  /** The viewer may upload symbols: the upload form. */
  canUpload: boolean;
  /**
   * Modules (`DEBUG_FILE/DEBUG_ID`) whose symbols are in the store now: uploaded since
   * their crashes were processed, so reprocessing those crashes symbolicates them.
   */
  uploaded?: ReadonlySet<string>;
  /** After a Reprocess button or an upload (`?reprocessed=N`, `?uploaded=N&missed=N`). */
  notice?: { reprocessed?: number; uploaded?: number; missed?: number };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * The missing-symbols page in the site's layout: the report, most frequent first, with a
 * Reprocess button per module and one for every listed module (viewers with `reprocess`),
 * and an upload form (viewers with `upload_symbols`; "reprocess the crashes that missed
 * them" checked). Module names come from minidumps: the `html` template escapes them.
 */
export function missingSymbolsPage(view: MissingSymbolsPageView): string {
  const { rows, days, notice } = view;
  const csrf = view.csrfToken ? html`<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">` : '';
  const returnTo = `/missing-symbols/?days=${days}`;
  const reprocessForm = (fields: Record<string, string>, label: string, title: string) =>
    html`<form method="post" action="/reprocess" class="reprocess-form" style="display:inline;margin:0">${csrf}${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}<input type="hidden" name="days" value="${days}"><input type="hidden" name="return_to" value="${returnTo}"><button type="submit" title="${title}">${label}</button></form>`;
  const notices = [
    notice?.uploaded !== undefined ? html`<div>Uploaded ${plural(notice.uploaded, 'symbol file')}; ${plural(notice.missed ?? 0, 'crash', 'crashes')} of the last 7 days missed them.</div>` : '',
    notice?.reprocessed !== undefined ? html`<div>${plural(notice.reprocessed, 'crash', 'crashes')} queued for reprocessing.</div>` : '',
  ];
  const uploadAction = `/missing-symbols/upload${view.csrfToken ? `?${new URLSearchParams({ [CSRF_FIELD]: view.csrfToken })}` : ''}`;
  const body = html`<h1>Missing symbols</h1>
  ${notice && (notice.uploaded !== undefined || notice.reprocessed !== undefined) ? html`<div class="card" id="notice" role="status">${notices}</div>` : ''}
  <div class="card">
  <p style="margin-top:0">Modules whose symbols were missing in crashes of the last ${plural(days, 'day')}, most frequent first.
  Upload them (<code>mayday symbols upload</code>, Breakpad's <code>sym_upload</code>${view.canUpload ? ', or the form below' : ''}), then reprocess the crashes that missed them.
  <a href="/api/MissingSymbols/${`?days=${days}&format=csv`}">Download as CSV</a></p>
  <form method="get" class="filters"><label>Days <input name="days" type="number" min="1" max="365" value="${days}"></label> <button>Show</button></form>
  ${
    view.canUpload
      ? html`<form method="post" action="${uploadAction}" enctype="multipart/form-data" id="upload-form" class="filters" style="margin-top:12px">
      <label>Symbol files (.sym or .zip) <input type="file" name="symbols" multiple accept=".sym,.zip" required></label>
      <label style="flex-direction:row;align-items:center;gap:6px"><input type="checkbox" name="reprocess" value="1" checked> reprocess the crashes that missed them</label>
      <button type="submit">Upload</button></form>`
      : ''
  }
  ${view.canReprocess && rows.length > 0 ? html`<p id="reprocess-all" style="margin-bottom:0">${reprocessForm({ missing_symbols: 'all' }, `Reprocess every crash above`, 'Queue every crash of these days that missed any of these modules')}</p>` : ''}
  </div>
  ${
    rows.length === 0
      ? html`<div class="card empty">No crash of the last ${plural(days, 'day')} missed symbols.</div>`
      : html`<div style="overflow-x:auto"><table id="missing-symbols">
<thead><tr><th>Debug file</th><th>Debug id</th><th>Code file</th><th>Code id</th><th>OS</th><th>CPU</th><th class="num">Crashes</th><th>Last seen</th>${view.canReprocess ? html`<th></th>` : ''}</tr></thead>
<tbody>${rows.map(
          (r) =>
            html`<tr data-module="${r.debugFile}/${r.debugId}"><td>${r.debugFile}${
              view.uploaded?.has(`${r.debugFile}/${r.debugId}`) ? html` <span class="badge ok symbols-uploaded" title="The symbols are in the store now: reprocess these crashes to symbolicate them">symbols uploaded</span>` : ''
            }</td><td class="mono">${r.debugId}</td><td>${r.codeFile ?? ''}</td><td class="mono">${r.codeId ?? ''}</td><td>${r.os ?? ''}</td><td>${r.cpu ?? ''}</td><td class="num">${r.crashCount}</td><td class="nowrap">${new Date(r.lastSeen).toISOString()}</td>${
              view.canReprocess ? html`<td>${reprocessForm({ debug_file: r.debugFile, debug_id: r.debugId }, `Reprocess ${plural(r.crashCount, 'crash', 'crashes')}`, `Queue the crashes of these days that missed ${r.debugFile}`)}</td>` : ''
            }</tr>`,
        )}</tbody>
</table></div>`
  }`;
  return page('Missing symbols', body);
}

/** The answer to a refused upload from the page's form. */
export function uploadRefusedPage(message: string): string {
  return page('Upload refused', html`<h1>Upload refused</h1><div class="card" id="upload-error"><p>${message}</p><p><a href="/missing-symbols/">Back to missing symbols</a></p></div>`);
}
