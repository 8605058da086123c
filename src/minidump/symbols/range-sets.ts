/**
 * The two range containers Breakpad's resolver is built on, reproduced for their
 * *acceptance rules*, which decide what a lookup finds when a symbol file has duplicate or
 * overlapping records:
 *
 * - `ExclusiveRangeSet` is `RangeMap` (FUNC records, line records, `STACK CFI INIT`):
 *   ranges may not overlap; in file order the first one wins and any later range that
 *   overlaps an accepted one is dropped. Empty ranges and ranges that wrap are dropped.
 * - `NestedRangeSet` is `ContainedRangeMap` (`STACK WIN` per type, `INLINE` ranges):
 *   ranges may nest but not partially overlap; a later range that partially overlaps an
 *   accepted one is dropped. An identical range is dropped, or, where equal ranges are
 *   allowed (inlines), nests inside the earlier one. A lookup finds the innermost.
 *
 * Both are built in file order and then frozen into sorted typed arrays.
 */

import { GrowableColumn } from './compact-arrays.js';
import { MAX_SAFE_ADDRESS } from './record-cursor.js';

/** Entries per chunk of the exclusive set's sorted list; keeps out-of-order inserts cheap. */
const CHUNK = 512;

interface Chunk {
  starts: number[];
  ends: number[];
  ids: number[];
}

/** Sorted, disjoint ranges `[start, end)` with an id each; the frozen form of either set. */
export interface FrozenRanges {
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly ids: Uint32Array;
}

/** Index of the last range whose start is <= `address`, or -1. */
export function lastStartAtOrBefore(starts: Float64Array, address: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Whether `[start, start + size)` is a storable range (Breakpad rejects empty and wrapping ones). */
export function isStorableRange(start: number, size: number): boolean {
  return size > 0 && start + size - 1 <= MAX_SAFE_ADDRESS;
}

/**
 * Ranges kept in typed columns while every one so far arrived in address order, the usual
 * case for FUNC records (dump_syms sorts them; its CFI follows the unwind tables' order and
 * often is not sorted): 20 bytes a range, where the chunked JS arrays take 24 plus their
 * spare capacity. On a 200 MB file this cut the parse's peak memory by about 25 MB.
 */
interface SortedColumns {
  readonly starts: GrowableColumn<'f64'>;
  readonly ends: GrowableColumn<'f64'>;
  readonly ids: GrowableColumn<'u32'>;
}

export class ExclusiveRangeSet {
  /** Every range so far, while they came sorted; undefined once one did not. */
  private sorted: SortedColumns | undefined = {
    starts: new GrowableColumn('f64'),
    ends: new GrowableColumn('f64'),
    ids: new GrowableColumn('u32'),
  };
  /** Every range, in sorted chunks, once one came out of order. */
  private chunks: Chunk[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Store `[start, start + size)` unless it is empty or overlaps a stored range. */
  add(start: number, size: number, id: number): boolean {
    if (!isStorableRange(start, size)) return false;
    const end = start + size;
    const sorted = this.sorted;
    if (sorted) {
      const n = sorted.ends.length;
      if (n === 0 || sorted.ends.get(n - 1) <= start) {
        sorted.starts.push(start);
        sorted.ends.push(end);
        sorted.ids.push(id);
        this.count++;
        return true;
      }
      this.chunks = toChunks(sorted);
      this.sorted = undefined;
    }
    const chunks = this.chunks;
    const last = chunks[chunks.length - 1];
    // Fast path: symbol files are almost always sorted, so most ranges go at the end.
    if (last.ends.length === 0 || last.ends[last.ends.length - 1] <= start) {
      this.insertAt(chunks.length - 1, last.ends.length, start, end, id);
      return true;
    }
    // First chunk whose last range ends after `start`: the only one that can hold an
    // overlapping range or the insertion point (ends are sorted since ranges are disjoint).
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid];
      if (c.ends.length > 0 && c.ends[c.ends.length - 1] > start) hi = mid;
      else lo = mid + 1;
    }
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.ends.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (chunk.ends[mid] > start) b = mid;
      else a = mid + 1;
    }
    // chunk.ends[a] > start; it overlaps unless it begins at or after our end.
    if (a < chunk.ends.length && chunk.starts[a] < end) return false;
    this.insertAt(lo, a, start, end, id);
    return true;
  }

  private insertAt(chunkIndex: number, at: number, start: number, end: number, id: number): void {
    const chunk = this.chunks[chunkIndex];
    if (at === chunk.starts.length) {
      chunk.starts.push(start);
      chunk.ends.push(end);
      chunk.ids.push(id);
    } else {
      chunk.starts.splice(at, 0, start);
      chunk.ends.splice(at, 0, end);
      chunk.ids.splice(at, 0, id);
    }
    this.count++;
    if (chunk.starts.length >= 2 * CHUNK) {
      const tail: Chunk = {
        starts: chunk.starts.splice(CHUNK),
        ends: chunk.ends.splice(CHUNK),
        ids: chunk.ids.splice(CHUNK),
      };
      this.chunks.splice(chunkIndex + 1, 0, tail);
    }
  }

  freeze(): FrozenRanges {
    if (this.sorted) return { starts: this.sorted.starts.finish(), ends: this.sorted.ends.finish(), ids: this.sorted.ids.finish() };
    const starts = new Float64Array(this.count);
    const ends = new Float64Array(this.count);
    const ids = new Uint32Array(this.count);
    let i = 0;
    for (const chunk of this.chunks) {
      for (let j = 0; j < chunk.starts.length; j++, i++) {
        starts[i] = chunk.starts[j];
        ends[i] = chunk.ends[j];
        ids[i] = chunk.ids[j];
      }
    }
    return { starts, ends, ids };
  }
}

