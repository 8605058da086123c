import type { FastifyPluginAsync } from 'fastify';
import { withAccess } from '../../auth/route-access.js';
import type { JobLedger, JobRun } from '../../ports/job-ledger.js';
import { SCHEDULED_JOBS } from '../../schema/scheduled-jobs.js';

export interface JobsApiOptions {
  readonly ledger: JobLedger;
}

/** How many recent runs each job lists. */
const RECENT_RUNS = 10;
/** A job not started this long after it was due is overdue (schedulers look every few seconds). */
const OVERDUE_AFTER_MS = 60_000;

function runJson(run: JobRun) {
  return {
    owner: run.owner,
    started_at: new Date(run.startedAt).toISOString(),
    finished_at: new Date(run.finishedAt).toISOString(),
    duration_ms: run.finishedAt - run.startedAt,
    outcome: run.outcome,
    error: run.error ?? null,
    summary: run.summary ?? null,
  };
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * `GET /api/ops/jobs`: the scheduler's jobs as the ledger has them (Socorro's crontabber
 * state), for operators and the Operations Dashboard: each known job, including one that
 * never ran (a scheduler that is not running shows as jobs never run or overdue), with its
 * last run, last success, failures in a row, next run and the recent runs. Public like
 * `/status`: it names jobs and outcomes, never crash data.
 */
export const jobsApiPlugin: FastifyPluginAsync<JobsApiOptions> = async (app, { ledger }) => {
  app.get('/api/ops/jobs', withAccess('public'), async () => {
    const now = Date.now();
    const states = new Map((await ledger.states()).map((s) => [s.job, s]));
    const names = [...new Set([...Object.keys(SCHEDULED_JOBS), ...states.keys()])].sort();
    const jobs = await Promise.all(
      names.map(async (name) => {
        const state = states.get(name);
        return {
          job: name,
          description: (SCHEDULED_JOBS as Record<string, string>)[name] ?? null,
          running: state?.runningBy !== undefined,
          running_by: state?.runningBy ?? null,
          running_since: iso(state?.runningSince),
          next_run_at: iso(state?.nextRunAt),
          overdue: state?.nextRunAt !== undefined && state.runningBy === undefined && now - state.nextRunAt > OVERDUE_AFTER_MS,
          last_run: state?.lastRun ? runJson(state.lastRun) : null,
          last_success_at: iso(state?.lastSuccessAt),
          failures_in_a_row: state?.failuresInARow ?? 0,
          runs: state?.runs ?? 0,
          recent_runs: (await ledger.runs(name, RECENT_RUNS)).map(runJson),
        };
      }),
    );
    return { now: new Date(now).toISOString(), jobs };
  });
};
