import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNS_KEPT, type JobLedger, type JobRun } from '../../src/ports/job-ledger.js';

/** The job ledger's promises, for every back end. */
export function jobLedgerContract(name: string, open: () => Promise<{ ledger: JobLedger; dispose(): Promise<void> }>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`job ledger contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let ledger: JobLedger;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ ledger, dispose } = await open());
    });
    afterEach(async () => {
      await dispose();
    });

    const run = (job: string, owner: string, startedAt: number, outcome: JobRun['outcome'] = 'success', extra: Partial<JobRun> = {}): JobRun => ({
      job,
      owner,
      startedAt,
      finishedAt: startedAt + 5,
      outcome,
      ...extra,
    });

    it('lets one owner claim a due job; another cannot until the claim ends or expires', async () => {
      expect(await ledger.claim('j', 'a', 1000, 2000)).toBe(true);
      expect(await ledger.claim('j', 'b', 1500, 2500)).toBe(false);
      // The holder may renew its own claim.
      expect(await ledger.claim('j', 'a', 1500, 3000)).toBe(true);
      // Expired: another owner takes over (its holder died mid-run).
      expect(await ledger.claim('j', 'b', 3000, 4000)).toBe(true);
      const [state] = await ledger.states();
      expect(state).toMatchObject({ job: 'j', runningBy: undefined, runs: 0, failuresInARow: 0 });
    });

    it('records runs, sets the next run, releases the claim, and counts failures in a row', async () => {
      const now = Date.now();
      expect(await ledger.claim('j', 'a', now, now + 60_000)).toBe(true);
      expect((await ledger.states())[0]).toMatchObject({ runningBy: 'a', runningSince: now });
      await ledger.finish(run('j', 'a', now, 'failure', { error: 'disk full' }), now + 100);
      // Not due before its next run, even for its last owner.
      expect(await ledger.claim('j', 'a', now + 50, now + 60_000)).toBe(false);
      expect(await ledger.claim('j', 'b', now + 100, now + 60_000)).toBe(true);
      await ledger.finish(run('j', 'b', now + 100, 'failure', { error: 'disk still full' }), now + 200);
      let [state] = await ledger.states();
      expect(state).toMatchObject({ job: 'j', nextRunAt: now + 200, runningBy: undefined, failuresInARow: 2, runs: 2, lastSuccessAt: undefined });
      expect(state.lastRun).toEqual(run('j', 'b', now + 100, 'failure', { error: 'disk still full' }));
      expect(await ledger.claim('j', 'a', now + 200, now + 60_000)).toBe(true);
      await ledger.finish(run('j', 'a', now + 200, 'success', { summary: 'checked 3' }), now + 1000);
      [state] = await ledger.states();
      expect(state).toMatchObject({ failuresInARow: 0, runs: 3, lastSuccessAt: now + 205, nextRunAt: now + 1000 });
      expect((await ledger.runs('j', 10)).map((r) => [r.owner, r.outcome, r.summary ?? r.error])).toEqual([
        ['a', 'success', 'checked 3'],
        ['b', 'failure', 'disk still full'],
        ['a', 'failure', 'disk full'],
      ]);
    });

    it('keeps jobs apart and the last RUNS_KEPT runs of each', async () => {
      for (let i = 0; i < RUNS_KEPT + 5; i++) {
        expect(await ledger.claim('a', 'x', i * 10, i * 10 + 5)).toBe(true);
        await ledger.finish(run('a', 'x', i * 10), i * 10 + 10);
      }
      expect(await ledger.claim('b', 'x', 0, 5)).toBe(true);
      const runs = await ledger.runs('a', 1000);
      expect(runs).toHaveLength(RUNS_KEPT);
      expect(runs[0].startedAt).toBe((RUNS_KEPT + 4) * 10);
      expect((await ledger.states()).map((s) => [s.job, s.runs])).toEqual([
        ['a', RUNS_KEPT + 5],
        ['b', 0],
      ]);
    });

    it('gives a contended claim to exactly one of many owners', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ledger.claim('race', `o${i}`, 1000, 5000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
