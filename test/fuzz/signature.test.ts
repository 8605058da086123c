import { describe, expect, it } from 'vitest';
import { target } from '../../scripts/fuzz/targets/signature.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing signature generation', () => {
  it('runs 3,000 executions of npm run fuzz:signature without a finding', async () => {
    const run = await runFuzzer('signature', 3000, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(3000);
    // The mutations reach deep into the code, or this run would prove little.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    expect(branchesCovered / branchesTotal).toBeGreaterThan(0.7);
  }, 60_000);

  for (const { name, input } of savedFindings('signature')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }
});
