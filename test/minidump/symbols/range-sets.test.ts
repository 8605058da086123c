import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  ExclusiveRangeSet,
  NestedRangeSet,
  findExclusive,
  findNested,
} from '../../../src/minidump/symbols/range-sets.js';
import { GrowableColumn, stableOrder } from '../../../src/minidump/symbols/compact-arrays.js';

/** The obvious quadratic model of Breakpad's first-wins exclusive RangeMap. */
function modelExclusive(ranges: [number, number][]): (address: number) => number {
  const kept: { start: number; end: number; id: number }[] = [];
  ranges.forEach(([start, size], id) => {
    if (size <= 0) return;
    if (kept.some((k) => k.start < start + size && start < k.end)) return;
    kept.push({ start, end: start + size, id });
  });
  return (address) => kept.find((k) => k.start <= address && address < k.end)?.id ?? -1;
}

describe('ExclusiveRangeSet', () => {
  it('matches a simple model on random ranges in random order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3000), fc.nat(60)), { maxLength: 1500 }), (ranges) => {
        const set = new ExclusiveRangeSet();
        ranges.forEach(([start, size], id) => set.add(start, size, id));
        const frozen = set.freeze();
        const model = modelExclusive(ranges);
        for (let address = 0; address < 3100; address += 7) {
          const i = findExclusive(frozen, address);
          expect(i < 0 ? -1 : frozen.ids[i]).toBe(model(address));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('matches the model when a long sorted run (kept compactly) is followed by ranges out of order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2500 }), fc.array(fc.tuple(fc.nat(30_000), fc.nat(60)), { maxLength: 300 }), (sortedCount, rest) => {
        // Sorted, disjoint, some adjacent: the common shape of a dump_syms file's FUNC records.
        const sorted: [number, number][] = Array.from({ length: sortedCount }, (_, i) => [i * 12, 4 + (i % 9)]);
        const ranges = [...sorted, ...rest];
        const set = new ExclusiveRangeSet();
        ranges.forEach(([start, size], id) => set.add(start, size, id));
        const frozen = set.freeze();
        const model = modelExclusive(ranges);
        expect(set.size).toBe(frozen.starts.length);
        for (let address = 0; address < 30_100; address += 5) {
          const i = findExclusive(frozen, address);
          expect(i < 0 ? -1 : frozen.ids[i]).toBe(model(address));
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('GrowableColumn', () => {
  it('stores, updates and finishes values as it grows', () => {
    const n = 200_000; // many times the initial capacity
    const column = new GrowableColumn('f64');
    for (let i = 0; i < n; i++) column.push(i * 1.5);
    column.set(70_000, -1);
    expect(column.length).toBe(n);
    expect([column.get(0), column.get(65_535), column.get(65_536), column.get(70_000), column.get(n - 1)]).toEqual([0, 65_535 * 1.5, 65_536 * 1.5, -1, (n - 1) * 1.5]);
    const all = column.finish();
    expect(all).toBeInstanceOf(Float64Array);
    expect(all.length).toBe(n);
    expect(all[131_072]).toBe(131_072 * 1.5);
    expect(all[70_000]).toBe(-1);
    expect(Array.from(column.finish(Uint32Array.from([n - 1, 0, 65_536])))).toEqual([(n - 1) * 1.5, 0, 65_536 * 1.5]);
  });

  it('finishes a small column exactly, and an empty one as an empty array', () => {
    const column = new GrowableColumn('u32', 4);
    for (const v of [7, 8, 9, 10, 11]) column.push(v);
    expect(Array.from(column.finish())).toEqual([7, 8, 9, 10, 11]);
    expect(new GrowableColumn('u32').finish()).toEqual(new Uint32Array(0));
  });
});

describe('NestedRangeSet', () => {
  it('returns every range holding an address, innermost first', () => {
    const set = new NestedRangeSet(false);
    expect(set.add(10, 100, 0)).toBe(true);
    expect(set.add(20, 10, 1)).toBe(true);
    expect(set.add(0, 200, 2)).toBe(true); // encloses both: they become its children
    expect(set.add(22, 2, 3)).toBe(true);
    expect(set.add(25, 10, 4)).toBe(false); // partial overlap with [20, 30)
    expect(set.add(20, 10, 5)).toBe(false); // equal range, not allowed here
    const frozen = set.freeze();
    const ids = (address: number) => findNested(frozen, address).map((i) => frozen.ids[i]);
    expect(ids(23)).toEqual([3, 1, 0, 2]);
    expect(ids(27)).toEqual([1, 0, 2]);
    expect(ids(50)).toEqual([0, 2]);
    expect(ids(150)).toEqual([2]);
    expect(ids(300)).toEqual([]);
  });

  it('nests equal ranges when allowed, later inside earlier', () => {
    const set = new NestedRangeSet(true);
    set.add(10, 10, 0);
    set.add(10, 10, 1);
    const frozen = set.freeze();
    expect(findNested(frozen, 12).map((i) => frozen.ids[i])).toEqual([1, 0]);
  });

  it('survives deep nesting without recursion', () => {
    const set = new NestedRangeSet(false);
    for (let i = 0; i < 20000; i++) set.add(i, 100000 - 2 * i, i);
    const frozen = set.freeze();
    expect(findNested(frozen, 50000)).toHaveLength(20000);
  });
});

describe('stableOrder', () => {
  it('sorts by key and keeps file order among equal keys', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50)), (keys) => {
        const order = Array.from(stableOrder(Float64Array.from(keys), keys.length));
        const expected = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
        expect(order).toEqual(expected);
      }),
    );
  });

  it('sorts keys too large to pack with the index', () => {
    const keys = Float64Array.from([2 ** 52, 5, 2 ** 52, 1]);
    expect(Array.from(stableOrder(keys, 4))).toEqual([3, 1, 0, 2]);
  });
});
