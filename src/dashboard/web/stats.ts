/**
 * THE mapping from the stat keys nodes report (src/node/heartbeat.ts) to what the Dashboard
 * shows: labels, units, which table column, which detail section, which chart. When a key
 * is renamed in the heartbeat, this is the one file to change.
 *
 * A node of an older version reports running totals but not their rates: those are derived
 * in the browser (`counter`), the difference between two heartbeats over their interval.
 */

import { formatDuration, formatMs, type Unit } from './format.js';
import { dependencyLabel } from './ops-view.js';
import { probeReadings } from '../../common/probe-figures.js';

export type RoleName = 'collector' | 'processor' | 'web' | 'scheduler';

export interface StatDef {
  key: string;
  label: string;
  /** Shorter, for a table cell next to the number: `accepted/s` reads as "12 accepted/s". */
  short?: string;
  unit: Unit;
  /** Shown only for components with this role. */
  role?: RoleName;
  /** Running totals this rate can be derived from when `key` is missing (summed), times `scale`. */
  counter?: readonly string[];
  scale?: number;
  /** Any value above zero is trouble (drawn red): errors, failures, 5xx. Rejections are a throttle's normal work. */
  bad?: boolean;
}

const stat = (key: string, label: string, unit: Unit, extra: Partial<StatDef> = {}): StatDef => ({ key, label, unit, ...extra });

// The process, on every node.
export const UPTIME = stat('uptime_seconds', 'Uptime', 'seconds');
export const LOAD1 = stat('load1', 'Load (1 min)', 'load');
export const LOAD5 = stat('load5', 'Load (5 min)', 'load');
export const LOAD15 = stat('load15', 'Load (15 min)', 'load');
export const CPU = stat('cpu_percent', 'CPU', 'percent', { counter: ['cpu_user_seconds', 'cpu_system_seconds'], scale: 100 });
export const RSS = stat('rss_bytes', 'Resident memory', 'bytes');
export const HEAP = stat('heap_used_bytes', 'JS heap used', 'bytes');
export const LAG_P50 = stat('event_loop_lag_p50_ms', 'Event-loop lag p50', 'ms');
export const LAG_P99 = stat('event_loop_lag_p99_ms', 'Event-loop lag p99', 'ms');

// Collectors.
export const ACCEPTED = stat('collector_accepted_per_second', 'Accepted', 'per_second', { short: 'accepted', role: 'collector', counter: ['collector_accepted'] });
export const DEFERRED = stat('collector_deferred_per_second', 'Deferred', 'per_second', { short: 'deferred', role: 'collector', counter: ['collector_deferred'] });
export const REJECTED = stat('collector_rejected_per_second', 'Rejected', 'per_second', { short: 'rejected', role: 'collector', counter: ['collector_rejected'] });
export const RECEIVED = stat('collector_received_per_second', 'Received', 'per_second', { short: 'received', role: 'collector', counter: ['collector_received'] });
export const REFUSED = stat('collector_refused_per_second', 'Refused (before reading)', 'per_second', { short: 'refused', role: 'collector', counter: ['collector_refused'] });
export const COLLECTOR_BYTES = stat('collector_bytes_per_second', 'Bytes received', 'bytes_per_second', { role: 'collector', counter: ['collector_bytes'] });
export const COLLECTOR_ERRORS = stat('collector_errors_per_second', 'Errors', 'per_second', { short: 'errors', role: 'collector', counter: ['collector_errors'], bad: true });
export const SAVE_P50 = stat('collector_save_latency_p50_ms', 'Save latency p50', 'ms', { role: 'collector' });
export const SAVE_P95 = stat('collector_save_latency_p95_ms', 'Save latency p95', 'ms', { role: 'collector' });

