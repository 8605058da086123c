/**
 * The fuzzing worker: puts the coverage hooks in place, loads the target (its source is
 * instrumented as it loads), runs the engine, and reports to the main thread. It runs in
 * a worker so that the main thread can end it when an input hangs.
 */
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { CoverageMap } from './coverage.js';
import { describeError, runEngine, type EngineStatus, type Finding } from './engine.js';
import type { InstrumentHooksData } from './instrument-hooks.js';
import { PROJECT_ROOT, type FuzzTargetModule } from './target.js';
import { TARGETS } from './targets/index.js';
import { SharedInput } from './watchdog.js';

export interface WorkerInput {
  readonly target: string;
  readonly runs: number;
  readonly seed: number;
  readonly maxSeconds?: number;
  readonly budgetMillis: number;
  readonly maxFindings: number;
  readonly statusEverySeconds: number;
  readonly shared: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'status'; status: EngineStatus }
  | { type: 'finding'; finding: Finding }
  | { type: 'error'; message: string }
  /** The run is over; the main thread ends the worker (targets may leave handles open). */
  | { type: 'closed' };

const COVERAGE_VARIABLE = '__maydayFuzzCoverage__';

const input = workerData as WorkerInput;
const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);
const entry = TARGETS[input.target];
const shared = new SharedInput(input.shared);

const hooks: InstrumentHooksData = {
  include: entry.instrument.map((p) => resolve(PROJECT_ROOT, p)),
  coverageVariable: COVERAGE_VARIABLE,
  cacheDir: resolve(PROJECT_ROOT, '.cache/fuzz-instrumented'),
};
register(pathToFileURL(resolve(PROJECT_ROOT, 'scripts/fuzz/instrument-hooks.ts')), { data: hooks });

// An error nobody awaited would end a real node (Node's default for unhandled rejections):
// a finding, charged to the input that was running (or had just run).
let current: Uint8Array = new Uint8Array(0);
let runs = 0;
const unhandled = (error: unknown): void =>
  post({ type: 'finding', finding: { kind: 'unhandled', key: `unhandled: ${error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error)}`, message: describeError(error), input: current, run: runs } });
process.on('unhandledRejection', unhandled);
process.on('uncaughtException', unhandled);

// An execution whose promise never settles leaves nothing to run, and the worker would
// just end: this timer keeps it alive, so such an input is a hang the watchdog reports.
const keepAlive = setInterval(() => undefined, 1000);

try {
  const { target } = (await import(pathToFileURL(resolve(PROJECT_ROOT, `scripts/fuzz/targets/${entry.module}.ts`)).href)) as FuzzTargetModule;
  await runEngine(target, new CoverageMap(COVERAGE_VARIABLE), {
    runs: input.runs,
    seed: input.seed,
    maxSeconds: input.maxSeconds,
    budgetMillis: input.budgetMillis,
    maxFindings: input.maxFindings,
    statusEverySeconds: input.statusEverySeconds,
    onStatus: (status) => post({ type: 'status', status }),
    onFinding: (finding) => post({ type: 'finding', finding }),
    watch: {
      before(bytes) {
        current = bytes;
        shared.begin(bytes);
      },
      after() {
        runs++;
        shared.end();
      },
    },
  });
  await target.close?.();
} catch (error) {
  post({ type: 'error', message: describeError(error) });
}
clearInterval(keepAlive);
post({ type: 'closed' });
