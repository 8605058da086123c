/**
 * The Operations Dashboard's JSON: `/api/ops/components` (every registered node with its
 * status and figures), `/api/ops/queues`, `/api/ops/overview` (both, with the problems an
 * operator should see first), `/api/ops/stream` (the overview as Server-Sent Events, for
 * the live page), and `DELETE /api/ops/components/:id` (an operator removes a node that is
 * gone for good; a down node otherwise stays listed). Reading needs `view_ops` (a monitoring
 * token; `admin` implies it) once the deployment has accounts; removing a node needs `admin`.
 *
 * One poller per web node reads the registry and the queue while someone watches the
 * stream, however many watch: the database sees one query set per period, not one per tab.
 */

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { withAccess, type AccountsProbe } from '../../auth/route-access.js';
import type { AlertRecord, AlertStateStore } from '../../ports/alert-state.js';
import type { NodeRegistry } from '../../ports/node-registry.js';
import { MINUTE_MS, type OpsHistoryStore } from '../../ports/ops-history.js';
import { historyPointsFrom } from './ops-history-recorder.js';
import { growingMinutes, queueComponent } from '../../ports/ops-history.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import { runningTopology } from './ops-topology.js';
import type { DeploymentGraph } from '../../configurator/deployment.js';
import type { JobLedger } from '../../ports/job-ledger.js';
import { nameOfKey, resolveNodeRef } from '../../common/node-identity.js';
import { queueRates } from '../../common/queue-figures.js';
import { componentsView, dependenciesView, failureCountsOf, problemSettings, problemsOf, queuesView, type ComponentView, type DependencyView, type FailureCounts, type JobView, type OpsThresholds, type Problem, type QueueView } from './ops-model.js';

export interface OpsApiOptions {
  registry: NodeRegistry;
  queue: ProcessingQueue;
  thresholds: OpsThresholds;
  /** The `[dashboard]` options that make problems of figures (see `problemSettings`). */
  dashboard: Parameters<typeof problemSettings>[0];
  /** How often the stream sends a new overview. */
  streamIntervalMs: number;
  accountsExist: AccountsProbe;
  /** The history of figures: this node records a point per component every minute (each web node may; the first one's point stands), and rolls it up. */
  history?: OpsHistoryStore;
  /** The scheduler's jobs: shown, and a failing one is a problem. */
  jobs?: JobLedger;
  /** The alerts the scheduler evaluates ([alerts.rules.NAME]): the firing and pending ones are shown. */
  alerts?: AlertStateStore;
}

/** The widest range one history query may ask for: the ten-minute points' retention. */
const HISTORY_RANGE_MS = 8 * 86_400_000;

export interface OpsOverview {
  at: number;
  components: ComponentView[];
  queues: QueueView[];
  problems: Problem[];
  /** The running deployment's graph (the Configurator's), from the nodes that report their configuration. */
  topology: DeploymentGraph;
  /** Firing alerts, then pending ones (their condition holds, `for` not yet over), without their delivery bookkeeping. */
  alerts: Pick<AlertRecord, 'key' | 'rule' | 'subject' | 'severity' | 'status' | 'message' | 'since' | 'firedAt'>[];
  /** The database, queue and storages, as the running nodes' probes found them. */
  dependencies: DependencyView[];
  jobs: JobView[];
  /** Crashes the processors gave up on, in every queue. */
  deadLetters: number;
  /** Crashes per second along the topology's edges, by edge id (see `edgeRates`). */
  edgeRates: Record<string, number>;
}

/** Each queue's rates (from the nodes' heartbeats) and dead letters (from the queue) on its row. */
function withQueueFigures(queues: QueueView[], components: readonly ComponentView[], dead: Readonly<Record<string, number>>): QueueView[] {
  for (const q of queues) {
    Object.assign(q, queueRates(components, q.queue));
    q.deadLetters = dead[q.queue] ?? 0;
  }
  return queues;
}

