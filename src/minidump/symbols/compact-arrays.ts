/**
 * Growable typed arrays and an index sort, the building blocks of the compact symbol
 * tables. A symbol file with millions of records must not become millions of JS objects:
 * each column lives in one typed array (8 bytes per address, 4 per offset) instead.
 */

type TypedArrayOf<T> = T extends 'f64' ? Float64Array : Uint32Array;

/** An append-only column that doubles its backing store as it grows. */
export class GrowableColumn<K extends 'f64' | 'u32'> {
  private data: TypedArrayOf<K>;
  length = 0;

  constructor(
    private readonly kind: K,
    initialCapacity = 8,
  ) {
    this.data = this.allocate(initialCapacity);
  }

  private allocate(capacity: number): TypedArrayOf<K> {
    return (this.kind === 'f64' ? new Float64Array(capacity) : new Uint32Array(capacity)) as TypedArrayOf<K>;
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.allocate(this.data.length * 2);
      bigger.set(this.data as ArrayLike<number>);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  get(index: number): number {
    return this.data[index];
  }

  set(index: number, value: number): void {
    this.data[index] = value;
  }

  /** The values in `order` (or all, in insertion order), in an exactly sized array. */
  finish(order?: Uint32Array): TypedArrayOf<K> {
    if (!order) return this.data.slice(0, this.length) as TypedArrayOf<K>;
    const out = this.allocate(order.length);
    for (let i = 0; i < order.length; i++) out[i] = this.data[order[i]];
    return out;
  }
}

/**
 * Indices 0..n-1 ordered by `keys[i]`, ties kept in index (file) order, so "first wins"
 * and "last wins" rules can be applied after sorting. Symbol files are nearly always
 * sorted already, which is checked in one pass; otherwise key and index are packed into
 * one double when that is exact (native numeric sort is far faster than a comparator).
 */
export function stableOrder(keys: ArrayLike<number>, n: number): Uint32Array {
  const order = new Uint32Array(n);
  let sorted = true;
  let maxKey = 0;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && keys[i] < keys[i - 1]) sorted = false;
    if (keys[i] > maxKey) maxKey = keys[i];
  }
  if (sorted) return order;
  if ((maxKey + 1) * n <= Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = keys[i] * n + i;
    packed.sort();
    for (let i = 0; i < n; i++) order[i] = packed[i] % n;
    return order;
  }
  return order.sort((a, b) => keys[a] - keys[b] || a - b);
}
