import type Database from 'better-sqlite3';
import { RUNS_KEPT, type JobLedger, type JobRun, type JobState } from '../ports/job-ledger.js';
import { stateOf, toRun, type JobRow, type RunRow } from './job-ledger-rows.js';
import { openSqlite, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'scheduler jobs and their runs',
    sql: `
      CREATE TABLE scheduler_jobs (
        job TEXT PRIMARY KEY,
        next_run_at INTEGER,
        claimed_by TEXT,
        claimed_at INTEGER,
        claimed_until INTEGER,
        last_success_at INTEGER,
        failures_in_a_row INTEGER NOT NULL DEFAULT 0,
        runs INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE scheduler_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        owner TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        summary TEXT
      );
      CREATE INDEX scheduler_runs_by_job ON scheduler_runs (job, started_at);
    `,
  },
];

/** The scheduler's ledger in the embedded database: one machine, so one file holds the claims. */
export class SqliteJobLedger implements JobLedger {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  static open(path: string, options: { now?: () => number } = {}): SqliteJobLedger {
    return new SqliteJobLedger(openSqlite(path, 'scheduler', MIGRATIONS), options.now ?? Date.now);
  }

  async claim(job: string, owner: string, now: number, until: number): Promise<boolean> {
    // One statement decides: SQLite serialises writers, so two schedulers on the file
    // cannot both see the job free.
    const claimed = this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO scheduler_jobs (job) VALUES (?)').run(job);
      return this.db
        .prepare(
          `UPDATE scheduler_jobs SET claimed_by = ?, claimed_at = ?, claimed_until = ?
           WHERE job = ? AND (next_run_at IS NULL OR next_run_at <= ?)
             AND (claimed_by IS NULL OR claimed_until <= ? OR claimed_by = ?)`,
        )
        .run(owner, now, until, job, now, now, owner).changes;
    })();
    return claimed === 1;
  }

  async finish(run: JobRun, nextRunAt: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO scheduler_runs (job, owner, started_at, finished_at, outcome, error, summary) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(run.job, run.owner, run.startedAt, run.finishedAt, run.outcome, run.error ?? null, run.summary ?? null);
      const success = run.outcome === 'success';
      this.db
        .prepare(
          `UPDATE scheduler_jobs SET next_run_at = ?, runs = runs + 1,
             last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END,
             failures_in_a_row = CASE WHEN ? THEN 0 ELSE failures_in_a_row + 1 END,
             claimed_by = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_by END,
             claimed_at = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_at END,
             claimed_until = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_until END
           WHERE job = ?`,
        )
        .run(nextRunAt, success ? 1 : 0, run.finishedAt, success ? 1 : 0, run.owner, run.owner, run.owner, run.job);
      this.db
        .prepare('DELETE FROM scheduler_runs WHERE job = ? AND id NOT IN (SELECT id FROM scheduler_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT ?)')
        .run(run.job, run.job, RUNS_KEPT);
    })();
  }

  async states(): Promise<JobState[]> {
    const now = this.now();
    const rows = this.db.prepare('SELECT * FROM scheduler_jobs ORDER BY job').all() as JobRow[];
    const last = this.db.prepare('SELECT * FROM scheduler_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT 1');
    return rows.map((row) => stateOf(row, last.get(row.job) as RunRow | undefined, now));
  }

  async runs(job: string, limit: number): Promise<JobRun[]> {
    const rows = this.db.prepare('SELECT * FROM scheduler_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT ?').all(job, limit) as RunRow[];
    return rows.map(toRun);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
