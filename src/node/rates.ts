/**
 * Per-second rates of running totals between two heartbeats: the Dashboard shows how fast
 * a node works now, which a total since start does not say.
 */

/**
 * `(current - previous) / elapsed` for each total of `current`, in per second. A total
 * with no previous value, or a first report (no `previous`), or no time elapsed, is 0; a
 * total that went down (a counter that restarted) counts from 0.
 */
export function ratesPerSecond(
  previous: Readonly<Record<string, number>> | undefined,
  current: Readonly<Record<string, number>>,
  elapsedMs: number,
): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const [name, value] of Object.entries(current)) {
    const before = previous?.[name];
    if (before === undefined || !(elapsedMs > 0)) {
      rates[name] = 0;
      continue;
    }
    const delta = value >= before ? value - before : value;
    rates[name] = (delta * 1000) / elapsedMs;
  }
  return rates;
}

/** Remembers the last totals and their time, for the next report's rates. */
export class RateTracker {
  private previous: { at: number; totals: Record<string, number> } | undefined;

  /** Rates since the last call (0 on the first); `at` in ms, monotonic. */
  next(totals: Readonly<Record<string, number>>, at: number): Record<string, number> {
    const rates = ratesPerSecond(this.previous?.totals, totals, this.previous ? at - this.previous.at : 0);
    this.previous = { at, totals: { ...totals } };
    return rates;
  }
}

/** `part / whole`, 0 when there is no whole (nothing happened in the interval). */
export function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