/** The sorted columns as chunks of `CHUNK` ranges (at least one chunk, maybe empty). */
function toChunks(sorted: SortedColumns): Chunk[] {
  const chunks: Chunk[] = [];
  const n = sorted.starts.length;
  for (let from = 0; from < n || chunks.length === 0; from += CHUNK) {
    const chunk: Chunk = { starts: [], ends: [], ids: [] };
    for (let i = from; i < Math.min(n, from + CHUNK); i++) {
      chunk.starts.push(sorted.starts.get(i));
      chunk.ends.push(sorted.ends.get(i));
      chunk.ids.push(sorted.ids.get(i));
    }
    chunks.push(chunk);
  }
  return chunks;
}

/** Index of the range in a frozen exclusive set that holds `address`, or -1. */
export function findExclusive(ranges: FrozenRanges, address: number): number {
  const i = lastStartAtOrBefore(ranges.starts, address);
  return i >= 0 && address < ranges.ends[i] ? i : -1;
}

interface NestNode {
  start: number;
  end: number;
  id: number;
  children: NestNode[];
}

/** Nested ranges flattened in pre-order (sorted by start, outer before inner). */
export interface FrozenNestedRanges extends FrozenRanges {
  /** Index of the enclosing range, or -1 at the top level. */
  readonly parents: Int32Array;
}

export class NestedRangeSet {
  private readonly root: NestNode[] = [];
  private count = 0;

  constructor(private readonly allowEqualRanges: boolean) {}

  get size(): number {
    return this.count;
  }

  /** Store `[start, start + size)` unless empty, partially overlapping, or a forbidden duplicate. */
  add(start: number, size: number, id: number): boolean {
    if (!isStorableRange(start, size)) return false;
    const end = start + size;
    let siblings = this.root;
    for (;;) {
      // Siblings are disjoint and sorted: find those that intersect [start, end).
      let lo = 0;
      let hi = siblings.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (siblings[mid].end > start) hi = mid;
        else lo = mid + 1;
      }
      let stop = lo;
      while (stop < siblings.length && siblings[stop].start < end) stop++;
      if (stop - lo === 1) {
        const only = siblings[lo];
        if (only.start <= start && end <= only.end) {
          const equal = only.start === start && only.end === end;
          if (equal && !this.allowEqualRanges) return false;
          siblings = only.children; // descend: the new range nests inside `only`
          continue;
        }
      }
      for (let i = lo; i < stop; i++) {
        if (siblings[i].start < start || siblings[i].end > end) return false; // partial overlap
      }
      const node: NestNode = { start, end, id, children: [] };
      node.children = siblings.splice(lo, stop - lo, node);
      this.count++;
      return true;
    }
  }

  freeze(): FrozenNestedRanges {
    const starts = new Float64Array(this.count);
    const ends = new Float64Array(this.count);
    const ids = new Uint32Array(this.count);
    const parents = new Int32Array(this.count);
    let next = 0;
    // Iterative pre-order walk: a hostile file could nest deeper than the call stack.
    const stack: { nodes: NestNode[]; index: number; parent: number }[] = [
      { nodes: this.root, index: 0, parent: -1 },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.index >= top.nodes.length) {
        stack.pop();
        continue;
      }
      const node = top.nodes[top.index++];
      const self = next++;
      starts[self] = node.start;
      ends[self] = node.end;
      ids[self] = node.id;
      parents[self] = top.parent;
      if (node.children.length > 0) stack.push({ nodes: node.children, index: 0, parent: self });
    }
    return { starts, ends, ids, parents };
  }
}

/**
 * Indices of the ranges holding `address`, innermost first (Breakpad's
 * `ContainedRangeMap::RetrieveRanges`). In a laminar family sorted by start, every range
 * holding the address encloses the last range starting at or before it, so the answer
 * is found by climbing that range's parents.
 */
export function findNested(ranges: FrozenNestedRanges, address: number): number[] {
  const found: number[] = [];
  let i = lastStartAtOrBefore(ranges.starts, address);
  while (i >= 0 && address >= ranges.ends[i]) i = ranges.parents[i];
  for (; i >= 0; i = ranges.parents[i]) found.push(i);
  return found;
}
