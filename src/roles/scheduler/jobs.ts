import type { Logger } from 'pino';
import type { AlertStateStore } from '../../ports/alert-state.js';
import type { CrashIndex } from '../../ports/crash-index.js';
import type { JobLedger } from '../../ports/job-ledger.js';
import { STATUS_SAMPLE_RETENTION_MS, type NodeRegistry } from '../../ports/node-registry.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { RawCrashStore } from '../../ports/raw-crash-store.js';
import type { OpsHistoryStore } from '../../ports/ops-history.js';
import type { MissingSymbolsLog } from '../../ports/symbol-store.js';
import { SCHEDULED_JOBS } from '../../schema/scheduled-jobs.js';
import { runAlerts, summary, type AlertSettings } from './alerts/job.js';
import { applyRetention, retentionPlan, type RetentionSettings } from './retention.js';
import type { ScheduledJob } from './scheduler.js';
import { verifyProcessed } from './verify-processed.js';

const DAY_MS = 86_400_000;
/** The missing-symbols report looks back at most this far. */
const MISSING_SYMBOLS_WINDOW_MS = 365 * DAY_MS;

/** The stores the jobs work on. */
export interface JobStores {
  readonly rawCrashStore: RawCrashStore;
  readonly processedCrashStore: ProcessedCrashStore;
  readonly queue: ProcessingQueue;
  readonly crashIndex: CrashIndex;
  readonly registry: NodeRegistry;
  readonly missingSymbols: MissingSymbolsLog;
  /** The alerts job reads failed runs from it (job_failed rules). */
  readonly jobLedger?: JobLedger;
  /** Where the alerts job keeps each alert's state; without it the job does nothing. */
  readonly alertState?: AlertStateStore;
  /** The Dashboard's history: the alerts job's queue_growing rules read each queue's minute points. */
  readonly opsHistory?: OpsHistoryStore;
}

export interface JobSettings {
  /** verify-processed: how often, and how many days back (today included). */
  readonly verifyIntervalMs: number;
  readonly verifyDays: number;
  readonly retention: RetentionSettings & { readonly intervalMs: number };
  /** index-maintenance, status-history-pruning and missing-symbols. */
  readonly maintenanceIntervalMs: number;
  /** The alerts job: rules, webhooks and intervals (`[alerts]`); without it the job does nothing. */
  readonly alerts?: AlertSettings;
}

/** A job's time limit: its interval, but never under an hour (a first run has a backlog). */
const timeoutOf = (intervalMs: number): number => Math.max(intervalMs, 60 * 60_000);

/**
 * verify-processed (Socorro's job of that name): every accepted raw crash of the last days
 * that is neither processed nor queued goes back on the queue. It is what brings back a
 * crash whose queue entry was lost (a queue that does not flush every commit, a broker
 * that lost a message), so no acknowledged crash stays unprocessed.
 */
export function verifyProcessedJob(stores: JobStores, settings: JobSettings, log: Logger): ScheduledJob {
  return {
    name: 'verify-processed',
    description: SCHEDULED_JOBS['verify-processed'],
    intervalMs: settings.verifyIntervalMs,
    timeoutMs: timeoutOf(settings.verifyIntervalMs),
    async run() {
      const { checked, queued } = await verifyProcessed({ ...stores, days: settings.verifyDays, minimumAgeMs: 60_000, log });
      return `checked ${checked} crashes, queued ${queued.length}`;
    },
  };
}

function retentionJob(stores: JobStores, settings: JobSettings, log: Logger): ScheduledJob {
  const { retention } = settings;
  return {
    name: 'retention',
    description: SCHEDULED_JOBS.retention,
    intervalMs: retention.intervalMs,
    timeoutMs: timeoutOf(retention.intervalMs),
    async run(signal, context) {
      const now = Date.now();
      const plan = retentionPlan(retention, now);
      if (plan.rules.every((rule) => rule.crashesBefore === undefined && rule.rawBefore === undefined)) return 'nothing to do: crashes are kept forever (retention.days = 0)';
      const previous = context.lastSuccessAt === undefined ? undefined : retentionPlan(retention, context.lastSuccessAt);
      const report = await applyRetention(stores, plan, { signal, log, previous });
      return `dropped ${report.daysDropped} days, removed ${report.crashesRemoved} crashes and ${report.rawCrashesRemoved} raw crashes`;
    },
  };
}

