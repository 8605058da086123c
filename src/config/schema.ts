import { boolean, duration, integer, list, oneOf, optional, path, size, string, url, type OptionSpec } from './option-types.js';

/**
 * Every option of every Mayday node, declared once. The loader, `config validate`,
 * `config explain`, `docs/configuration.md` and the JSON Schema all read this table, so a
 * new option is added here and nowhere else.
 *
 * Relative paths are resolved against `node.data_dir`.
 */
export const ROLES = ['collector', 'processor', 'web'] as const;
export type Role = (typeof ROLES)[number];

export const SCHEMA = {
  node: {
    name: string({ description: 'Name of this node, shown in logs and on the Operations Dashboard.', default: 'mayday', pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, patternHint: 'letters, digits, "_", "." and "-"' }),
    roles: list({ description: 'The roles this node runs.', default: [...ROLES], values: ROLES, unique: true }),
    data_dir: path({ description: 'Directory for embedded storage (raw and processed crashes, SQLite databases). Relative paths elsewhere in the file are resolved against it.', default: './var' }),
    heartbeat_interval: duration({ description: 'How often this node reports itself and its counters to the node registry (read by /status and the Dashboard). A node silent for three intervals is taken for gone.', default: 10_000, min: 100 }),
  },
  web: {
    host: string({ description: 'Address the HTTP server listens on. Use 0.0.0.0 to accept crash reports from other machines.', default: '127.0.0.1' }),
    port: integer({ description: 'TCP port of the HTTP server (collector and web app share it).', default: 8000, min: 0, max: 65535 }),
    public_url: optional(url({ description: 'URL at which users and clients reach this node; used in printed instructions. Defaults to http://HOST:PORT.', protocols: ['http', 'https'] })),
    shutdown_timeout: duration({ description: 'How long shutdown waits for in-flight requests before closing connections.', default: 10_000, min: 0 }),
    status_sample_interval: duration({ description: 'How often the web role records a point of the processing status history (/status graphs).', default: 60_000, min: 100 }),
  },
  collector: {
    max_request_size: size({ description: 'Largest accepted submission body (compressed or not); larger ones get 413.', default: 25 * 1024 * 1024, min: 1024 }),
  },
  storage: {
    backend: oneOf(['fs'] as const, { description: 'Where raw and processed crashes are kept: "fs" is the local filesystem.', default: 'fs' }),
    raw_path: path({ description: 'Directory of raw crashes (annotations and dumps), partitioned by submission date.', default: 'raw' }),
    processed_path: path({ description: 'Directory of processed crashes, partitioned by submission date.', default: 'processed' }),
    fsync: boolean({ description: 'Flush each raw crash to disk before acknowledging it. Turning this off risks losing acknowledged crashes on power loss.', default: true }),
  },
  queue: {
    backend: oneOf(['sqlite'] as const, { description: 'Processing queue back end: "sqlite" is an embedded durable queue.', default: 'sqlite' }),
    path: path({ description: 'SQLite file of the embedded queue.', default: 'queue.sqlite' }),
    visibility_timeout: duration({ description: 'A crash taken by a processor and not acknowledged within this time is handed out again.', default: 5 * 60_000, min: 1000 }),
  },
  database: {
    backend: oneOf(['sqlite'] as const, { description: 'Crash index and metadata database: "sqlite" is embedded.', default: 'sqlite' }),
    path: path({ description: 'SQLite file of the crash index.', default: 'mayday.sqlite' }),
  },
  processor: {
    concurrency: integer({ description: 'Crashes processed at the same time by this node.', default: 1, min: 1, max: 64 }),
    poll_interval: duration({ description: 'How often an idle processor asks the queue for work (in-process submissions wake it at once).', default: 1000, min: 10 }),
    time_limit: duration({ description: 'Longest time one crash may take; a crash over it is saved as failed with a note and not retried.', default: 60_000, min: 100 }),
    max_attempts: integer({ description: 'Attempts at a crash whose processing keeps failing (storage errors) before it goes to the dead letters.', default: 5, min: 1, max: 100 }),
    ruleset: oneOf(['default'] as const, { description: 'Ruleset for crashes from the collector (reprocessing may ask for another, such as "signature").', default: 'default' }),
  },
  symbols: {
    paths: list({ description: 'Directories of Breakpad symbols in the DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym layout, searched in order.', default: ['symbols'] }),
    cache_size: size({ description: 'Memory budget of the parsed-symbol cache.', default: 512 * 1024 * 1024, min: 1024 * 1024 }),
  },
  log: {
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, { description: 'Lowest level of log lines written (JSON, to standard output).', default: 'info' }),
  },
} as const satisfies Record<string, Record<string, OptionSpec<unknown>>>;

export type Schema = typeof SCHEMA;
export type SectionName = keyof Schema;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** The typed, fully resolved configuration of one node. */
export type Config = {
  [S in SectionName]: { [K in keyof Schema[S]]: ValueOf<Schema[S][K]> };
};

export interface OptionInfo {
  section: string;
  key: string;
  spec: OptionSpec<unknown>;
}

/** All options in declaration order, for docs, forms and validation. */
export function listOptions(): OptionInfo[] {
  const out: OptionInfo[] = [];
  for (const [section, options] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(options)) out.push({ section, key, spec: spec as OptionSpec<unknown> });
  }
  return out;
}

export function findOption(section: string, key: string): OptionSpec<unknown> | undefined {
  const options = (SCHEMA as Record<string, Record<string, OptionSpec<unknown>>>)[section];
  return options?.[key];
}
