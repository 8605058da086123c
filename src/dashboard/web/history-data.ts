/**
 * The history's data, as the charts draw it (pure: the unit tests run it in Node): the
 * ranges offered, the URL, each series' values, and uPlot's aligned arrays with the gaps.
 */

import type { StatDef } from './stats.js';
import type { History, HistoryPoint } from './types.js';

export type RangeId = '1h' | '24h' | '7d';

export const RANGES: readonly { id: RangeId; label: string; ms: number }[] = [
  { id: '1h', label: '1 h', ms: 3_600_000 },
  { id: '24h', label: '24 h', ms: 86_400_000 },
  { id: '7d', label: '7 d', ms: 7 * 86_400_000 },
];

export function historyUrl(component: string, from: number, to: number): string {
  return `/api/ops/history?${new URLSearchParams({ component, from: String(from), to: String(to) }).toString()}`;
}

/**
 * One series' values at each point: the recorded figure, or, for a rate the history holds
 * only as a running total, the rate between consecutive points. `null` is a gap in the line.
 */
export function seriesValues(points: readonly HistoryPoint[], def: StatDef): (number | null)[] {
  if (points.some((p) => p.metrics[def.key] !== undefined) || !def.counter) return points.map((p) => p.metrics[def.key] ?? null);
  const counters = def.counter;
  const total = (p: HistoryPoint): number | undefined => {
    const values = counters.map((key) => p.metrics[key]);
    return values.some((v) => v === undefined) ? undefined : values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  };
  return points.map((point, i) => {
    const before = i > 0 ? points[i - 1] : undefined;
    const now = total(point);
    const then = before ? total(before) : undefined;
    if (!before || now === undefined || then === undefined || now < then || point.at <= before.at) return null;
    return ((now - then) / ((point.at - before.at) / 1000)) * (def.scale ?? 1);
  });
}

/** The step of each resolution, in ms: a longer silence between two points is drawn as a gap. */
export const STEP_MS: Readonly<Record<History['resolution'], number>> = { minute: 60_000, ten_minutes: 600_000 };

/**
 * uPlot's aligned data for some series: times in seconds, then each series' values, with a
 * `null` point put in every silence longer than a step and a half (a node that was down
 * shows as a break in the line, not as a straight line across the outage).
 */
export function chartData(points: readonly HistoryPoint[], defs: readonly StatDef[], stepMs: number): [number[], ...(number | null)[][]] {
  const values = defs.map((def) => seriesValues(points, def));
  const xs: number[] = [];
  const ys: (number | null)[][] = defs.map(() => []);
  points.forEach((point, i) => {
    const before = i > 0 ? points[i - 1] : undefined;
    if (before && point.at - before.at > 1.5 * stepMs) {
      xs.push((before.at + stepMs) / 1000);
      for (const series of ys) series.push(null);
    }
    xs.push(point.at / 1000);
    values.forEach((series, j) => ys[j].push(series[i]));
  });
  return [xs, ...ys];
}
