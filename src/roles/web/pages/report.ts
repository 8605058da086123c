import type { ProcessedCrash } from '../../../ports/processed-crash-store.js';
import type { RawCrash } from '../../../ports/raw-crash-store.js';
import { redactProcessedCrash } from '../../../schema/processed-crash.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';
import { formatDate, queryString, signatureLink, text } from './format.js';

/** The shapes of the stackwalker document that the report page reads (see docs/stackwalk-json.md). */
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
  missing_symbols?: boolean;
  /** Innermost first; the frame's own function/file/line are the outermost function's. */
  inlines?: { function?: string; file?: string; line?: number }[] | null;
}
interface ThreadView {
  thread_name?: string | null;
  frame_count?: number;
  frames?: FrameView[];
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
  threads?: ThreadView[];
  modules?: ModuleView[];
  main_module?: number | null;
}

export interface Viewer {
  canViewProtected: boolean;
  canDownloadDumps: boolean;
}

/**
 * The protected annotation names of a raw crash (lower-cased): those the collector listed
 * in `metadata.protected_annotations` and those the schema protects, handed in by the
 * caller so the page and the crash API hide the same ones.
 */
export type ProtectedAnnotations = ReadonlySet<string>;

/**
 * One crash, read top to bottom the way a developer triages it: what crashed and where
 * (summary, signature and why it is that signature), the crashing thread with source
 * lines and inlined calls, then every other thread folded, modules (missing symbols
 * flagged: the first thing to fix when frames are unreadable), annotations and notes.
 * Protected fields and annotations are left out for viewers without `view_protected`.
 */
export function reportPage(processed: ProcessedCrash, raw: RawCrash | undefined, viewer: Viewer, protectedAnnotations: ProtectedAnnotations): string {
  const crash = viewer.canViewProtected ? processed : redactProcessedCrash(processed);
  const dump = (crash.json_dump ?? {}) as JsonDumpView;
  const crashingThread = typeof crash.crashing_thread === 'number' ? crash.crashing_thread : undefined;
  const threads = dump.threads ?? [];
  const frames = crashingThread !== undefined ? (threads[crashingThread]?.frames ?? []) : [];
  const notes = String(crash.processor_notes ?? '');
  const signatureDebug = Array.isArray(crash.signature_debug) ? crash.signature_debug.map(String) : [];
  const product = text(crash.product);
  const field = (label: string, value: unknown, mono = false): Html =>
    html`<tr><th>${label}</th><td class="${mono ? 'mono' : ''}">${value === undefined || value === null || value === '' ? html`<span class="muted">—</span>` : String(value)}</td></tr>`;
  const annotations = raw ? Object.entries(raw.annotations).filter(([name]) => viewer.canViewProtected || !protectedAnnotations.has(name.toLowerCase())) : [];
  const hiddenCount = raw ? Object.keys(raw.annotations).length - annotations.length : 0;

  const body = html`<h1>${product ?? 'Unknown product'} ${text(crash.version) ?? ''} <span class="muted mono" style="font-size:14px">${crash.uuid}</span></h1>
  <div class="card"><table class="kv" id="summary">
    <tr><th>Signature</th><td>${signatureLink(text(crash.signature), product)}</td></tr>
    ${field('Crash reason', crash.reason)}
    ${field('Crash address', crash.address, true)}
    ${field('Product', crash.product)}
    ${field('Version', crash.version)}
    ${field('Build id', crash.build_id, true)}
    ${field('Release channel', crash.release_channel)}
    ${field('Process type', crash.process_type)}
    ${field('OS', text(crash.os_pretty_version) ?? [crash.os_name, crash.os_version].filter(Boolean).join(' '))}
    ${field('CPU', [crash.cpu_arch, crash.cpu_info].filter(Boolean).join(' · '))}
    ${field('CPU count', crash.cpu_count)}
    ${field('Crashing thread', crashingThread === undefined ? undefined : `${crashingThread}${crash.crashing_thread_name ? ` (${String(crash.crashing_thread_name)})` : ''}`)}
    ${field('Submitted', crash.submitted_timestamp)}
    ${field('Processed', crash.date_processed)}
    ${field('Stackwalker status', crash.mdsw_status_string)}
  </table>
  ${
    viewer.canDownloadDumps && raw
      ? html`<p id="downloads">${(Object.keys(raw.metadata.dumps).length ? Object.keys(raw.metadata.dumps) : ['upload_file_minidump']).map(
          (name) => html`<a href="/api/RawCrash/${queryString({ crash_id: crash.uuid, format: 'raw', name })}" download>⬇ Download ${name}</a> `,
        )}</p>`
      : ''
  }</div>
  ${
    signatureDebug.length
      ? html`<details class="thread" id="signature-debug"><summary>How the signature was made (${signatureDebug.length} steps)</summary><ol class="mono" style="margin:0;padding:8px 14px 12px 40px">${signatureDebug.map((line) => html`<li>${line}</li>`)}</ol></details>`
      : ''
  }
  ${notes ? html`<h2>Processor notes</h2><div class="card" id="processor-notes">${notes.split('; ').map((n) => html`<div>${n}</div>`)}</div>` : ''}
  <h2>Crashing thread${crashingThread !== undefined ? ` (${crashingThread})` : ''}</h2>
  ${frames.length === 0 ? html`<div class="card empty">No frames.</div>` : frameTable(frames, 'frames')}
  ${
    threads.length > 0
      ? html`<h2>All threads <span class="badge">${threads.length}</span></h2><div id="threads">${threads.map(
          (t, i) => html`<details class="thread" ${i === crashingThread ? 'open' : ''}><summary>Thread ${i}${t.thread_name ? html` · <span class="mono">${t.thread_name}</span>` : ''}
            <span class="muted">${(t.frames ?? []).length} frames</span>${i === crashingThread ? html` <span class="badge err">crashed</span>` : ''}
            <span class="muted mono">${topFunction(t.frames ?? [])}</span></summary>${frameTable(t.frames ?? [])}</details>`,
        )}</div>`
      : ''
  }
  <h2>Modules</h2>
  ${
    (dump.modules ?? []).length === 0
      ? html`<div class="card empty">No module list.</div>`
      : html`<table id="modules"><thead><tr><th>File</th><th>Version</th><th>Debug file</th><th>Debug id</th><th>Base</th><th>End</th><th>Symbols</th></tr></thead><tbody>${(dump.modules ?? []).map(
          (m) => html`<tr><td>${m.filename ?? ''}</td><td>${m.version ?? ''}</td><td>${m.debug_file ?? ''}</td><td class="mono">${m.debug_id ?? ''}</td>
            <td class="mono">${m.base_addr ?? ''}</td><td class="mono">${m.end_addr ?? ''}</td>
            <td>${m.loaded_symbols ? html`<span class="badge ok">loaded</span>` : m.corrupt_symbols ? html`<span class="badge err">corrupt</span>` : m.missing_symbols ? html`<span class="badge warn missing-symbols">missing</span>` : ''}</td></tr>`,
        )}</tbody></table>`
  }
  ${
    raw
      ? html`<h2>Annotations</h2><div class="card"><table class="kv" id="annotations">${annotations
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => html`<tr><th class="mono">${k}</th><td class="mono" style="white-space:pre-wrap;word-break:break-all">${v}</td></tr>`)}</table>
          ${hiddenCount > 0 ? html`<p class="muted" id="hidden-annotations">${hiddenCount} protected annotation${hiddenCount > 1 ? 's' : ''} hidden: viewing them needs the view_protected permission.</p>` : ''}</div>`
      : ''
  }`;
  return page(`${text(crash.signature) ?? 'Crash'} · ${crash.uuid}`, body);
}

