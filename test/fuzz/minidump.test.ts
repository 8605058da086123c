import { describe, expect, it } from 'vitest';
import { target } from '../../scripts/fuzz/targets/minidump.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing the minidump reader and stack walker', () => {
  it('runs 1,500 executions of npm run fuzz:minidump without a finding', async () => {
    const run = await runFuzzer('minidump', 1500, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(1500);
    // The mutations reach deep into the code, or this run would prove little.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    expect(branchesCovered / branchesTotal).toBeGreaterThan(0.5);
  }, 60_000);

  for (const { name, input } of savedFindings('minidump')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }
});
