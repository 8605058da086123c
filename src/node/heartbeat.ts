import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { NodeRegistry, NodeReport } from '../ports/node-registry.js';
import type { CollectorMetrics } from '../roles/collector/metrics.js';
import type { ProcessorMetrics } from '../roles/processor/metrics.js';
import type { ProcessorWorker } from '../roles/processor/worker.js';
import type { SymbolCacheStats } from '../minidump/symbols/index.js';
import { versionInfo } from '../common/version.js';
import { RATES, collectorStats, processorStats, symbolCacheStats, webStats, type Stats } from './component-stats.js';
import { ProcessMetrics, registerProcessGauges } from './process-metrics.js';
import { RateTracker, ratio } from './rates.js';
import type { WebMetrics } from './web-metrics.js';
import { runChecks, type CheckResult, type HealthCheck } from './health.js';
import type { ProcessingQueue } from '../ports/queue.js';
import { nodeKey } from '../common/node-identity.js';
import { QUEUE_RATES, queueCountStats, queueSampleStats, registerQueueMetrics, sampleQueue, type QueueSample } from './queue-metrics.js';
import { probeStats, registerDependencyMetrics, sizeStats, type StorageSizes } from './dependency-metrics.js';
import { dataDirSpace } from './storage-size.js';
import { withTimeout } from '../common/with-timeout.js';

/**
 * Reports this node to the registry every `intervalMs`: who it is, its roles, and its
 * counters (processing totals, memory, CPU, load), for `/status` and the Dashboard; and
 * what it found of the shared parts at that beat (its probes of each dependency, the
 * queue's depth, the sizes of its database and data directory), which `/metrics` then
 * serves without probing again.
 * Rates, CPU %, latencies and event-loop lag cover the time since the previous report:
 * each `report()` starts a new interval.
 */
