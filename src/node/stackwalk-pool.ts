/**
 * The processor's stackwalker off the event loop: worker threads (each run by piscina, which
 * starts it, ends it and replaces it), each with its own symbol cache (a share of
 * `symbols.cache_size`), walking one dump at a time. Parsing a 150 MB symbol file then holds
 * up one worker, not the node's HTTP server, and `processor.concurrency` crashes use every
 * core.
 *
 * Crashes are routed by their main module (the first of the dump's module list): crashes
 * of one build go to the same worker, whose cache already holds that build's symbols. When
 * the symbols of the builds crashing now do not fit in one worker's share of the cache,
 * sending crashes to any free worker made every worker parse every build again and again;
 * routing them was 4 to 6 times faster (docs/benchmarks.md). An idle worker takes
 * crashes routed to a busy one (see `dispatch`), so one build crashing a lot still keeps
 * every worker busy.
 *
 * Limits are enforced from outside the walk: the walker still checks the crash's deadline
 * between frames (and stops early with a partial result), but a walk still running
 * `graceMs` after the deadline (stuck in one long symbol parse, say) is stopped by ending
 * its thread. A walk that only starts after its deadline (it waited for a thread) still
 * gets `graceMs`. The V8 heap of each thread is capped by `resourceLimits` (V8 ends a
 * thread that goes over); symbol tables live outside that heap, so a thread refuses a
 * symbol file too big to parse within the limit. Either way the crash fails with a
 * `CrashLimitError` saying which limit, and the node goes on.
 */

import { existsSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Gauge, type Registry } from 'prom-client';
import type { SymbolCacheStats } from '../minidump/symbols/index.js';
import { CrashLimitError, type StackwalkResult } from '../roles/processor/rule.js';
import type { SymbolKey } from '../ports/symbol-store.js';
import type { SymbolSourcesOptions } from './symbol-sources.js';
import type { StackwalkTask, StackwalkTaskResult, StackwalkWorkerData } from './stackwalk-worker.js';

export interface StackwalkPoolOptions {
  readonly symbols: SymbolSourcesOptions;
  /** Worker threads (at least 1). */
  readonly workers: number;
  /** Symbol cache budget of the whole pool; each thread gets an equal share. */
  readonly cacheBytes: number;
  readonly negativeTtlMs?: number;
  /** Per thread: the V8 heap limit, and twice the largest symbol file it will parse. */
  readonly memoryLimitBytes?: number;
  /** How long after a crash's deadline its walk may still run before its thread is ended. */
  readonly graceMs: number;
  /** Route crashes by main module (the default); false: to whichever worker is free first (for measurements). */
  readonly affinity?: boolean;
  readonly onLoadError?: (module: SymbolKey, message: string) => void;
  /** A thread ended for going over a limit, or died (logged by the node). */
  readonly onWorkerEnded?: (reason: string) => void;
}

/** The grace after the deadline: a tenth of the time limit, at least 1 s, at most 30 s. */
export function hardLimitGraceMs(timeLimitMs: number): number {
  return Math.min(30_000, Math.max(1000, Math.round(timeLimitMs / 10)));
}

/** The compiled worker in `dist/`; from the TypeScript sources (tests, tsx), a loader that registers tsx first. */
function workerFile(): string {
  const compiled = fileURLToPath(new URL('./stackwalk-worker.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./stackwalk-worker-ts.mjs', import.meta.url));
}

/** States of a walk's start flag (one Int32 shared with the thread). */
const NOT_STARTED = 0;
const STARTED = 1;
const FINISHED = 2;

/** `Atomics.waitAsync` (Node 16+), missing from the ES2023 lib this project compiles against. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;

const EMPTY_STATS: SymbolCacheStats = { hits: 0, misses: 0, evictions: 0, loadErrors: 0, expired: 0, entries: 0, bytes: 0 };

/** One crash waiting for a worker. */
interface Job {
  readonly queuedAt: number;
  readonly task: StackwalkTask;
  readonly signal: AbortSignal;
  readonly resolve: (result: StackwalkTaskResult) => void;
  readonly reject: (error: unknown) => void;
}

/** One worker thread (in a piscina pool of one) and the crashes routed to it. */
interface Lane {
  readonly piscina: Piscina<StackwalkTask, StackwalkTaskResult>;
  readonly waiting: Job[];
  busy: boolean;
}

