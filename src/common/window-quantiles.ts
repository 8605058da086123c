/**
 * Quantiles of the values recorded since the last read (a heartbeat's interval), in fixed
 * memory whatever the traffic: values are counted in log-spaced buckets, so a quantile is
 * known to within half a bucket's width (2% with the default growth), and recording is a
 * logarithm and an increment, with nothing allocated: it sits on every request's path.
 */

export interface WindowSummary {
  /** Values recorded in the window. */
  count: number;
  /** 0 when the window is empty, as are the quantiles. */
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface WindowQuantilesOptions {
  /** Values at or below this share the first bucket (default 0.001: a microsecond, for milliseconds). */
  lowest?: number;
  /** Values above this share the last bucket (default 1e7: almost three hours in milliseconds). */
  highest?: number;
  /** Each bucket's upper bound over the previous one's (default 1.04). */
  growth?: number;
}

export class WindowQuantiles {
  private readonly counts: Uint32Array;
  private readonly lowest: number;
  private readonly logGrowth: number;
  private count = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(options: WindowQuantilesOptions = {}) {
    this.lowest = options.lowest ?? 0.001;
    const highest = options.highest ?? 1e7;
    const growth = options.growth ?? 1.04;
    if (!(this.lowest > 0 && highest > this.lowest && growth > 1)) throw new RangeError('window quantiles need 0 < lowest < highest and growth > 1');
    this.logGrowth = Math.log(growth);
    this.counts = new Uint32Array(Math.ceil(Math.log(highest / this.lowest) / this.logGrowth) + 2);
  }

  /** Counts one value; NaN is ignored, negative values count as 0. */
  record(value: number): void {
    if (Number.isNaN(value)) return;
    const v = value > 0 ? value : 0;
    this.counts[this.bucketOf(v)]++;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The summary of the values recorded since the last read; the next window starts empty. */
  read(): WindowSummary {
    const summary: WindowSummary =
      this.count === 0
        ? { count: 0, max: 0, p50: 0, p95: 0, p99: 0 }
        : { count: this.count, max: this.max, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99) };
    if (this.count > 0) this.counts.fill(0);
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    return summary;
  }

  /** Bucket i > 0 holds (lowest * g^(i-1), lowest * g^i]; bucket 0 everything up to `lowest`. */
  private bucketOf(v: number): number {
    if (v <= this.lowest) return 0;
    const i = Math.ceil(Math.log(v / this.lowest) / this.logGrowth);
    return i < this.counts.length ? i : this.counts.length - 1;
  }

  /** Nearest rank; the bucket's geometric middle, kept within the values seen (so one value reads back exactly). */
  private quantile(q: number): number {
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    let i = 0;
    for (; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) break;
    }
    const middle = i === 0 ? this.lowest : this.lowest * Math.exp((i - 0.5) * this.logGrowth);
    return Math.min(this.max, Math.max(this.min, middle));
  }
}
