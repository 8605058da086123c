import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  ExclusiveRangeSet,
  NestedRangeSet,
  findExclusive,
  findNested,
} from '../../../src/minidump/symbols/range-sets.js';
import { stableOrder } from '../../../src/minidump/symbols/compact-arrays.js';

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