export class StackwalkPool {
  private readonly lanes: Lane[];
  private readonly channel: BroadcastChannel;
  private readonly sent: Int32Array;
  private closed = false;
  /** Latest cache figures of each live thread, and the counters of threads since ended. */
  private readonly threadStats = new Map<number, SymbolCacheStats>();
  private retired: SymbolCacheStats = { ...EMPTY_STATS };
  /** Threads ended since start, by the limit they went over. */
  readonly ended = { time: 0, memory: 0 };
  /** Crashes walked by a worker other than the one they were routed to (for the benchmark). */
  stolen = 0;
  private stealTimer: NodeJS.Timeout | undefined;
  private lastEvictionAt = -Infinity;

  constructor(private readonly options: StackwalkPoolOptions) {
    const workers = Math.max(1, Math.floor(options.workers));
    const invalidationCount = new SharedArrayBuffer(4);
    this.sent = new Int32Array(invalidationCount);
    const channelName = `mayday-symbol-invalidations-${randomUUID()}`;
    this.channel = new BroadcastChannel(channelName);
    // Like piscina's idle threads, the channel must not keep the process alive (a node
    // whose start-up fails after this point has to exit).
    (this.channel as unknown as { unref(): void }).unref();
    const workerData: StackwalkWorkerData = {
      symbols: options.symbols,
      cacheBytes: Math.floor(options.cacheBytes / workers),
      negativeTtlMs: options.negativeTtlMs,
      memoryLimitBytes: options.memoryLimitBytes,
      invalidationChannel: channelName,
      invalidationCount,
    };
    this.lanes = Array.from({ length: workers }, () => {
      const piscina = new Piscina<StackwalkTask, StackwalkTaskResult>({
        filename: workerFile(),
        minThreads: 1,
        maxThreads: 1,
        // The thread is kept: it holds a warm symbol cache.
        idleTimeout: Infinity,
        // One crash per thread: a thread ended for one crash must not take others with it.
        concurrentTasksPerWorker: 1,
        // An idle thread keeps its event loop running, so invalidations are applied at once.
        atomics: 'async',
        // Below the node's own thread: when cores are short, answering HTTP (health checks,
        // submissions) and saving finished crashes come before walking the next one.
        niceIncrement: 10,
        workerData,
        ...(options.memoryLimitBytes !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: Math.max(16, Math.floor(options.memoryLimitBytes / 2 ** 20)) } } : {}),
      });
      // A thread that dies between crashes has no task to fail: without a listener the
      // pool's 'error' event would throw.
      piscina.on('error', (error: Error) => options.onWorkerEnded?.(`a stackwalk thread died: ${error.message}`));
      return { piscina, waiting: [], busy: false };
    });
  }

  /** The `Stackwalker` of the processor's rules. */
  readonly stackwalk = async (dump: Uint8Array, walkOptions: { deadline?: number } = {}): Promise<StackwalkResult> => {
    const { deadline } = walkOptions;
    const stop = new AbortController();
    // The hard limit is counted from when a thread starts the walk: waiting for a thread
    // (behind other crashes, or while a replacement starts) must not end a thread.
    const started = new Int32Array(new SharedArrayBuffer(4));
    let timer: NodeJS.Timeout | undefined;
    if (deadline !== undefined) {
      const arm = (): void => {
        if (stop.signal.aborted || Atomics.load(started, 0) !== STARTED) return;
        timer = setTimeout(() => stop.abort(), Math.max(0, deadline - performance.now()) + this.options.graceMs);
      };
      const waiting = waitAsync(started, 0, NOT_STARTED);
      if (waiting.async) void (waiting.value as Promise<unknown>).then(arm);
      else arm();
    }
    // A copy, moved to the thread: the caller keeps its bytes.
    const copy = new Uint8Array(dump);
    let result: StackwalkTaskResult;
    try {
      const deadlineAt = deadline === undefined ? undefined : Date.now() + (deadline - performance.now());
      const task: StackwalkTask = { dump: copy, deadlineAt, started: started.buffer as SharedArrayBuffer };
      result = await new Promise<StackwalkTaskResult>((resolve, reject) => {
        if (this.closed) return reject(new Error('the stackwalk pool is closed'));
        // Without affinity every crash joins one queue, which every idle worker takes from.
        const lane = this.options.affinity === false ? 0 : mainModuleHash(copy) % this.lanes.length;
        this.lanes[lane].waiting.push({ queuedAt: performance.now(), task, signal: stop.signal, resolve, reject });
        this.dispatch();
      });
    } catch (error) {
      if (stop.signal.aborted) {
        this.ended.time++;
        this.options.onWorkerEnded?.('a stackwalk ran past the hard time limit');
        throw new CrashLimitError('time', `stackwalk stopped: still running ${this.options.graceMs} ms after the time limit (processor.time_limit); its worker thread was ended`);
      }
      if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.ended.memory++;
        this.options.onWorkerEnded?.('a stackwalk ran out of memory');
        throw new CrashLimitError('memory', `stackwalk stopped: its worker thread went over processor.worker_memory_limit and was ended (${(error as Error).message})`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      // Releases the start watch of a walk that never started (the pool closed).
      Atomics.store(started, 0, FINISHED);
      Atomics.notify(started, 0);
    }
    if (result.kind === 'over-memory-limit') throw new CrashLimitError('memory', `stackwalk stopped: ${result.message}`);
    if (result.cache.evictions > (this.threadStats.get(result.threadId)?.evictions ?? 0)) this.lastEvictionAt = performance.now();
    this.threadStats.set(result.threadId, result.cache);
    for (const failure of result.loadErrors) this.options.onLoadError?.({ debugFile: failure.debugFile, debugId: failure.debugId }, failure.message);
    return { jsonDump: result.jsonDump, errors: result.errors };
  };

  /**
   * Gives every idle worker a crash: its own oldest, else one waiting for another worker.
   * While the caches evict (the builds crashing now do not fit in one worker's share), a
   * crash is taken from another worker only after waiting `STEAL_AFTER_MS` for its own:
   * taking them at once undid the routing (a third of the crashes moved, each parsing its
   * build's symbols in a cache that did not have them). While nothing is evicted, routing
   * gains nothing and any idle worker takes the oldest crash at once (a single build
   * crashing a lot must not leave the other workers idle).
   */
  private dispatch(): void {
    clearTimeout(this.stealTimer);
    this.stealTimer = undefined;
    const now = performance.now();
    const patience = this.evicting(now) ? STEAL_AFTER_MS : 0;
    let nextSteal = Infinity;
    for (const lane of this.lanes) {
      if (lane.busy) continue;
      let job = lane.waiting.shift();
      if (!job) {
        const oldest = this.lanes.filter((other) => other.waiting.length > 0).sort((a, b) => a.waiting[0].queuedAt - b.waiting[0].queuedAt)[0];
        if (oldest && now - oldest.waiting[0].queuedAt >= patience) {
          job = oldest.waiting.shift();
          this.stolen++;
        } else if (oldest) {
          nextSteal = Math.min(nextSteal, oldest.waiting[0].queuedAt + patience);
        }
      }
      if (!job) continue;
      lane.busy = true;
      const { task, signal, resolve, reject } = job;
      lane.piscina
        .run(task, { signal, transferList: [task.dump.buffer as ArrayBuffer] })
        .then(resolve, reject)
        .finally(() => {
          lane.busy = false;
          this.dispatch();
        });
    }
    if (nextSteal !== Infinity && !this.closed) this.stealTimer = setTimeout(() => this.dispatch(), Math.max(1, nextSteal - performance.now()));
  }

  /** Whether a worker's cache evicted symbols lately. */
  private evicting(now: number): boolean {
    return now - this.lastEvictionAt < EVICTING_FOR_MS;
  }

  /** New symbols were stored for `key`: every thread forgets what it had, before its next crash. */
  invalidate(key: SymbolKey): void {
    const sequence = Atomics.load(this.sent, 0) + 1;
    // Posted before the count is raised: a thread that sees the count can wait for the message.
    this.channel.postMessage({ sequence, debugFile: key.debugFile, debugId: key.debugId });
    Atomics.store(this.sent, 0, sequence);
  }

  private liveThreadIds(): Set<number> {
    return new Set(this.lanes.flatMap((lane) => lane.piscina.threads.map((thread) => thread.threadId)));
  }

  /** The symbol caches of all threads together (as of each thread's last crash). */
  get stats(): SymbolCacheStats {
    const live = this.liveThreadIds();
    for (const [id, stats] of this.threadStats) {
      if (live.has(id)) continue;
      // An ended thread's counters still happened; its cache is gone.
      this.retired = { ...sum(this.retired, stats), entries: 0, bytes: 0 };
      this.threadStats.delete(id);
    }
    return [...this.threadStats.values()].reduce(sum, this.retired);
  }

  /** Threads running now. */
  get threads(): number {
    return this.liveThreadIds().size;
  }

  /** Threads running now that have walked at least one dump (and so hold a cache). */
  get threadsUsed(): number {
    const live = this.liveThreadIds();
    return [...this.threadStats.keys()].filter((id) => live.has(id)).length;
  }

  /** Ends every thread; walks waiting or under way fail. Call after the processor stopped taking crashes. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.stealTimer);
    for (const lane of this.lanes) for (const job of lane.waiting.splice(0)) job.reject(new Error('the stackwalk pool is closed'));
    this.channel.close();
    await Promise.all(this.lanes.map((lane) => lane.piscina.destroy()));
  }
}

/**
 * A hash of the dump's main module (the first of its module list): its CodeView record
 * (debug id and file), else its size and time stamp. Read with bounds checks from a few
 * fixed offsets, never by parsing the dump on this thread; a dump without a readable module
 * list hashes to 0 (any worker may take it, since idle workers take others' crashes).
 */
export function mainModuleHash(dump: Uint8Array): number {
  const view = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
  const u32 = (at: number): number | undefined => (at >= 0 && at + 4 <= dump.byteLength ? view.getUint32(at, true) : undefined);
  if (u32(0) !== 0x504d444d) return 0; // MDMP
  const streams = Math.min(u32(8) ?? 0, 1024);
  const directory = u32(12) ?? 0;
  for (let i = 0; i < streams; i++) {
    if (u32(directory + i * 12) !== MODULE_LIST_STREAM) continue;
    const list = u32(directory + i * 12 + 8) ?? 0;
    if (!u32(list)) return 0; // no modules
    const module = list + 4;
    const cvSize = Math.min(u32(module + 76) ?? 0, 1024);
    const cvRva = u32(module + 80) ?? 0;
    const identity = cvSize > 0 && cvRva + cvSize <= dump.byteLength ? dump.subarray(cvRva, cvRva + cvSize) : dump.subarray(module + 8, Math.min(dump.byteLength, module + 20));
    // FNV-1a.
    let hash = 0x811c9dc5;
    for (const byte of identity) hash = Math.imul(hash ^ byte, 0x01000193);
    return hash >>> 0;
  }
  return 0;
}

const MODULE_LIST_STREAM = 4;

/** While caches evict: how long a crash waits for its own worker before an idle one takes it. */
const STEAL_AFTER_MS = 500;

/** How long after an eviction crashes keep to their own worker. */
const EVICTING_FOR_MS = 60_000;

function sum(a: SymbolCacheStats, b: SymbolCacheStats): SymbolCacheStats {
  return {
    hits: a.hits + b.hits,
    misses: a.misses + b.misses,
    evictions: a.evictions + b.evictions,
    loadErrors: a.loadErrors + b.loadErrors,
    expired: a.expired + b.expired,
    entries: a.entries + b.entries,
    bytes: a.bytes + b.bytes,
  };
}

/** Symbol cache hits, misses and size as Prometheus gauges, read when scraped (one cache, or a pool's together). */
export function registerSymbolCacheMetrics(registry: Registry, cache: { readonly stats: SymbolCacheStats }): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('mayday_symbol_cache_hits', 'Symbol lookups answered from the cache since start.', () => cache.stats.hits);
  gauge('mayday_symbol_cache_misses', 'Symbol lookups that loaded a file since start.', () => cache.stats.misses);
  gauge('mayday_symbol_cache_evictions', 'Parsed symbol files evicted from the cache since start.', () => cache.stats.evictions);
  gauge('mayday_symbol_cache_entries', 'Modules held in the symbol cache.', () => cache.stats.entries);
  gauge('mayday_symbol_cache_bytes', 'Estimated memory held by the symbol cache.', () => cache.stats.bytes);
}
