import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/fuzz/target.js';
import type { FuzzTarget } from '../../scripts/fuzz/target.js';

/** What `scripts/fuzz/main.ts --summary-json` writes. */
export interface FuzzSummary {
  target: string;
  seed: number;
  wallSeconds: number;
  findings: string[];
  status: {
    runs: number;
    corpusSize: number;
    done: boolean;
    coverage: { branchesCovered: number; branchesTotal: number };
  } | null;
}

export interface FuzzRun {
  exitCode: number;
  output: string;
  summary: FuzzSummary;
  /** Names of the finding files written (`<kind>-<hash>.bin`). */
  findingFiles: string[];
}

/**
 * Runs the real fuzzer (`npm run fuzz:<target>`'s command, in its own process, coverage
 * hooks and all) for a few thousand executions with a fixed seed.
 */
export function runFuzzer(target: string, runs: number, seed: number, extra: string[] = [], env: Record<string, string> = {}): Promise<FuzzRun> {
  const dir = mkdtempSync(join(tmpdir(), `mayday-fuzz-${target}-`));
  const summaryFile = join(dir, 'summary.json');
  const findings = join(dir, 'findings');
  const args = ['--import', 'tsx', 'scripts/fuzz/main.ts', target, '--runs', String(runs), '--seed', String(seed), '--findings', findings, '--summary-json', summaryFile, ...extra];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      try {
        const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0;
        const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as FuzzSummary;
        let findingFiles: string[] = [];
        try {
          findingFiles = readdirSync(findings).filter((f) => f.endsWith('.bin'));
        } catch {
          // no findings folder: no findings
        }
        resolve({ exitCode, output: `${stdout}${stderr}`, summary, findingFiles });
      } catch (failure) {
        reject(new Error(`the fuzzer did not finish: ${(failure as Error).message}\n${stdout}${stderr}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** The saved inputs of past findings of one target (test/fuzz/findings/<target>/*.bin). */
export function savedFindings(target: string): { name: string; input: Uint8Array }[] {
  const dir = join(PROJECT_ROOT, 'test/fuzz/findings', target);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.bin')).sort();
  } catch {
    return [];
  }
  return files.map((name) => ({ name, input: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** Runs one input through a target as the fuzzer does (without coverage counters). */
export async function replay(target: FuzzTarget, input: Uint8Array): Promise<void> {
  await target.execute(input);
}
