/**
 * The scheduler's record of its periodic jobs (Socorro's crontabber state): when each job
 * last ran, how it ended, when it is due again, and who is running it now. The claim is
 * what keeps two schedulers (a second one started by mistake, or an old one not yet dead)
 * from running one job at once: it is taken atomically and expires, so a scheduler killed
 * mid-job does not hold its job forever.
 */
export type JobOutcome = 'success' | 'failure';

export interface JobRun {
  readonly job: string;
  /** `name@host:pid` of the scheduler that ran it. */
  readonly owner: string;
  /** ms since epoch. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly outcome: JobOutcome;
  /** The error's message when it failed. */
  readonly error?: string;
  /** One line saying what the run did ("checked 1,204 crashes, queued 3"). */
  readonly summary?: string;
}

export interface JobState {
  readonly job: string;
  /** When the job is due next (ms since epoch); absent before its first run. */
  readonly nextRunAt?: number;
  /** The unexpired claim, if a scheduler is running the job now. */
  readonly runningBy?: string;
  readonly runningSince?: number;
  readonly lastRun?: JobRun;
  /** ms since epoch of the last run that succeeded. */
  readonly lastSuccessAt?: number;
  /** Failures since the last success. */
  readonly failuresInARow: number;
  readonly runs: number;
}

export interface JobLedger {
  /**
   * Claims `job` for `owner` until `until` when it is due (`nextRunAt` absent or not after
   * `now`) and no other owner holds an unexpired claim. True when this call claimed it.
   */
  claim(job: string, owner: string, now: number, until: number): Promise<boolean>;
  /** Records a claimed run's end, sets when the job is due next, and releases the claim. */
  finish(run: JobRun, nextRunAt: number): Promise<void>;
  /** Every job ever claimed, by name. */
  states(): Promise<JobState[]>;
  /** The most recent runs of one job, newest first (the ledger keeps the last `RUNS_KEPT`). */
  runs(job: string, limit: number): Promise<JobRun[]>;
  close(): Promise<void>;
}

/** Runs kept per job: enough history for the dashboard, bounded however long a deployment lives. */
export const RUNS_KEPT = 100;
