import type { WindowSummary } from '../common/window-quantiles.js';
import type { SymbolCacheStats } from '../minidump/symbols/index.js';
import type { CollectorMetrics } from '../roles/collector/metrics.js';
import type { ProcessorMetrics } from '../roles/processor/metrics.js';
import type { ProcessorWorker } from '../roles/processor/worker.js';
import type { WebMetrics } from './web-metrics.js';

/**
 * Each role's part of the heartbeat's `stats`: totals since start (rates are made from
 * them by the heartbeat) and the quantiles of the interval since the last heartbeat.
 * Reading a window empties it: only the heartbeat calls these.
 */

export type Stats = Record<string, number>;

/** `p50`/`p95` of a window under `prefix`. */
function quantiles(prefix: string, window: WindowSummary): Stats {
  return { [`${prefix}_p50_ms`]: window.p50, [`${prefix}_p95_ms`]: window.p95 };
}

/**
 * A rejection's reason as part of a stat name: rule names come from the configuration, so
 * anything but letters, digits and `_` becomes `_`, and a long one is cut.
 */
export function reasonKey(reason: string): string {
  return (reason.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 48) || 'unnamed');
}

export function collectorStats(counts: Readonly<Record<string, number>>, metrics: CollectorMetrics | undefined): Stats {
  const stats: Stats = {};
  for (const [name, value] of Object.entries(counts)) stats[`collector_${name}`] = value;
  if (!metrics) return stats;
  for (const [reason, n] of metrics.rejectedByReason) {
    const key = `collector_rejected_${reasonKey(reason)}_total`;
    stats[key] = (stats[key] ?? 0) + n;
  }
  Object.assign(stats, quantiles('collector_save_latency', metrics.saveSeconds.windowMs.read()));
  return stats;
}

export function processorStats(worker: ProcessorWorker, metrics: ProcessorMetrics | undefined): Stats {
  const stats: Stats = {
    processed: worker.counts.processed,
    failed: worker.counts.failed,
    retried: worker.counts.retried,
    dead_lettered: worker.counts.deadLettered,
    in_flight: worker.inFlight.size,
    first_processed: worker.sums.firstProcessed,
    submission_to_processed_seconds_sum: worker.sums.submissionToProcessedSeconds,
    taken: worker.sums.taken,
    queue_wait_seconds_sum: worker.sums.queueWaitSeconds,
    last_completed_at: worker.lastCompleted?.at ?? 0,
  };
  if (metrics) {
    Object.assign(stats, quantiles('processing_time', metrics.windows.processingMs.read()), quantiles('stackwalk_time', metrics.windows.stackwalkMs.read()));
  }
  return stats;
}

export function symbolCacheStats(cache: SymbolCacheStats): Stats {
  return { symbol_cache_hits: cache.hits, symbol_cache_misses: cache.misses, symbol_cache_entries: cache.entries, symbol_cache_bytes: cache.bytes };
}

export function webStats(web: WebMetrics): Stats {
  return { web_requests_total: web.totals.requests, web_5xx_total: web.totals.server_errors, ...quantiles('web_latency', web.readLatency()) };
}

/** Totals whose per-second rate the heartbeat reports, and the rate's name. */
export const RATES: readonly (readonly [total: string, rate: string])[] = [
  ['collector_received', 'collector_received_per_second'],
  ['collector_accepted', 'collector_accepted_per_second'],
  ['collector_deferred', 'collector_deferred_per_second'],
  ['collector_rejected', 'collector_rejected_per_second'],
  ['collector_refused', 'collector_refused_per_second'],
  ['collector_bytes', 'collector_bytes_per_second'],
  ['collector_errors', 'collector_errors_per_second'],
  ['processed', 'processed_per_second'],
  ['failed', 'failed_per_second'],
  ['web_requests_total', 'web_requests_per_second'],
  ['web_5xx_total', 'web_5xx_per_second'],
  ['symbol_cache_hits', 'symbol_cache_hits_per_second'],
  ['symbol_cache_misses', 'symbol_cache_misses_per_second'],
];
