import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WindowQuantiles } from '../../src/common/window-quantiles.js';

/** The nearest-rank quantile of the values, exactly. */
function exact(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

describe('window quantiles', () => {
  it('reads zeros for an empty window', () => {
    expect(new WindowQuantiles().read()).toEqual({ count: 0, max: 0, p50: 0, p95: 0, p99: 0 });
  });

  it('reads one value back exactly', () => {
    const window = new WindowQuantiles();
    window.record(12.5);
    expect(window.read()).toEqual({ count: 1, max: 12.5, p50: 12.5, p95: 12.5, p99: 12.5 });
  });

  it('gives p50 and p95 of 1..1000 within 2%', () => {
    const window = new WindowQuantiles();
    for (let v = 1; v <= 1000; v++) window.record(v);
    const { count, p50, p95, max } = window.read();
    expect(count).toBe(1000);
    expect(max).toBe(1000);
    expect(Math.abs(p50 - 500) / 500).toBeLessThan(0.02);
    expect(Math.abs(p95 - 950) / 950).toBeLessThan(0.02);
  });

  it('starts a new window on each read', () => {
    const window = new WindowQuantiles();
    for (let i = 0; i < 100; i++) window.record(1000);
    window.read();
    window.record(3);
    expect(window.read()).toMatchObject({ count: 1, p50: 3, p95: 3, max: 3 });
  });

  it('counts zero and negative values as 0, ignores NaN, and keeps huge values in the last bucket', () => {
    const window = new WindowQuantiles();
    window.record(0);
    window.record(-5);
    window.record(Number.NaN);
    window.record(1e12);
    const summary = window.read();
    expect(summary.count).toBe(3);
    expect(summary.p50).toBe(0.001);
    expect(summary.max).toBe(1e12);
    expect(summary.p99).toBeGreaterThan(1e6);
  });

  it('is within 2% of the exact quantile for any values in its range', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const window = new WindowQuantiles();
        for (const v of values) window.record(v);
        const summary = window.read();
        for (const [q, got] of [[0.5, summary.p50], [0.95, summary.p95], [0.99, summary.p99]] as const) {
          const want = exact(values, q);
          expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.021);
        }
      }),
    );
  });

  it('records a million values in bounded time and memory', () => {
    const window = new WindowQuantiles();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) window.record((i % 5000) / 10);
    const tookMs = performance.now() - started;
    expect(window.read().count).toBe(1_000_000);
    // Nothing kept per value: the heap does not grow with the values (a few MB of slack for the runtime).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 2 ** 20);
    expect(tookMs).toBeLessThan(1000);
  });
});
