import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Heartbeat } from '../../src/node/heartbeat.js';
import { RateTracker, ratesPerSecond } from '../../src/node/rates.js';
import { reasonKey } from '../../src/node/component-stats.js';
import { CollectorMetrics } from '../../src/roles/collector/metrics.js';
import { ProcessorMetrics } from '../../src/roles/processor/metrics.js';
import type { ProcessorWorker } from '../../src/roles/processor/worker.js';
import { WebMetrics } from '../../src/node/web-metrics.js';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('rates', () => {
  it('is the difference over the elapsed time, in per second', () => {
    expect(ratesPerSecond({ a: 10, b: 0 }, { a: 30, b: 5 }, 2000)).toEqual({ a: 10, b: 2.5 });
  });

  it('is 0 on a first report, for a new total, and when no time passed', () => {
    expect(ratesPerSecond(undefined, { a: 30 }, 1000)).toEqual({ a: 0 });
    expect(ratesPerSecond({}, { a: 30 }, 1000)).toEqual({ a: 0 });
    expect(ratesPerSecond({ a: 1 }, { a: 30 }, 0)).toEqual({ a: 0 });
  });

  it('counts a total that went down (restarted) from 0', () => {
    expect(ratesPerSecond({ a: 100 }, { a: 4 }, 1000)).toEqual({ a: 4 });
  });

  it('tracks the previous totals from one call to the next', () => {
    const tracker = new RateTracker();
    expect(tracker.next({ a: 5 }, 1000)).toEqual({ a: 0 });
    expect(tracker.next({ a: 15 }, 6000)).toEqual({ a: 2 });
    expect(tracker.next({ a: 15 }, 16_000)).toEqual({ a: 0 });
  });
});

describe('component stats', () => {
  it('makes a safe stat name of a rejection reason', () => {
    expect(reasonKey('unsupported_product')).toBe('unsupported_product');
    expect(reasonKey('Nightly Firefox!')).toBe('nightly_firefox_');
    expect(reasonKey('')).toBe('unnamed');
    expect(reasonKey('x'.repeat(100))).toHaveLength(48);
  });

  it('counts at most 20 rejection reasons apart, the rest as other', () => {
    const metrics = new CollectorMetrics(new Registry());
    for (let i = 0; i < 30; i++) metrics.outcome('reject', `rule_${i}`);
    metrics.refused('too_busy');
    metrics.outcome('reject', 'rule_3');
    expect(metrics.rejectedByReason.size).toBe(21);
    expect(metrics.rejectedByReason.get('rule_3')).toBe(2);
    expect(metrics.rejectedByReason.get('other')).toBe(11);
  });

  it('keeps processing and stackwalk times for the heartbeat beside the Prometheus histograms', async () => {
    const registry = new Registry();
    const metrics = new ProcessorMetrics(registry);
    metrics.processingSeconds.observe({ queue: 'standard' }, 0.5);
    metrics.ruleSeconds.observe({ rule: 'stackwalk' }, 0.25);
    metrics.ruleSeconds.observe({ rule: 'signature' }, 9);
    expect(metrics.windows.processingMs.read()).toMatchObject({ count: 1, p50: 500 });
    expect(metrics.windows.stackwalkMs.read()).toMatchObject({ count: 1, p50: 250 });
    const text = await registry.metrics();
    expect(text).toMatch(/^mayday_processor_processing_seconds_count\{queue="standard"\} 1$/m);
    expect(text).toMatch(/^mayday_processor_rule_seconds_count\{rule="signature"\} 1$/m);
  });
});

