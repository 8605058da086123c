import { describe, expect, it } from 'vitest';
import { target } from '../../scripts/fuzz/targets/supersearch.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing Super Search parameters', () => {
  it('runs 5,000 executions of npm run fuzz:supersearch without a finding', async () => {
    const run = await runFuzzer('supersearch', 5000, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(5000);
    // The mutations reach deep into the code, or this run would prove little.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    expect(branchesCovered / branchesTotal).toBeGreaterThan(0.8);
  }, 60_000);

  for (const { name, input } of savedFindings('supersearch')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }
});
