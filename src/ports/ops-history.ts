/**
 * The Operations Dashboard's rolling history of component metrics: one point a minute per
 * component (a node by its name, or a queue or storage such as `queue:standard`), rolled up
 * into one point every ten minutes, each kept for a bounded time. Read by
 * `/api/ops/history` and the dashboard's per-component charts.
 *
 * Two resolutions are stored side by side, not derived at query time: a week of ten-minute
 * points is ~1,000 rows per component, a week of minute points would be ten times that.
 */

export const MINUTE_MS = 60_000;
export const TEN_MINUTES_MS = 600_000;

export type HistoryResolution = 'minute' | 'ten_minutes';

/** The step of each resolution, in ms. */
export const STEP_MS: Readonly<Record<HistoryResolution, number>> = { minute: MINUTE_MS, ten_minutes: TEN_MINUTES_MS };

export interface HistoryPoint {
  /** A node's name (not its `name@host:pid` id, so that a restarted node keeps its history), or `queue:NAME`, `storage:NAME`, ... */
  component: string;
  /** ms since epoch, at the start of the point's minute (or ten minutes): a multiple of its step. */
  at: number;
  /** Finite numbers only, by name; key order is not kept (PostgreSQL stores jsonb). */
  metrics: Record<string, number>;
}

export interface HistoryQuery {
  /** Only these components (any order); every component when omitted. An empty list answers nothing. */
  components?: readonly string[];
  /** Only these metrics of each point (names of `[A-Za-z0-9_.:-]`); every metric when omitted. A point left with none is still answered, empty. */
  metrics?: readonly string[];
  /** ms since epoch, both inclusive: points with `from <= at <= to`. */
  from: number;
  to: number;
  /** `auto`: minute points when `from` is within the last `AUTO_MINUTE_RANGE_MS` before `now`, else ten-minute points. */
  resolution: HistoryResolution | 'auto';
  /** What `auto` measures from; default `Date.now()`. */
  now?: number;
}

export interface HistoryAnswer {
  /** The resolution used (what `auto` chose). */
  resolution: HistoryResolution;
  /** Its step in ms: a missing step between two points is a gap (the component was silent or not yet rolled up). */
  stepMs: number;
  /** Ordered by component (byte order), then `at`. */
  points: HistoryPoint[];
}

export interface RollupResult {
  /** Ten-minute points written. */
  rolledUp: number;
  /** Minute and ten-minute points removed as too old. */
  prunedMinute: number;
  prunedTenMinutes: number;
}

/**
 * How long each resolution is kept. The defaults keep more than the dashboard shows (24 h,
 * 7 days) so that a full window is always there even when the rollup ran late.
 */
export interface OpsHistoryRetention {
  /** Minute points older than this (from `now` at the rollup) are removed; default `DEFAULT_MINUTE_RETENTION_MS` (26 h). */
  minuteRetentionMs?: number;
  /** Ten-minute points older than this are removed, and components with no newer point forgotten; default `DEFAULT_TEN_MINUTE_RETENTION_MS` (8 days). */
  tenMinuteRetentionMs?: number;
}

export const DEFAULT_MINUTE_RETENTION_MS = 26 * 3_600_000;
export const DEFAULT_TEN_MINUTE_RETENTION_MS = 8 * 86_400_000;
/** `resolution: 'auto'` answers minute points for ranges starting at most this long ago. */
export const AUTO_MINUTE_RANGE_MS = 24 * 3_600_000;
/**
 * ...give or take this: a page asking for "the last 24 h" measures them on its own clock,
 * a moment (or a clock's skew) before the server reads its own, and must still get minute
 * points, which are kept for 26 h.
 */
export const AUTO_RANGE_SLACK_MS = 5 * MINUTE_MS;
/**
 * A ten-minute bucket is rolled up once `now` is this far past its end: the recorder
 * writes a minute's point during the following minute, and a late one must still count.
 */
export const ROLLUP_GRACE_MS = MINUTE_MS;

