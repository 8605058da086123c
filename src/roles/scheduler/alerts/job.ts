import type { Logger } from 'pino';
import type { AlertRecord, AlertStateStore, CounterSample } from '../../../ports/alert-state.js';
import type { JobLedger } from '../../../ports/job-ledger.js';
import type { NodeRegistry } from '../../../ports/node-registry.js';
import { MINUTE_MS, type OpsHistoryStore } from '../../../ports/ops-history.js';
import type { ProcessingQueue } from '../../../ports/queue.js';
import { queueComponent } from '../../../ports/ops-history.js';
import { evaluate, type ComponentSnapshot, type Condition, type JobSnapshot, type QueueHistory, type QueueSnapshot } from './evaluate.js';
import type { AlertRule } from './rules.js';
import { nodeKey } from '../../../common/node-identity.js';
import { claimDelivery, closeReason, delivered, deliveryDue, step, withoutNotice } from './state.js';
import { describeWebhook, pingHeartbeat, postWebhook, targetId, webhookBody, type AlertNotice, type WebhookFormat } from './webhook.js';

/**
 * One evaluation of the alert rules: read the registry, the queues and the job ledger,
 * say which conditions hold, move each alert's state (compare-and-set in the alert state
 * store), and deliver the notices owed. Run by the scheduler's `alerts` job, which one
 * scheduler at a time holds. After an evaluation that succeeded it pings
 * `alerts.heartbeat_url`, the dead-man's switch: an evaluation that fails (the database
 * down) pings nothing, so the monitor outside Mayday pages when Mayday itself cannot.
 */

export interface AlertStores {
  readonly registry: NodeRegistry;
  readonly queue: ProcessingQueue;
  readonly jobLedger?: JobLedger;
  readonly alertState?: AlertStateStore;
  /** The Dashboard's history (each queue's waiting count a minute): queue_growing rules read it. */
  readonly opsHistory?: OpsHistoryStore;
}

export interface AlertSettings {
  readonly rules: readonly AlertRule[];
  readonly webhookUrls: readonly string[];
  readonly format: WebhookFormat;
  /** 0: never repeat. */
  readonly repeatIntervalMs: number;
  readonly evaluateIntervalMs: number;
  /** One webhook POST's limit. */
  readonly timeoutMs: number;
  /** Put in notices (e.g. `https://mayday.example/dashboard`). */
  readonly dashboardUrl?: string;
  /** `dashboard.down_after`: a node silent this long is not running (nodes_below, dependency_unreachable). */
  readonly downAfterMs?: number;
  /** GET after every evaluation that succeeded (`alerts.heartbeat_url`): a secret, never logged. */
  readonly heartbeatUrl?: string;
}

export interface AlertRunOptions {
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Wait before a webhook's second attempt (default 1 s). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
}

export interface AlertRunReport {
  readonly firing: number;
  readonly pending: number;
  readonly transitions: number;
  readonly noticesSent: number;
  readonly noticesFailed: number;
}

/** A notice not delivered this long after its transition is given up (and logged). */
export const NOTICE_GIVE_UP_MS = 24 * 3_600_000;
/** Resolved and inactive alerts are forgotten this long after their last change. */
export const RESOLVED_KEPT_MS = 7 * 86_400_000;
/** Counter samples are kept this much longer than the longest failure_rate window. */
const COUNTER_SLACK_MS = 10 * 60_000;
/** The heartbeat ping's limit, at most: a slow monitor must not hold up the next evaluation. */
export const HEARTBEAT_TIMEOUT_MS = 5000;
/** Settings whose queue_growing rules were found without a history store (said once, not every 10 s). */
const warnedNoHistory = new WeakSet<AlertSettings>();

/** How long a claimed delivery attempt is left to its scheduler before another may try it again. */
export function retryAfterMs(settings: Pick<AlertSettings, 'evaluateIntervalMs' | 'timeoutMs'>, retryDelayMs = 1000): number {
  return Math.max(settings.evaluateIntervalMs, 2 * settings.timeoutMs + retryDelayMs + 5000);
}

export async function runAlerts(stores: AlertStores, settings: AlertSettings, log: Logger, options: AlertRunOptions = {}): Promise<AlertRunReport> {
  let report: AlertRunReport;
  try {
    report = await evaluateAndNotify(stores, settings, log, options);
  } catch (error) {
    // Logged here, and not only as the scheduler's failed run, because it means no alert can fire.
    log.error({ error: (error as Error).message }, `alert evaluation failed: no alert can fire or resolve until it succeeds${settings.heartbeatUrl ? '; the heartbeat URL is not pinged, so its monitor will page' : ''}`);
    throw error;
  }
  if (settings.heartbeatUrl && !options.signal?.aborted) {
    const failed = await pingHeartbeat(settings.heartbeatUrl, { timeoutMs: Math.min(settings.timeoutMs, HEARTBEAT_TIMEOUT_MS), signal: options.signal, fetch: options.fetch });
    if (failed) log.warn({ heartbeat: describeWebhook(settings.heartbeatUrl), error: failed }, 'alerts heartbeat ping failed; pinged again after the next evaluation');
  }
  return report;
}

