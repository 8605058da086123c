/**
 * The processed crash, declared once: every top-level field with its type, its meaning,
 * whether it is protected (personal or sensitive data, redacted for viewers without the
 * `view_protected` permission), whether the crash index keeps it for search, and which
 * annotation feeds it. Processing rules, the search index, the API's redaction and its
 * field list (`/api/SuperSearchFields/`) read it through a field catalog
 * (`field-catalog.ts`), which adds the fields a deployment declares in its configuration.
 */

export type FieldType = 'keyword' | 'text' | 'integer' | 'number' | 'boolean' | 'date' | 'list' | 'object';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly description: string;
  /** Personal or sensitive: redacted unless the viewer may see protected data. */
  readonly protected: boolean;
  /** Kept in the crash index for search and aggregation. */
  readonly searchable: boolean;
  /** Annotation names that feed the field, first present wins (raw crash, collector-normalised). */
  readonly annotations?: readonly string[];
  /**
   * For a searchable field filtered, sorted or counted on most searches: the name of its own
   * indexed column in the crash index. Other searchable fields live in the index's JSON
   * document (slower to filter on, but adding one needs no migration). A field given a
   * column here needs a migration that adds the column in every crash index adapter (a
   * test checks that they agree).
   */
  readonly column?: string;
  /** Declared by the deployment's configuration (`[annotations.fields.NAME]`), not built in. */
  readonly custom?: boolean;
}

interface FieldOptions {
  protected?: boolean;
  searchable?: boolean;
  annotations?: readonly string[];
  column?: string;
}

function field(name: string, type: FieldType, description: string, options: FieldOptions = {}): FieldSpec {
  return {
    name,
    type,
    description,
    protected: options.protected ?? false,
    // A column exists to be searched.
    searchable: options.searchable ?? options.column !== undefined,
    annotations: options.annotations,
    column: options.column,
  };
}

