import { describe, expect, it } from 'vitest';
import { DAYS_PER_WEEK, ROLLUPS, SIGNATURE_PLATFORM_DAILY, SIGNATURE_PLATFORM_WEEKLY, rollupDeltas, rollupValue, type DailyKey } from '../../src/adapters/crash-index-layout.js';

const key = (overrides: Partial<DailyKey>): DailyKey => ({ day: 20_100, product: 'P', version: '1.0', os_name: 'Linux', process_type: 'parent', signature: 's', cpu_arch: 'amd64', reason: 'SIGSEGV', ...overrides });

describe('crash index rollups', () => {
  it('derives the week from the day, epoch-aligned', () => {
    expect(rollupValue(key({ day: 20_100 }), 'week')).toBe(Math.floor(20_100 / DAYS_PER_WEEK));
    expect(rollupValue(key({ day: 14 }), 'week')).toBe(2);
    expect(rollupValue(key({ day: 13 }), 'week')).toBe(1);
    expect(rollupValue(key({ os_name: 'Mac OS X' }), 'os_name')).toBe('Mac OS X');
  });

  it('sums daily deltas into rollup rows and drops those that cancel out', () => {
    const deltas = [
      // A crash reprocessed into another version: its platform row does not change.
      { key: key({ version: '1.0' }), delta: -1 },
      { key: key({ version: '2.0' }), delta: +1 },
      // Two new crashes on two days of one week, on another platform.
      { key: key({ day: 14, os_name: 'Windows NT' }), delta: +1 },
      { key: key({ day: 15, os_name: 'Windows NT' }), delta: +2 },
    ];
    expect(rollupDeltas(SIGNATURE_PLATFORM_DAILY, deltas)).toEqual([
      { values: ['P', 14, 's', 'Windows NT'], delta: 1 },
      { values: ['P', 15, 's', 'Windows NT'], delta: 2 },
    ]);
    expect(rollupDeltas(SIGNATURE_PLATFORM_WEEKLY, deltas)).toEqual([{ values: ['P', 2, 's', 'Windows NT'], delta: 3 }]);
  });

  it('orders rollup rows by key, so concurrent writers lock them in the same order', () => {
    const deltas = ['c', 'a', 'b'].map((signature) => ({ key: key({ signature }), delta: 1 }));
    for (const rollup of ROLLUPS) {
      const ids = rollupDeltas(rollup, deltas).map((d) => JSON.stringify(d.values));
      expect(ids).toEqual([...ids].sort());
    }
    expect(rollupDeltas(SIGNATURE_PLATFORM_DAILY, deltas).map((d) => d.values[2])).toEqual(['a', 'b', 'c']);
  });
});
