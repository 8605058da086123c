import { describe, expect, it } from 'vitest';
import { target } from '../../scripts/fuzz/targets/multipart.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe("fuzzing the collector's body handling", () => {
  it('runs 2,000 executions of npm run fuzz:multipart without a finding', async () => {
    const run = await runFuzzer('multipart', 2000, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(2000);
    // The mutations reach deep into the code, or this run would prove little.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    expect(branchesCovered / branchesTotal).toBeGreaterThan(0.6);
  }, 60_000);

  for (const { name, input } of savedFindings('multipart')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }
});