async function evaluateAndNotify(stores: AlertStores, settings: AlertSettings, log: Logger, options: AlertRunOptions): Promise<AlertRunReport> {
  const store = stores.alertState;
  if (!store) throw new Error('no alert state store');
  const now = (options.now ?? Date.now)();
  const failureRules = settings.rules.filter((r) => r.kind === 'failure_rate');
  const longestWindow = Math.max(0, ...failureRules.map((r) => r.windowMs));
  const growingRules = settings.rules.filter((r) => r.kind === 'queue_growing');
  const history = growingRules.length > 0 ? stores.opsHistory : undefined;
  if (growingRules.length > 0 && !history && !warnedNoHistory.has(settings)) {
    warnedNoHistory.add(settings);
    log.warn({ rules: growingRules.map((r) => r.name) }, 'queue_growing rules are not evaluated: this scheduler has no history store');
  }

  // Every input is read before anything changes: a port that cannot answer fails the run,
  // rather than making its alerts look resolved.
  const [nodes, queueStats, jobStates, counters, records] = await Promise.all([
    stores.registry.nodes(),
    settings.rules.some((r) => r.kind === 'queue_age') || history ? stores.queue.stats() : Promise.resolve([]),
    settings.rules.some((r) => r.kind === 'job_failed') && stores.jobLedger ? stores.jobLedger.states() : Promise.resolve([]),
    failureRules.length > 0 ? store.counters(now - longestWindow - COUNTER_SLACK_MS) : Promise.resolve([]),
    store.list(),
  ]);
  const components: ComponentSnapshot[] = nodes.map((n) => ({ id: n.id, name: n.name, host: n.host, ...(n.deploymentHost ? { deploymentHost: n.deploymentHost } : {}), roles: n.roles, lastSeen: n.lastSeen, startedAt: n.startedAt, stats: n.stats }));
  // The nodes the registry still lists, by key (and by bare name, the subjects of alerts from before keys).
  const registered = new Set(components.flatMap((c) => [nodeKey(c), c.name]));
  const queues: QueueSnapshot[] = queueStats.map((q) => ({ queue: q.queue, waiting: q.waiting, oldestEnqueuedAt: q.oldestEnqueuedAt }));
  const jobs: JobSnapshot[] = jobStates.map((j) => ({ job: j.job, failuresInARow: j.failuresInARow, lastError: j.lastRun?.error, lastRunAt: j.lastRun?.finishedAt }));
  const queueHistory = history ? await queueHistoryOf(history, queues, growingRules, now) : [];
  const conditions = new Map<string, Condition>(evaluate({ rules: settings.rules, now, components, queues, jobs, counters, queueHistory, ...(settings.downAfterMs ? { downAfterMs: settings.downAfterMs } : {}) }).map((c) => [c.key, c]));

  if (failureRules.length > 0) {
    // The totals a heartbeat carried, at the heartbeat's time: later rates are differences from them.
    const samples: CounterSample[] = components
      .filter((c) => typeof c.stats.processed === 'number' && typeof c.stats.failed === 'number' && now - c.lastSeen <= longestWindow)
      .map((c) => ({ nodeId: c.id, nodeName: c.name, at: c.lastSeen, processed: Math.round(c.stats.processed), failed: Math.round(c.stats.failed) }));
    await store.recordCounters(samples);
    await store.pruneCounters(now - longestWindow - COUNTER_SLACK_MS);
  }

  // The state machine, one compare-and-set per alert that changes.
  const rules = new Map(settings.rules.map((r) => [r.name, r]));
  const urls = new Map(settings.webhookUrls.map((u) => [targetId(u), u]));
  const current = new Map(records.map((r) => [r.key, r]));
  let transitions = 0;
  for (const key of new Set([...current.keys(), ...conditions.keys()])) {
    const record = current.get(key);
    const condition = conditions.get(key);
    const ruleName = condition?.rule ?? record!.rule;
    const rule = rules.get(ruleName);
    // A node's alert whose node is no longer listed (deleted while down, or vanished) closes without claiming a recovery.
    const subjectGone = !condition && record !== undefined && (rule?.kind === 'node_down' || rule?.kind === 'failure_rate') && !registered.has(record.subject);
    const next = step(record, condition, now, { forMs: rule?.forMs, repeatIntervalMs: settings.repeatIntervalMs, targets: [...urls.keys()], subjectGone });
    if (!next) continue;
    if (await store.put(next)) {
      transitions++;
      current.set(key, next);
      if (next.status !== record?.status) log.info({ alert: key, from: record?.status ?? 'none', to: next.status, message: next.message }, 'alert changed');
    } else {
      // Another scheduler wrote it first: its transition (and notice) stand.
      current.delete(key);
    }
  }

  // The notices owed, new and earlier ones not yet delivered.
  let noticesSent = 0;
  let noticesFailed = 0;
  const retryAfter = retryAfterMs(settings, options.retryDelayMs);
  for (const record of current.values()) {
    if (options.signal?.aborted) break;
    if (!record.notice || !deliveryDue(record, now, retryAfter)) continue;
    const targets = record.notice.targets.filter((t) => urls.has(t));
    if (now - record.notice.at > NOTICE_GIVE_UP_MS || targets.length === 0) {
      if (targets.length > 0) log.error({ alert: record.key, notice: record.notice.kind, attempts: record.notice.attempts, error: record.notice.lastError }, 'alert notice given up: not delivered within a day');
      await store.put(withoutNotice(record, now));
      continue;
    }
    const claimed = claimDelivery(record, now);
    if (!(await store.put(claimed))) continue;
    const notice = noticeOf(record, settings.dashboardUrl);
    const body = webhookBody(notice, settings.format);
    const failed: string[] = [];
    const errors: string[] = [];
    await Promise.all(
      targets.map(async (id) => {
        const url = urls.get(id)!;
        try {
          await postWebhook(url, body, { timeoutMs: settings.timeoutMs, retryDelayMs: options.retryDelayMs, signal: options.signal, fetch: options.fetch });
          noticesSent++;
          log.info({ alert: record.key, notice: record.notice!.kind, webhook: describeWebhook(url) }, 'alert notice sent');
        } catch (error) {
          noticesFailed++;
          failed.push(id);
          errors.push((error as Error).message);
          log.warn({ alert: record.key, notice: record.notice!.kind, error: (error as Error).message }, 'alert notice not delivered; tried again later');
        }
      }),
    );
    await store.put(delivered(claimed, failed, errors[0], (options.now ?? Date.now)()));
  }

  await store.prune(now - RESOLVED_KEPT_MS);
  const statuses = [...current.values()].map((r) => r.status);
  return {
    firing: statuses.filter((s) => s === 'firing').length,
    pending: statuses.filter((s) => s === 'pending').length,
    transitions,
    noticesSent,
    noticesFailed,
  };
}

