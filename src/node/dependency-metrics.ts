import { Gauge, type Registry } from 'prom-client';
import { probeStatKey } from '../common/probe-figures.js';
import type { Stats } from './component-stats.js';
import type { CheckResult } from './health.js';

/**
 * The node's dependencies (database, queue, storages) in its heartbeat and at `/metrics`:
 * what its probes found at the last heartbeat, and the sizes it can know. A scrape reads
 * the last beat's results: it never probes.
 */

/** What one beat found of the node's storage; a size that could not be read is absent. */
export interface StorageSizes {
  dataDir?: { path: string; freeBytes: number; sizeBytes: number };
  database?: { backend: string; bytes: number };
}

/** The probes as heartbeat stats: `probe_<name>_ok` (1 or 0) and `probe_<name>_ms`. */
export function probeStats(checks: readonly CheckResult[]): Stats {
  const stats: Stats = {};
  for (const { name, ok, ms } of checks) {
    stats[probeStatKey(name, 'ok')] = ok ? 1 : 0;
    stats[probeStatKey(name, 'ms')] = ms;
  }
  return stats;
}

/** The sizes as heartbeat stats: `data_dir_free_bytes`, `data_dir_size_bytes`, `database_size_bytes`. */
export function sizeStats(sizes: StorageSizes): Stats {
  const stats: Stats = {};
  if (sizes.dataDir) Object.assign(stats, { data_dir_free_bytes: sizes.dataDir.freeBytes, data_dir_size_bytes: sizes.dataDir.sizeBytes });
  if (sizes.database) stats.database_size_bytes = sizes.database.bytes;
  return stats;
}

export function registerDependencyMetrics(registry: Registry, latest: () => { checks: readonly CheckResult[]; sizes: StorageSizes } | undefined): void {
  new Gauge({
    name: 'mayday_dependency_up',
    help: 'Whether this node reached the dependency (database, queue, storage) at its last heartbeat: 1 or 0.',
    labelNames: ['dependency'],
    registers: [registry],
    collect() {
      this.reset();
      for (const check of latest()?.checks ?? []) this.set({ dependency: check.name }, check.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mayday_dependency_probe_seconds',
    help: "How long the dependency's probe took at the last heartbeat (until it failed or timed out, when it did).",
    labelNames: ['dependency'],
    registers: [registry],
    collect() {
      this.reset();
      for (const check of latest()?.checks ?? []) this.set({ dependency: check.name }, Math.round(check.ms * 1000) / 1e6);
    },
  });
  // Labelled, so that a size not read at the last beat is absent rather than a false 0.
  new Gauge({
    name: 'mayday_data_dir_free_bytes',
    help: "Bytes free for the node on its data directory's file system, at the last heartbeat (label dir).",
    labelNames: ['dir'],
    registers: [registry],
    collect() {
      this.reset();
      const dir = latest()?.sizes.dataDir;
      if (dir) this.set({ dir: dir.path }, dir.freeBytes);
    },
  });
  new Gauge({
    name: 'mayday_data_dir_size_bytes',
    help: "Size of the data directory's file system, bytes (label dir).",
    labelNames: ['dir'],
    registers: [registry],
    collect() {
      this.reset();
      const dir = latest()?.sizes.dataDir;
      if (dir) this.set({ dir: dir.path }, dir.sizeBytes);
    },
  });
  new Gauge({
    name: 'mayday_database_size_bytes',
    help: 'Size of the database at the last heartbeat: PostgreSQL pg_database_size, or the SQLite file with its write-ahead log (label backend).',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      const database = latest()?.sizes.database;
      if (database) this.set({ backend: database.backend }, database.bytes);
    },
  });
}