function frameName(f: FrameView): string {
  return f.function ?? (f.module_offset ? `${f.module ?? ''}@${f.module_offset}` : (f.offset ?? ''));
}

function topFunction(frames: FrameView[]): string {
  return frames[0] ? `— ${frameName(frames[0])}` : '';
}

/** Frames with their inlined calls as extra rows above the outer function, innermost first, as a debugger shows them. */
function frameTable(frames: FrameView[], id?: string): Html {
  return html`<table ${id ? html`id="${id}"` : ''} class="frames"><thead><tr><th>#</th><th>Module</th><th>Function</th><th>Source</th><th>Trust</th></tr></thead><tbody>${frames.map(
    (f, i) => html`${(f.inlines ?? []).map(
      (inl) => html`<tr class="inline"><td></td><td>${f.module ?? ''}</td><td class="mono fn">${inl.function ?? ''}</td><td class="mono">${inl.file ? `${inl.file}${inl.line ? `:${inl.line}` : ''}` : ''}</td><td></td></tr>`,
    )}<tr><td>${f.frame ?? i}</td><td>${f.module ?? ''}${f.missing_symbols ? html` <span class="badge warn" title="no symbols for this module">no symbols</span>` : ''}</td>
      <td class="mono">${frameName(f)}</td>
      <td class="mono">${f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : ''}</td><td><span class="badge">${f.trust ?? ''}</span></td></tr>`,
  )}</tbody></table>`;
}

export function pendingPage(crashId: string, raw: RawCrash): string {
  const body = html`<h1>Crash <span class="mono">${crashId}</span></h1>
  <div class="card" id="pending"><span class="badge warn">pending</span> This crash was received ${formatDate(Date.parse(raw.submitted_timestamp))} and is waiting to be processed. It has been moved to the front of the queue; this page refreshes by itself.</div>`;
  return page(`Crash ${crashId}`, body, { refreshSeconds: 2 });
}

export function notFoundPage(what: string): string {
  return page('Not found', html`<h1>Not found</h1><div class="card empty">${what}</div>`);
}

/** A page for a request the page cannot answer (bad parameters). */
export function errorPage(title: string, what: string): string {
  return page(title, html`<h1>${title}</h1><div class="card empty">${what}</div>`);
}