export interface OpsHistoryStore {
  /**
   * Records minute points. `at` is rounded down to the minute; values that are not finite
   * numbers are dropped, and fractions kept to 6 significant digits (integers exactly).
   * Idempotent per (component, minute): when several web nodes record the same minute, the
   * first point stands and later ones are ignored, as with status samples.
   */
  record(points: readonly HistoryPoint[]): Promise<void>;
  /** Points of one resolution in a range; see `HistoryQuery` and `HistoryAnswer`. */
  query(query: HistoryQuery): Promise<HistoryAnswer>;
  /**
   * Makes the ten-minute points of every finished bucket (see `ROLLUP_GRACE_MS`) from its
   * minute points (`rollupMetrics`), then removes points past their retention (whenever it
   * rolled a bucket up, and otherwise at least every ten minutes). Safe to run
   * from several nodes at once and as often as wanted (a bucket is rolled up once: each
   * component remembers up to where it is rolled up); once a minute or every few is
   * enough. A minute point recorded after its bucket was rolled up is kept at minute
   * resolution but not added to the ten-minute point. A bucket with no minute points gets
   * no ten-minute point (a gap, not zeros).
   */
  rollup(now: number): Promise<RollupResult>;
  /** Every component with a point still kept, in byte order. */
  components(): Promise<string[]>;
  /** Throws when the store cannot be used (for `/__heartbeat__`). */
  check(): Promise<void>;
  /** Releases the connection or file; calling it again does nothing. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// The semantics both adapters share, defined once here (pure).

/** Which resolution a query reads; throws on a query no store could answer (what a route should have refused). */
export function resolutionOf(query: Pick<HistoryQuery, 'resolution' | 'from' | 'to' | 'now'>): HistoryResolution {
  if (!Number.isSafeInteger(query.from) || !Number.isSafeInteger(query.to)) throw new Error(`a history range needs whole ms: from ${query.from}, to ${query.to}`);
  if (query.resolution === 'minute' || query.resolution === 'ten_minutes') return query.resolution;
  if (query.resolution !== 'auto') throw new Error(`unknown history resolution "${String(query.resolution)}"`);
  return query.from >= (query.now ?? Date.now()) - AUTO_MINUTE_RANGE_MS - AUTO_RANGE_SLACK_MS ? 'minute' : 'ten_minutes';
}

const METRIC_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/** The metric names of a query, checked (they end up in a JSON path on SQLite). */
export function metricNamesOf(query: Pick<HistoryQuery, 'metrics'>): string[] | undefined {
  if (query.metrics === undefined) return undefined;
  for (const name of query.metrics) if (!METRIC_NAME.test(name)) throw new Error(`invalid history metric name "${name}"`);
  return [...new Set(query.metrics)];
}

/** A value as stored: fractions to 6 significant digits keep rows small; integers (counters, bytes) stay exact. */
export function compactValue(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(6));
}

/** A point's metrics as stored: finite numbers only, compacted. */
export function storedMetrics(metrics: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) if (typeof value === 'number' && Number.isFinite(value)) out[name] = compactValue(value);
  return out;
}

export function floorTo(at: number, stepMs: number): number {
  return Math.floor(at / stepMs) * stepMs;
}

/** The end (exclusive) of the buckets that are finished at `now`: those starting before it are rolled up. */
export function finishedBefore(now: number): number {
  return floorTo(now - ROLLUP_GRACE_MS, TEN_MINUTES_MS);
}

/**
 * How a metric's minute values become its ten-minute value: `max` for peaks and high
 * quantiles (a name with a `max` or `p9…` word, such as `processing_time_p95_ms`: a mean of
 * p95s would hide the spike the chart is there to show, and quantiles cannot be averaged
 * anyway), `min` for a `min` word, else the mean of the minutes that carry the metric.
 * Words are the parts of the name between `_`.
 */
export function rollupKind(metric: string): 'max' | 'min' | 'mean' {
  const words = metric.split('_');
  if (words.some((w) => w === 'max' || /^p9\d*$/.test(w))) return 'max';
  if (words.includes('min')) return 'min';
  return 'mean';
}

/** One ten-minute bucket's metrics from its minute points' metrics (see `rollupKind`). */
export function rollupMetrics(minutes: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const acc = new Map<string, { kind: 'max' | 'min' | 'mean'; value: number; n: number }>();
  for (const metrics of minutes) {
    for (const [name, value] of Object.entries(metrics)) {
      const seen = acc.get(name);
      if (!seen) acc.set(name, { kind: rollupKind(name), value, n: 1 });
      else if (seen.kind === 'max') seen.value = Math.max(seen.value, value);
      else if (seen.kind === 'min') seen.value = Math.min(seen.value, value);
      else {
        seen.value += value;
        seen.n += 1;
      }
    }
  }
  const out: Record<string, number> = {};
  for (const [name, { kind, value, n }] of acc) out[name] = compactValue(kind === 'mean' ? value / n : value);
  return out;
}

/**
 * The ten-minute points of minute rows ordered by component then `at` (all of them in
 * finished buckets), one per component and bucket that has minute points.
 */
export function rollupPoints(minuteRows: Iterable<{ component: string; at: number; metrics: Readonly<Record<string, number>> }>): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  let key: { component: string; at: number } | undefined;
  let group: Readonly<Record<string, number>>[] = [];
  const flush = (): void => {
    if (key && group.length > 0) out.push({ component: key.component, at: key.at, metrics: rollupMetrics(group) });
    group = [];
  };
  for (const row of minuteRows) {
    const bucket = floorTo(row.at, TEN_MINUTES_MS);
    if (!key || key.component !== row.component || key.at !== bucket) {
      flush();
      key = { component: row.component, at: bucket };
    }
    group.push(row.metrics);
  }
  flush();
  return out;
}

/** How a queue is named among the history's components (nodes go by their key, `name@host`). */
export function queueComponent(queue: string): string {
  return `queue:${queue}`;
}

/**
 * The run of growth a queue's history ends with: how many of its last points each grew over
 * the one before, and the minutes they span (0 and 0 when its last point did not grow):
 * the Dashboard's "growing" badge and problem, and the `queue_growing` alerts.
 */
export function growingRun(points: readonly { at: number; waiting: number }[]): { points: number; minutes: number } {
  let minutes = 0;
  let grown = 0;
  for (let i = points.length - 1; i > 0 && points[i].waiting > points[i - 1].waiting; i--) {
    minutes += Math.round((points[i].at - points[i - 1].at) / 60_000);
    grown++;
  }
  return { points: grown, minutes };
}

/** Minutes a queue has grown at every history point, ending now (see `growingRun`). */
export function growingMinutes(points: readonly { at: number; waiting: number }[]): number {
  return growingRun(points).minutes;
}
