import type { JobOutcome, JobRun, JobState } from '../ports/job-ledger.js';

/** The job ledger's rows, as SQLite and PostgreSQL both hold them (same tables, same columns). */
export interface JobRow {
  job: string;
  next_run_at: number | null;
  claimed_by: string | null;
  claimed_at: number | null;
  claimed_until: number | null;
  last_success_at: number | null;
  failures_in_a_row: number;
  runs: number;
}

export interface RunRow {
  job: string;
  owner: string;
  started_at: number;
  finished_at: number;
  outcome: string;
  error: string | null;
  summary: string | null;
}

export function toRun(row: RunRow): JobRun {
  return {
    job: row.job,
    owner: row.owner,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome as JobOutcome,
    error: row.error ?? undefined,
    summary: row.summary ?? undefined,
  };
}

/** A job's state from its row and its last run; a claim counts only until it expires. */
export function stateOf(row: JobRow, lastRow: RunRow | undefined, now: number): JobState {
  const running = row.claimed_by !== null && row.claimed_until !== null && row.claimed_until > now;
  return {
    job: row.job,
    nextRunAt: row.next_run_at ?? undefined,
    runningBy: running ? row.claimed_by! : undefined,
    runningSince: running ? row.claimed_at! : undefined,
    lastRun: lastRow ? toRun(lastRow) : undefined,
    lastSuccessAt: row.last_success_at ?? undefined,
    failuresInARow: row.failures_in_a_row,
    runs: row.runs,
  };
}
