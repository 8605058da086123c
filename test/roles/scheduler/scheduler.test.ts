import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJobLedger } from '../../../src/adapters/sqlite-job-ledger.js';
import { Scheduler, type ScheduledJob } from '../../../src/roles/scheduler/scheduler.js';

const log = pino({ level: 'silent' });
let dir: string;
let ledgers: SqliteJobLedger[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-scheduler-'));
  ledgers = [];
});
afterEach(async () => {
  for (const ledger of ledgers) await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A ledger on the shared file, as each scheduler process would open it. */
function ledger(): SqliteJobLedger {
  const opened = SqliteJobLedger.open(join(dir, 'mayday.sqlite'));
  ledgers.push(opened);
  return opened;
}

/** A job whose runs are counted and wait for `release` when `hold` is set. */
function countingJob(options: { intervalMs?: number; timeoutMs?: number; fail?: () => boolean; hold?: boolean } = {}) {
  let concurrent = 0;
  const stats = { runs: 0, maxConcurrent: 0, aborted: 0 };
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const job: ScheduledJob = {
    name: 'verify-processed',
    description: 'test',
    intervalMs: options.intervalMs ?? 60_000,
    timeoutMs: options.timeoutMs ?? 60_000,
    async run(signal) {
      stats.runs++;
      concurrent++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, concurrent);
      try {
        if (options.hold) {
          await Promise.race([
            held,
            new Promise<void>((_, reject) =>
              signal.addEventListener('abort', () => {
                stats.aborted++;
                reject(signal.reason as Error);
              }),
            ),
          ]);
        }
        if (options.fail?.()) throw new Error('the store is down');
        return `run ${stats.runs}`;
      } finally {
        concurrent--;
      }
    },
  };
  return { job, stats, release: () => release() };
}

describe('scheduler', () => {
  it('runs a due job once, records it, and does not run it again before its interval', async () => {
    const { job, stats } = countingJob();
    const metrics = new Registry();
    const scheduler = new Scheduler({ ledger: ledger(), jobs: [job], owner: 'a', tickMs: 60_000, log, metrics });
    await scheduler.tick();
    await scheduler.idle();
    await scheduler.tick();
    await scheduler.idle();
    expect(stats.runs).toBe(1);
    const [state] = await ledgers[0].states();
    expect(state).toMatchObject({ job: 'verify-processed', runs: 1, failuresInARow: 0 });
    expect(state.lastRun).toMatchObject({ owner: 'a', outcome: 'success', summary: 'run 1' });
    expect(state.nextRunAt! - state.lastRun!.finishedAt).toBe(60_000);
    expect(await metrics.metrics()).toMatch(/mayday_scheduler_job_runs_total\{job="verify-processed",outcome="success"\} 1/);
    await scheduler.stop();
  });

  it('tells a job when its last successful run ended, so it can continue from there', async () => {
    const seen: (number | undefined)[] = [];
    let clock = 1_000_000;
    const job: ScheduledJob = { name: 'retention', description: 'test', intervalMs: 1000, timeoutMs: 60_000, run: async (_signal, context) => (seen.push(context.lastSuccessAt), 'ok') };
    const scheduler = new Scheduler({ ledger: ledger(), jobs: [job], owner: 'a', tickMs: 60_000, log, now: () => clock });
    await scheduler.tick();
    await scheduler.idle();
    clock += 5000;
    await scheduler.tick();
    await scheduler.idle();
    expect(seen).toEqual([undefined, 1_000_000]);
    await scheduler.stop();
  });

  it('runs a job once when its own ticks overlap', async () => {
    const { job, stats } = countingJob();
    const scheduler = new Scheduler({ ledger: ledger(), jobs: [job], owner: 'a', tickMs: 60_000, log });
    await Promise.all([scheduler.tick(), scheduler.tick(), scheduler.tick()]);
    await scheduler.idle();
    expect(stats.runs).toBe(1);
    await scheduler.stop();
  });

  it('never runs one job in two schedulers at once, whatever their ticks', async () => {
    const { job, stats, release } = countingJob({ hold: true });
    const schedulers = ['a', 'b', 'c'].map((owner) => new Scheduler({ ledger: ledger(), jobs: [job], owner, tickMs: 60_000, log }));
    for (let round = 0; round < 5; round++) await Promise.all(schedulers.map((s) => s.tick()));
    expect(stats.runs).toBe(1);
    release();
    await Promise.all(schedulers.map((s) => s.idle()));
    expect(stats.maxConcurrent).toBe(1);
    for (const s of schedulers) await s.stop();
  });

  it('retries a failed job sooner than its interval and counts failures in a row', async () => {
    let failing = true;
    const { job } = countingJob({ intervalMs: 3_600_000, fail: () => failing });
    const now = { value: 1_000_000 };
    const scheduler = new Scheduler({ ledger: ledger(), jobs: [job], owner: 'a', tickMs: 60_000, log, now: () => now.value });
    await scheduler.tick();
    await scheduler.idle();
    let [state] = await ledgers[0].states();
    expect(state).toMatchObject({ failuresInARow: 1, lastRun: { outcome: 'failure', error: 'the store is down' } });
    // Five minutes later, not an hour.
    expect(state.nextRunAt).toBe(now.value + 5 * 60_000);
    now.value += 5 * 60_000;
    failing = false;
    await scheduler.tick();
    await scheduler.idle();
    [state] = await ledgers[0].states();
    expect(state).toMatchObject({ failuresInARow: 0, runs: 2, lastSuccessAt: now.value });
    await scheduler.stop();
  });

  it('lets another scheduler take over a job whose scheduler died mid-run, once its claim expires', async () => {
    const first = countingJob({ hold: true, timeoutMs: 1000 });
    const now = { value: 5_000_000 };
    const dying = new Scheduler({ ledger: ledger(), jobs: [first.job], owner: 'dying', tickMs: 60_000, log, now: () => now.value });
    await dying.tick();
    expect(first.stats.runs).toBe(1);
    // The process is gone: nothing records the end of its run.
    const second = countingJob();
    const heir = new Scheduler({ ledger: ledger(), jobs: [second.job], owner: 'heir', tickMs: 60_000, log, now: () => now.value });
    await heir.tick();
    expect(second.stats.runs).toBe(0);
    now.value += 1000;
    await heir.tick();
    await heir.idle();
    expect(second.stats.runs).toBe(1);
    await heir.stop();
    first.release();
    await dying.stop();
  });

  it('asks a running job to stop on shutdown and records how it ended', async () => {
    const { job, stats } = countingJob({ hold: true });
    const scheduler = new Scheduler({ ledger: ledger(), jobs: [job], owner: 'a', tickMs: 60_000, log });
    await scheduler.tick();
    await scheduler.stop();
    expect(stats.aborted).toBe(1);
    const [state] = await ledgers[0].states();
    expect(state).toMatchObject({ runningBy: undefined, lastRun: { outcome: 'failure', error: 'the scheduler is stopping' } });
  });
});