export const PROCESSED_CRASH_FIELDS: readonly FieldSpec[] = [
  // Identity and time
  field('uuid', 'keyword', 'Crash id.', { column: 'crash_id' }),
  field('submitted_timestamp', 'date', 'When the collector received the crash (UTC, ISO 8601).', { column: 'submitted_at' }),
  field('date_processed', 'date', 'When the crash was last processed.', { column: 'processed_at' }),
  field('started_datetime', 'date', 'When processing of this version started.'),
  field('completed_datetime', 'date', 'When processing of this version completed.'),
  field('crash_time', 'date', 'When the crash happened, by the client clock (CrashTime annotation, else the dump timestamp).'),
  field('uptime', 'integer', 'Seconds the process had been running when it crashed.', { column: 'uptime' }),
  field('install_age', 'integer', 'Seconds since this version was installed (crash time minus InstallTime).', { column: 'install_age' }),
  field('last_crash', 'integer', 'Seconds since the previous crash reported by the client (SecondsSinceLastCrash).', { annotations: ['SecondsSinceLastCrash'] }),

  // Product
  field('product', 'keyword', 'Product name.', { column: 'product', annotations: ['ProductName'] }),
  field('version', 'keyword', 'Product version.', { column: 'version', annotations: ['Version'] }),
  field('release_channel', 'keyword', 'Release channel (release, beta, nightly, ...).', { column: 'release_channel', annotations: ['ReleaseChannel'] }),
  field('build_id', 'keyword', 'Build identifier.', { column: 'build_id', annotations: ['BuildID'] }),
  field('vendor', 'keyword', 'Product vendor.', { annotations: ['Vendor'] }),
  field('process_type', 'keyword', 'Which process crashed (parent/browser, renderer, gpu, ...); "parent" when the client did not say.', {
    column: 'process_type',
    annotations: ['ProcessType'],
  }),
  field('platform', 'keyword', 'The client platform it reported (Electron: linux, win32, darwin).', { annotations: ['Platform'] }),

  // System
  field('os_name', 'keyword', 'Operating system (Windows NT, Mac OS X, Linux, ...).', { column: 'os_name' }),
  field('os_version', 'keyword', 'Operating system version as the dump states it.', { column: 'os_version' }),
  field('os_pretty_version', 'keyword', 'Readable OS version (Windows 10, macOS 14.2, Ubuntu 22.04, ...).', { column: 'os_pretty_version' }),
  field('cpu_arch', 'keyword', 'CPU architecture (amd64, x86, arm64, arm).', { column: 'cpu_arch' }),
  field('cpu_info', 'text', 'CPU vendor, family, model and stepping.'),
  field('cpu_count', 'integer', 'Number of CPUs.', { column: 'cpu_count' }),

  // Crash
  field('reason', 'keyword', 'Crash reason (SIGSEGV /SEGV_MAPERR, EXCEPTION_ACCESS_VIOLATION_READ, ...).', { column: 'reason' }),
  field('address', 'keyword', 'Crash address.', { column: 'address' }),
  field('crashing_thread', 'integer', 'Index of the crashing thread in json_dump.threads.', { searchable: true }),
  field('crashing_thread_name', 'keyword', 'Name of the crashing thread.', { searchable: true }),
  field('thread_count', 'integer', 'Number of threads in the dump.', { searchable: true }),
  field('report_type', 'keyword', 'crash, hang (the client reported a hang) or no-dump (no minidump submitted).', { column: 'report_type' }),
  field('abort_message', 'text', 'Message of an assertion or abort, if the client sent one.', { searchable: true, annotations: ['AbortMessage'] }),
  field('oom_allocation_size', 'integer', 'Size of the allocation that failed, for out-of-memory crashes.', { searchable: true, annotations: ['OOMAllocationSize'] }),
  field('signature', 'keyword', 'Crash signature: the frames that identify this bug.', { column: 'signature' }),
  field('proto_signature', 'text', 'Every normalised frame of the crashing thread, joined with " | ".', { searchable: true }),
  field('signature_debug', 'list', 'Frame-by-frame explanation of the signature.'),
  field('modules_in_stack', 'list', 'debug_file/debug_id of the modules in the crashing thread.', { searchable: true }),
  field('topmost_filenames', 'list', 'Source files of the topmost frames of the crashing thread.', { searchable: true }),
  field('missing_symbols', 'list', 'Modules with frames in them whose symbols were missing.', { searchable: true }),
  field('json_dump', 'object', 'The stackwalker document (see docs/stackwalk-json.md).'),
  field('mdsw_status_string', 'keyword', 'Stackwalker status: OK or the first problem met.', { searchable: true }),
  field('stackwalk_truncated', 'boolean', 'Whether thread stacks were truncated for size.'),

  // Submission facts
  field('annotation_keys', 'list', 'Names of every annotation the client sent.', { searchable: true }),
  field('dump_names', 'list', 'Names of the dumps in the submission.'),
  field('dump_checksums', 'object', 'sha256 of each dump, by name.'),
  field('processor_notes', 'text', 'What the processor noticed or could not do, separated by "; ".'),
  field('success', 'boolean', 'Whether every rule ran without failing.', { column: 'success' }),
  field('ruleset', 'keyword', 'The ruleset this version was made with.'),

  // Protected: personal data the client may send
  field('url', 'text', 'URL the user was visiting.', { protected: true, searchable: true, annotations: ['URL'] }),
  field('email', 'keyword', 'Email address the user gave.', { protected: true, searchable: true, annotations: ['Email'] }),
  field('user_comments', 'text', 'What the user wrote about the crash.', { protected: true, searchable: true, annotations: ['Comments', 'UserComments'] }),
  field('app_notes', 'text', 'Free-form notes the application attached.', { protected: true, annotations: ['Notes'] }),
];

const BY_NAME = new Map(PROCESSED_CRASH_FIELDS.map((f) => [f.name, f]));

export function processedCrashField(name: string): FieldSpec | undefined {
  return BY_NAME.get(name);
}

export const PROTECTED_FIELDS: ReadonlySet<string> = new Set(PROCESSED_CRASH_FIELDS.filter((f) => f.protected).map((f) => f.name));

/** Annotations whose values are personal data, redacted in the raw crash too. */
export const PROTECTED_ANNOTATIONS: ReadonlySet<string> = new Set(
  PROCESSED_CRASH_FIELDS.filter((f) => f.protected).flatMap((f) => f.annotations ?? []),
);

/** A copy of a processed crash without its protected fields (for viewers who may not see them). */
export function redactProcessedCrash<T extends Record<string, unknown>>(crash: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(crash)) if (!PROTECTED_FIELDS.has(key)) copy[key] = value;
  return copy as T;
}
