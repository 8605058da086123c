/**
 * Numbered names (`FILE n name`, `INLINE_ORIGIN n name`) as byte ranges into the symbol
 * file. Numbers are nearly always dense (0, 1, 2, ...), so they index two typed arrays;
 * the odd far-out number goes to a Map so that `FILE 4000000000 x` cannot make us
 * allocate gigabytes. The first definition of a number wins, as in Breakpad's `std::map`.
 */

import { GrowableColumn } from './compact-arrays.js';

const ABSENT = 0xffffffff;

export interface FrozenIdTable {
  /** Byte range [start, end) of the name for `id`, or undefined. */
  get(id: number): readonly [number, number] | undefined;
  readonly retainedBytes: number;
}

export class IdTable {
  private readonly starts = new GrowableColumn('u32');
  private readonly ends = new GrowableColumn('u32');
  private readonly sparse = new Map<number, readonly [number, number]>();

  /** Define `id` unless already defined; false for a duplicate. */
  add(id: number, start: number, end: number): boolean {
    if (this.sparse.size > 0 && this.sparse.has(id)) return false;
    if (id < this.starts.length) {
      if (this.ends.get(id) !== ABSENT) return false;
      this.starts.set(id, start);
      this.ends.set(id, end);
      return true;
    }
    // Grow the dense part only for ids reasonably close to the ones seen so far.
    if (id <= this.starts.length * 2 + 1024) {
      while (this.starts.length < id) {
        this.starts.push(0);
        this.ends.push(ABSENT);
      }
      this.starts.push(start);
      this.ends.push(end);
      return true;
    }
    this.sparse.set(id, [start, end]);
    return true;
  }

  freeze(): FrozenIdTable {
    const starts = this.starts.finish();
    const ends = this.ends.finish();
    const sparse = this.sparse;
    return {
      get(id: number) {
        if (id >= 0 && id < starts.length && ends[id] !== ABSENT) return [starts[id], ends[id]];
        return sparse.get(id);
      },
      retainedBytes: starts.byteLength + ends.byteLength + sparse.size * 64,
    };
  }
}