/** A housekeeping job: described in `SCHEDULED_JOBS`, run every `scheduler.maintenance_interval`. */
function housekeeping(name: 'index-maintenance' | 'status-history-pruning' | 'missing-symbols', settings: JobSettings, run: () => Promise<string>): ScheduledJob {
  return { name, description: SCHEDULED_JOBS[name], intervalMs: settings.maintenanceIntervalMs, timeoutMs: timeoutOf(settings.maintenanceIntervalMs), run };
}

const indexMaintenanceJob = (stores: JobStores, settings: JobSettings): ScheduledJob => housekeeping('index-maintenance', settings, () => stores.crashIndex.maintain(Date.now()));

const statusHistoryJob = (stores: JobStores, settings: JobSettings): ScheduledJob =>
  housekeeping('status-history-pruning', settings, async () => `removed ${await stores.registry.pruneSamples(Date.now() - STATUS_SAMPLE_RETENTION_MS)} status samples`);

/** Socorro's missing-symbols job wrote yesterday's list for symbol uploaders; here it is the report's, and this keeps its log bounded. */
function missingSymbolsJob(stores: JobStores, settings: JobSettings): ScheduledJob {
  return housekeeping('missing-symbols', settings, async () => {
    const now = Date.now();
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const days = settings.retention.days;
    const forgotten = await stores.missingSymbols.prune(Math.max(now - MISSING_SYMBOLS_WINDOW_MS, days > 0 ? today - (days - 1) * DAY_MS : -Infinity));
    const yesterday = await stores.missingSymbols.list({ since: today - DAY_MS, limit: 10_000 });
    const top = yesterday
      .slice(0, 3)
      .map((m) => `${m.debugFile} (${m.crashCount})`)
      .join(', ');
    return `since yesterday ${yesterday.length} modules missed symbols${top ? `, most often ${top}` : ''}; forgot ${forgotten} old entries`;
  });
}

/**
 * alerts: evaluates the alert rules, moves each alert's state and sends its notices
 * (`alerts/job.ts`). Every `alerts.evaluate_interval`; with no rules, hourly (to resolve
 * alerts of rules since removed). Its claim in the ledger is what keeps a second
 * scheduler from evaluating at the same time; the alert state's compare-and-set is what
 * keeps a claim taken over mid-run from sending a notice twice.
 */
export function alertsJob(stores: JobStores, settings: JobSettings, log: Logger, options: { now?: () => number; fetch?: typeof fetch; retryDelayMs?: number } = {}): ScheduledJob {
  const alerts = settings.alerts;
  const evaluateMs = alerts?.evaluateIntervalMs ?? 10_000;
  const intervalMs = alerts && alerts.rules.length > 0 ? evaluateMs : Math.max(evaluateMs, 60 * 60_000);
  return {
    name: 'alerts',
    description: SCHEDULED_JOBS.alerts,
    intervalMs,
    // Long enough for a run's webhook calls; short enough that a dead scheduler's claim is taken over soon.
    timeoutMs: Math.max(5 * 60_000, 10 * evaluateMs),
    async run(signal) {
      if (!alerts || !stores.alertState) return 'alerts are not evaluated: no alert state store or settings';
      const report = await runAlerts({ registry: stores.registry, queue: stores.queue, jobLedger: stores.jobLedger, alertState: stores.alertState, opsHistory: stores.opsHistory }, alerts, log, { ...options, signal });
      return summary(report, alerts.rules.length);
    },
  };
}

/** Every job the scheduler role runs. */
export function scheduledJobs(stores: JobStores, settings: JobSettings, log: Logger): ScheduledJob[] {
  return [
    verifyProcessedJob(stores, settings, log),
    retentionJob(stores, settings, log),
    indexMaintenanceJob(stores, settings),
    statusHistoryJob(stores, settings),
    missingSymbolsJob(stores, settings),
    alertsJob(stores, settings, log.child({ job: 'alerts' })),
  ];
}
