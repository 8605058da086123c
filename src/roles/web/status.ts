import type { FastifyPluginAsync } from 'fastify';
import type { NodeRegistry } from '../../ports/node-registry.js';
import type { ProcessingQueue } from '../../ports/queue.js';
import type { CrashIndex } from '../../ports/crash-index.js';
import { versionInfo } from '../../common/version.js';
import { buildStatus, nextSample, type StatusDocument } from './status-model.js';
import { html } from './html.js';
import { page } from './layout.js';
import { color, timeChart } from './charts.js';
import { withAccess } from '../../auth/route-access.js';

export interface StatusOptions {
  queue: ProcessingQueue;
  crashIndex: CrashIndex;
  registry: NodeRegistry;
  /** How often a history point is recorded. */
  sampleIntervalMs: number;
  /** A node not seen for this long is taken for gone. */
  nodeTimeoutMs: number;
}

const HISTORY_MS = 24 * 3_600_000;

/** Socorro's `/status` page and `/status/json`, with a history sampled by this node. */
export const statusPlugin: FastifyPluginAsync<StatusOptions> = async (app, options) => {
  const { queue, crashIndex, registry } = options;
  const sample = async (): Promise<void> => {
    // Rounded so that several web nodes sampling at once record one point.
    const at = Math.floor(Date.now() / options.sampleIntervalMs) * options.sampleIntervalMs;
    const previous = await registry.lastSample();
    if (previous && previous.at >= at) return;
    await registry.recordSample(nextSample(at, await queue.stats(), await registry.nodes(options.nodeTimeoutMs), previous));
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await sample();
    timer = setInterval(() => void sample().catch((error: unknown) => app.log.warn({ err: error }, 'status sample failed')), options.sampleIntervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));

  const status = async (): Promise<StatusDocument> =>
    buildStatus({
      now: Date.now(),
      version: versionInfo().version,
      schemaVersions: { crash_index: await crashIndex.schemaVersion() },
      queues: await queue.stats(),
      nodes: await registry.nodes(options.nodeTimeoutMs),
      history: await registry.samples(Date.now() - HISTORY_MS),
    });

  // The history's per-node totals are bookkeeping, not status.
  app.get('/status/json', withAccess('public'), async () => {
    const s = await status();
    return { ...s, history: s.history.map(({ totals: _totals, ...point }) => point) };
  });

  app.get('/status', withAccess('public'), async (_request, reply) => {
    const s = await status();
    const card = (label: string, value: string | number | null, id: string) =>
      html`<div class="card stat" id="${id}"><div class="muted">${label}</div><div class="big">${value ?? '—'}</div></div>`;
    const seconds = (v: number | null) => (v === null ? null : v < 10 ? `${v.toFixed(2)} s` : `${Math.round(v)} s`);
    const waitingSeries = s.queues.map((q, i) => ({ name: `${q.queue} waiting`, color: color(i), points: s.history.map((h) => ({ x: h.at, y: h.waiting[q.queue] ?? 0 })) }));
    const body = html`<h1>Processing status</h1>
      <div class="stats">
        ${card('Waiting crashes', s.waiting_total, 'waiting-total')}
        ${card('Processors working', s.processors_working, 'processors-working')}
        ${card('Mean time in queue', seconds(s.mean_time_in_queue_seconds), 'mean-queue')}
        ${card('Mean time to process', seconds(s.mean_time_to_process_seconds), 'mean-process')}
      </div>
      <h2>Queues</h2>
      <table id="queues"><thead><tr><th>Queue</th><th>Waiting</th><th>Being processed</th><th>Oldest waiting since</th></tr></thead><tbody>
        ${s.queues.map((q) => html`<tr><td>${q.queue}</td><td>${q.waiting}</td><td>${q.in_flight}</td><td>${q.oldest_enqueued_at ? html`${q.oldest_enqueued_at.replace('T', ' ').slice(0, 19)} <span class="muted">(${q.oldest_age_seconds} s ago)</span>` : html`<span class="muted">—</span>`}</td></tr>`)}
      </tbody></table>
      <div class="charts">
        <div class="card"><h2>Waiting crashes</h2>${timeChart(waitingSeries, { id: 'chart-waiting' })}</div>
        <div class="card"><h2>Crashes processed per interval</h2>${timeChart([{ name: 'processed', color: color(2), points: s.history.map((h) => ({ x: h.at, y: h.processed })) }], { id: 'chart-processed' })}</div>
        <div class="card"><h2>Mean time to process (s)</h2>${timeChart([{ name: 'seconds', color: color(3), points: s.history.filter((h) => h.meanTimeToProcess !== null).map((h) => ({ x: h.at, y: h.meanTimeToProcess! })) }], { id: 'chart-ttp' })}</div>
      </div>
      <h2>Processors</h2>
      ${
        s.processors.length === 0
          ? html`<div class="card empty">No processor has reported in the last ${Math.round(options.nodeTimeoutMs / 1000)} seconds.</div>`
          : html`<table id="processors"><thead><tr><th>Processor</th><th>Started</th><th>Last seen</th><th>Processed</th><th>Failed</th><th>In flight</th><th>Memory</th></tr></thead><tbody>
            ${s.processors.map((p) => html`<tr><td class="mono">${p.id}</td><td>${p.started_at.replace('T', ' ').slice(0, 19)}</td><td>${p.last_seen.replace('T', ' ').slice(0, 19)}</td><td>${p.processed}</td><td>${p.failed}</td><td>${p.in_flight}</td><td>${Math.round(p.rss_bytes / 2 ** 20)} MB</td></tr>`)}
          </tbody></table>`
      }
      <h2>Versions</h2>
      <div class="card"><table class="kv" id="versions">
        <tr><th>Mayday</th><td>${s.mayday_version}</td></tr>
        ${Object.entries(s.schema_versions).map(([k, v]) => html`<tr><th>${k} schema</th><td>${v}</td></tr>`)}
        <tr><th>Most recently completed</th><td>${s.most_recently_completed ? html`<a class="mono" href="/report/index/${s.most_recently_completed.crash_id}">${s.most_recently_completed.crash_id}</a> at ${s.most_recently_completed.at.replace('T', ' ').slice(0, 19)}` : '—'}</td></tr>
      </table></div>
      <p class="muted">Machine-readable: <a href="/status/json">/status/json</a>. This page refreshes every 30 seconds.</p>`;
    return reply.type('text/html; charset=utf-8').send(page('Status', body, { refreshSeconds: 30 }));
  });
};
