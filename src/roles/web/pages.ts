import type { IndexedCrash } from '../../ports/crash-index.js';
import type { ProcessedCrash } from '../../ports/processed-crash-store.js';
import type { RawCrash } from '../../ports/raw-crash-store.js';
import { html, type Html } from './html.js';
import { page } from './layout.js';

/** The shapes of the stackwalker document that the pages read (see docs/stackwalk-json.md). */
interface FrameView {
  frame?: number;
  module?: string | null;
  function?: string | null;
  function_offset?: string | null;
  file?: string | null;
  line?: number | null;
  offset?: string;
  module_offset?: string | null;
  trust?: string;
  inlines?: { function?: string; file?: string; line?: number }[] | null;
}
interface ModuleView {
  filename?: string;
  code_id?: string | null;
  debug_file?: string | null;
  debug_id?: string | null;
  base_addr?: string;
  end_addr?: string;
  version?: string | null;
  loaded_symbols?: boolean;
  missing_symbols?: boolean;
  corrupt_symbols?: boolean;
}
interface JsonDumpView {
  threads?: { thread_name?: string | null; frames?: FrameView[] }[];
  modules?: ModuleView[];
  main_module?: number | null;
}

export function crashListPage(crashes: IndexedCrash[], total: number, offset: number, limit: number): string {
  const rows = crashes.map(
    (c) => html`<tr>
      <td class="mono"><a href="/report/index/${c.crashId}">${c.crashId.slice(0, 8)}…</a></td>
      <td>${formatDate(c.submittedAt)}</td>
      <td>${c.product ?? html`<span class="muted">unknown</span>`}</td>
      <td>${c.version ?? ''}</td>
      <td>${c.osName ?? ''}</td>
      <td>${c.cpuArch ?? ''}</td>
      <td>${c.reason ? html`<span class="crash-reason">${c.reason}</span>` : ''}</td>
      <td class="mono">${c.signature ?? ''}</td>
      <td>${c.hasErrors ? html`<span class="badge warn">notes</span>` : ''}</td>
    </tr>`,
  );
  const body = html`<h1>Latest crashes <span class="badge">${total} processed</span></h1>
  ${
    crashes.length === 0
      ? html`<div class="card empty">No crashes yet. Submit one with <code>curl -F upload_file_minidump=@crash.dmp -F ProductName=Example -F Version=1.0 URL/submit</code>.</div>`
      : html`<table id="crash-list"><thead><tr><th>Crash</th><th>Submitted</th><th>Product</th><th>Version</th><th>OS</th><th>CPU</th><th>Reason</th><th>Signature</th><th></th></tr></thead>
        <tbody>${rows}</tbody></table>
        <div class="pager">${offset > 0 ? html`<a href="/?offset=${Math.max(0, offset - limit)}">← newer</a>` : ''}${
          offset + limit < total ? html`<a href="/?offset=${offset + limit}">older →</a>` : ''
        }</div>`
  }`;
  return page('Latest crashes', body);
}

export function pendingPage(crashId: string, raw: RawCrash): string {
  const body = html`<h1>Crash <span class="mono">${crashId}</span></h1>
  <div class="card" id="pending"><span class="badge warn">pending</span> This crash was received ${formatDate(Date.parse(raw.submitted_timestamp))} and is waiting to be processed. It has been moved to the front of the queue; this page refreshes by itself.</div>`;
  return page(`Crash ${crashId}`, body, { refreshSeconds: 2 });
}

export function notFoundPage(what: string): string {
  return page('Not found', html`<h1>Not found</h1><div class="card empty">${what}</div>`);
}

export function reportPage(crash: ProcessedCrash, raw: RawCrash | undefined): string {
  const dump = (crash.json_dump ?? {}) as JsonDumpView;
  const crashingThread = typeof crash.crashing_thread === 'number' ? crash.crashing_thread : undefined;
  const frames = crashingThread !== undefined ? (dump.threads?.[crashingThread]?.frames ?? []) : [];
  const notes = String(crash.processor_notes ?? '');
  const field = (label: string, value: unknown, mono = false): Html =>
    html`<tr><th>${label}</th><td class="${mono ? 'mono' : ''}">${value === undefined || value === null || value === '' ? html`<span class="muted">—</span>` : String(value)}</td></tr>`;

  const body = html`<h1>${text(crash.product) ?? 'Unknown product'} ${text(crash.version) ?? ''} <span class="muted mono" style="font-size:14px">${crash.uuid}</span></h1>
  <div class="card"><table class="kv" id="summary">
    ${field('Signature', crash.signature, true)}
    ${field('Crash reason', crash.reason)}
    ${field('Crash address', crash.address, true)}
    ${field('Product', crash.product)}
    ${field('Version', crash.version)}
    ${field('Release channel', crash.release_channel)}
    ${field('OS', [crash.os_name, crash.os_version].filter(Boolean).join(' '))}
    ${field('CPU', [crash.cpu_arch, crash.cpu_info].filter(Boolean).join(' · '))}
    ${field('CPU count', crash.cpu_count)}
    ${field('Crashing thread', crash.crashing_thread)}
    ${field('Submitted', crash.submitted_timestamp)}
    ${field('Processed', crash.date_processed)}
    ${field('Stackwalker status', crash.mdsw_status_string)}
  </table></div>
  ${notes ? html`<h2>Processor notes</h2><div class="card" id="processor-notes">${notes.split('; ').map((n) => html`<div>${n}</div>`)}</div>` : ''}
  <h2>Crashing thread</h2>
  ${
    frames.length === 0
      ? html`<div class="card empty">No frames.</div>`
      : html`<table id="frames"><thead><tr><th>#</th><th>Module</th><th>Function</th><th>Source</th><th>Trust</th></tr></thead><tbody>${frames.map(
          (f, i) => html`<tr><td>${f.frame ?? i}</td><td>${f.module ?? ''}</td>
            <td class="mono">${f.function ?? (f.module_offset ? `${f.module ?? ''}@${f.module_offset}` : (f.offset ?? ''))}</td>
            <td class="mono">${f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : ''}</td><td><span class="badge">${f.trust ?? ''}</span></td></tr>`,
        )}</tbody></table>`
  }
  <h2>Modules</h2>
  ${
    (dump.modules ?? []).length === 0
      ? html`<div class="card empty">No module list.</div>`
      : html`<table id="modules"><thead><tr><th>File</th><th>Version</th><th>Debug file</th><th>Debug id</th><th>Base</th><th>End</th><th>Symbols</th></tr></thead><tbody>${(dump.modules ?? []).map(
          (m) => html`<tr><td>${m.filename ?? ''}</td><td>${m.version ?? ''}</td><td>${m.debug_file ?? ''}</td><td class="mono">${m.debug_id ?? ''}</td>
            <td class="mono">${m.base_addr ?? ''}</td><td class="mono">${m.end_addr ?? ''}</td>
            <td>${m.loaded_symbols ? html`<span class="badge ok">loaded</span>` : m.corrupt_symbols ? html`<span class="badge err">corrupt</span>` : m.missing_symbols ? html`<span class="badge warn">missing</span>` : ''}</td></tr>`,
        )}</tbody></table>`
  }
  ${
    raw
      ? html`<h2>Annotations</h2><div class="card"><table class="kv" id="annotations">${Object.entries(raw.annotations)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => html`<tr><th class="mono">${k}</th><td class="mono">${v}</td></tr>`)}</table></div>`
      : ''
  }`;
  return page(`${text(crash.signature) ?? 'Crash'} · ${crash.uuid}`, body);
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

function formatDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
