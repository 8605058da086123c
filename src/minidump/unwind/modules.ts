/**
 * Address → module lookup over a dump's module list (Breakpad `BasicCodeModules`).
 *
 * Breakpad stores modules in a range map that refuses overlapping ranges and empty
 * modules: the first module (in dump order) claiming an address wins and a later
 * overlapping one is dropped from the list altogether. We keep that rule so that module
 * lists and frame attributions match the reference.
 */
import type { CodeModule } from '../contracts.js';
import { firstClaims } from './first-claims.js';

export class ModuleIndex {
  /** Accepted modules, sorted by base address. */
  readonly modules: readonly CodeModule[];
  /** The first module of the dump (Breakpad's main module), if it was accepted. */
  readonly main: CodeModule | undefined;
  /** Modules left out because their range was empty or overlapped an earlier one. */
  readonly rejected: readonly CodeModule[];

  constructor(dumpOrder: readonly CodeModule[]) {
    // Breakpad's range map also rejects empty ranges and ranges that wrap past the top of
    // the address space.
    const candidates = dumpOrder.filter((m) => m.size > 0n && m.base + m.size - 1n <= 0xffff_ffff_ffff_ffffn);
    const kept = firstClaims(candidates.map((m) => ({ start: m.base, end: m.base + m.size })));
    const accepted = new Set(candidates.filter((_, i) => kept[i]));
    const rejected = dumpOrder.filter((m) => !accepted.has(m));
    this.main = dumpOrder.length > 0 && accepted.has(dumpOrder[0]) ? dumpOrder[0] : undefined;
    this.modules = [...accepted].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    this.rejected = rejected;
  }

  /** The module whose `[base, base + size)` holds `address`. */
  find(address: bigint): CodeModule | undefined {
    const list = this.modules;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = list[mid];
      if (address < m.base) hi = mid - 1;
      else if (address >= m.base + m.size) lo = mid + 1;
      else return m;
    }
    return undefined;
  }
}
