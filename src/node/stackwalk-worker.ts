/**
 * One stackwalk worker thread of the processor's pool (`stackwalk-pool.ts`): reads a dump,
 * walks it with this thread's own symbol cache and returns the `json_dump` document.
 *
 * Runs under piscina: the default export is called once per crash. The thread builds its
 * symbol sources from plain options (the node's objects cannot cross threads); files
 * fetched from upstream servers go to the same on-disk cache as every other thread's.
 * Symbol uploads reach it on a `BroadcastChannel`; a shared counter says how many were
 * sent, so a crash never starts before this thread has applied every earlier one.
 */

import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import type { SymbolCacheStats } from '../minidump/symbols/index.js';
import { createEngineStackwalker } from './engine-stackwalker.js';
import { chainSources, symbolSourcesFrom, type SymbolSourcesOptions } from './symbol-sources.js';

export interface StackwalkWorkerData {
  readonly symbols: SymbolSourcesOptions;
  /** This thread's share of `symbols.cache_size`. */
  readonly cacheBytes: number;
  readonly negativeTtlMs?: number;
  /** `processor.worker_memory_limit` in bytes; a symbol file over half of it is refused. */
  readonly memoryLimitBytes?: number;
  /** Name of the channel symbol invalidations are broadcast on. */
  readonly invalidationChannel: string;
  /** One Int32: invalidations broadcast so far. */
  readonly invalidationCount: SharedArrayBuffer;
}

export interface StackwalkTask {
  readonly dump: Uint8Array;
  /** The crash's deadline as a `Date.now()` time (clocks of `performance.now()` differ between threads). */
  readonly deadlineAt?: number;
  /** One Int32 set to 1 when this thread starts the walk: the pool's hard time limit starts then. */
  readonly started: SharedArrayBuffer;
}

export type StackwalkTaskResult = StackwalkDone | StackwalkOverMemoryLimit;

export interface StackwalkDone {
  readonly kind: 'done';
  readonly jsonDump: Record<string, unknown>;
  readonly errors: string[];
  /** Symbol files that could not be loaded (the node logs them). */
  readonly loadErrors: { debugFile: string; debugId: string; message: string }[];
  readonly cache: SymbolCacheStats;
  readonly threadId: number;
}

/** A symbol file the crash needs is too big for `processor.worker_memory_limit` (errors lose their fields between threads). */
export interface StackwalkOverMemoryLimit {
  readonly kind: 'over-memory-limit';
  readonly message: string;
}

/**
 * Parsing needs the file and its tables at once (about 1.7 times the file at the peak,
 * measured on a 211 MB file): a file over half the limit cannot be parsed within it.
 */
const PARSE_PEAK_FACTOR = 2;

/** How long a crash waits for an invalidation known to be sent before dropping the whole cache instead. */
const INVALIDATION_WAIT_MS = 1000;

const data = workerData as StackwalkWorkerData;
const sent = new Int32Array(data.invalidationCount);

/** What the loader saw during the current crash (one crash at a time per thread). */
const current: { loadErrors: StackwalkDone['loadErrors']; overLimit?: { debugFile: string; bytes: number } } = { loadErrors: [] };
const chained = chainSources(symbolSourcesFrom(data.symbols));
const stackwalk = createEngineStackwalker({
  cacheBytes: data.cacheBytes,
  negativeTtlMs: data.negativeTtlMs,
  loader: async (module) => {
    const bytes = await chained(module);
    if (bytes !== undefined && data.memoryLimitBytes !== undefined && bytes.byteLength * PARSE_PEAK_FACTOR > data.memoryLimitBytes) {
      current.overLimit ??= { debugFile: module.debugFile, bytes: bytes.byteLength };
      throw new Error(`${bytes.byteLength} bytes of symbols do not fit in processor.worker_memory_limit`);
    }
    return bytes;
  },
  onLoadError: (module, error) => current.loadErrors.push({ debugFile: module.debugFile, debugId: module.debugId, message: (error as Error).message }),
});

// Everything sent before this thread started concerns a cache it never had.
let applied = Atomics.load(sent, 0);
let wake: (() => void) | undefined;
const channel = new BroadcastChannel(data.invalidationChannel);
channel.onmessage = (event: unknown) => {
  const { sequence, debugFile, debugId } = (event as { data: { sequence: number; debugFile: string; debugId: string } }).data;
  stackwalk.cache.invalidate(debugFile, debugId);
  applied = Math.max(applied, sequence);
  wake?.();
};
// The channel must not keep an idle thread alive (piscina ends idle threads itself).
(channel as unknown as { unref(): void }).unref();

async function catchUpWithInvalidations(): Promise<void> {
  const target = Atomics.load(sent, 0);
  const giveUp = Date.now() + INVALIDATION_WAIT_MS;
  while (applied < target) {
    const left = giveUp - Date.now();
    if (left <= 0) {
      // Never seen in practice (the message is posted before the count is read); a
      // cache dropped whole is slower but never stale.
      stackwalk.cache.clear();
      applied = target;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }
}

function forgetLastCrash(): void {
  current.loadErrors = [];
  current.overLimit = undefined;
}

export default async function walk(task: StackwalkTask): Promise<StackwalkTaskResult> {
  const started = new Int32Array(task.started);
  Atomics.store(started, 0, 1);
  Atomics.notify(started, 0);
  await catchUpWithInvalidations();
  forgetLastCrash();
  const deadline = task.deadlineAt === undefined ? undefined : performance.now() + (task.deadlineAt - Date.now());
  const { jsonDump, errors } = await stackwalk(task.dump, { deadline });
  const { overLimit, loadErrors } = current;
  if (overLimit) {
    const limitMb = Math.round((data.memoryLimitBytes ?? 0) / 2 ** 20);
    const fileMb = (overLimit.bytes / 2 ** 20).toFixed(1);
    return { kind: 'over-memory-limit', message: `the symbols of ${overLimit.debugFile} (${fileMb} MB) need more than processor.worker_memory_limit (${limitMb} MB) to parse` };
  }
  return { kind: 'done', jsonDump, errors, loadErrors, cache: stackwalk.cache.stats, threadId };
}
