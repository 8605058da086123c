import type { ProcessedCrash } from '../../../ports/processed-crash-store.js';
import type { RawCrash } from '../../../ports/raw-crash-store.js';
import { PROCESSED_CRASH_FIELDS, redactProcessedCrash, type FieldSpec } from '../../../schema/processed-crash.js';
import { Html, html } from '../html.js';
import { page } from '../layout.js';
import { formatDate, queryString, signatureLink, text } from './format.js';
import { sourceLocation, type SourceLinkRule } from './source-links.js';
import type { FieldCatalog } from '../../../schema/field-catalog.js';

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

/** What the report page shows beside the crash itself; all optional. */
export interface ReportExtras {
  /**
   * The node's field catalog (built-in fields and the operator's custom annotation
   * fields): the "Details" table's rows, in order, and what is redacted for viewers
   * without `view_protected` (default: the built-in schema).
   */
  catalog?: Pick<FieldCatalog, 'fields' | 'redact'>;
  /** `[source_links.rules.*]`: build path prefixes to repository URL templates. */
  sourceLinks?: readonly SourceLinkRule[];
  /** Present when the viewer may reprocess: the form's hidden CSRF field. */
  reprocess?: { csrf: Html };
  /** The crash waits on a queue to be processed again: the page says so and refreshes until it is done. */
  reprocessing?: boolean;
  /** Processed again since the viewer's Reprocess button (`?reprocessed_at=`): says this is the new result. */
  reprocessed?: boolean;
  /** The bug links of the crash's signature, already rendered (the bug-links page part). */
  bugLinks?: Html;
}

/** Fields shown in the summary, by their own rows: the details table leaves them out. */
const DETAILS_SKIP = new Set(['json_dump', 'signature_debug', 'processor_notes']);
/** Integer fields counted in seconds, shown as durations. */
const DURATION_FIELDS = new Set(['uptime', 'install_age', 'last_crash']);

/** `95` -> `1 min 35 s`; `200000` -> `2 days 7 h`: the two largest units, as a person reads an age. */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const sign = seconds < 0 ? '−' : '';
  let rest = Math.round(Math.abs(seconds));
  const units: [string, string, number][] = [
    ['day', 'days', 86_400],
    ['h', 'h', 3600],
    ['min', 'min', 60],
    ['s', 's', 1],
  ];
  const parts: string[] = [];
  for (const [one, many, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (size === 1 && parts.length === 0)) parts.push(`${n} ${n === 1 ? one : many}`);
    if (parts.length === 2) break;
    // `2 days 0 h 5 min` reads as `2 days`: stop at the first empty unit after a filled one.
    if (parts.length === 1 && n === 0) break;
  }
  return sign + parts.join(' ');
}

function durationCell(value: unknown): Html | string | undefined {
  if (typeof value !== 'number') return value === undefined || value === null ? undefined : String(value);
  return html`<span title="${value} seconds">${humanDuration(value)}</span>`;
}

/** A field's value as the details table shows it. */
function detailValue(spec: FieldSpec, value: unknown): Html | string {
  if (DURATION_FIELDS.has(spec.name)) return durationCell(value) ?? '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object' && value !== null) {
    const json = JSON.stringify(value);
    return json.length > 2000 ? `${json.slice(0, 2000)}…` : json;
  }
  return String(value);
}

/**
 * One crash, read top to bottom the way a developer triages it: what crashed and where
 * (summary, signature and why it is that signature, bug links), the crashing thread with
 * source lines (linked into version control when the symbols or the configuration say
 * where) and inlined calls, then the other threads folded, modules (missing symbols
 * flagged: the first thing to fix when frames are unreadable), every field of the
 * processed crash, annotations and notes. Protected fields and annotations are left out
 * for viewers without `view_protected`.
 */
