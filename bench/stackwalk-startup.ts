/**
 * What one `mayday stackwalk` of one small dump costs a fresh process, against Node's own
 * start (`node -e ''`) measured in the same run: median peak RSS and wall time of N runs
 * each, interleaved so that machine noise falls on all alike. Part of
 * `npm run bench:stackwalk` (section 4); `--startup-only` runs just this.
 *
 * `--before DIR` adds the same command from another build of Mayday (a directory with
 * `bin/mayday.js` and its `dist/`, e.g. a copy taken before a change), so that a change to
 * the CLI's start-up is measured before and after in one run.
 *
 * Peak RSS comes from `/usr/bin/time -v` (Debian package `time`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const TIME = '/usr/bin/time';

interface Run {
  readonly seconds: number;
  readonly peakMb: number;
}

export interface StartupRow {
  readonly name: string;
  readonly medianSeconds: number;
  readonly medianPeakMb: number;
}

function runOnce(command: string, args: readonly string[], cwd: string): Run {
  const start = performance.now();
  const r = spawnSync(TIME, ['-v', command, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS in the output of ${TIME} -v`);
  return { seconds, peakMb: Number(m[1]) / 1024 };
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Measures every command `runs` times, interleaved; answers their medians, in order. */
export function measureStartup(options: { root: string; runs: number; before?: string }): StartupRow[] | undefined {
  if (!existsSync(TIME)) return undefined;
  const { root } = options;
  const dump = join(root, 'fixtures/corpus/dumps/example-app-null.dmp');
  const symbols = join(root, 'fixtures/corpus/symbols');
  const stackwalk = (checkout: string) => [join(checkout, 'bin/mayday.js'), 'stackwalk', dump, '--symbols-path', symbols, '--json'];
  const commands: { name: string; args: string[] }[] = [
    { name: "node -e '' (Node's own start)", args: ['-e', ''] },
    { name: 'mayday --help (the CLI, no command run)', args: [join(root, 'bin/mayday.js'), '--help'] },
    { name: 'mayday stackwalk example-app-null.dmp --json', args: stackwalk(root) },
  ];
  if (options.before) commands.push({ name: `before (${options.before}): mayday stackwalk`, args: stackwalk(options.before) });
  const runs = commands.map(() => [] as Run[]);
  // One warm-up of each: the first start reads the files from disk.
  for (const c of commands) runOnce(process.execPath, c.args, root);
  for (let i = 0; i < options.runs; i++) commands.forEach((c, j) => runs[j].push(runOnce(process.execPath, c.args, root)));
  return commands.map((c, j) => ({ name: c.name, medianSeconds: median(runs[j].map((r) => r.seconds)), medianPeakMb: median(runs[j].map((r) => r.peakMb)) }));
}

/** The table docs/benchmarks.md quotes: each row beside Node's own start (the first row). */
export function formatStartup(rows: readonly StartupRow[], runs: number): string {
  const [node] = rows;
  const lines = [
    `| one fresh process, median of ${runs} | wall | peak RSS | wall vs node -e '' | peak RSS vs node -e '' | RSS above node -e '' |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${(r.medianSeconds * 1000).toFixed(0)} ms | ${r.medianPeakMb.toFixed(0)} MB | ${(r.medianSeconds / node.medianSeconds).toFixed(2)}x | ${(r.medianPeakMb / node.medianPeakMb).toFixed(2)}x | ${(r.medianPeakMb - node.medianPeakMb).toFixed(0)} MB |`,
    ),
  ];
  return lines.join('\n');
}
