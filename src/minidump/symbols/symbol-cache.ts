/**
 * `SymbolCache`: the engine's `SymbolSupplier`, holding parsed symbol files in memory
 * under a byte budget and evicting the least recently used.
 *
 * Pure: the bytes come from a loader the caller provides (a directory, an HTTP symbol
 * server, a bucket), so the engine still does no I/O. Every outcome is cached, including
 * "missing" and "corrupt", because one stack walk asks for the same few modules again and
 * again; concurrent requests for one module share a single load and parse.
 *
 * Negative entries (missing, corrupt) are the ones that go stale: symbols get uploaded
 * after the crashes that needed them. They expire after `negativeTtlMs`, and
 * `invalidate` drops one module at once (the node calls it when an upload lands in this
 * process; other processes see the upload when their negative entry expires). Loaded
 * entries never expire: a debug id names one build, so its symbols do not change.
 *
 * Cost of an entry is the parsed module's own estimate of what it keeps alive (the file's
 * bytes plus its tables; see `BreakpadModuleSymbols.retainedBytes`), refreshed on each
 * hit since lookups decode function details lazily. The budget can be exceeded by the
 * entry in use: the most recently used entry is never evicted, so a file larger than the
 * whole budget still works, it just does not stay.
 */

import type { CodeModule, SymbolResult, SymbolSupplier } from '../contracts.js';
import { parseSymbolFile } from './parse-symbol-file.js';
import type { ParseSymbolFileOptions } from './parse-symbol-file.js';

/** Fetches a module's `.sym` bytes; `undefined` when there are none. */
export type SymbolLoader = (module: CodeModule) => Promise<Uint8Array | undefined>;

export interface SymbolCacheOptions {
  readonly loader: SymbolLoader;
  /** Memory budget in bytes for all cached entries. */
  readonly budgetBytes: number;
  /**
   * Parser options. By default a file without a MODULE header is read anyway, as Breakpad
   * does (real symbol stores hold such files); set `allowMissingModule: false` to treat
   * it as corrupt.
   */
  readonly parseOptions?: ParseSymbolFileOptions;
  /**
   * Told about a loader that threw (an I/O error, not a missing file). The request then
   * answers `missing` and nothing is cached, so a later request tries again.
   */
  readonly onLoadError?: (module: CodeModule, error: unknown) => void;
  /**
   * How long a missing or corrupt outcome is remembered, in ms; after that the next
   * request loads again. Default: for ever (until evicted or invalidated).
   */
  readonly negativeTtlMs?: number;
  /** Clock for expiry, in ms; `Date.now` by default (tests pass their own). */
  readonly now?: () => number;
}

export interface SymbolCacheStats {
  /** Requests answered from the cache or by joining a load already under way. */
  readonly hits: number;
  /** Requests that started a load. */
  readonly misses: number;
  readonly evictions: number;
  readonly loadErrors: number;
  /** Negative entries dropped because they were older than `negativeTtlMs`. */
  readonly expired: number;
  /** Entries held and their estimated total size. */
  readonly entries: number;
  readonly bytes: number;
}

/** Cost charged for a missing or corrupt entry: the key and a small record. */
const NEGATIVE_ENTRY_COST = 256;

interface Entry {
  readonly result: SymbolResult;
  cost: number;
  /** Clock time after which the entry is stale; `Infinity` for loaded symbols. */
  readonly expiresAt: number;
}

function costOf(result: SymbolResult): number {
  if (result.status !== 'loaded') return NEGATIVE_ENTRY_COST;
  const retained = (result.symbols as { retainedBytes?: unknown }).retainedBytes;
  return typeof retained === 'number' ? retained : NEGATIVE_ENTRY_COST;
}

/** Symbols are keyed by what the symbol store is keyed by: debug file and debug id. */
function keyOf(module: Pick<CodeModule, 'debugFile' | 'debugId'>): string {
  return `${module.debugFile}\u0000${module.debugId}`;
}

export class SymbolCache implements SymbolSupplier {
  /** Entries in recency order: a Map iterates in insertion order, oldest first. */
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<SymbolResult>>();
  /**
   * Bumped by `invalidate`: a load that started before the bump answers its waiters but
   * is not cached, since it may have looked before the new file arrived.
   */
  private readonly generations = new Map<string, number>();
  private totalBytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private loadErrors = 0;
  private expired = 0;
  private readonly now: () => number;
  private readonly negativeTtlMs: number;

  constructor(private readonly options: SymbolCacheOptions) {
    if (!(options.budgetBytes >= 0)) throw new RangeError('budgetBytes must be a non-negative number');
    const ttl = options.negativeTtlMs ?? Infinity;
    if (!(ttl >= 0)) throw new RangeError('negativeTtlMs must be a non-negative number');
    this.negativeTtlMs = ttl;
    this.now = options.now ?? Date.now;
  }

  get stats(): SymbolCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      loadErrors: this.loadErrors,
      expired: this.expired,
      entries: this.entries.size,
      bytes: this.totalBytes,
    };
  }

  getSymbols(module: CodeModule): Promise<SymbolResult> {
    const key = keyOf(module);
    let entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      this.expired++;
      entry = undefined;
    }
    if (entry) {
      this.hits++;
      this.touch(key, entry);
      return Promise.resolve(entry.result);
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.hits++;
      return pending;
    }
    this.misses++;
    const load = this.load(module, key).finally(() => {
      if (this.inFlight.get(key) === load) this.inFlight.delete(key);
    });
    this.inFlight.set(key, load);
    return load;
  }

  /**
   * Forget what is known about one module (new symbols were just stored for it): the
   * next request loads again. A load under way still answers the requests that joined
   * it, but its result is not kept. Returns whether anything was dropped.
   */
  invalidate(debugFile: string, debugId: string): boolean {
    const key = keyOf({ debugFile, debugId });
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
    const wasLoading = this.inFlight.delete(key);
    return entry !== undefined || wasLoading;
  }

  /** Drop every entry (loads under way still complete and are cached). */
  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private async load(module: CodeModule, key: string): Promise<SymbolResult> {
    const generation = this.generations.get(key);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.options.loader(module);
    } catch (error) {
      this.loadErrors++;
      this.options.onLoadError?.(module, error);
      return { status: 'missing' };
    }
    const result = bytes === undefined ? ({ status: 'missing' } as const) : this.parse(bytes);
    if (this.generations.get(key) === generation) this.insert(key, result);
    return result;
  }

  private parse(bytes: Uint8Array): SymbolResult {
    const parsed = parseSymbolFile(bytes, { allowMissingModule: true, ...this.options.parseOptions });
    if (parsed.status === 'corrupt') return { status: 'corrupt', error: parsed.error };
    return { status: 'loaded', symbols: parsed.symbols };
  }

  private insert(key: string, result: SymbolResult): void {
    const expiresAt = result.status === 'loaded' ? Infinity : this.now() + this.negativeTtlMs;
    const entry: Entry = { result, cost: costOf(result), expiresAt };
    this.entries.set(key, entry);
    this.totalBytes += entry.cost;
    this.evict();
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    const cost = costOf(entry.result);
    this.totalBytes += cost - entry.cost;
    entry.cost = cost;
    this.evict();
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= entry.cost;
  }

  /** Evict least recently used entries until within budget, keeping the newest one. */
  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.totalBytes <= this.options.budgetBytes || this.entries.size <= 1) return;
      this.entries.delete(key);
      this.totalBytes -= entry.cost;
      this.evictions++;
    }
  }
}