/** A dependency slower than this to answer its probe counts as unreachable. */
const PROBE_TIMEOUT_MS = 3000;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly processMetrics = new ProcessMetrics();
  private readonly rates = new RateTracker();
  /** What the last report found of the shared dependencies: `/metrics` shows it, so a scrape never probes. */
  private latest: { checks: CheckResult[]; sizes: StorageSizes; queue?: QueueSample } | undefined;
  readonly id: string;

  constructor(
    private readonly options: {
      registry: NodeRegistry;
      /** What the Dashboard needs besides the counters: the deployment's name for the machine and the configuration (see config-fingerprint.ts). */
      identity?: Pick<NodeReport, 'deploymentHost' | 'configHash' | 'config'>;
      name: string;
      roles: string[];
      url: string;
      intervalMs: number;
      worker?: ProcessorWorker;
      /** The collector's running totals (received, accepted, refused, bytes, ...); `collector.counts` when omitted. */
      collectorCounts?: Readonly<Record<string, number>>;
      /** Rejections by reason and save latency. */
      collector?: CollectorMetrics;
      /** Processing and stackwalk times. */
      processor?: ProcessorMetrics;
      /** The processor's symbol caches (a `StackwalkPool`). */
      symbolCache?: { readonly stats: SymbolCacheStats };
      /** Requests, latency and 5xx answers of the node's HTTP server. */
      web?: WebMetrics;
      /**
       * The node's dependencies (database, queue, storages), probed at each report: each
       * gives `probe_NAME_ok` (1 or 0) and `probe_NAME_ms`, so the Dashboard sees what each
       * node can reach, and how fast.
       */
      probes?: readonly HealthCheck[];
      /**
       * The processing queue: its depth, oldest age and dead letters are sampled at each
       * report (`queue_<name>_waiting`, ...; `mayday_queue_*` at /metrics), and this node's
       * enqueues, hand-outs and acknowledgements counted (`queue_<name>_<event>_total` and
       * `_per_second`). See queue-metrics.ts.
       */
      queue?: ProcessingQueue;
      /** What to measure of the node's storage at each report: its data directory's file system, its database's size. */
      storage?: { dataDir?: string; database?: { backend: string; bytes: () => Promise<number> } };
      /** The node's Prometheus registry: load average, uptime and crashes in flight are added to it. */
      prometheus?: Registry;
      log: Logger;
    },
  ) {
    this.id = `${options.name}@${hostname()}:${process.pid}`;
    if (options.prometheus) {
      registerProcessGauges(options.prometheus, this.startedAt);
      const worker = options.worker;
      if (worker) {
        new Gauge({
          name: 'mayday_processor_crashes_in_flight',
          help: 'Crashes the processor is working on now.',
          registers: [options.prometheus],
          collect() {
            this.set(worker.inFlight.size);
          },
        });
      }
      registerDependencyMetrics(options.prometheus, () => this.latest);
      const queue = options.queue;
      if (queue) registerQueueMetrics(options.prometheus, () => this.latest?.queue, () => queue.counts());
    }
  }

  async start(): Promise<void> {
    await this.forgetEarlierInstances();
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.processMetrics.close();
    await this.options.registry.forget(this.id).catch(() => undefined);
  }

  /**
   * A node restarted (after a crash, say) registers under a new id (its pid): its earlier
   * instances (the same `name@host`, node-identity.ts) are gone, and listing them as down
   * would be a false alarm. Matched on the deployment's host name when one is set, so a
   * container that comes back with a new machine host name still replaces its old entry.
   */
  private async forgetEarlierInstances(): Promise<void> {
    try {
      const self = nodeKey({ name: this.options.name, host: hostname(), deploymentHost: this.options.identity?.deploymentHost });
      const earlier = (await this.options.registry.nodes()).filter((n) => nodeKey(n) === self && n.id !== this.id);
      for (const node of earlier) await this.options.registry.forget(node.id);
    } catch (error) {
      this.options.log.warn({ err: error }, 'reading the node registry failed');
    }
  }

  report(): NodeReport {
    const { worker, collector, processor, symbolCache, web } = this.options;
    const cpu = process.cpuUsage();
    const stats: Stats = {
      uptime_seconds: (Date.now() - this.startedAt) / 1000,
      ...this.processMetrics.sample(),
      cpu_user_seconds: cpu.user / 1e6,
      cpu_system_seconds: cpu.system / 1e6,
    };
    const collectorCounts = this.options.collectorCounts ?? collector?.counts;
    if (collectorCounts) Object.assign(stats, collectorStats(collectorCounts, collector));
    if (worker) Object.assign(stats, processorStats(worker, processor));
    if (symbolCache) Object.assign(stats, symbolCacheStats(symbolCache.stats));
    if (web) Object.assign(stats, webStats(web));
    if (this.options.queue) Object.assign(stats, queueCountStats(this.options.queue.counts()));
    this.addRates(stats);
    return {
      id: this.id,
      name: this.options.name,
      host: hostname(),
      pid: process.pid,
      roles: this.options.roles,
      version: versionInfo().version,
      url: this.options.url,
      startedAt: this.startedAt,
      lastSeen: Date.now(),
      stats,
      ...(this.options.identity?.deploymentHost ? { deploymentHost: this.options.identity.deploymentHost } : {}),
      ...(this.options.identity?.configHash ? { configHash: this.options.identity.configHash, config: this.options.identity.config } : {}),
      ...(worker?.lastCompleted ? { lastCompletedCrash: worker.lastCompleted.crashId } : {}),
    };
  }

  /** Per-second rates of the totals since the last report, and the ratios made from them. */
  private addRates(stats: Stats): void {
    const totals: Stats = {};
    const pairs = [...RATES, ...QUEUE_RATES];
    for (const [total] of pairs) if (stats[total] !== undefined) totals[total] = stats[total];
    const rates = this.rates.next(totals, performance.now());
    for (const [total, rate] of pairs) if (rates[total] !== undefined) stats[rate] = rates[total];
    if (stats.web_requests_total !== undefined) stats.web_5xx_ratio = ratio(rates.web_5xx_total, rates.web_requests_total);
    if (stats.symbol_cache_hits !== undefined) {
      const hits = rates.symbol_cache_hits;
      const lookups = hits + rates.symbol_cache_misses;
      // An idle interval says nothing of the cache: the ratio since start stands in.
      stats.symbol_cache_hit_rate = lookups > 0 ? hits / lookups : ratio(stats.symbol_cache_hits, stats.symbol_cache_hits + stats.symbol_cache_misses);
    }
  }

  /**
   * Probes the dependencies, samples the queue and measures the storage, together, each
   * within PROBE_TIMEOUT_MS (as `/__heartbeat__` runs the probes); keeps the results for
   * `/metrics` and returns them as stats. What fails is left out (the probe says why).
   */
  async sample(): Promise<Stats> {
    const { queue, storage, log } = this.options;
    const quietly = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await withTimeout(work(), PROBE_TIMEOUT_MS);
      } catch (error) {
        log.debug({ err: error }, `heartbeat: ${what} failed`);
        return undefined;
      }
    };
    const [checks, queueSample, dataDir, databaseBytes] = await Promise.all([
      runChecks(this.options.probes ?? [], PROBE_TIMEOUT_MS),
      queue ? quietly('sampling the queue', () => sampleQueue(queue)) : undefined,
      storage?.dataDir ? quietly('reading the data directory\'s free space', () => dataDirSpace(storage.dataDir!)) : undefined,
      storage?.database ? quietly('reading the database size', storage.database.bytes) : undefined,
    ]);
    const sizes: StorageSizes = {
      ...(dataDir && storage?.dataDir ? { dataDir: { path: storage.dataDir, ...dataDir } } : {}),
      ...(databaseBytes !== undefined && storage?.database ? { database: { backend: storage.database.backend, bytes: databaseBytes } } : {}),
    };
    this.latest = { checks, sizes, ...(queueSample ? { queue: queueSample } : {}) };
    return { ...probeStats(checks), ...(queueSample ? queueSampleStats(queueSample) : {}), ...sizeStats(sizes) };
  }

  private async beat(): Promise<void> {
    try {
      const sampled = await this.sample();
      const report = this.report();
      Object.assign(report.stats, sampled);
      await this.options.registry.report(report);
    } catch (error) {
      this.options.log.warn({ err: error }, 'reporting to the node registry failed');
    }
  }
}
