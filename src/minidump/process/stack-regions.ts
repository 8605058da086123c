import type { MemoryRegion } from '../contracts.js';

/**
 * For each address, the first region of a memory list (in list order) that holds it: the
 * stack of a thread whose own stack descriptor is empty. Asking the list region by region
 * for each thread costs threads × regions, and a hostile dump of a few hundred kilobytes
 * holds thousands of each (seconds of work); this answers every address at once in
 * (threads + regions) × log(regions).
 *
 * One sweep by address: regions enter a heap keyed by their list index as the sweep passes
 * their base, and leave it once it passes their end; the heap's smallest index still open
 * is the first region holding the address. The sweep only moves forward, so a region that
 * ended never holds a later address and is dropped for good.
 */
export function firstRegionsHolding(regions: readonly MemoryRegion[], addresses: Iterable<bigint>): Map<bigint, MemoryRegion> {
  const found = new Map<bigint, MemoryRegion>();
  const wanted = [...new Set(addresses)].sort(compare);
  if (wanted.length === 0 || regions.length === 0) return found;
  const ends = regions.map((r) => r.base + BigInt(r.bytes.length));
  const byBase = regions.map((_, i) => i).sort((a, b) => compare(regions[a].base, regions[b].base) || a - b);
  const open = new MinHeap();
  let next = 0;
  for (const address of wanted) {
    while (next < byBase.length && regions[byBase[next]].base <= address) open.push(byBase[next++]);
    while (open.size > 0 && ends[open.peek()] <= address) open.pop();
    if (open.size > 0) found.set(address, regions[open.peek()]);
  }
  return found;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A binary min-heap of list indices. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= value) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = value;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop()!;
    if (items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const child = left + 1 < items.length && items[left + 1] < items[left] ? left + 1 : left;
      if (items[child] >= last) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
  }
}
