/**
 * Which of a list of address ranges are first to claim their addresses: a range is kept
 * unless it overlaps a range kept before it (in list order). This is the rule of
 * Breakpad's range map for modules, where a later overlapping module is dropped.
 *
 * Checking each range against every kept one costs ranges² (seconds for the 20,000 modules
 * a 2 MB dump holds); this answers in ranges × log(ranges) with a segment tree over the
 * ranges' own end points: each elementary interval between two consecutive end points is
 * either claimed or not, and a range is free when none of the intervals it spans is.
 */
export interface Range {
  readonly start: bigint;
  /** Exclusive; greater than `start`. */
  readonly end: bigint;
}

/** One flag per range: kept (true) or overlapping an earlier kept range (false). */
export function firstClaims(ranges: readonly Range[]): boolean[] {
  const points = [...new Set(ranges.flatMap((r) => [r.start, r.end]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const indexOf = new Map(points.map((p, i) => [p, i]));
  const tree = new ClaimTree(Math.max(1, points.length - 1));
  return ranges.map((r) => {
    const from = indexOf.get(r.start)!;
    const to = indexOf.get(r.end)! - 1;
    if (tree.anyClaimed(from, to)) return false;
    tree.claim(from, to);
    return true;
  });
}

/** Elementary intervals 0..size-1; claim a span, ask whether any of a span is claimed. */
class ClaimTree {
  /** Every interval under the node is claimed. */
  private readonly full: Uint8Array;
  /** Some interval under the node is claimed. */
  private readonly some: Uint8Array;

  constructor(private readonly size: number) {
    this.full = new Uint8Array(4 * size);
    this.some = new Uint8Array(4 * size);
  }

  anyClaimed(from: number, to: number): boolean {
    return this.query(1, 0, this.size - 1, from, to);
  }

  claim(from: number, to: number): void {
    this.mark(1, 0, this.size - 1, from, to);
  }

  private query(node: number, lo: number, hi: number, from: number, to: number): boolean {
    if (to < lo || hi < from) return false;
    if (this.full[node]) return true;
    if (from <= lo && hi <= to) return this.some[node] === 1;
    if (!this.some[node]) return false;
    const mid = (lo + hi) >> 1;
    return this.query(2 * node, lo, mid, from, to) || this.query(2 * node + 1, mid + 1, hi, from, to);
  }

  private mark(node: number, lo: number, hi: number, from: number, to: number): void {
    if (to < lo || hi < from) return;
    this.some[node] = 1;
    if (from <= lo && hi <= to) {
      this.full[node] = 1;
      return;
    }
    const mid = (lo + hi) >> 1;
    this.mark(2 * node, lo, mid, from, to);
    this.mark(2 * node + 1, mid + 1, hi, from, to);
  }
}
