/**
 * `npm run fuzz:<target> -- [--runs N] [--seed S] [--max-seconds T]`: coverage-guided
 * fuzzing of one target (see targets/index.ts, or `--help`).
 *
 * The engine runs in a worker; this thread is its watchdog (an input that does not finish
 * within `--hang-seconds` is a hang: the worker is ended and the input reported), prints
 * progress, and writes each distinct finding to `--findings DIR` (default
 * test-artifacts/fuzz/<target>/) as `<kind>-<hash>.bin` with a `.txt` saying what broke.
 * Exits 0 when the run is clean, 1 with findings, 2 on bad arguments.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineStatus, Finding } from './engine.js';
import { PROJECT_ROOT } from './target.js';
import { TARGETS } from './targets/index.js';
import { SharedInput } from './watchdog.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

interface Arguments {
  target: string;
  runs: number;
  seed: number;
  maxSeconds?: number;
  budgetMillis: number;
  hangSeconds: number;
  maxFindings: number;
  findingsDir: string;
  statusEverySeconds: number;
  summaryJson?: string;
}

const USAGE = `usage: fuzz <target> [--runs N] [--seed S] [--max-seconds T] [--budget-ms MS] [--hang-seconds T]
            [--max-findings N] [--findings DIR] [--status-every T] [--summary-json FILE]
targets:
${Object.entries(TARGETS)
  .map(([name, t]) => `  ${name.padEnd(12)} ${t.description}`)
  .join('\n')}`;

function parseArguments(argv: readonly string[]): Arguments {
  const target = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--')));
  if (target === undefined || !(target in TARGETS)) throw new Error(target === undefined ? 'no target given' : `unknown target "${target}"`);
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const number = (name: string, fallback: number): number => {
    const raw = option(name);
    if (raw === undefined) return fallback;
    const value = Number(raw.replace(/[_,]/g, ''));
    if (!Number.isFinite(value) || value < 0) throw new Error(`bad value for ${name}: ${raw}`);
    return value;
  };
  const maxSeconds = option('--max-seconds');
  return {
    target,
    runs: number('--runs', 1_000_000),
    seed: number('--seed', Date.now() % 2 ** 31),
    maxSeconds: maxSeconds === undefined ? undefined : number('--max-seconds', 0),
    budgetMillis: number('--budget-ms', TARGETS[target].budgetMillis ?? 1000),
    hangSeconds: number('--hang-seconds', 10),
    maxFindings: number('--max-findings', 20),
    findingsDir: resolve(option('--findings') ?? join(PROJECT_ROOT, 'test-artifacts/fuzz', target)),
    statusEverySeconds: number('--status-every', 10),
    summaryJson: option('--summary-json'),
  };
}

function formatStatus(s: EngineStatus, findings: number): string {
  const { branchesCovered, branchesTotal } = s.coverage;
  const percent = branchesTotal > 0 ? ((100 * branchesCovered) / branchesTotal).toFixed(1) : '0.0';
  return `#${s.runs} ${s.execsPerSecond.toFixed(0)} exec/s corpus ${s.corpusSize} branches ${branchesCovered}/${branchesTotal} (${percent}%) findings ${findings} (${s.seconds.toFixed(0)} s)`;
}

if (process.argv.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
let args: Arguments;
try {
  args = parseArguments(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

// Large enough for any input a target keeps (they cut inputs to their maxLength).
const shared = SharedInput.create(4 * 1024 * 1024);
const findingKeys = new Set<string>();
let last: EngineStatus | undefined;

function save(finding: Finding): void {
  if (findingKeys.has(finding.key)) return;
  findingKeys.add(finding.key);
  mkdirSync(args.findingsDir, { recursive: true });
  const name = `${finding.kind}-${createHash('sha256').update(finding.input).digest('hex').slice(0, 12)}`;
  writeFileSync(join(args.findingsDir, `${name}.bin`), finding.input);
  writeFileSync(
    join(args.findingsDir, `${name}.txt`),
    `target ${args.target}, seed ${args.seed}, run ${finding.run}, ${finding.input.length} bytes\n${finding.key}\n\n${finding.message}\n`,
  );
  console.log(`FINDING ${finding.kind} at run ${finding.run}: ${finding.key}\n  saved ${join(args.findingsDir, `${name}.bin`)}`);
}

console.log(`fuzzing ${args.target}: ${TARGETS[args.target].description}`);
console.log(`runs ${args.runs}, seed ${args.seed}${args.maxSeconds !== undefined ? `, at most ${args.maxSeconds} s` : ''}, budget ${args.budgetMillis} ms per input`);

const workerInput: WorkerInput = {
  target: args.target,
  runs: args.runs,
  seed: args.seed,
  maxSeconds: args.maxSeconds,
  budgetMillis: args.budgetMillis,
  maxFindings: args.maxFindings,
  statusEverySeconds: args.statusEverySeconds,
  shared: shared.buffer,
};
const started = performance.now();
// The worker is TypeScript too. Node 20 does not pass tsx's loader on to workers, so the
// worker's first act is to register it, then to load worker.ts through it.
const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;
const worker = new Worker(bootstrap, { eval: true, workerData: workerInput });
let failed = false;

// The watchdog: the same execution still running after `hangSeconds` is a hang.
let watched: { sequence: number; since: number } | undefined;
let hung = false;
const watchdog = setInterval(() => {
  const sequence = shared.running();
  if (sequence === undefined) {
    watched = undefined;
    return;
  }
  if (watched?.sequence !== sequence) {
    watched = { sequence, since: performance.now() };
    return;
  }
  if (performance.now() - watched.since < args.hangSeconds * 1000) return;
  clearInterval(watchdog);
  hung = true;
  save({ kind: 'hang', key: 'hang', message: `no result after ${args.hangSeconds} s`, input: shared.input(), run: sequence });
  void worker.terminate();
}, 200);

worker.on('message', (message: WorkerMessage) => {
  switch (message.type) {
    case 'status':
      last = message.status;
      console.log(formatStatus(message.status, findingKeys.size));
      break;
    case 'finding':
      save(message.finding);
      break;
    case 'error':
      failed = true;
      console.error(`the fuzzer itself failed:\n${message.message}`);
      break;
    case 'closed':
      void worker.terminate();
      break;
  }
});
worker.on('error', (error) => {
  failed = true;
  console.error(`the fuzzing worker died: ${error.stack ?? error.message}`);
});
worker.on('exit', (code) => {
  clearInterval(watchdog);
  if (!last?.done && !hung) console.error(`the fuzzing worker stopped (exit code ${code}) before the run was over`);
  const seconds = (performance.now() - started) / 1000;
  const s = last;
  if (s) {
    const { branchesCovered, branchesTotal, statementsCovered, statementsTotal, files } = s.coverage;
    console.log(
      `done: ${s.runs} executions in ${seconds.toFixed(1)} s (${s.execsPerSecond.toFixed(0)} exec/s in the loop), corpus ${s.corpusSize}, ` +
        `branches ${branchesCovered}/${branchesTotal} (${((100 * branchesCovered) / Math.max(1, branchesTotal)).toFixed(1)}%), ` +
        `statements ${statementsCovered}/${statementsTotal} in ${files} files, slowest input ${s.slowestMillis.toFixed(0)} ms, findings ${findingKeys.size}`,
    );
  }
  if (args.summaryJson) {
    writeFileSync(args.summaryJson, JSON.stringify({ target: args.target, seed: args.seed, wallSeconds: seconds, findings: [...findingKeys], status: s ?? null }, null, 2));
  }
  if (!s) console.log(`done: no status from the worker after ${seconds.toFixed(1)} s, findings ${findingKeys.size}`);
  if (findingKeys.size > 0) console.log(`findings written to ${args.findingsDir}`);
  process.exit(findingKeys.size > 0 ? 1 : failed || !s?.done ? 2 : 0);
});
