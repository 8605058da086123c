/**
 * "Scheduler jobs", from the job ledger (whichever scheduler ran them): when each last ran
 * and how it ended, when it is due again, and whether one is running now. A failed run is
 * red with its error; a job well past its time is "overdue" (no scheduler is running it).
 */

import { SCHEDULED_JOBS } from '../../schema/scheduled-jobs.js';
import { formatSince, nextRun, sortJobs } from './ops-view.js';
import type { JobView } from './types.js';

const DESCRIPTIONS: Readonly<Record<string, string>> = SCHEDULED_JOBS;

export function JobsCard({ jobs, now, schedulers }: { jobs: readonly JobView[]; now: number; schedulers: number }) {
  const sorted = sortJobs(jobs, now);
  const failing = sorted.filter((j) => j.lastOutcome === 'failure').length;
  const running = sorted.filter((j) => j.running).length;
  return (
    <section class="card dash-jobs">
      <div class="dash-panel-head">
        <h2>Scheduler jobs</h2>
        <span class={`small ${failing ? 'dash-bad' : 'muted'}`}>
          {sorted.length === 0 ? '' : `${sorted.length} ${sorted.length === 1 ? 'job' : 'jobs'}`}
          {failing ? ` · ${failing} failing` : ''}
          {running ? ` · ${running} running` : ''}
          {schedulers === 0 ? `${sorted.length ? ' · ' : ''}no scheduler node up` : ''}
        </span>
      </div>
      {sorted.length === 0 ? (
        <div class="muted" data-testid="jobs" data-count="0">
          {schedulers === 0 ? 'No node runs the scheduler role, and no job has run yet.' : 'No job has run yet: each appears after its first run.'}
        </div>
      ) : (
        <table class="dash-table" data-testid="jobs" data-count={sorted.length}>
          <thead>
            <tr>
              <th>Job</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((j) => {
              const failed = j.lastOutcome === 'failure';
              const next = nextRun(j.nextRunAt, now, j.running);
              const rowStatus = failed ? 'st-down' : next.overdue ? 'st-stale' : 'st-up';
              return (
                <tr key={j.job} class={`dash-row ${rowStatus}`} data-testid="job" data-job={j.job} data-outcome={j.lastOutcome ?? 'none'} data-running={String(j.running)} data-overdue={String(next.overdue)}>
                  <td>
                    <span class="dash-job-name" title={DESCRIPTIONS[j.job]}>
                      {j.job}
                    </span>
                    {j.running ? (
                      <span class="dash-running" data-testid="job-running" title="A scheduler holds this job's claim and is running it now">
                        <i class="dash-pulse" aria-hidden="true" />
                        running
                      </span>
                    ) : null}
                  </td>
                  <td class="dash-job-last">
                    {j.lastOutcome === null ? (
                      <span class="muted">never</span>
                    ) : (
                      <>
                        <span class={`badge ${failed ? 'err' : 'ok'}`} data-testid="job-outcome" title={failed ? (j.lastError ?? 'failed, without an error message') : 'succeeded'}>
                          {failed ? (j.failuresInARow > 1 ? `failed ×${j.failuresInARow}` : 'failed') : 'ok'}
                        </span>{' '}
                        <span class="dash-when" data-testid="job-last-run">{formatSince(j.lastRunAt, now)}</span>
                        {failed && j.lastError ? (
                          <div class="dash-bad small dash-job-error" title={j.lastError}>
                            {j.lastError}
                          </div>
                        ) : null}
                      </>
                    )}
                  </td>
                  <td class={next.overdue ? 'dash-text-stale' : next.text === '–' ? 'muted' : ''} data-testid="job-next-run" title={j.nextRunAt ? new Date(j.nextRunAt).toISOString() : undefined}>
                    {next.text}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