export const opsApiPlugin: FastifyPluginAsync<OpsApiOptions> = async (app, options) => {
  const access = withAccess({ permission: 'view_ops', onceAccountsExist: options.accountsExist });
  const removal = withAccess({ permission: 'admin', onceAccountsExist: options.accountsExist });
  const streamAccess = withAccess({ permission: 'view_ops', onceAccountsExist: options.accountsExist }, { config: { eventStream: true } });
  const settings = problemSettings(options.dashboard);

  const overview = async (): Promise<OpsOverview> => {
    const now = Date.now();
    const [nodes, stats, records, jobStates, dead] = await Promise.all([
      options.registry.nodes(),
      options.queue.stats(),
      options.alerts?.list() ?? [],
      options.jobs?.states() ?? [],
      options.queue.deadLetterCounts(),
    ]);
    const alerts = records
      .filter((r) => r.status === 'firing' || r.status === 'pending')
      .sort((a, b) => (a.status === b.status ? a.since - b.since : a.status === 'firing' ? -1 : 1))
      .map(({ key, rule, subject, severity, status, message, since, firedAt }) => ({ key, rule, subject, severity, status, message, since, ...(firedAt ? { firedAt } : {}) }));
    const components = componentsView(nodes, now, options.thresholds);
    const queues = withQueueFigures(queuesView(stats, now), components, dead);
    const failures = new Map<string, FailureCounts>();
    if (options.history) {
      // A queue that grew at every minute point of the last minutes is a problem before it is old.
      const trend = await options.history.query({ components: queues.map((q) => queueComponent(q.queue)), metrics: ['waiting'], from: now - (settings.queueGrowingMinutes + 2) * MINUTE_MS, to: now, resolution: 'minute', now });
      for (const q of queues) {
        const points = trend.points.filter((p) => p.component === queueComponent(q.queue)).map((p) => ({ at: p.at, waiting: p.metrics.waiting ?? 0 }));
        const minutes = growingMinutes(points);
        if (minutes >= settings.queueGrowingMinutes) q.growingFor = minutes;
      }
      // A processor's failed share over the window, from its totals now and in the history (one heartbeat is too few crashes to judge).
      const processors = components.filter((c) => c.status !== 'down' && c.stats.processed !== undefined && c.stats.failed !== undefined);
      if (processors.length > 0) {
        const windowStart = now - settings.failingWindowMs;
        const past = await options.history.query({ components: processors.map((c) => c.key), metrics: ['processed', 'failed'], from: windowStart, to: now, resolution: 'minute', now });
        for (const c of processors) {
          const points = past.points.filter((p) => p.component === c.key).map((p) => ({ at: p.at, processed: p.metrics.processed, failed: p.metrics.failed }));
          const counts = failureCountsOf(c, points, windowStart);
          if (counts) failures.set(c.key, counts);
        }
      }
    }
    const jobs: JobView[] = jobStates.map((s) => ({
      job: s.job,
      lastRunAt: s.lastRun?.finishedAt ?? null,
      lastOutcome: s.lastRun?.outcome ?? null,
      lastError: s.lastRun?.error ?? null,
      failuresInARow: s.failuresInARow,
      nextRunAt: s.nextRunAt ?? null,
      running: s.runningBy !== undefined,
    }));
    const dependencies = dependenciesView(components);
    const reports = new Map(nodes.map((n) => [n.id, n]));
    // Keyed by name@host (ops-topology.ts): namesakes on two hosts are two boxes.
    const { topology, edgeRates } = runningTopology(components, (c) => reports.get(c.id)?.config);
    return { at: now, components, queues, problems: problemsOf(components, queues, settings, { dependencies, jobs, failures, now }), topology, alerts, dependencies, jobs, deadLetters: Object.values(dead).reduce((sum, n) => sum + n, 0), edgeRates };
  };

  // The table alone: the registry, not the whole overview (queues, history, alerts, topology).
  app.get('/api/ops/components', access, async () => {
    const at = Date.now();
    return { at, thresholds: options.thresholds, components: componentsView(await options.registry.nodes(), at, options.thresholds) };
  });

  app.get('/api/ops/queues', access, async () => {
    const now = Date.now();
    const [nodes, stats, dead] = await Promise.all([options.registry.nodes(), options.queue.stats(), options.queue.deadLetterCounts()]);
    return { at: now, queues: withQueueFigures(queuesView(stats, now), componentsView(nodes, now, options.thresholds), dead) };
  });

  app.get('/api/ops/overview', access, async () => overview());

  const history = options.history;
  if (history) {
    const record = async (): Promise<void> => {
      const now = Date.now();
      const [nodes, stats] = await Promise.all([options.registry.nodes(), options.queue.stats()]);
      await history.record(historyPointsFrom(nodes, stats, now, { maxSilenceMs: options.thresholds.downAfterMs }));
      await history.rollup(now);
    };
    let recorder: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      recorder = setInterval(() => void record().catch((error: unknown) => app.log.warn({ err: error }, 'recording the Dashboard history failed')), MINUTE_MS);
      recorder.unref();
    });
    app.addHook('onClose', async () => clearInterval(recorder));
  }

  app.get<{ Querystring: { component?: string | string[]; from?: string; to?: string; metric?: string | string[] } }>('/api/ops/history', access, async (request, reply) => {
    if (!history) return reply.code(404).send({ error: 'this node keeps no history' });
    const { component, from, to, metric } = request.query;
    if (typeof component !== 'string' || component === '') return reply.code(400).send({ error: 'give one component (a node as NAME@HOST, or queue:NAME)' });
    const now = Date.now();
    const end = to === undefined ? now : Number(to);
    const start = from === undefined ? end - 86_400_000 : Number(from);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end) return reply.code(400).send({ error: 'from and to are ms since the epoch, from before to' });
    if (end - start > HISTORY_RANGE_MS) return reply.code(400).send({ error: 'the history covers 8 days at most: narrow from and to' });
    const metrics = metric === undefined ? undefined : [metric].flat();
    if (metrics?.some((m) => !/^[A-Za-z0-9_.:-]{1,100}$/.test(m))) return reply.code(400).send({ error: 'metric names are letters, digits, "_", ".", ":" and "-"' });
    if (component.startsWith('queue:')) return history.query({ components: [component], from: start, to: end, resolution: 'auto', now, ...(metrics ? { metrics } : {}) });
    const resolved = await historyComponents(component);
    if ('ambiguous' in resolved) return reply.code(400).send({ error: `several nodes are named ${component}: give one of ${resolved.ambiguous.join(', ')}` });
    const answer = await history.query({ components: resolved.components, from: start, to: end, resolution: 'auto', now, ...(metrics ? { metrics } : {}) });
    // Points recorded under the bare name (before nodes were keyed by host) are this node's too.
    return { ...answer, points: answer.points.map((p) => (p.component === resolved.key ? p : { ...p, component: resolved.key })) };
  });

  /**
   * The history components of a node reference: its key, and its bare name when no other
   * registered node has that name (points recorded by earlier versions, keyed by name).
   * A bare name is accepted when one registered node has it (links from earlier versions).
   */
  const historyComponents = async (ref: string): Promise<{ key: string; components: string[] } | { ambiguous: readonly string[] }> => {
    const keys = componentsView(await options.registry.nodes(), Date.now(), options.thresholds).map((c) => c.key);
    const match = resolveNodeRef(ref, keys);
    if (match && 'ambiguous' in match) return match;
    const key = match?.key ?? ref;
    const name = nameOfKey(key);
    const namesakes = keys.filter((k) => nameOfKey(k) === name).length;
    return { key, components: namesakes <= 1 && key !== name ? [key, name] : [key] };
  };

  app.delete<{ Params: { id: string } }>('/api/ops/components/:id', removal, async (request, reply) => {
    const known = (await options.registry.nodes()).some((n) => n.id === request.params.id);
    if (!known) return reply.code(404).send({ error: `no registered node ${request.params.id}` });
    await options.registry.forget(request.params.id);
    return reply.code(204).send();
  });

  // The live stream: one timer for every watcher, stopped when the last one leaves.
  const watchers = new Set<FastifyReply>();
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const tick = async (): Promise<void> => {
    try {
      last = `event: overview\ndata: ${JSON.stringify(await overview())}\n\n`;
    } catch (error) {
      app.log.warn({ err: error }, 'the Dashboard overview failed');
      last = `event: failure\ndata: ${JSON.stringify({ at: Date.now(), error: (error as Error).message })}\n\n`;
    }
    for (const reply of watchers) reply.raw.write(last);
  };
  const unwatch = (reply: FastifyReply): void => {
    watchers.delete(reply);
    if (watchers.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  app.addHook('onClose', async () => {
    clearInterval(timer);
    for (const reply of watchers) reply.raw.end();
    watchers.clear();
  });

  app.get('/api/ops/stream', streamAccess, async (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      // The headers hooks set so far (security headers): hijacking skips Fastify's sending.
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // A reverse proxy must pass events as they come.
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: ${options.streamIntervalMs}\n\n`);
    watchers.add(reply);
    request.raw.on('close', () => unwatch(reply));
    if (last !== '' && timer) reply.raw.write(last);
    else await tick();
    timer ??= setInterval(() => void tick(), options.streamIntervalMs);
  });
};
