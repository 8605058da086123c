/**
 * A mutation fuzzer for the minidump reader (and, through `perInput`, for anything that
 * consumes its output, such as the stack walker).
 *
 * Each input is a seed dump with one to four mutations: bit flips, overwrites with
 * "interesting" values (0, 0xff.., 0x7fffffff, large counts), truncation, splicing two
 * seeds, random bytes, and stream-directory entries pointed out of range. Every input
 * must parse without throwing, within a time bound, to a result with an `errors` array
 * and no "internal error" (the reader's catch-all for bugs).
 */
import { readMinidump, type Minidump } from '../../../src/minidump/reader/index.js';
import { seededRandom as rng } from '../../../src/common/seeded-random.js';

export interface FuzzOptions {
  /** Number of inputs to try. */
  readonly inputs: number;
  /** Seed of the deterministic random generator. */
  readonly seed?: number;
  /** Valid dumps to mutate. */
  readonly seeds: readonly Uint8Array[];
  /** Per-input time limit in milliseconds (reader plus `perInput`). */
  readonly maxMillisPerInput?: number;
  /** Extra work per parsed input (e.g. a stack walk); may be async; must not throw. */
  readonly perInput?: (dump: Minidump, bytes: Uint8Array) => void | Promise<void>;
  /** Called every `progressEvery` inputs. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

export interface FuzzFailure {
  readonly index: number;
  readonly reason: string;
  readonly input: Uint8Array;
}

export interface FuzzReport {
  readonly inputs: number;
  readonly failures: FuzzFailure[];
  readonly millis: number;
  readonly slowestMillis: number;
  /** Inputs whose result had at least one error (shows mutations reach the parsers). */
  readonly withErrors: number;
}

/** Deterministic test randomness (mulberry32), shared with the synthetic search data. */
export { rng };

const INTERESTING_32 = [0, 1, 0xff, 0x7f, 0x80, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, 0x1000000, 0x7ffffff0];

export function mutate(seeds: readonly Uint8Array[], random: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(random() * n);
  let data = Uint8Array.from(seeds[pick(seeds.length)]);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    if (data.length === 0) data = Uint8Array.from(seeds[pick(seeds.length)]);
    const view = new DataView(data.buffer);
    switch (pick(7)) {
      case 0: {
        // bit flips
        for (let i = 0, n = 1 + pick(8); i < n; i++) data[pick(data.length)] ^= 1 << pick(8);
        break;
      }
      case 1: {
        // interesting 32-bit value at a 4-aligned offset (counts, sizes, RVAs are aligned)
        const at = pick(Math.max(1, data.length >> 2)) << 2;
        if (at + 4 <= data.length) view.setUint32(at, INTERESTING_32[pick(INTERESTING_32.length)], true);
        break;
      }
      case 2: {
        // truncation
        data = data.subarray(0, pick(data.length + 1)).slice();
        break;
      }
      case 3: {
        // splice: a chunk of another seed over this one
        const other = seeds[pick(seeds.length)];
        const len = 1 + pick(Math.min(256, other.length));
        const from = pick(Math.max(1, other.length - len));
        const to = pick(Math.max(1, data.length - len));
        data.set(other.subarray(from, from + len).subarray(0, data.length - to), to);
        break;
      }
      case 4: {
        // random bytes
        const at = pick(data.length);
        for (let i = 0, n = 1 + pick(32); i < n && at + i < data.length; i++) data[at + i] = pick(256);
        break;
      }
      case 5: {
        // stream-directory entry pointed out of range or given a huge size
        if (data.length < 32) break;
        const count = view.getUint32(8, true);
        const dir = view.getUint32(12, true);
        if (count === 0) break;
        const entry = dir + 12 * pick(Math.min(count, 64));
        if (entry + 12 > data.length) break;
        if (random() < 0.5) view.setUint32(entry + 8, [data.length, data.length - 1, 0xfffffff0, 0x7fffffff][pick(4)], true);
        else view.setUint32(entry + 4, INTERESTING_32[pick(INTERESTING_32.length)], true);
        break;
      }
      default: {
        // large count at the start of a random stream
        if (data.length < 32) break;
        const count = view.getUint32(8, true);
        const dir = view.getUint32(12, true);
        if (count === 0) break;
        const entry = dir + 12 * pick(Math.min(count, 64));
        if (entry + 12 > data.length) break;
        const rva = view.getUint32(entry + 8, true);
        if (rva + 4 <= data.length) view.setUint32(rva, [0xffffffff, 0x10000000, 0x7fffffff, 1000000][pick(4)], true);
        break;
      }
    }
  }
  return data;
}

export async function fuzzMinidumpReader(options: FuzzOptions): Promise<FuzzReport> {
  const random = rng(options.seed ?? 1);
  const limit = options.maxMillisPerInput ?? 200;
  const failures: FuzzFailure[] = [];
  let slowest = 0;
  let withErrors = 0;
  const started = performance.now();
  for (let index = 0; index < options.inputs; index++) {
    const input = mutate(options.seeds, random);
    const t0 = performance.now();
    try {
      const dump = readMinidump(input);
      if (!Array.isArray(dump.errors)) failures.push({ index, reason: 'result has no errors array', input });
      else if (dump.errors.some((e) => e.includes('internal error'))) {
        failures.push({ index, reason: dump.errors.find((e) => e.includes('internal error'))!, input });
      }
      if (dump.errors.length > 0) withErrors++;
      if (options.perInput) await options.perInput(dump, input);
    } catch (error) {
      failures.push({ index, reason: `threw: ${error instanceof Error ? error.stack ?? error.message : String(error)}`, input });
    }
    const elapsed = performance.now() - t0;
    slowest = Math.max(slowest, elapsed);
    if (elapsed > limit) failures.push({ index, reason: `took ${elapsed.toFixed(1)} ms (limit ${limit} ms)`, input });
    if (options.onProgress && (index + 1) % (options.progressEvery ?? 10000) === 0) options.onProgress(index + 1);
  }
  return { inputs: options.inputs, failures, millis: performance.now() - started, slowestMillis: slowest, withErrors };
}