// Processors.
export const PROCESSED = stat('processed_per_second', 'Processed', 'per_second', { short: 'processed', role: 'processor', counter: ['processed'] });
export const FAILED = stat('failed_per_second', 'Failed', 'per_second', { short: 'failed', role: 'processor', counter: ['failed'], bad: true });
export const PROCESSING_P50 = stat('processing_time_p50_ms', 'Processing time p50', 'ms', { role: 'processor' });
export const PROCESSING_P95 = stat('processing_time_p95_ms', 'Processing time p95', 'ms', { role: 'processor' });
export const STACKWALK_P50 = stat('stackwalk_time_p50_ms', 'Stackwalk time p50', 'ms', { role: 'processor' });
export const STACKWALK_P95 = stat('stackwalk_time_p95_ms', 'Stackwalk time p95', 'ms', { role: 'processor' });
export const CACHE_HIT = stat('symbol_cache_hit_rate', 'Symbol cache hit rate', 'ratio', { role: 'processor' });
export const CACHE_SIZE = stat('symbol_cache_bytes', 'Symbol cache size', 'bytes', { role: 'processor' });
export const CACHE_ENTRIES = stat('symbol_cache_entries', 'Symbol files cached', 'count', { role: 'processor' });
export const IN_FLIGHT = stat('in_flight', 'Crashes in flight', 'count', { role: 'processor' });
export const RETRIED = stat('retried', 'Retried (since start)', 'count', { role: 'processor' });
export const DEAD_LETTERED = stat('dead_lettered', 'Dead-lettered (since start)', 'count', { role: 'processor' });

// Web.
export const REQUESTS = stat('web_requests_per_second', 'Requests', 'per_second', { short: 'req', role: 'web', counter: ['web_requests_total'] });
export const WEB_P50 = stat('web_latency_p50_ms', 'Latency p50', 'ms', { role: 'web' });
export const WEB_P95 = stat('web_latency_p95_ms', 'Latency p95', 'ms', { role: 'web' });
export const WEB_5XX = stat('web_5xx_per_second', '5xx answers', 'per_second', { short: '5xx', role: 'web', counter: ['web_5xx_total'], bad: true });
export const WEB_5XX_RATIO = stat('web_5xx_ratio', '5xx share of answers', 'ratio', { role: 'web' });

// Where the node keeps its data (every node; left out where it could not be read).
export const DATA_DIR_FREE = stat('data_dir_free_bytes', 'Data directory: free space', 'bytes');
export const DATA_DIR_SIZE = stat('data_dir_size_bytes', 'Data directory: disk size', 'bytes');
export const DATABASE_SIZE = stat('database_size_bytes', 'Database size', 'bytes');

// The queue, as this node used it: what it put on and took off, per second. The queue's own
// figures (waiting, oldest, dead letters) are the same from every node: the overview's Queues table.
const QUEUE_NAMES = ['priority', 'standard', 'reprocessing'] as const;
const QUEUE_FLOWS: readonly StatDef[] = QUEUE_NAMES.flatMap((q) => [
  stat(`queue_${q}_enqueued_per_second`, `${q}: put on`, 'per_second', { counter: [`queue_${q}_enqueued_total`] }),
  stat(`queue_${q}_acked_per_second`, `${q}: done`, 'per_second', { counter: [`queue_${q}_acked_total`] }),
]);

/** Queue figures not listed raw under "Other figures": the overview shows the queue itself. */
export const QUEUE_KEY = /^queue_/;

/** The components table: one column each; throughput and errors list the figures of the node's roles. */
export const TABLE_COLUMNS = {
  load: LOAD1,
  cpu: CPU,
  memory: RSS,
  throughput: [ACCEPTED, PROCESSED, REQUESTS],
  errors: [REJECTED, COLLECTOR_ERRORS, FAILED, WEB_5XX],
} as const;

/** The figures on a node's box in the topology: its main throughput per role. */
export const TOPOLOGY_FIGURES: readonly StatDef[] = [ACCEPTED, PROCESSED, REQUESTS];

