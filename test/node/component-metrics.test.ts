/**
 * A real node (collector, processor, web and scheduler in one) reports its components'
 * metrics in its heartbeat, and the new Prometheus names are at `/metrics`: submissions, a
 * refused one, crashes processed with a stackwalk, web requests, the queues, the
 * dependencies and their sizes, and the scheduler's jobs.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';
import type { RunningNode } from '../../src/node/node.js';
import type { NodeReport } from '../../src/ports/node-registry.js';
import { APP_DUMP, copyCorpusSymbols, processedCrash, startTestNode, submit } from './stackwalk-fixtures.js';

const HEARTBEAT_MS = 300;
let dir: string;
let node: RunningNode;
/** Every report the node made while the test watched, oldest first. */
const reports: NodeReport[] = [];
let registry: SqliteNodeRegistry;
let started: number;

/** The value of a sample in Prometheus text (`name{labels} value`), undefined when absent. */
function scraped(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** Reads the registry until `until` resolves, keeping each new report (one per heartbeat). */
async function watchReports(until: Promise<unknown>): Promise<void> {
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const [report] = await registry.nodes();
    if (report && report.lastSeen !== reports.at(-1)?.lastSeen) reports.push(report);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/** The largest value a stat had in any report. */
function highest(key: string): number {
  return Math.max(...reports.map((report) => report.stats[key] ?? Number.NaN).filter((v) => !Number.isNaN(v)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-component-metrics-'));
  copyCorpusSymbols(join(dir, 'symbols'), { withApp: true });
  started = Date.now();
  node = await startTestNode(dir, { 'node.roles': 'collector, processor, web, scheduler', 'processor.workers': '1', 'node.heartbeat_interval': `${HEARTBEAT_MS}ms` });
  registry = SqliteNodeRegistry.open(join(node.paths.dataDir, 'mayday.sqlite'));
  const work = (async () => {
    const dump = readFileSync(APP_DUMP);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await submit(node, dump));
    // Not a multipart body: refused, with its Discarded reason.
    const refused = await fetch(`${node.url}/submit`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(await refused.text()).toMatch(/Discarded=/);
    for (const id of ids) await processedCrash(node, id, 30_000);
    for (let i = 0; i < 5; i++) await fetch(`${node.url}/__lbheartbeat__`);
    await fetch(`${node.url}/no/such/page`);
    // Two more heartbeats: the last interval's work is reported, then an idle one.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * HEARTBEAT_MS));
  })();
  await Promise.all([work, watchReports(work)]);
}, 60_000);

afterAll(async () => {
  await registry?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('component metrics on a real node', () => {
  it('reports the process, collector, processor and web figures in its heartbeat', () => {
    expect(reports.length).toBeGreaterThan(2);
    const last = reports.at(-1)!.stats;
    const keys = [
      'uptime_seconds', 'load1', 'load5', 'load15', 'cpu_percent', 'rss_bytes', 'heap_used_bytes', 'event_loop_lag_p50_ms', 'event_loop_lag_p99_ms',
      'collector_accepted', 'collector_accepted_per_second', 'collector_deferred_per_second', 'collector_rejected_per_second', 'collector_bytes_per_second',
      'collector_errors_per_second', 'collector_save_latency_p50_ms', 'collector_save_latency_p95_ms',
      'processed', 'processed_per_second', 'failed_per_second', 'processing_time_p50_ms', 'processing_time_p95_ms', 'stackwalk_time_p50_ms',
      'stackwalk_time_p95_ms', 'symbol_cache_hit_rate', 'symbol_cache_entries', 'symbol_cache_bytes', 'in_flight',
      'web_requests_per_second', 'web_latency_p50_ms', 'web_latency_p95_ms', 'web_5xx_per_second', 'web_5xx_ratio',
      'queue_standard_waiting', 'queue_standard_in_flight', 'queue_standard_oldest_age_seconds', 'queue_standard_dead_letters',
      'queue_standard_enqueued_per_second', 'queue_standard_taken_per_second', 'queue_standard_acked_per_second', 'queue_priority_waiting',
      'probe_queue_ok', 'probe_queue_ms', 'database_size_bytes', 'data_dir_free_bytes', 'data_dir_size_bytes',
    ];
    for (const key of keys) expect(typeof last[key], key).toBe('number');
    expect(last).toMatchObject({ collector_accepted: 3, processed: 3, failed: 0, in_flight: 0 });
    expect(last).toMatchObject({ queue_standard_waiting: 0, queue_standard_in_flight: 0, queue_standard_dead_letters: 0, queue_standard_enqueued_total: 3, queue_standard_acked_total: 3, probe_queue_ok: 1 });
    expect(highest('queue_standard_enqueued_per_second')).toBeGreaterThan(0);
    expect(highest('queue_standard_acked_per_second')).toBeGreaterThan(0);
    expect(last.database_size_bytes).toBeGreaterThan(0);
    expect(last.uptime_seconds).toBeGreaterThan(0);
    expect(last.rss_bytes).toBeGreaterThan(0);

    // Some interval had each kind of work in it.
    expect(highest('collector_accepted_per_second')).toBeGreaterThan(0);
    expect(highest('collector_bytes_per_second')).toBeGreaterThan(0);
    expect(highest('collector_save_latency_p50_ms')).toBeGreaterThan(0);
    expect(highest('processed_per_second')).toBeGreaterThan(0);
    expect(highest('processing_time_p95_ms')).toBeGreaterThan(0);
    expect(highest('stackwalk_time_p50_ms')).toBeGreaterThan(0);
    expect(highest('symbol_cache_entries')).toBeGreaterThan(0);
    expect(highest('web_requests_per_second')).toBeGreaterThan(0);
    expect(highest('web_latency_p95_ms')).toBeGreaterThan(0);
    expect(highest('cpu_percent')).toBeGreaterThan(0);
    expect(last.symbol_cache_hit_rate).toBeGreaterThanOrEqual(0);
    expect(last.symbol_cache_hit_rate).toBeLessThanOrEqual(1);
    // No answer was a server error.
    expect(highest('web_5xx_per_second')).toBe(0);

    // The refusal is counted under its reason.
    const reasons = Object.keys(last).filter((key) => /^collector_rejected_.+_total$/.test(key));
    expect(reasons).toHaveLength(1);
    expect(last[reasons[0]]).toBe(1);
  });

  it('exposes the new Prometheus names at /metrics', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    for (const name of [
      'mayday_http_requests_total{method="GET",status_class="2xx"}',
      'mayday_http_requests_total{method="GET",status_class="4xx"}',
      'mayday_http_requests_total{method="POST",status_class="2xx"}',
      'mayday_http_request_duration_seconds_bucket',
      'mayday_host_load_average{minutes="1"}',
      'mayday_node_uptime_seconds',
      'mayday_processor_crashes_in_flight',
      // Already there before, read by the Dashboard's documentation too.
      'mayday_collector_save_seconds_bucket',
      'mayday_processor_rule_seconds_bucket{le="0.0005",rule="stackwalk"}',
      'mayday_symbol_cache_entries',
      'mayday_process_cpu_seconds_total',
      'mayday_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).not.toContain('/no/such/page');
  });

  it('exposes the queues, the dependencies and their sizes, and the scheduler jobs at /metrics', async () => {
    // The processor stops taking: the next crashes wait.
    await node.worker!.stop();
    const dump = readFileSync(APP_DUMP);
    const queuedAt = Date.now();
    for (let i = 0; i < 2; i++) await submit(node, dump);
    // A heartbeat after them samples the queue; a scrape reads that sample.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * HEARTBEAT_MS));
    const text = await (await fetch(`${node.url}/metrics`)).text();

    expect(scraped(text, 'mayday_queue_waiting{queue="standard"}')).toBe(2);
    expect(scraped(text, 'mayday_queue_waiting{queue="priority"}')).toBe(0);
    expect(scraped(text, 'mayday_queue_in_flight{queue="standard"}')).toBe(0);
    const oldest = scraped(text, 'mayday_queue_oldest_age_seconds{queue="standard"}')!;
    expect(oldest).toBeGreaterThan(0);
    expect(oldest).toBeLessThanOrEqual((Date.now() - queuedAt) / 1000);
    for (const queue of ['priority', 'standard', 'reprocessing']) expect(scraped(text, `mayday_queue_dead_letters{queue="${queue}"}`), queue).toBe(0);
    expect(scraped(text, 'mayday_queue_enqueued_total{queue="standard"}')).toBe(5);
    expect(scraped(text, 'mayday_queue_taken_total{queue="standard"}')).toBe(3);
    expect(scraped(text, 'mayday_queue_acked_total{queue="standard"}')).toBe(3);
    expect(scraped(text, 'mayday_queue_dead_lettered_total{queue="standard"}')).toBe(0);

    for (const dependency of ['raw_crash_store', 'processed_crash_store', 'queue', 'crash_index', 'node_registry', 'symbol_store']) {
      expect(scraped(text, `mayday_dependency_up{dependency="${dependency}"}`), dependency).toBe(1);
      const seconds = scraped(text, `mayday_dependency_probe_seconds{dependency="${dependency}"}`)!;
      expect(seconds, dependency).toBeGreaterThan(0);
      expect(seconds, dependency).toBeLessThan(3);
    }
    // The SQLite database with its write-ahead log; it may have grown since the beat, not shrunk below its file.
    const database = scraped(text, 'mayday_database_size_bytes{backend="sqlite"}')!;
    expect(database).toBeGreaterThanOrEqual(statSync(node.paths.database).size);
    const space = statfsSync(node.paths.dataDir);
    expect(scraped(text, `mayday_data_dir_size_bytes{dir="${node.paths.dataDir}"}`)).toBe(space.blocks * space.bsize);
    expect(Math.abs(scraped(text, `mayday_data_dir_free_bytes{dir="${node.paths.dataDir}"}`)! - space.bavail * space.bsize)).toBeLessThan(64 * 2 ** 20);

    // verify-processed runs when the scheduler starts, and is due again at its interval.
    const lastRun = scraped(text, 'mayday_scheduler_job_last_run_timestamp_seconds{job="verify-processed"}')!;
    expect(lastRun * 1000).toBeGreaterThanOrEqual(started);
    expect(lastRun * 1000).toBeLessThanOrEqual(Date.now());
    expect(scraped(text, 'mayday_scheduler_job_last_outcome{job="verify-processed"}')).toBe(1);
    expect(scraped(text, 'mayday_scheduler_job_next_run_timestamp_seconds{job="verify-processed"}')).toBeGreaterThan(lastRun);

    // The heartbeat says the same.
    const [report] = await registry.nodes();
    expect(report!.stats).toMatchObject({ queue_standard_waiting: 2, queue_standard_in_flight: 0, queue_standard_enqueued_total: 5, queue_standard_dead_letters: 0 });
  });
});
