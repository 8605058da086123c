import type pg from 'pg';
import { RUNS_KEPT, type JobLedger, type JobRun, type JobState } from '../ports/job-ledger.js';
import { stateOf, toRun, type JobRow, type RunRow } from './job-ledger-rows.js';
import { closePool, inTransaction, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'scheduler jobs and their runs',
    sql: `
      CREATE TABLE scheduler_jobs (
        job TEXT PRIMARY KEY,
        next_run_at BIGINT,
        claimed_by TEXT,
        claimed_at BIGINT,
        claimed_until BIGINT,
        last_success_at BIGINT,
        failures_in_a_row INTEGER NOT NULL DEFAULT 0,
        runs INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE scheduler_runs (
        id BIGSERIAL PRIMARY KEY,
        job TEXT NOT NULL,
        owner TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        finished_at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        summary TEXT
      );
      CREATE INDEX scheduler_runs_by_job ON scheduler_runs (job, started_at);
    `,
  },
];

/**
 * The scheduler's ledger on PostgreSQL, shared by schedulers on any host: a claim is one
 * conditional UPDATE, which PostgreSQL applies to the row one transaction at a time, so of
 * two schedulers asking at once exactly one gets the job.
 */
export class PgJobLedger implements JobLedger {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number,
  ) {}

  static async open(options: PgStoreOptions & { now?: () => number }): Promise<PgJobLedger> {
    return new PgJobLedger(await openPgPool(options, 'scheduler', MIGRATIONS), options.now ?? Date.now);
  }

  async claim(job: string, owner: string, now: number, until: number): Promise<boolean> {
    await this.pool.query('INSERT INTO scheduler_jobs (job) VALUES ($1) ON CONFLICT (job) DO NOTHING', [job]);
    const result = await this.pool.query(
      `UPDATE scheduler_jobs SET claimed_by = $2, claimed_at = $3, claimed_until = $4
       WHERE job = $1 AND (next_run_at IS NULL OR next_run_at <= $3)
         AND (claimed_by IS NULL OR claimed_until <= $3 OR claimed_by = $2)`,
      [job, owner, now, until],
    );
    return result.rowCount === 1;
  }

  async finish(run: JobRun, nextRunAt: number): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('INSERT INTO scheduler_runs (job, owner, started_at, finished_at, outcome, error, summary) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        run.job,
        run.owner,
        run.startedAt,
        run.finishedAt,
        run.outcome,
        run.error ?? null,
        run.summary ?? null,
      ]);
      const success = run.outcome === 'success';
      await client.query(
        `UPDATE scheduler_jobs SET next_run_at = $2, runs = runs + 1,
           last_success_at = CASE WHEN $3 THEN $4 ELSE last_success_at END,
           failures_in_a_row = CASE WHEN $3 THEN 0 ELSE failures_in_a_row + 1 END,
           claimed_by = CASE WHEN claimed_by = $5 THEN NULL ELSE claimed_by END,
           claimed_at = CASE WHEN claimed_by = $5 THEN NULL ELSE claimed_at END,
           claimed_until = CASE WHEN claimed_by = $5 THEN NULL ELSE claimed_until END
         WHERE job = $1`,
        [run.job, nextRunAt, success, run.finishedAt, run.owner],
      );
      await client.query('DELETE FROM scheduler_runs WHERE job = $1 AND id NOT IN (SELECT id FROM scheduler_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2)', [
        run.job,
        RUNS_KEPT,
      ]);
    });
  }

  async states(): Promise<JobState[]> {
    const now = this.now();
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM scheduler_jobs ORDER BY job');
    const { rows: lastRuns } = await this.pool.query<RunRow>('SELECT DISTINCT ON (job) * FROM scheduler_runs ORDER BY job, started_at DESC, id DESC');
    const last = new Map(lastRuns.map((r) => [r.job, r]));
    return rows.map((row) => stateOf(row, last.get(row.job), now));
  }

  async runs(job: string, limit: number): Promise<JobRun[]> {
    const { rows } = await this.pool.query<RunRow>('SELECT * FROM scheduler_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2', [job, limit]);
    return rows.map(toRun);
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}
