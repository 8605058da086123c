/**
 * The Operations Dashboard's JSON: `/api/ops/components` (every registered node with its
 * status and figures), `/api/ops/queues`, `/api/ops/overview` (both, with the problems an
 * operator should see first), `/api/ops/stream` (the overview as Server-Sent Events, for
 * the live page), and `DELETE /api/ops/components/:id` (an operator removes a node that is
 * gone for good; a down node otherwise stays listed).
 *
 * One poller per web node reads the registry and the queue while someone watches the
 * stream, however many watch: the database sees one query set per period, not one per tab.
 */

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { withAccess, type AccountsProbe } from '../../auth/route-access.js';
import type { AlertRecord, AlertStateStore } from '../../ports/alert-state.js';
import type { NodeRegistry } from '../../ports/node-registry.js';
import { MINUTE_MS, type OpsHistoryStore } from '../../ports/ops-history.js';
import { historyPointsFrom, queueComponent } from './ops-history-recorder.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import { runningGraph } from '../../configurator/running.js';
import type { DeploymentGraph } from '../../configurator/deployment.js';
import type { JobLedger } from '../../ports/job-ledger.js';
import { QUEUE_TREND_MINUTES, componentsView, dependenciesView, edgeRates, growingMinutes, problemsOf, queuesView, type ComponentView, type DependencyView, type JobView, type OpsThresholds, type Problem, type QueueView } from './ops-model.js';

export interface OpsApiOptions {
  registry: NodeRegistry;
  queue: ProcessingQueue;
  thresholds: OpsThresholds;
  /** The oldest waiting crash older than this is a problem. */
  queueAgeWarningSeconds: number;
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
  /** Crashes the processors gave up on (counted up to DEAD_LETTERS_COUNTED). */
  deadLetters: number;
  /** Crashes per second along the topology's edges, by edge id (see `edgeRates`). */
  edgeRates: Record<string, number>;
}

/** Dead letters are counted up to this many (the list is read to count them). */
const DEAD_LETTERS_COUNTED = 1000;

export const opsApiPlugin: FastifyPluginAsync<OpsApiOptions> = async (app, options) => {
  const access = withAccess({ permission: 'admin', onceAccountsExist: options.accountsExist });
  const streamAccess = withAccess({ permission: 'admin', onceAccountsExist: options.accountsExist }, { config: { eventStream: true } });

  const overview = async (): Promise<OpsOverview> => {
    const now = Date.now();
    const [nodes, stats, records, jobStates, dead] = await Promise.all([
      options.registry.nodes(),
      options.queue.stats(),
      options.alerts?.list() ?? [],
      options.jobs?.states() ?? [],
      options.queue.deadLetters(DEAD_LETTERS_COUNTED),
    ]);
    const alerts = records
      .filter((r) => r.status === 'firing' || r.status === 'pending')
      .sort((a, b) => (a.status === b.status ? a.since - b.since : a.status === 'firing' ? -1 : 1))
      .map(({ key, rule, subject, severity, status, message, since, firedAt }) => ({ key, rule, subject, severity, status, message, since, ...(firedAt ? { firedAt } : {}) }));
    const components = componentsView(nodes, now, options.thresholds);
    const queues = queuesView(stats, now);
    if (options.history) {
      // A queue that grew at every minute point of the last minutes is a problem before it is old.
      const trend = await options.history.query({ components: queues.map((q) => queueComponent(q.queue)), metrics: ['waiting'], from: now - (QUEUE_TREND_MINUTES + 2) * MINUTE_MS, to: now, resolution: 'minute', now });
      for (const q of queues) {
        const points = trend.points.filter((p) => p.component === queueComponent(q.queue)).map((p) => ({ at: p.at, waiting: p.metrics.waiting ?? 0 }));
        q.growingFor = growingMinutes(points);
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
    const topology = runningGraph(
      components.flatMap((c) => {
        const config = reports.get(c.id)?.config;
        return config ? [{ name: c.name, host: c.host, roles: c.roles, config }] : [];
      }),
    );
    // Where each node really listens (a configured port 0 is chosen at start), from its URL.
    const urls = new Map(components.map((c) => [`node:${c.name}`, c.url]));
    for (const node of topology.nodes) {
      const url = urls.get(node.id);
      if (url) node.listen = new URL(url).host;
    }
    return { at: now, components, queues, problems: problemsOf(components, queues, { queueAgeWarningSeconds: options.queueAgeWarningSeconds }, { dependencies, jobs }), topology, alerts, dependencies, jobs, deadLetters: dead.length, edgeRates: edgeRates(topology.edges, components) };
  };

  // The table alone: the registry, not the whole overview (queues, history, alerts, topology).
  app.get('/api/ops/components', access, async () => {
    const at = Date.now();
    return { at, thresholds: options.thresholds, components: componentsView(await options.registry.nodes(), at, options.thresholds) };
  });

  app.get('/api/ops/queues', access, async () => {
    const now = Date.now();
    return { at: now, queues: queuesView(await options.queue.stats(), now) };
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
    if (typeof component !== 'string' || component === '') return reply.code(400).send({ error: 'give one component (a node name, or queue:NAME)' });
    const now = Date.now();
    const end = to === undefined ? now : Number(to);
    const start = from === undefined ? end - 86_400_000 : Number(from);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end) return reply.code(400).send({ error: 'from and to are ms since the epoch, from before to' });
    if (end - start > HISTORY_RANGE_MS) return reply.code(400).send({ error: 'the history covers 8 days at most: narrow from and to' });
    const metrics = metric === undefined ? undefined : [metric].flat();
    if (metrics?.some((m) => !/^[A-Za-z0-9_.:-]{1,100}$/.test(m))) return reply.code(400).send({ error: 'metric names are letters, digits, "_", ".", ":" and "-"' });
    return history.query({ components: [component], from: start, to: end, resolution: 'auto', now, ...(metrics ? { metrics } : {}) });
  });

  app.delete<{ Params: { id: string } }>('/api/ops/components/:id', access, async (request, reply) => {
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
