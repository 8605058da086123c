/**
 * A node's probes of its dependencies in its heartbeat stats (`probe_<name>_ok`, 1 reached
 * or 0 not, and `probe_<name>_ms`, how long the probe took): named here, once, for the node
 * that reports them (src/node/dependency-metrics.ts), the Dashboard and the alerts that
 * read them. Pure.
 */

export type ProbeFigure = 'ok' | 'ms';

export function probeStatKey(name: string, figure: ProbeFigure): string {
  return `probe_${name}_${figure}`;
}

const PROBE_STAT = /^probe_(.+)_(ok|ms)$/;

/** Whether a stat is one of a probe's figures. */
export function isProbeStat(key: string): boolean {
  return PROBE_STAT.test(key);
}

export interface ProbeReading {
  /** The probe's name: crash_index, node_registry, queue, raw_crash_store, ... */
  name: string;
  /** Undefined when the node reported no `_ok` figure for it. */
  reached: boolean | undefined;
  ms: number | undefined;
}

/** Every probe a node's stats mention, in the order they first appear. */
export function probeReadings(stats: Readonly<Record<string, number>>): ProbeReading[] {
  const names = new Set(Object.keys(stats).flatMap((key) => PROBE_STAT.exec(key)?.[1] ?? []));
  return [...names].map((name) => {
    const ok = stats[probeStatKey(name, 'ok')];
    return { name, reached: ok === undefined ? undefined : ok === 1, ms: stats[probeStatKey(name, 'ms')] };
  });
}
