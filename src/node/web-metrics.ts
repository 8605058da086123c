import type { FastifyPluginCallback } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { WindowQuantiles, type WindowSummary } from '../common/window-quantiles.js';

/**
 * Every HTTP answer of the node, counted by method and status class, and its latency:
 * at `/metrics` (`mayday_http_requests_total{method,status_class}`,
 * `mayday_http_request_duration_seconds`) and, over the last heartbeat interval, in the
 * node's heartbeat. No URL is a label: a client chooses URLs, and each label value is a
 * series Prometheus keeps.
 */

/** Methods with a label of their own; any other is `other` (Node's parser accepts a few dozen). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'other'] as const;
const OTHER_METHOD = METHODS.length - 1;
const METHOD_INDEX: Readonly<Record<string, number>> = Object.assign(
  Object.create(null) as Record<string, number>,
  Object.fromEntries(METHODS.slice(0, OTHER_METHOD).map((method, i) => [method, i])),
);
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class WebMetrics {
  /** Running totals since start, for the heartbeat's rates. */
  readonly totals = { requests: 0, server_errors: 0 };
  private readonly latencyMs = new WindowQuantiles();
  /** Answers by method and status class; the counter at `/metrics` catches up when scraped. */
  private readonly cells = new Float64Array(METHODS.length * STATUS_CLASSES.length);
  private readonly exported = new Float64Array(METHODS.length * STATUS_CLASSES.length);
  private readonly duration: Histogram;

  constructor(registry: Registry) {
    const { cells, exported } = this;
    const labels = METHODS.flatMap((method) => STATUS_CLASSES.map((status_class) => ({ method, status_class })));
    new Counter({
      name: 'mayday_http_requests_total',
      help: 'HTTP requests answered, by method (other: an unusual one) and status class (1xx to 5xx).',
      labelNames: ['method', 'status_class'],
      registers: [registry],
      // Counted in a plain array per request (no label object to hash); added here on scrape.
      collect() {
        for (let i = 0; i < cells.length; i++) {
          if (cells[i] === exported[i]) continue;
          this.inc(labels[i], cells[i] - exported[i]);
          exported[i] = cells[i];
        }
      },
    });
    this.duration = new Histogram({
      name: 'mayday_http_request_duration_seconds',
      help: 'Time from a request being routed to its answer sent, request body included.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    });
  }

  /** One answer: `status` its code, `ms` how long it took. */
  record(method: string, status: number, ms: number): void {
    const statusClass = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 4;
    this.cells[(METHOD_INDEX[method] ?? OTHER_METHOD) * STATUS_CLASSES.length + statusClass]++;
    this.totals.requests++;
    if (statusClass === 4) this.totals.server_errors++;
    this.latencyMs.record(ms);
    this.duration.observe(ms / 1000);
  }

  /** Latency of the answers since the last read, in ms. */
  readLatency(): WindowSummary {
    return this.latencyMs.read();
  }
}

/**
 * Records every answer of the app into `metrics`. Not encapsulated, so that it sees the
 * routes of every role plugin and the not-found handler; registered before them.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** A long-lived answer (Server-Sent Events), left out of request counts and latencies. */
    eventStream?: boolean;
  }
}

const plugin: FastifyPluginCallback<{ metrics: WebMetrics }> = (app, { metrics }, done) => {
  // A callback hook: an async one would allocate a promise per request.
  app.addHook('onResponse', (request, reply, hookDone) => {
    // An event stream lasts as long as its watcher: its "latency" would drown the others'.
    if (request.routeOptions.config?.eventStream) return hookDone();
    metrics.record(request.method, reply.statusCode, reply.elapsedTime);
    hookDone();
  });
  done();
};
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const webMetricsPlugin = plugin;
