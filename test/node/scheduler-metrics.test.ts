/**
 * The scheduler's jobs at `/metrics`: last run, outcome and next run of each job, from the
 * job ledger (so whichever scheduler ran a job, every scheduler node reports it alike).
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { SqliteJobLedger } from '../../src/adapters/sqlite-job-ledger.js';
import { Scheduler, type ScheduledJob } from '../../src/roles/scheduler/scheduler.js';
import type { ScheduledJobName } from '../../src/schema/scheduled-jobs.js';

function scraped(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const job = (name: string, intervalMs: number, run: () => Promise<string>): ScheduledJob => ({
  name: name as ScheduledJobName, // any name: the ledger and the gauges take them as they come
  description: name,
  intervalMs,
  timeoutMs: 10_000,
  run: async () => run(),
});

describe('scheduler jobs at /metrics', () => {
  it("reports each job's last run, outcome and next run from the ledger, and a job never run without them", async () => {
    const ledger = SqliteJobLedger.open(':memory:');
    const metrics = new Registry();
    let blockedRelease!: () => void;
    const blocked = new Promise<string>((resolve) => (blockedRelease = () => resolve('done at last')));
    const scheduler = new Scheduler({
      ledger,
      jobs: [job('verify-processed', 3_600_000, async () => 'fine'), job('retention', 60_000, async () => { throw new Error('disk full'); }), job('index-maintenance', 60_000, () => blocked)],
      owner: 'test@host:1',
      tickMs: 60_000,
      log: pino({ level: 'silent' }),
      metrics,
    });
    const before = Date.now();
    await scheduler.tick();
    // The two quick jobs end; the third runs on.
    for (let i = 0; i < 100 && (await ledger.states()).filter((s) => s.lastRun).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const after = Date.now();
    const text = await metrics.metrics();

    const lastOk = scraped(text, 'mayday_scheduler_job_last_run_timestamp_seconds{job="verify-processed"}')!;
    expect(lastOk * 1000).toBeGreaterThanOrEqual(before);
    expect(lastOk * 1000).toBeLessThanOrEqual(after);
    expect(scraped(text, 'mayday_scheduler_job_last_outcome{job="verify-processed"}')).toBe(1);
    expect(scraped(text, 'mayday_scheduler_job_next_run_timestamp_seconds{job="verify-processed"}')).toBeCloseTo(lastOk + 3600, 3);

    const lastFailed = scraped(text, 'mayday_scheduler_job_last_run_timestamp_seconds{job="retention"}')!;
    expect(scraped(text, 'mayday_scheduler_job_last_outcome{job="retention"}')).toBe(0);
    // A failed job is tried again within its interval (60 s here, shorter than the retry delay).
    expect(scraped(text, 'mayday_scheduler_job_next_run_timestamp_seconds{job="retention"}')).toBeCloseTo(lastFailed + 60, 3);

    // Running, never finished: no last run, no outcome.
    expect(scraped(text, 'mayday_scheduler_job_last_run_timestamp_seconds{job="index-maintenance"}')).toBeUndefined();
    expect(scraped(text, 'mayday_scheduler_job_last_outcome{job="index-maintenance"}')).toBeUndefined();

    // Its end shows at the next scrape, without waiting for a tick.
    blockedRelease();
    await scheduler.idle();
    const later = await metrics.metrics();
    expect(scraped(later, 'mayday_scheduler_job_last_outcome{job="index-maintenance"}')).toBe(1);
    expect(scraped(later, 'mayday_scheduler_job_last_run_timestamp_seconds{job="index-maintenance"}')).toBeGreaterThanOrEqual(lastOk);
    await scheduler.stop();
    await ledger.close();
  });

  it('reads the ledger at most once per tick however often it is scraped, and a failed read does not fail the scrape', async () => {
    const ledger = SqliteJobLedger.open(':memory:');
    let reads = 0;
    let failing = false;
    const counting = Object.assign(Object.create(ledger) as SqliteJobLedger, {
      states: async () => {
        reads++;
        if (failing) throw new Error('database down');
        return ledger.states();
      },
    });
    const metrics = new Registry();
    const scheduler = new Scheduler({ ledger: counting, jobs: [job('verify-processed', 60_000, async () => 'fine')], owner: 'test@host:1', tickMs: 200, log: pino({ level: 'silent' }), metrics });
    await scheduler.tick();
    await scheduler.idle();
    const start = reads;
    for (let i = 0; i < 5; i++) await metrics.metrics();
    expect(reads - start).toBe(1);
    expect(scraped(await metrics.metrics(), 'mayday_scheduler_job_last_outcome{job="verify-processed"}')).toBe(1);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    const text = await metrics.metrics();
    expect(reads - start).toBe(2);
    expect(scraped(text, 'mayday_scheduler_job_last_outcome{job="verify-processed"}')).toBeUndefined();
    expect(text).toContain('mayday_scheduler_job_runs_total{job="verify-processed",outcome="success"} 1');
    await scheduler.stop();
    await ledger.close();
  });
});