describe('heartbeat stats', () => {
  it('reports rates, latencies and ratios over the interval since the last report', async () => {
    const prometheus = new Registry();
    const registry = SqliteNodeRegistry.open(':memory:');
    const collector = new CollectorMetrics(prometheus);
    const processor = new ProcessorMetrics(prometheus);
    const web = new WebMetrics(prometheus);
    const cache = { stats: { hits: 0, misses: 0, evictions: 0, loadErrors: 0, expired: 0, entries: 0, bytes: 0 } };
    const worker = {
      counts: { processed: 0, failed: 0, retried: 0, deadLettered: 0 },
      sums: { submissionToProcessedSeconds: 0, firstProcessed: 0, queueWaitSeconds: 0, taken: 0 },
      inFlight: new Map([['a', 1]]),
      lastCompleted: undefined,
    } as unknown as ProcessorWorker; // the heartbeat reads these four fields only
    const heartbeat = new Heartbeat({
      registry,
      name: 'all-1',
      roles: ['collector', 'processor', 'web'],
      url: 'http://x',
      intervalMs: 60_000,
      worker,
      collector,
      processor,
      symbolCache: cache,
      web,
      prometheus,
      log: pino({ level: 'silent' }),
    });
    const first = heartbeat.report().stats;
    expect(first).toMatchObject({ collector_accepted_per_second: 0, processed_per_second: 0, web_requests_per_second: 0, web_5xx_ratio: 0, in_flight: 1 });

    for (let i = 0; i < 4; i++) collector.outcome('accept', 'accept_everything');
    collector.outcome('reject', 'unsupported_product');
    collector.refused('too_busy');
    collector.addBytes(4000);
    collector.saveSeconds.observe(0.002);
    collector.saveSeconds.observe(0.004);
    collector.error('queue');
    worker.counts.processed = 6;
    worker.counts.failed = 2;
    processor.processingSeconds.observe({ queue: 'standard' }, 0.1);
    processor.ruleSeconds.observe({ rule: 'stackwalk' }, 0.05);
    cache.stats = { ...cache.stats, hits: 3, misses: 1, entries: 2, bytes: 1000 };
    for (let i = 0; i < 8; i++) web.record('GET', 200, 10);
    web.record('POST', 503, 30);
    web.record('GET', 500, 30);
    await sleep(500);
    const second = heartbeat.report().stats;
    await heartbeat.stop();
    await registry.close();

    // The rates' time is the heartbeat's own (about 0.5 s, more on a busy machine): each is its count over the same time.
    const perSecondOfOne = second.web_requests_per_second / 10;
    expect(perSecondOfOne).toBeGreaterThan(0.5);
    expect(perSecondOfOne).toBeLessThanOrEqual(2.01);
    const rates: [string, number][] = [
      ['collector_accepted_per_second', 4],
      ['collector_rejected_per_second', 1],
      ['collector_refused_per_second', 1],
      ['collector_bytes_per_second', 4000],
      ['collector_errors_per_second', 1],
      ['collector_deferred_per_second', 0],
      ['processed_per_second', 6],
      ['failed_per_second', 2],
      ['web_5xx_per_second', 2],
    ];
    for (const [key, count] of rates) expect(second[key], key).toBeCloseTo(count * perSecondOfOne, 6);
    // Quantiles are within 2% (a window's buckets); one value reads back exactly.
    const near = (key: string, want: number): void => expect(Math.abs(second[key] - want) / want, key).toBeLessThanOrEqual(0.02);
    near('collector_save_latency_p50_ms', 2);
    near('collector_save_latency_p95_ms', 4);
    near('web_latency_p50_ms', 10);
    near('web_latency_p95_ms', 30);
    expect(second).toMatchObject({
      collector_accepted: 4,
      collector_rejected_unsupported_product_total: 1,
      collector_rejected_too_busy_total: 1,
      processing_time_p50_ms: 100,
      stackwalk_time_p95_ms: 50,
      symbol_cache_hit_rate: expect.closeTo(0.75, 9),
      symbol_cache_entries: 2,
      symbol_cache_bytes: 1000,
      web_requests_total: 10,
      web_5xx_ratio: expect.closeTo(0.2, 9),
    });
    for (const key of ['uptime_seconds', 'load1', 'load5', 'load15', 'cpu_percent', 'rss_bytes', 'heap_used_bytes', 'event_loop_lag_p50_ms', 'event_loop_lag_p99_ms']) {
      expect(typeof second[key], key).toBe('number');
    }
    expect(second.uptime_seconds).toBeGreaterThanOrEqual(0.5);
    const text = await prometheus.metrics();
    expect(text).toMatch(/^mayday_processor_crashes_in_flight 1$/m);
    expect(text).toMatch(/^mayday_host_load_average\{minutes="5"\}/m);
  });
});

describe('heartbeat cost', () => {
  it('makes a report in well under 1% of the default 10 s interval, and counts a request in about a microsecond', async () => {
    const prometheus = new Registry();
    const registry = SqliteNodeRegistry.open(':memory:');
    const collector = new CollectorMetrics(prometheus);
    const web = new WebMetrics(prometheus);
    const heartbeat = new Heartbeat({ registry, name: 'n', roles: ['collector', 'web'], url: 'http://x', intervalMs: 60_000, collector, web, prometheus, log: pino({ level: 'silent' }) });
    const reportsStarted = performance.now();
    for (let i = 0; i < 200; i++) heartbeat.report();
    const perReportMs = (performance.now() - reportsStarted) / 200;
    const recordsStarted = performance.now();
    for (let i = 0; i < 200_000; i++) web.record('GET', 200, i % 50);
    const perRecordUs = ((performance.now() - recordsStarted) * 1000) / 200_000;
    await heartbeat.stop();
    await registry.close();
    // 1% of 10 s is 100 ms; a report is a small part of it, the registry write aside.
    expect(perReportMs).toBeLessThan(5);
    // Generous for two shared cores: a request itself costs tens of microseconds at least.
    expect(perRecordUs).toBeLessThan(5);
  });
});
