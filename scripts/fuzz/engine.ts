/**
 * The fuzzing loop, libFuzzer's in miniature: run the seeds, keep those that reach new
 * coverage, then take a random input of the corpus, mutate it, run it, and keep the child
 * when it reaches a branch (or a hit-count bucket) no input reached before. Deterministic
 * for a seed and a deterministic target. No minimisation.
 *
 * A finding is an exception escaping the target's `execute` (an `InvariantViolation` is
 * the target's own check), or an input slower than the time budget twice in a row. Inputs
 * that never finish are the watchdog's business (`main.ts`): the loop tells it, through
 * `watch`, which input is running.
 */
import { createHash } from 'node:crypto';
import { seededRandom as rng } from '../../src/common/seeded-random.js';
import type { CoverageMap, CoverageSummary } from './coverage.js';
import { dictionaryBytes, mutate, type MutationContext } from './mutate.js';
import { InvariantViolation, type FuzzTarget } from './target.js';

export type FindingKind = 'exception' | 'invariant' | 'slow' | 'hang' | 'unhandled';

export interface Finding {
  readonly kind: FindingKind;
  /** What makes two findings the same bug (the message without numbers, the throwing frame). */
  readonly key: string;
  readonly message: string;
  readonly input: Uint8Array;
  /** Execution number at which it was found. */
  readonly run: number;
}

export interface EngineStatus {
  readonly runs: number;
  readonly seconds: number;
  readonly execsPerSecond: number;
  readonly corpusSize: number;
  readonly coverage: CoverageSummary;
  /** Distinct findings (by key). */
  readonly findings: number;
  /** Slowest execution seen, in milliseconds. */
  readonly slowestMillis: number;
  readonly done: boolean;
}

export interface EngineOptions {
  readonly runs: number;
  readonly seed: number;
  readonly maxSeconds?: number;
  /** Per-input time budget, milliseconds. */
  readonly budgetMillis: number;
  /** Stop after this many distinct findings. */
  readonly maxFindings?: number;
  readonly statusEverySeconds?: number;
  readonly onStatus?: (status: EngineStatus) => void;
  readonly onFinding?: (finding: Finding) => void;
  /** Told before and after each execution (the watchdog's view of the loop). */
  readonly watch?: { before(input: Uint8Array): void; after(): void };
}

interface Execution {
  readonly millis: number;
  readonly fresh: number;
  readonly error?: unknown;
}

/** The part of a message that stays the same between two inputs hitting the same bug. */
function findingKey(kind: FindingKind, error: unknown): string {
  if (!(error instanceof Error)) return `${kind}: ${String(error).replace(/\d+/g, 'N').slice(0, 120)}`;
  const message = error.message.split('\n')[0].replace(/0x[0-9a-f]+|\d+/gi, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 120);
  const frame = (error.stack ?? '').split('\n').find((l) => l.includes('/src/')) ?? '';
  // The file without line and column: the same bug may throw from a line that moved.
  const where = frame.replace(/^.*\/src\//, 'src/').replace(/(:\d+)+\)?$/, '');
  return `${kind}: ${error.name}: ${message}${where ? ` @ ${where}` : ''}`;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

export async function runEngine(target: FuzzTarget, coverage: CoverageMap, options: EngineOptions): Promise<EngineStatus> {
  const random = rng(options.seed);
  const corpus: Uint8Array[] = [];
  const context: MutationContext = {
    random,
    dictionary: dictionaryBytes(target.dictionary),
    corpus,
    maxLength: target.maxLength,
    text: target.text,
    custom: target.customMutators,
  };
  const seen = new Set<string>();
  const started = performance.now();
  const deadline = options.maxSeconds !== undefined ? started + options.maxSeconds * 1000 : Infinity;
  const statusEvery = (options.statusEverySeconds ?? 10) * 1000;
  let nextStatus = started + statusEvery;
  let runs = 0;
  let slowest = 0;

  const report = (kind: FindingKind, error: unknown, input: Uint8Array): void => {
    const key = findingKey(kind, error);
    if (seen.has(key)) return;
    seen.add(key);
    options.onFinding?.({ kind, key, message: describeError(error), input, run: runs });
  };

  const execute = async (input: Uint8Array): Promise<Execution> => {
    coverage.reset();
    options.watch?.before(input);
    const t0 = performance.now();
    let error: unknown;
    try {
      const pending = target.execute(input);
      if (pending instanceof Promise) await pending;
    } catch (caught) {
      error = caught ?? new Error('threw undefined');
    }
    const millis = performance.now() - t0;
    options.watch?.after();
    runs++;
    return { millis, fresh: coverage.collect(), error };
  };

  /** Runs one input; returns whether it belongs in the corpus. */
  const tryInput = async (input: Uint8Array, budget: number): Promise<boolean> => {
    const result = await execute(input);
    slowest = Math.max(slowest, result.millis);
    if (result.error !== undefined) {
      report(result.error instanceof InvariantViolation ? 'invariant' : 'exception', result.error, input);
      return false;
    }
    if (result.millis > budget) {
      // Confirm before reporting: a busy machine or a garbage collection can stall one run.
      const again = await execute(input);
      if (again.millis > budget) {
        report('slow', new Error(`took ${result.millis.toFixed(0)} ms, then ${again.millis.toFixed(0)} ms (budget ${budget} ms)`), input);
        return false;
      }
    }
    return result.fresh > 0;
  };

  const status = (done: boolean): EngineStatus => {
    const seconds = (performance.now() - started) / 1000;
    return { runs, seconds, execsPerSecond: runs / Math.max(seconds, 1e-3), corpusSize: corpus.length, coverage: coverage.summary(), findings: seen.size, slowestMillis: slowest, done };
  };
  const stop = (): boolean => runs >= options.runs || performance.now() > deadline || (options.maxFindings !== undefined && seen.size >= options.maxFindings);

  coverage.adoptNewFiles();
  // Seeds get a generous budget: the first runs also pay for compiling the code under test.
  const seeds = new Set<string>();
  for (const seedInput of await target.seeds()) {
    const input = seedInput.length > target.maxLength ? seedInput.slice(0, target.maxLength) : seedInput;
    // The project's corpus is a copy of part of the shared one: run each seed once.
    const digest = createHash('sha1').update(input).digest('hex');
    if (seeds.has(digest)) continue;
    seeds.add(digest);
    if ((await tryInput(input, options.budgetMillis * 10)) || corpus.length === 0) corpus.push(input);
    if (stop()) break;
  }
  if (corpus.length === 0) corpus.push(new Uint8Array(0));

  while (!stop()) {
    // Newer inputs are likelier to lead somewhere new: half the picks favour the latest tenth.
    const recent = random() < 0.5;
    const from = recent ? Math.floor(corpus.length * 0.9) : 0;
    const parent = corpus[from + Math.floor(random() * (corpus.length - from))];
    const child = mutate(parent, context);
    if (await tryInput(child, options.budgetMillis)) corpus.push(child);
    if (options.onStatus && performance.now() >= nextStatus) {
      nextStatus = performance.now() + statusEvery;
      options.onStatus(status(false));
    }
  }
  const final = status(true);
  options.onStatus?.(final);
  return final;
}