/** The detail page's figures, by section. */
export const SECTIONS: readonly { title: string; role?: RoleName; stats: readonly StatDef[] }[] = [
  { title: 'Process', stats: [UPTIME, CPU, RSS, HEAP, LOAD1, LOAD5, LOAD15, LAG_P50, LAG_P99] },
  { title: 'Collector', role: 'collector', stats: [RECEIVED, ACCEPTED, DEFERRED, REJECTED, REFUSED, COLLECTOR_ERRORS, COLLECTOR_BYTES, SAVE_P50, SAVE_P95] },
  { title: 'Processor', role: 'processor', stats: [PROCESSED, FAILED, IN_FLIGHT, PROCESSING_P50, PROCESSING_P95, STACKWALK_P50, STACKWALK_P95, CACHE_HIT, CACHE_SIZE, CACHE_ENTRIES, RETRIED, DEAD_LETTERED] },
  { title: 'Web', role: 'web', stats: [REQUESTS, WEB_P50, WEB_P95, WEB_5XX, WEB_5XX_RATIO] },
  { title: 'Storage', stats: [DATA_DIR_FREE, DATA_DIR_SIZE, DATABASE_SIZE] },
  { title: 'Queue (this node\u2019s part)', stats: QUEUE_FLOWS },
];

export interface ChartDef {
  id: string;
  title: string;
  unit: Unit;
  /** Series whose role the component lacks are left out; a chart left with none is not drawn. */
  series: readonly StatDef[];
}

/** The detail page's history charts, in order. */
export const CHARTS: readonly ChartDef[] = [
  { id: 'cpu', title: 'CPU', unit: 'percent', series: [CPU] },
  { id: 'memory', title: 'Memory', unit: 'bytes', series: [RSS, HEAP] },
  { id: 'throughput', title: 'Throughput', unit: 'per_second', series: [ACCEPTED, PROCESSED, REQUESTS] },
  { id: 'latency', title: 'Latency', unit: 'ms', series: [SAVE_P95, PROCESSING_P95, STACKWALK_P95, WEB_P95] },
  { id: 'errors', title: 'Errors', unit: 'per_second', series: [REJECTED, COLLECTOR_ERRORS, FAILED, WEB_5XX] },
];

/** Every rate that can be derived from a running total. */
export const DERIVABLE: readonly StatDef[] = SECTIONS.flatMap((s) => s.stats.filter((d) => d.counter !== undefined));

/** A collector's rejections by reason, totals since start: `collector_rejected_<reason>_total`. */
export const REJECTED_BY_REASON = /^collector_rejected_(.+)_total$/;

export interface ProbeRow {
  /** The probe's name (`raw_crash_store`). */
  name: string;
  label: string;
  /** `reachable`, `unreachable`, or `–` when the node did not say. */
  reachability: string;
  reachable: boolean | undefined;
  /** The probe's latency, formatted, or `–`. */
  latency: string;
}

/** The node's probes, one row per dependency, unreachable ones first, then by name. */
export function probeRows(stats: Readonly<Record<string, number>>): ProbeRow[] {
  return probeReadings(stats)
    .map(({ name, reached: reachable, ms }) => ({ name, label: dependencyLabel(name), reachable, reachability: reachable === undefined ? '–' : reachable ? 'reachable' : 'unreachable', latency: ms === undefined ? '–' : formatMs(ms) }))
    .sort((a, b) => Number(a.reachable !== false) - Number(b.reachable !== false) || a.name.localeCompare(b.name));
}

/**
 * A node's uptime as the table and the detail page show it: a down node is not up, and the
 * uptime its last heartbeat carried ("3 s") would read as a fresh start: `was up N` says
 * how long it ran before it went silent.
 */
export function uptimeText(component: { status: string; uptimeSeconds: number }): string {
  return component.status === 'down' ? `was up ${formatDuration(component.uptimeSeconds)}` : formatDuration(component.uptimeSeconds);
}

/** Keys the detail page does not list under "Other figures": shown already, or of no use to read raw. */
const NOT_OTHER = ['cpu_user_seconds', 'cpu_system_seconds', 'last_completed_at', 'symbol_cache_hits_per_second', 'symbol_cache_misses_per_second'];

/** Every key this module knows: the detail page lists any other the node reports under "Other figures" (probes have their own section). */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([...SECTIONS.flatMap((s) => s.stats.flatMap((d) => [d.key, ...(d.counter ?? [])])), ...NOT_OTHER]);

export function hasRole(roles: readonly string[], def: StatDef): boolean {
  return def.role === undefined || roles.includes(def.role);
}
