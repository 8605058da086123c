/**
 * Symbol storage and supply, as ports.
 *
 * Symbols are addressed as a Breakpad symbol server addresses them: by debug file and
 * debug id, laid out as `DEBUG_FILE/DEBUG_ID/NAME.sym` (see `symbolStorePath`). Several
 * *sources* are searched in priority order by the processor (the writable store, extra
 * read-only directories, upstream symbol servers); uploads go to the one *store*.
 */

/** What identifies one symbol file: the module's debug file name and debug id. */
export interface SymbolKey {
  readonly debugFile: string;
  readonly debugId: string;
}

/** Somewhere symbol files can be read from. */
export interface SymbolSource {
  /** For logs and the status page, e.g. `fs:/srv/symbols` or `https://symbols.example.com`. */
  readonly name: string;
  /**
   * The file's bytes, or `undefined` when this source does not have it. Rejects on
   * errors that say nothing about whether the file exists (I/O, timeouts, 5xx), so the
   * caller does not remember them as a miss.
   */
  fetch(key: SymbolKey): Promise<Uint8Array | undefined>;
}

/** Where uploaded symbols are kept: a source that can also be written. */
export interface SymbolStore extends SymbolSource {
  /**
   * Stores the file at `localPath` (a validated upload staged on local disk) under `key`,
   * replacing any previous one. Readers see either the old file or the new one, never a
   * partial file, even when two uploads of the same key race. The caller still owns
   * `localPath` and removes it afterwards if it still exists.
   */
  putFile(key: SymbolKey, localPath: string): Promise<void>;
  /** Whether a file is stored under `key`. */
  has(key: SymbolKey): Promise<boolean>;
  /** Throws when the store cannot be used (for `/__heartbeat__`). */
  check(): Promise<void>;
}

/** A module whose symbols were missing when a crash was processed. */
export interface MissingModule {
  readonly debugFile: string;
  readonly debugId: string;
  readonly codeFile: string | null;
  readonly codeId: string | null;
}

/** One line of the missing-symbols report: a module and how many crashes lacked it. */
export interface MissingSymbolsSummary extends MissingModule {
  /** Distinct crashes in the window whose stack went through the module. */
  readonly crashCount: number;
  /** ms since epoch: the newest such crash's submission time. */
  readonly lastSeen: number;
  readonly os: string | null;
  readonly cpu: string | null;
}

export interface MissingSymbolsQuery {
  /** Only crashes submitted at or after this time (ms since epoch). */
  readonly since: number;
  readonly limit: number;
  readonly offset?: number;
}

/** The record of which crashes missed which modules' symbols. */
export interface MissingSymbolsLog {
  /**
   * Replaces what is recorded for `crashId` with `modules` (possibly none): reprocessing
   * a crash after an upload clears the modules it no longer misses. The names come from
   * an untrusted minidump: they are stored as `storableMissingModules` makes them, the
   * same in every database.
   */
  record(crash: { crashId: string; submittedAt: number; os: string | null; cpu: string | null }, modules: readonly MissingModule[]): Promise<void>;
  /** Most frequently missing first, then most recently seen. */
  list(query: MissingSymbolsQuery): Promise<MissingSymbolsSummary[]>;
  /** Crashes submitted since `since` that missed this module's symbols, newest first. */
  crashesMissing(key: SymbolKey, since: number, limit: number): Promise<string[]>;
  /** Forgets crashes submitted before `before` (ms since epoch); returns how many entries went. */
  prune(before: number): Promise<number>;
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a missing-symbols log keeps of a crash's modules: one per debug file and id (the
 * last given wins), none whose debug file or id holds a NUL character (no symbol file can
 * be stored under such a key, see `symbolStorePath`, and PostgreSQL's text cannot hold
 * one), and NULs dropped from the other names. Every adapter applies it, so that SQLite
 * and PostgreSQL keep the same rows.
 */
export function storableMissingModules(modules: readonly MissingModule[]): MissingModule[] {
  const noNul = (text: string | null): string | null => (text === null ? null : text.replaceAll('\u0000', ''));
  const byKey = new Map<string, MissingModule>();
  for (const m of modules) {
    if (m.debugFile.includes('\u0000') || m.debugId.includes('\u0000')) continue;
    byKey.set(`${m.debugFile}\u0000${m.debugId}`, { debugFile: m.debugFile, debugId: m.debugId, codeFile: noNul(m.codeFile), codeId: noNul(m.codeId) });
  }
  return [...byKey.values()];
}

/** `os` or `cpu` of a crash as a missing-symbols log keeps it: NULs dropped (see `storableMissingModules`). */
export function storableCrashText(text: string | null): string | null {
  return text === null ? null : text.replaceAll('\u0000', '');
}

/**
 * The store-relative path `DEBUG_FILE/DEBUG_ID/NAME.sym` of a symbol file, or
 * `undefined` when the names cannot be used safely (traversal, separators, NUL, empty).
 * NAME is the debug file without a `.pdb` extension (`foo.pdb/ID/foo.sym`), as
 * Breakpad's `SimpleSymbolSupplier` and symbol servers lay it out; a debug file given as
 * a full path (`C:\build\foo.pdb`) is reduced to its last component first.
 *
 * This is the layout every symbol source shares (directories, buckets, HTTP servers),
 * hence part of the port. It matches `symbolStorePath` of `adapters/fs-symbol-supplier`
 * (a test holds the two to the same answers).
 */
export function symbolStorePath(key: SymbolKey): string | undefined {
  const debugFile = key.debugFile.slice(Math.max(key.debugFile.lastIndexOf('/'), key.debugFile.lastIndexOf('\\')) + 1);
  if (debugFile === '' || debugFile === '.' || debugFile.includes('..') || debugFile.includes('\u0000')) return undefined;
  if (!/^[0-9A-Za-z]+$/.test(key.debugId)) return undefined;
  const name = debugFile.toLowerCase().endsWith('.pdb') && debugFile.length > 4 ? debugFile.slice(0, -4) : debugFile;
  return `${debugFile}/${key.debugId}/${name}.sym`;
}