/** The queues' recent minute points (the web nodes record them), as far back as the longest queue_growing rule needs. */
async function queueHistoryOf(history: OpsHistoryStore, queues: readonly QueueSnapshot[], rules: readonly AlertRule[], now: number): Promise<QueueHistory[]> {
  const watched = queues.map((q) => q.queue).filter((q) => rules.some((r) => !r.queues || r.queues.includes(q)));
  if (watched.length === 0) return [];
  // Two minutes more than the longest rule: the minute being recorded, and the point the growth is from.
  const minutes = Math.max(...rules.map((r) => r.threshold)) + 2;
  const answer = await history.query({ components: watched.map(queueComponent), metrics: ['waiting'], from: now - minutes * MINUTE_MS, to: now, resolution: 'minute', now });
  return watched.map((queue) => ({
    queue,
    points: answer.points.filter((p) => p.component === queueComponent(queue) && typeof p.metrics.waiting === 'number').map((p) => ({ at: p.at, waiting: p.metrics.waiting })),
  }));
}

function noticeOf(record: AlertRecord, dashboardUrl: string | undefined): AlertNotice {
  const kind = record.notice!.kind;
  return {
    status: kind === 'resolved' ? 'resolved' : 'firing',
    ...(kind === 'repeat' ? { repeat: true } : {}),
    ...(kind === 'resolved' ? { reason: closeReason(record) } : {}),
    alert: record.key,
    rule: record.rule,
    severity: record.severity,
    subject: record.subject,
    message: record.message,
    since: record.since,
    at: record.notice!.at,
    ...(dashboardUrl ? { dashboardUrl } : {}),
  };
}

export function summary(report: AlertRunReport, rules: number): string {
  const notices = report.noticesSent + report.noticesFailed > 0 ? `; sent ${report.noticesSent} notices${report.noticesFailed > 0 ? `, ${report.noticesFailed} failed` : ''}` : '';
  return `${rules} rules: ${report.firing} firing, ${report.pending} pending, ${report.transitions} changes${notices}`;
}
