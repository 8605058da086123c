import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AUTO_RANGE_SLACK_MS,
  DEFAULT_MINUTE_RETENTION_MS,
  DEFAULT_TEN_MINUTE_RETENTION_MS,
  TEN_MINUTES_MS,
  type HistoryPoint,
  type OpsHistoryRetention,
  type OpsHistoryStore,
} from '../../src/ports/ops-history.js';

/**
 * The Operations Dashboard history contract: every adapter (SQLite, PostgreSQL) must pass
 * exactly these tests, so that the dashboard's charts mean the same on either database.
 * Times are fixed (a multiple of ten minutes), not the clock: the store takes `now` from
 * its caller.
 */

export interface OpsHistorySubject {
  history: OpsHistoryStore;
  /** Another store on the same database: another web node's view. */
  openAnother(): Promise<OpsHistoryStore>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function point(component: string, at: number, metrics: Record<string, number>): HistoryPoint {
  return { component, at, metrics };
}

export function opsHistoryContract(name: string, open: (retention?: OpsHistoryRetention) => Promise<OpsHistorySubject>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`ops history contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let subject: OpsHistorySubject;
    let history: OpsHistoryStore;
    beforeEach(async () => {
      subject = await open();
      history = subject.history;
    });
    afterEach(async () => {
      await subject?.dispose();
    });

    it('answers recorded minute points by component (byte order) then time, `at` rounded down to the minute', async () => {
      const base = NOW - HOUR;
      await history.record([
        point('web', base + MIN + 12_345, { rss_bytes: 123_456_789, cpu_percent: 12.5 }),
        point('queue:standard', base, { waiting: 3, in_flight: 1, oldest_age_seconds: 42 }),
        point('Proc', base + MIN, { processed_per_second: 0.25 }),
        point('web', base, { rss_bytes: 100, cpu_percent: 1 }),
        point('_edge', base, { up: 1 }),
      ]);
      const answer = await history.query({ from: base, to: NOW, resolution: 'minute' });
      expect(answer.resolution).toBe('minute');
      expect(answer.stepMs).toBe(MIN);
      expect(answer.points.map((p) => [p.component, p.at - base])).toEqual([
        ['Proc', MIN],
        ['_edge', 0],
        ['queue:standard', 0],
        ['web', 0],
        ['web', MIN],
      ]);
      expect(answer.points[4]!.metrics).toEqual({ rss_bytes: 123_456_789, cpu_percent: 12.5 });
      expect(answer.points[2]!.metrics).toEqual({ waiting: 3, in_flight: 1, oldest_age_seconds: 42 });
      expect(await history.components()).toEqual(['Proc', '_edge', 'queue:standard', 'web']);
    });

    it('keeps integers exactly, fractions to 6 significant digits, and drops values that are not finite', async () => {
      await history.record([point('n', NOW, { bytes: 9_007_199_254_740_000, ratio: 1 / 3, tiny: 1.23456789e-7, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, negative: -2.5 })]);
      const [only] = (await history.query({ from: NOW, to: NOW, resolution: 'minute' })).points;
      expect(only!.metrics).toEqual({ bytes: 9_007_199_254_740_000, ratio: 0.333333, tiny: 1.23457e-7, negative: -2.5 });
    });

    it('is idempotent per component and minute: the first point recorded stands', async () => {
      await history.record([point('a', NOW, { v: 1 }), point('a', NOW + 30_000, { v: 2 }), point('b', NOW, { v: 3 })]);
      // A second web node recording the same minute.
      const other = await subject.openAnother();
      try {
        await other.record([point('a', NOW + 59_999, { v: 99 }), point('a', NOW + MIN, { v: 4 })]);
      } finally {
        await other.close();
      }
      const points = (await history.query({ from: NOW - HOUR, to: NOW + HOUR, resolution: 'minute' })).points;
      expect(points.map((p) => [p.component, p.at - NOW, p.metrics.v])).toEqual([
        ['a', 0, 1],
        ['a', MIN, 4],
        ['b', 0, 3],
      ]);
      await history.record([]);
    });

    it('answers a range with both ends included', async () => {
      await history.record([0, 1, 2, 3, 4].map((i) => point('a', NOW + i * MIN, { i })));
      const points = (await history.query({ from: NOW + MIN, to: NOW + 3 * MIN, resolution: 'minute' })).points;
      expect(points.map((p) => p.metrics.i)).toEqual([1, 2, 3]);
      expect((await history.query({ from: NOW + 3 * MIN, to: NOW + MIN, resolution: 'minute' })).points).toEqual([]);
    });

    it('answers only the components asked for, in byte order whatever the order asked', async () => {
      await history.record(['c', 'a', 'b', 'queue:standard'].map((c) => point(c, NOW, { v: c.length })));
      const q = (components?: string[]) => history.query({ components, from: NOW, to: NOW, resolution: 'minute' });
      expect((await q(['queue:standard', 'a'])).points.map((p) => p.component)).toEqual(['a', 'queue:standard']);
      expect((await q(['b', 'b'])).points.map((p) => p.component)).toEqual(['b']);
      expect((await q(['nobody'])).points).toEqual([]);
      expect((await q([])).points).toEqual([]);
      expect((await q()).points.map((p) => p.component)).toEqual(['a', 'b', 'c', 'queue:standard']);
    });

    it('answers only the metrics asked for, leaving out those a point lacks', async () => {
      await history.record([point('a', NOW, { cpu_percent: 5, rss_bytes: 10, 'odd.name:x-1': 7 }), point('a', NOW + MIN, { rss_bytes: 20 })]);
      const points = (await history.query({ from: NOW, to: NOW + MIN, resolution: 'minute', metrics: ['cpu_percent', 'odd.name:x-1'] })).points;
      expect(points.map((p) => p.metrics)).toEqual([{ cpu_percent: 5, 'odd.name:x-1': 7 }, {}]);
      await expect(history.query({ from: NOW, to: NOW, resolution: 'minute', metrics: ['a"); DROP TABLE x; --'] })).rejects.toThrow(/invalid history metric name/);
    });

    it('chooses the resolution for `auto`: minutes for a range starting within the last 24 h (and a few minutes of slack), else ten minutes', async () => {
      const q = (from: number, resolution: 'auto' | 'minute' | 'ten_minutes' = 'auto') => history.query({ from, to: NOW, resolution, now: NOW });
      expect((await q(NOW - HOUR)).resolution).toBe('minute');
      expect((await q(NOW - DAY)).resolution).toBe('minute');
      expect((await q(NOW - DAY - AUTO_RANGE_SLACK_MS)).resolution).toBe('minute');
      expect((await q(NOW - DAY - AUTO_RANGE_SLACK_MS - 1)).resolution).toBe('ten_minutes');
      expect((await q(NOW - 7 * DAY)).stepMs).toBe(TEN_MINUTES_MS);
      expect((await q(NOW - 7 * DAY, 'minute')).resolution).toBe('minute');
      expect((await q(NOW - HOUR, 'ten_minutes')).resolution).toBe('ten_minutes');
      await expect(history.query({ from: 0, to: 1, resolution: 'hourly' as 'auto' })).rejects.toThrow(/unknown history resolution/);
      await expect(history.query({ from: Number.NaN, to: NOW, resolution: 'minute' })).rejects.toThrow(/whole ms/);
      await expect(history.query({ from: 0, to: NOW + 0.5, resolution: 'auto' })).rejects.toThrow(/whole ms/);
    });

    it('rolls finished ten-minute buckets up: the mean of each metric, the max of peaks and high quantiles, the min of minimums', async () => {
      const bucket = NOW - 2 * TEN_MINUTES_MS;
      const minutes = Array.from({ length: 10 }, (_, i) =>
        point('p', bucket + i * MIN, {
          cpu_percent: i + 1, // mean 5.5
          processing_time_p95_ms: [3, 9, 4, 1, 1, 1, 2, 2, 2, 2][i]!,
          processing_time_p50_ms: 10 * (i + 1), // a median is averaged: 55
          queue_depth_max: 10 - i,
          free_bytes_min: 100 + i,
          // Present in two minutes only: averaged over those two.
          ...(i === 2 || i === 7 ? { restarts: i } : {}),
        }),
      );
      // Some minutes missing altogether in the next bucket: a mean of those present.
      const next = [point('p', bucket + TEN_MINUTES_MS, { cpu_percent: 1 }), point('p', bucket + TEN_MINUTES_MS + 5 * MIN, { cpu_percent: 2 })];
      const other = [point('q', bucket + 3 * MIN, { waiting: 7 })];
      await history.record([...minutes, ...next, ...other]);
      const result = await history.rollup(NOW + MIN);
      expect(result).toEqual({ rolledUp: 3, prunedMinute: 0, prunedTenMinutes: 0 });
      const answer = await history.query({ from: bucket - HOUR, to: NOW + HOUR, resolution: 'ten_minutes' });
      expect(answer.stepMs).toBe(TEN_MINUTES_MS);
      expect(answer.points).toEqual([
        point('p', bucket, { cpu_percent: 5.5, processing_time_p95_ms: 9, processing_time_p50_ms: 55, queue_depth_max: 10, free_bytes_min: 100, restarts: 4.5 }),
        point('p', bucket + TEN_MINUTES_MS, { cpu_percent: 1.5 }),
        point('q', bucket, { waiting: 7 }),
      ]);
      // The minute points stay, for the last day's charts.
      expect((await history.query({ from: bucket, to: NOW, resolution: 'minute' })).points).toHaveLength(13);
    });

    it('rolls a bucket up once, only after it ended and a minute of grace passed, and never adds a late minute to it', async () => {
      const bucket = NOW;
      await history.record([point('p', bucket, { v: 1 }), point('p', bucket + 9 * MIN, { v: 3 })]);
      // The bucket ends at NOW + 10 min; its last minute may still be being written for a minute.
      expect((await history.rollup(bucket + 9 * MIN + 59_999)).rolledUp).toBe(0);
      expect((await history.rollup(bucket + TEN_MINUTES_MS + 59_999)).rolledUp).toBe(0);
      expect((await history.rollup(bucket + TEN_MINUTES_MS + MIN)).rolledUp).toBe(1);
      expect((await history.rollup(bucket + TEN_MINUTES_MS + 2 * MIN)).rolledUp).toBe(0);
      await history.record([point('p', bucket + 5 * MIN, { v: 100 })]);
      expect((await history.rollup(bucket + 3 * TEN_MINUTES_MS)).rolledUp).toBe(0);
      const points = (await history.query({ from: bucket, to: bucket + HOUR, resolution: 'ten_minutes' })).points;
      expect(points).toEqual([point('p', bucket, { v: 2 })]);
      // Kept at minute resolution all the same.
      expect((await history.query({ from: bucket, to: bucket + HOUR, resolution: 'minute' })).points.map((p) => p.metrics.v)).toEqual([1, 100, 3]);
    });

    it('rolls each bucket up once when two nodes run the rollup together', async () => {
      const other = await subject.openAnother();
      try {
        const start = NOW - 6 * TEN_MINUTES_MS;
        await history.record(['a', 'b', 'c'].flatMap((c) => Array.from({ length: 60 }, (_, i) => point(c, start + i * MIN, { i }))));
        const results = await Promise.all([history.rollup(NOW + MIN), other.rollup(NOW + MIN), history.rollup(NOW + MIN)]);
        expect(results.reduce((sum, r) => sum + r.rolledUp, 0)).toBe(18);
        const points = (await other.query({ from: start, to: NOW, resolution: 'ten_minutes' })).points;
        expect(points).toHaveLength(18);
        expect(points.filter((p) => p.component === 'b').map((p) => p.metrics.i)).toEqual([4.5, 14.5, 24.5, 34.5, 44.5, 54.5]);
      } finally {
        await other.close();
      }
    });

    it('prunes minute points older than 26 h and ten-minute points older than 8 days, the boundary kept', async () => {
      expect(DEFAULT_MINUTE_RETENTION_MS).toBe(26 * HOUR);
      expect(DEFAULT_TEN_MINUTE_RETENTION_MS).toBe(8 * DAY);
      const minuteCut = NOW - 26 * HOUR;
      const tenCut = NOW - 8 * DAY;
      await history.record([
        point('old', tenCut - TEN_MINUTES_MS, { v: 1 }),
        point('old', tenCut, { v: 2 }),
        point('old', minuteCut - MIN, { v: 3 }),
        point('old', minuteCut, { v: 4 }),
        point('old', NOW, { v: 5 }),
      ]);
      // Minute points are rolled up before they are pruned, however late the rollup runs.
      const result = await history.rollup(NOW);
      expect(result).toEqual({ rolledUp: 4, prunedMinute: 3, prunedTenMinutes: 1 });
      expect((await history.query({ from: 0, to: NOW, resolution: 'minute' })).points.map((p) => p.metrics.v)).toEqual([4, 5]);
      expect((await history.query({ from: 0, to: NOW, resolution: 'ten_minutes' })).points.map((p) => [p.at, p.metrics.v])).toEqual([
        [tenCut, 2],
        [minuteCut - TEN_MINUTES_MS, 3],
        [minuteCut, 4],
      ]);
      expect((await history.rollup(NOW)).prunedMinute + (await history.rollup(NOW)).prunedTenMinutes).toBe(0);
    });

    it('forgets a component once its last point is past the ten-minute retention', async () => {
      await history.record([point('gone', NOW - 9 * DAY, { v: 1 }), point('here', NOW - 8 * DAY, { v: 1 })]);
      expect(await history.components()).toEqual(['gone', 'here']);
      await history.rollup(NOW);
      expect(await history.components()).toEqual(['here']);
      expect((await history.query({ from: 0, to: NOW, resolution: 'ten_minutes' })).points.map((p) => p.component)).toEqual(['here']);
      // A component that comes back starts again.
      await history.record([point('gone', NOW, { v: 2 })]);
      expect(await history.components()).toEqual(['gone', 'here']);
      expect((await history.rollup(NOW + TEN_MINUTES_MS + MIN)).rolledUp).toBe(1);
    });

    it('answers a week of ten-minute points of 50 components', async () => {
      const start = NOW - 7 * DAY;
      const components = Array.from({ length: 50 }, (_, i) => `processor-${String(i).padStart(2, '0')}`);
      const stats = (i: number, c: number) => ({ cpu_percent: (i % 100) + c / 100, rss_bytes: 200_000_000 + i, processed_per_second: c, processing_time_p95_ms: 250 });
      // One minute point per bucket is enough to make each bucket's ten-minute point.
      const buckets = (7 * DAY) / TEN_MINUTES_MS;
      for (let first = 0; first < buckets; first += 100) {
        const batch: HistoryPoint[] = [];
        for (let i = first; i < Math.min(buckets, first + 100); i++) components.forEach((c, n) => batch.push(point(c, start + i * TEN_MINUTES_MS, stats(i, n))));
        await history.record(batch);
      }
      const rolled = await history.rollup(NOW + MIN);
      expect(rolled.rolledUp).toBe(50 * buckets);
      const all = await history.query({ from: start, to: NOW, resolution: 'auto', now: NOW });
      expect(all.resolution).toBe('ten_minutes');
      expect(all.points).toHaveLength(50 * buckets);
      const one = await history.query({ components: ['processor-07'], from: start, to: NOW, resolution: 'auto', now: NOW });
      expect(one.points).toHaveLength(buckets);
      expect(one.points[5]).toEqual(point('processor-07', start + 5 * TEN_MINUTES_MS, stats(5, 7)));
      const slim = await history.query({ from: start, to: NOW, resolution: 'ten_minutes', metrics: ['cpu_percent'] });
      expect(slim.points).toHaveLength(50 * buckets);
      expect(Object.keys(slim.points[0]!.metrics)).toEqual(['cpu_percent']);
    });

    it('keeps custom retentions', async () => {
      const custom = await open({ minuteRetentionMs: HOUR, tenMinuteRetentionMs: DAY });
      try {
        await custom.history.record([point('a', NOW - HOUR - MIN, { v: 1 }), point('a', NOW - HOUR, { v: 2 }), point('a', NOW - DAY - TEN_MINUTES_MS, { v: 3 })]);
        // Three buckets rolled up (each point's), then two minute points and one ten-minute point pruned.
        expect(await custom.history.rollup(NOW)).toEqual({ rolledUp: 3, prunedMinute: 2, prunedTenMinutes: 1 });
      } finally {
        await custom.dispose();
      }
    });

    it('answers its health check, and closing twice is harmless', async () => {
      await history.check();
      await history.close();
      await history.close();
    });
  });
}
