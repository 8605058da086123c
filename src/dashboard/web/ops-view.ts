/**
 * How the overview's alerts, dependencies, scheduler jobs and queue trends read on the
 * page: names, relative times and orders. Pure (no Preact), so the model test can check it.
 * Relative times are taken against the overview's own `at` (the server's clock, the one
 * that stamped the runs), not the browser's.
 */

import { formatDuration } from './format.js';
import type { AlertView, DependencyView, JobView } from './types.js';

/** The probes' names as an operator reads them: what the thing is, and what it runs on. */
export const DEPENDENCY_LABELS: Readonly<Record<string, string>> = {
  crash_index: 'crash index (database)',
  node_registry: 'node registry (database)',
  queue: 'processing queue',
  raw_crash_store: 'raw crash store',
  processed_crash_store: 'processed crash store',
  symbol_store: 'symbol store',
};

export function dependencyLabel(name: string): string {
  return DEPENDENCY_LABELS[name] ?? name.replaceAll('_', ' ');
}

/** The storages in the order data flows through them; unknown ones after, by name. */
const DEPENDENCY_ORDER = ['crash_index', 'node_registry', 'queue', 'raw_crash_store', 'processed_crash_store', 'symbol_store'];

export function sortDependencies(dependencies: readonly DependencyView[]): DependencyView[] {
  const rank = (name: string): number => {
    const i = DEPENDENCY_ORDER.indexOf(name);
    return i === -1 ? DEPENDENCY_ORDER.length : i;
  };
  // Unreachable ones first: they are what the operator came for.
  return [...dependencies].sort((a, b) => Number(b.unreachableFrom.length > 0) - Number(a.unreachableFrom.length > 0) || rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** How many of the nodes that probe it reach it: `2 of 2 nodes`, `0 of 1 node`. */
export function reachSummary(dependency: DependencyView): string {
  const total = dependency.reachableFrom.length + dependency.unreachableFrom.length;
  return `${dependency.reachableFrom.length} of ${total} ${total === 1 ? 'node' : 'nodes'}`;
}

/** `3 min ago`, `just now`; `never` without a time. */
export function formatSince(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  const seconds = Math.round((now - at) / 1000);
  return seconds < 1 ? 'just now' : `${formatDuration(seconds)} ago`;
}

/** A job due more than this late is `overdue` (a scheduler down, or stuck). */
export const OVERDUE_AFTER_MS = 60_000;

export interface NextRun {
  text: string;
  overdue: boolean;
}

/** `in 7 min`, `due now`, `overdue by 4 min`; `–` before the first run. */
export function nextRun(nextRunAt: number | null, now: number, running = false): NextRun {
  if (nextRunAt === null) return { text: '–', overdue: false };
  const ms = nextRunAt - now;
  if (ms >= 1000) return { text: `in ${formatDuration(ms / 1000)}`, overdue: false };
  // A running job is late by design (its next run is set when it ends).
  if (running || -ms <= OVERDUE_AFTER_MS) return { text: 'due now', overdue: false };
  return { text: `overdue by ${formatDuration(-ms / 1000)}`, overdue: true };
}

/** The jobs that need a look first (failing, overdue), then by name. */
export function sortJobs(jobs: readonly JobView[], now: number): JobView[] {
  const trouble = (j: JobView): number => (j.lastOutcome === 'failure' || j.failuresInARow > 0 ? 2 : nextRun(j.nextRunAt, now, j.running).overdue ? 1 : 0);
  return [...jobs].sort((a, b) => trouble(b) - trouble(a) || a.job.localeCompare(b.job));
}

/** Firing before pending, critical before warning, then the oldest first. */
export function sortAlerts(alerts: readonly AlertView[]): AlertView[] {
  const rank = (a: AlertView): number => (a.status === 'firing' ? 0 : 2) + (a.severity === 'critical' ? 0 : 1);
  return [...alerts].sort((a, b) => rank(a) - rank(b) || a.since - b.since);
}

/**
 * A queue's "growing" badge. The server sets `growingFor` only once the queue has grown for
 * `dashboard.queue_growing_minutes`, the value that makes its `queue-growing` problem, so
 * the badge and the problem appear together.
 */
export function growingText(growingFor: number | undefined): string | undefined {
  return growingFor !== undefined && growingFor > 0 ? `↑ growing ${growingFor} min` : undefined;
}
