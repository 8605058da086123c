/**
 * The missing-symbols report in its two outside forms: CSV (the columns of Socorro's
 * missing-symbols export first: debug file, debug id, code file, code id) and an HTML
 * page. Module names come from minidumps, i.e. from whoever crashed: both forms escape
 * them (HTML entities; CSV quoting plus a guard against spreadsheet formulas).
 */

import type { MissingSymbolsSummary } from '../../ports/symbol-store.js';

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

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function missingSymbolsPage(rows: readonly MissingSymbolsSummary[], days: number): string {
  const e = (v: string | number | null): string => (v === null ? '' : escapeHtml(String(v)));
  const body =
    rows.length === 0
      ? `<p>No crash of the last ${days} day${days === 1 ? '' : 's'} missed symbols.</p>`
      : `<table>
<thead><tr><th>Debug file</th><th>Debug id</th><th>Code file</th><th>Code id</th><th>OS</th><th>CPU</th><th>Crashes</th><th>Last seen</th></tr></thead>
<tbody>
${rows
  .map(
    (r) =>
      `<tr><td>${e(r.debugFile)}</td><td><code>${e(r.debugId)}</code></td><td>${e(r.codeFile)}</td><td><code>${e(r.codeId)}</code></td><td>${e(r.os)}</td><td>${e(r.cpu)}</td><td>${r.crashCount}</td><td>${e(new Date(r.lastSeen).toISOString())}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Missing symbols - Mayday</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}code{font-size:.9em}</style></head>
<body>
<h1>Missing symbols</h1>
<p>Modules whose symbols were missing in crashes of the last ${days} day${days === 1 ? '' : 's'}, most frequent first.
Upload them (<code>mayday symbols upload</code> or Breakpad's <code>sym_upload</code>), then reprocess.
<a href="/api/MissingSymbols/?days=${days}&amp;format=csv">Download as CSV</a></p>
<form method="get"><label>Days <input name="days" type="number" min="1" max="365" value="${days}"></label> <button>Show</button></form>
${body}
</body>
</html>
`;
}
