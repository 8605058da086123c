import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PgOpsHistory } from '../../src/adapters/pg-ops-history.js';
import { SqliteOpsHistory } from '../../src/adapters/sqlite-ops-history.js';
import { finishedBefore, resolutionOf, rollupKind, rollupMetrics, rollupPoints } from '../../src/ports/ops-history.js';
import { opsHistoryContract } from './ops-history.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from './pg-support.js';

opsHistoryContract('SQLite', async (retention) => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-ops-history-'));
  const file = join(dir, 'mayday.sqlite');
  const history = SqliteOpsHistory.open(file, retention);
  return {
    history,
    openAnother: async () => SqliteOpsHistory.open(file, retention),
    dispose: async () => {
      await history.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

opsHistoryContract(
  'PostgreSQL',
  async (retention) => {
    const schema = freshSchema();
    const history = await PgOpsHistory.open({ connectionString: pgUrl, schema, ...retention });
    return {
      history,
      openAnother: () => PgOpsHistory.open({ connectionString: pgUrl, schema, ...retention }),
      dispose: async () => {
        await history.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);

describe('ops history semantics (the port’s pure part)', () => {
  it('tells peaks and high quantiles (max) and minimums (min) from the rest (mean) by the words of their names', () => {
    expect(['processing_time_p95_ms', 'web_latency_p99_ms', 'x_p999', 'queue_depth_max', 'max_lag_ms'].map(rollupKind)).toEqual(['max', 'max', 'max', 'max', 'max']);
    expect(['free_bytes_min', 'min'].map(rollupKind)).toEqual(['min', 'min']);
    // `p50` is averaged; `maximum` or `p95ish` are not the word `max` or `p95`.
    expect(['processing_time_p50_ms', 'cpu_percent', 'maximum_bytes', 'p95ish', 'minutes_up'].map(rollupKind)).toEqual(['mean', 'mean', 'mean', 'mean', 'mean']);
  });

  it('rolls nothing up from nothing, and groups by component and bucket', () => {
    expect(rollupMetrics([])).toEqual({});
    expect(rollupPoints([])).toEqual([]);
    expect(
      rollupPoints([
        { component: 'a', at: 0, metrics: { v: 1 } },
        { component: 'a', at: 540_000, metrics: { v: 3 } },
        { component: 'a', at: 600_000, metrics: { v: 5 } },
        { component: 'b', at: 600_000, metrics: { v: 7 } },
      ]),
    ).toEqual([
      { component: 'a', at: 0, metrics: { v: 2 } },
      { component: 'a', at: 600_000, metrics: { v: 5 } },
      { component: 'b', at: 600_000, metrics: { v: 7 } },
    ]);
  });

  it('finishes a bucket a minute of grace after its end', () => {
    expect(finishedBefore(1_200_000 + 59_999)).toBe(600_000);
    expect(finishedBefore(1_200_000 + 60_000)).toBe(1_200_000);
  });

  it('uses the clock for `auto` when no `now` is given', () => {
    expect(resolutionOf({ resolution: 'auto', from: Date.now() - 3_600_000, to: Date.now() })).toBe('minute');
    expect(resolutionOf({ resolution: 'auto', from: 0, to: Date.now() })).toBe('ten_minutes');
  });

  it('answers "the last 24 h" asked a moment earlier, or on a clock a little behind, in minute points', () => {
    const now = 1_800_000_000_000;
    const day = 24 * 3_600_000;
    expect(resolutionOf({ resolution: 'auto', from: now - day - 40, to: now - 40, now })).toBe('minute');
    expect(resolutionOf({ resolution: 'auto', from: now - day - 4 * 60_000, to: now, now })).toBe('minute');
    expect(resolutionOf({ resolution: 'auto', from: now - day - 6 * 60_000, to: now, now })).toBe('ten_minutes');
    expect(resolutionOf({ resolution: 'auto', from: now - 7 * day, to: now, now })).toBe('ten_minutes');
  });
});
