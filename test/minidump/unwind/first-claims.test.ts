import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstClaims, type Range } from '../../../src/minidump/unwind/first-claims.js';
import { ModuleIndex } from '../../../src/minidump/unwind/modules.js';
import type { CodeModule } from '../../../src/minidump/contracts.js';

/** The rule as Breakpad's range map states it: each range against every range kept before it. */
function naive(ranges: readonly Range[]): boolean[] {
  const kept: Range[] = [];
  return ranges.map((r) => {
    if (kept.some((k) => r.start < k.end && k.start < r.end)) return false;
    kept.push(r);
    return true;
  });
}

const range = fc.tuple(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 1n, max: 20n })).map(([start, length]): Range => ({ start, end: start + length }));

function module(base: bigint, size: bigint, name = `m${base}`): CodeModule {
  return { base, size, codeFile: name, codeId: '', debugFile: name, debugId: '', version: '' };
}

describe('first claims of address ranges', () => {
  it('keeps exactly the ranges that overlap no range kept before them', () => {
    fc.assert(fc.property(fc.array(range, { maxLength: 60 }), (ranges) => {
      expect(firstClaims(ranges)).toEqual(naive(ranges));
    }), { numRuns: 2000 });
  });

  it('handles ranges that share end points, nest, and touch without overlapping', () => {
    const ranges = [
      { start: 10n, end: 20n },
      { start: 20n, end: 30n }, // touches: kept
      { start: 12n, end: 15n }, // nested in the first: dropped
      { start: 0n, end: 100n }, // covers both: dropped
      { start: 5n, end: 10n }, // touches the first from below: kept
      { start: 9n, end: 11n }, // overlaps two kept ones: dropped
    ];
    expect(firstClaims(ranges)).toEqual([true, true, false, false, true, false]);
  });

  it('indexes 100,000 modules listed from the highest address down in well under the time a check against every kept module takes', () => {
    const count = 100_000;
    const modules = Array.from({ length: count }, (_, i) => module(BigInt(count - i) * 0x10000n, 0x1000n));
    // Every other module also overlaps its predecessor's successor, so half are rejected.
    const overlapping = modules.map((m, i) => (i % 2 === 1 ? module(modules[i - 1].base + 0x800n, 0x1000n, 'late') : m));
    const started = performance.now();
    const index = new ModuleIndex(overlapping);
    // The pairwise check needs count² / 4 comparisons here, minutes; this takes well under a second.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(index.modules).toHaveLength(count / 2);
    expect(index.rejected).toHaveLength(count / 2);
    expect(index.rejected.every((m) => m.codeFile === 'late')).toBe(true);
    expect(index.find(modules[0].base + 4n)).toBe(modules[0]);
  });

  it('keeps Breakpad rules for empty and wrapping modules and the main module', () => {
    const main = module(0x1000n, 0x1000n, 'main');
    const empty = module(0x5000n, 0n, 'empty');
    const wrapping = module(0xffff_ffff_ffff_f000n, 0x2000n, 'wrapping');
    const top = module(0xffff_ffff_ffff_f000n, 0x1000n, 'top');
    const shadowed = module(0x1800n, 0x100n, 'shadowed');
    const index = new ModuleIndex([main, empty, wrapping, top, shadowed]);
    expect(index.main).toBe(main);
    expect(index.modules).toEqual([main, top]);
    expect(index.rejected).toEqual([empty, wrapping, shadowed]);
    expect(index.find(0xffff_ffff_ffff_ffffn)).toBe(top);
    expect(new ModuleIndex([shadowed, main]).main).toBe(shadowed);
  });
});
