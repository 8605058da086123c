/**
 * The coverage map: istanbul's per-file counters (statements, functions, branch arms),
 * moved into one `Uint32Array` per file so that clearing them before an execution and
 * reading them after costs a `fill` and one loop per file, not a walk over objects.
 *
 * istanbul's instrumented code increments `cov_x().s[3]++`, `cov_x().b[7][1]++`: it looks
 * the arrays up on the file's coverage object each time, so swapping in typed-array views
 * after the module is loaded is enough for every later increment to land in them.
 *
 * Feedback is AFL's: each counter's hit count is put in a bucket (1, 2, 3, 4-7, 8-15,
 * 16-31, 32-127, 128+) and an execution is interesting when some counter reaches a bucket
 * it never reached before.
 */

/** The shape istanbul keeps per file (only what is read here). */
interface IstanbulFileCoverage {
  s: Record<string, number> | Uint32Array;
  f: Record<string, number> | Uint32Array;
  b: Record<string, number[] | Uint32Array>;
}

interface FileCounters {
  readonly path: string;
  readonly counters: Uint32Array;
  /** Bucket bits ever seen per counter. */
  readonly seen: Uint8Array;
  /** Counters [0, statements) are statements, then functions, then from `branchStart` branch arms. */
  readonly statements: number;
  readonly branchStart: number;
}

export interface CoverageSummary {
  readonly branchesCovered: number;
  readonly branchesTotal: number;
  readonly statementsCovered: number;
  readonly statementsTotal: number;
  readonly files: number;
}

function bucket(hits: number): number {
  if (hits <= 3) return hits === 3 ? 4 : hits;
  if (hits <= 7) return 8;
  if (hits <= 15) return 16;
  if (hits <= 31) return 32;
  if (hits <= 127) return 64;
  return 128;
}

export class CoverageMap {
  private readonly files: FileCounters[] = [];
  private readonly adopted = new Set<string>();
  private branchesCovered = 0;
  private branchesTotal = 0;
  private statementsCovered = 0;
  private statementsTotal = 0;

  constructor(private readonly variable: string) {}

  private store(): Record<string, IstanbulFileCoverage> {
    return ((globalThis as Record<string, unknown>)[this.variable] ?? {}) as Record<string, IstanbulFileCoverage>;
  }

  /** Takes over the counters of files loaded since the last call (modules may load lazily). */
  adoptNewFiles(): void {
    const store = this.store();
    const paths = Object.keys(store);
    if (paths.length === this.adopted.size) return;
    for (const path of paths) {
      if (this.adopted.has(path)) continue;
      this.adopted.add(path);
      const file = store[path];
      const statements = Object.keys(file.s).length;
      const functions = Object.keys(file.f).length;
      const branchIds = Object.keys(file.b);
      const arms = branchIds.reduce((n, id) => n + file.b[id].length, 0);
      const counters = new Uint32Array(statements + functions + arms);
      file.s = counters.subarray(0, statements);
      file.f = counters.subarray(statements, statements + functions);
      let at = statements + functions;
      for (const id of branchIds) {
        const n = file.b[id].length;
        file.b[id] = counters.subarray(at, at + n);
        at += n;
      }
      this.files.push({ path, counters, seen: new Uint8Array(counters.length), statements, branchStart: statements + functions });
      this.branchesTotal += arms;
      this.statementsTotal += statements;
    }
  }

  /** Clears the counters before an execution. */
  reset(): void {
    for (const file of this.files) file.counters.fill(0);
  }

  /**
   * Folds the counters of the execution just run into what was ever seen; returns how
   * many counters reached a new bucket (0: nothing new).
   */
  collect(): number {
    this.adoptNewFiles();
    let fresh = 0;
    for (const file of this.files) {
      const { counters, seen, statements, branchStart } = file;
      for (let i = 0; i < counters.length; i++) {
        const hits = counters[i];
        if (hits === 0) continue;
        const bits = bucket(hits);
        const before = seen[i];
        if ((before & bits) !== 0) continue;
        seen[i] = before | bits;
        fresh++;
        if (before === 0) {
          if (i >= branchStart) this.branchesCovered++;
          else if (i < statements) this.statementsCovered++;
        }
      }
    }
    return fresh;
  }

  summary(): CoverageSummary {
    return {
      branchesCovered: this.branchesCovered,
      branchesTotal: this.branchesTotal,
      statementsCovered: this.statementsCovered,
      statementsTotal: this.statementsTotal,
      files: this.files.length,
    };
  }
}
