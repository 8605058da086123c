import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobLedger, JobState } from '../../ports/job-ledger.js';
import type { ScheduledJobName } from '../../schema/scheduled-jobs.js';

/**
 * The scheduler role (Socorro's crontabber): periodic jobs, each run recorded in the job
 * ledger. Jobs are claimed in the ledger before they run, so two schedulers never run one
 * job at once, and a job is due `intervalMs` after its last run ended, whoever ran it: a
 * scheduler restarted (or replaced on another host) picks up where the ledger says.
 */
export interface ScheduledJob {
  readonly name: ScheduledJobName;
  readonly description: string;
  /** Time from the end of one run to the next. */
  readonly intervalMs: number;
  /** Longest a run may take: its claim lasts this long, and its signal aborts then. */
  readonly timeoutMs: number;
  /** Does the work; resolves with one line saying what it did. */
  run(signal: AbortSignal, context: JobContext): Promise<string>;
}

/** What the ledger knows of a job's past, for jobs that continue where they stopped. */
export interface JobContext {
  /** When the last successful run ended (ms since epoch); absent before the first. */
  readonly lastSuccessAt?: number;
}

export interface SchedulerOptions {
  readonly ledger: JobLedger;
  readonly jobs: readonly ScheduledJob[];
  /** `name@host:pid`, as in the node registry. */
  readonly owner: string;
  /** How often due jobs are looked for. */
  readonly tickMs: number;
  readonly log: Logger;
  readonly metrics?: Registry;
  readonly now?: () => number;
}

/** After a failure the job is tried again this soon (or at its interval, if shorter). */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000;

export class Scheduler {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly claiming = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly runsTotal?: Counter<'job' | 'outcome'>;
  private readonly runSeconds?: Histogram<'job'>;
  /** The ledger's states as `/metrics` last read them: read at most once per tick, however often it is scraped. */
  private ledgerRead: { at: number; states: Promise<readonly JobState[] | undefined> } | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
    if (options.metrics) {
      this.runsTotal = new Counter({ name: 'mayday_scheduler_job_runs_total', help: 'Runs of scheduled jobs by job and outcome.', labelNames: ['job', 'outcome'], registers: [options.metrics] });
      this.runSeconds = new Histogram({
        name: 'mayday_scheduler_job_seconds',
        help: 'Duration of scheduled job runs.',
        labelNames: ['job'],
        buckets: [0.1, 1, 10, 60, 300, 1800, 3600],
        registers: [options.metrics],
      });
      this.registerJobGauges(options.metrics);
    }
  }

  /**
   * Each job's last run, its outcome and its next run at `/metrics`, from the job ledger:
   * the deployment's truth, whichever scheduler ran the job. A job never run has no last
   * run; one whose ledger cannot be read is left out of that scrape.
   */
  private registerJobGauges(registry: Registry): void {
    const scheduler = this;
    const gauge = (name: string, help: string, value: (state: JobState) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ['job'],
        registers: [registry],
        async collect() {
          const states = await scheduler.ledgerStates();
          this.reset();
          for (const job of scheduler.options.jobs) {
            const state = states?.find((s) => s.job === job.name);
            const v = state && value(state);
            if (v !== undefined) this.set({ job: job.name }, v);
          }
        },
      });
    };
    gauge('mayday_scheduler_job_last_run_timestamp_seconds', "When the job's last run ended (seconds since the epoch).", (s) => s.lastRun && s.lastRun.finishedAt / 1000);
    gauge('mayday_scheduler_job_last_outcome', "The job's last run: 1 succeeded, 0 failed.", (s) => s.lastRun && (s.lastRun.outcome === 'success' ? 1 : 0));
    gauge('mayday_scheduler_job_next_run_timestamp_seconds', 'When the job is due next (seconds since the epoch).', (s) => (s.nextRunAt === undefined ? undefined : s.nextRunAt / 1000));
  }

  private ledgerStates(): Promise<readonly JobState[] | undefined> {
    const now = this.now();
    if (!this.ledgerRead || now - this.ledgerRead.at >= this.options.tickMs) {
      const states = this.options.ledger.states().catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'scheduler: reading the job ledger for /metrics failed');
        return undefined;
      });
      this.ledgerRead = { at: now, states };
    }
    return this.ledgerRead.states;
  }

  /** Looks for due jobs now, then every `tickMs`. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.ticking = this.tick().catch((error: unknown) => this.options.log.error({ err: error }, 'scheduler: reading the job ledger failed'));
    };
    tick();
    this.timer = setInterval(tick, this.options.tickMs);
    this.timer.unref();
  }

  /** Starts every due job this scheduler is not already running; resolves once they are started. */
  async tick(): Promise<void> {
    for (const job of this.options.jobs) {
      if (this.stopped || this.running.has(job.name) || this.claiming.has(job.name)) continue;
      const startedAt = this.now();
      // The ledger lets an owner claim its own job again, so two ticks of this scheduler
      // that overlap (a slow ledger, a short tick) must not both claim it.
      this.claiming.add(job.name);
      let claimed: boolean;
      try {
        claimed = await this.options.ledger.claim(job.name, this.options.owner, startedAt, startedAt + job.timeoutMs);
      } finally {
        this.claiming.delete(job.name);
      }
      if (!claimed || this.running.has(job.name)) continue;
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(new Error(`${job.name} ran longer than its ${job.timeoutMs} ms`)), job.timeoutMs);
      const done = this.runClaimed(job, startedAt, controller.signal).finally(() => {
        clearTimeout(timeout);
        this.running.delete(job.name);
      });
      this.running.set(job.name, { controller, done });
    }
  }

  /** Waits for the runs in progress (tests, and the all-in-one node at start). */
  async idle(): Promise<void> {
    await this.ticking;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Stops looking for jobs, asks running ones to stop, and waits for them to record their end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    for (const { controller } of this.running.values()) controller.abort(new Error('the scheduler is stopping'));
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async runClaimed(job: ScheduledJob, startedAt: number, signal: AbortSignal): Promise<void> {
    const { ledger, owner, log } = this.options;
    let summary: string | undefined;
    let error: string | undefined;
    try {
      const state = (await ledger.states()).find((s) => s.job === job.name);
      summary = await job.run(signal, { lastSuccessAt: state?.lastSuccessAt });
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    const finishedAt = this.now();
    const outcome = error === undefined ? 'success' : 'failure';
    const nextRunAt = finishedAt + (outcome === 'success' ? job.intervalMs : Math.min(job.intervalMs, RETRY_AFTER_FAILURE_MS));
    this.runsTotal?.inc({ job: job.name, outcome });
    this.runSeconds?.observe({ job: job.name }, (finishedAt - startedAt) / 1000);
    if (outcome === 'success') log.info({ job: job.name, ms: finishedAt - startedAt, summary }, 'scheduled job done');
    else log.error({ job: job.name, ms: finishedAt - startedAt, error }, 'scheduled job failed');
    try {
      await ledger.finish({ job: job.name, owner, startedAt, finishedAt, outcome, error, summary }, nextRunAt);
      // The next scrape shows this run at once.
      this.ledgerRead = undefined;
    } catch (thrown) {
      // The claim expires on its own; the job runs again then.
      log.error({ err: thrown, job: job.name }, 'scheduler: recording a run failed');
    }
  }
}
