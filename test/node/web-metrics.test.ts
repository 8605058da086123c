import { afterAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { WebMetrics, webMetricsPlugin } from '../../src/node/web-metrics.js';

const app = Fastify();
afterAll(() => app.close());

describe('web metrics', () => {
  it('counts every answer by method and status class, with its latency, and no URL as a label', async () => {
    const registry = new Registry();
    const metrics = new WebMetrics(registry);
    await app.register(webMetricsPlugin, { metrics });
    // Registered after the plugin, in a plugin of their own: the hook still sees them.
    await app.register(async (scoped) => {
      scoped.get('/ok/:id', async () => ({ ok: true }));
      scoped.get('/broken', async () => {
        throw new Error('boom');
      });
      scoped.post('/slow', async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return 'done';
      });
    });
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: `/ok/${i}` })).statusCode).toBe(200);
    expect((await app.inject({ url: '/broken' })).statusCode).toBe(500);
    expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/slow' })).statusCode).toBe(200);

    expect(metrics.totals).toEqual({ requests: 8, server_errors: 1 });
    const latency = metrics.readLatency();
    expect(latency.count).toBe(8);
    expect(latency.max).toBeGreaterThanOrEqual(55);
    expect(latency.p50).toBeLessThan(latency.max);
    expect(metrics.readLatency().count).toBe(0);

    const text = await registry.metrics();
    expect(text).toMatch(/^mayday_http_requests_total\{method="GET",status_class="2xx"\} 5$/m);
    expect(text).toMatch(/^mayday_http_requests_total\{method="GET",status_class="5xx"\} 1$/m);
    expect(text).toMatch(/^mayday_http_requests_total\{method="GET",status_class="4xx"\} 1$/m);
    expect(text).toMatch(/^mayday_http_requests_total\{method="POST",status_class="2xx"\} 1$/m);
    expect(text).toMatch(/^mayday_http_request_duration_seconds_count 8$/m);
    expect(text).toMatch(/^mayday_http_request_duration_seconds_bucket\{le="\+Inf"\} 8$/m);
    // The slow answer (60 ms) is above the 50 ms bucket.
    expect(Number(/^mayday_http_request_duration_seconds_bucket\{le="0.05"\} (\d+)$/m.exec(text)?.[1])).toBeLessThanOrEqual(7);
    expect(text).not.toMatch(/\/ok\//);

    // A second scrape adds only what came since (the counter catches up, it does not double).
    await app.inject({ url: '/ok/9' });
    const again = await registry.metrics();
    expect(again).toMatch(/^mayday_http_requests_total\{method="GET",status_class="2xx"\} 6$/m);
  });

  it('counts an unusual method as other and a code out of range as a server error', () => {
    const metrics = new WebMetrics(new Registry());
    metrics.record('PROPFIND', 207, 1);
    metrics.record('GET', 999, 1);
    expect(metrics.totals).toEqual({ requests: 2, server_errors: 1 });
  });
});