export function reportPage(processed: ProcessedCrash, raw: RawCrash | undefined, viewer: Viewer, protectedAnnotations: ProtectedAnnotations, extras: ReportExtras = {}): string {
  const crash = viewer.canViewProtected ? processed : (extras.catalog?.redact(processed) ?? redactProcessedCrash(processed));
  const dump = (crash.json_dump ?? {}) as JsonDumpView;
  const crashingThread = typeof crash.crashing_thread === 'number' ? crash.crashing_thread : undefined;
  const threads = dump.threads ?? [];
  const frames = crashingThread !== undefined ? (threads[crashingThread]?.frames ?? []) : [];
  const notes = String(crash.processor_notes ?? '');
  const signatureDebug = Array.isArray(crash.signature_debug) ? crash.signature_debug.map(String) : [];
  const product = text(crash.product);
  const version = text(crash.version);
  const field = (label: string, value: unknown, mono = false): Html =>
    html`<tr><th>${label}</th><td class="${mono ? 'mono' : ''}">${value === undefined || value === null || value === '' ? html`<span class="muted">—</span>` : value instanceof Html ? value : String(value)}</td></tr>`;
  const annotations = raw ? Object.entries(raw.annotations).filter(([name]) => viewer.canViewProtected || !protectedAnnotations.has(name.toLowerCase())) : [];
  const hiddenCount = raw ? Object.keys(raw.annotations).length - annotations.length : 0;
  const source = sourceCell(extras.sourceLinks ?? [], Object.fromEntries(annotations));
  const catalog = extras.catalog?.fields ?? PROCESSED_CRASH_FIELDS;
  // The catalog's own protection too: a custom field the static schema does not know may be protected.
  const details = catalog.filter((spec) => !DETAILS_SKIP.has(spec.name) && (viewer.canViewProtected || !spec.protected) && crash[spec.name] !== undefined && crash[spec.name] !== null && crash[spec.name] !== '');
  const id = String(crash.uuid);

  const body = html`${
    extras.reprocessing
      ? html`<div class="card" id="reprocessing" role="status"><span class="badge warn">reprocessing…</span> This crash is queued to be processed again; this page refreshes by itself and shows the new result when it is ready.</div>`
      : extras.reprocessed
        ? html`<div class="card" id="reprocessed" role="status"><span class="badge ok">reprocessed</span> Processed again ${formatDateText(crash.date_processed)}: this is the new result.</div>`
        : ''
  }<h1>${product ?? 'Unknown product'} ${version ?? ''} <span class="muted mono" style="font-size:14px">${id}</span></h1>
  <div class="card"><table class="kv" id="summary">
    <tr><th>Signature</th><td>${signatureLink(text(crash.signature), { product, versions: version ? [version] : undefined })}</td></tr>
    ${extras.bugLinks ? html`<tr><th>Bugs</th><td id="report-bugs">${extras.bugLinks}</td></tr>` : ''}
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
    ${field('Uptime', durationCell(crash.uptime))}
    ${field('Install age', durationCell(crash.install_age))}
    ${field('Since last crash', durationCell(crash.last_crash))}
    ${field('Crashing thread', crashingThread === undefined ? undefined : `${crashingThread}${crash.crashing_thread_name ? ` (${String(crash.crashing_thread_name)})` : ''}`)}
    ${field('Submitted', crash.submitted_timestamp)}
    ${field('Processed', crash.date_processed)}
    ${field('Stackwalker status', crash.mdsw_status_string)}
  </table>
  <p id="report-links" class="muted">JSON:
    <a href="/api/RawCrash/${queryString({ crash_id: id })}">raw crash</a> ·
    <a href="/api/ProcessedCrash/${queryString({ crash_id: id })}">processed crash</a> ·
    <a href="/report/stackwalker/${id}" title="The stackwalker's document (json_dump): threads, frames, modules">stackwalker output</a></p>
  ${
    viewer.canDownloadDumps && raw
      ? html`<p id="downloads">${(Object.keys(raw.metadata.dumps).length ? Object.keys(raw.metadata.dumps) : ['upload_file_minidump']).map(
          (name) => html`<a href="/api/RawCrash/${queryString({ crash_id: id, format: 'raw', name })}" download>⬇ Download ${name}</a> `,
        )}</p>`
      : ''
  }
  ${
    extras.reprocess
      ? html`<form method="post" action="/reprocess" id="reprocess-form" style="margin:0">${extras.reprocess.csrf}<input type="hidden" name="crash_id" value="${id}"><input type="hidden" name="return_to" value="/report/index/${id}"><button type="submit" title="Process this crash again (with the symbols and rules of today)">Reprocess</button></form>`
      : ''
  }</div>
  ${
    signatureDebug.length
      ? html`<details class="thread" id="signature-debug"><summary>How the signature was made (${signatureDebug.length} steps)</summary><ol class="mono" style="margin:0;padding:8px 14px 12px 40px">${signatureDebug.map((line) => html`<li>${line}</li>`)}</ol></details>`
      : ''
  }
  ${notes ? html`<h2>Processor notes</h2><div class="card" id="processor-notes">${notes.split('; ').map((n) => html`<div>${n}</div>`)}</div>` : ''}
  <h2>Crashing thread${crashingThread !== undefined ? html` (${crashingThread}${threads[crashingThread]?.thread_name ? html` · <span class="mono">${threads[crashingThread]!.thread_name}</span>` : ''}) <span class="badge err">crashed</span>` : ''}</h2>
  ${frames.length === 0 ? html`<div class="card empty">No frames.</div>` : frameTable(frames, source, 'frames')}
  ${
    threads.length > (crashingThread !== undefined && threads[crashingThread] ? 1 : 0)
      ? html`<h2>Other threads <span class="badge">${threads.length - (crashingThread !== undefined && threads[crashingThread] ? 1 : 0)}</span></h2><div id="threads">${threads.map((t, i) =>
          i === crashingThread
            ? ''
            : html`<details class="thread"><summary>Thread ${i}${t.thread_name ? html` · <span class="mono">${t.thread_name}</span>` : ''}
            <span class="muted">${(t.frames ?? []).length} frames</span>
            <span class="muted mono">${topFunction(t.frames ?? [])}</span></summary>${frameTable(t.frames ?? [], source)}</details>`,
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
  <h2>Details</h2>
  <div class="card"><table class="kv" id="details">${details.map(
    (spec) => html`<tr><th class="mono" title="${spec.description}">${spec.name}</th><td class="mono" style="white-space:pre-wrap;word-break:break-word">${detailValue(spec, crash[spec.name])}</td></tr>`,
  )}</table></div>
  ${
    raw
      ? html`<h2>Annotations</h2><div class="card"><table class="kv" id="annotations">${annotations
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => html`<tr><th class="mono">${k}</th><td class="mono" style="white-space:pre-wrap;word-break:break-all">${v}</td></tr>`)}</table>
          ${hiddenCount > 0 ? html`<p class="muted" id="hidden-annotations">${hiddenCount} protected annotation${hiddenCount > 1 ? 's' : ''} hidden: viewing them needs the view_protected permission.</p>` : ''}</div>`
      : ''
  }`;
  return page(`${text(crash.signature) ?? 'Crash'} · ${id}`, body, extras.reprocessing ? { refreshSeconds: 2 } : {});
}

function formatDateText(value: unknown): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? '' : `at ${formatDate(ms)}`;
}

function frameName(f: FrameView): string {
  return f.function ?? (f.module_offset ? `${f.module ?? ''}@${f.module_offset}` : (f.offset ?? ''));
}

function topFunction(frames: FrameView[]): string {
  return frames[0] ? `— ${frameName(frames[0])}` : '';
}

type SourceCell = (file: string | null | undefined, line: number | null | undefined) => Html | string;

/** The source column: `path:line`, a link into version control when one can be made. */
function sourceCell(rules: readonly SourceLinkRule[], annotations: Readonly<Record<string, string>>): SourceCell {
  return (file, line) => {
    if (!file) return '';
    const location = sourceLocation(file, line, rules, annotations);
    return location.href ? html`<a class="source-link" href="${location.href}" rel="noopener noreferrer nofollow" title="${file}">${location.display}</a>` : location.display;
  };
}

/** Frames with their inlined calls as extra rows above the outer function, innermost first, as a debugger shows them. */
function frameTable(frames: FrameView[], source: SourceCell, id?: string): Html {
  return html`<table ${id ? html`id="${id}"` : ''} class="frames"><thead><tr><th>#</th><th>Module</th><th>Function</th><th>Source</th><th>Trust</th></tr></thead><tbody>${frames.map(
    (f, i) => html`${(f.inlines ?? []).map(
      (inl) => html`<tr class="inline"><td></td><td>${f.module ?? ''}</td><td class="mono fn">${inl.function ?? ''}</td><td class="mono">${source(inl.file, inl.line)}</td><td></td></tr>`,
    )}<tr><td>${f.frame ?? i}</td><td>${f.module ?? ''}${f.module && f.missing_symbols ? html` <span class="badge warn" title="no symbols for this module">no symbols</span>` : ''}</td>
      <td class="mono">${frameName(f)}</td>
      <td class="mono">${source(f.file, f.line)}</td><td><span class="badge">${f.trust ?? ''}</span></td></tr>`,
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
