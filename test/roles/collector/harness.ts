import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { FsPendingCrashes } from '../../../src/adapters/fs-pending-crashes.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { collectorPlugin } from '../../../src/roles/collector/plugin.js';
import { CollectorMetrics } from '../../../src/roles/collector/metrics.js';
import type { SubmissionLimits } from '../../../src/roles/collector/submission.js';
import type { ThrottleConfig } from '../../../src/roles/collector/throttler.js';
import type { ProcessingQueue } from '../../../src/ports/queue.js';

/**
 * A collector on a real socket (loopback, a free port) over real embedded adapters in a
 * temporary directory: what the tests send travels through Node's HTTP parser exactly as
 * a client's request would.
 */
export interface Harness {
  url: string;
  dir: string;
  store: FsRawCrashStore;
  queue: SqliteQueue;
  pending: FsPendingCrashes;
  metrics: Registry;
  app: FastifyInstance;
  /** Crash ids waiting in the standard queue. */
  queued(): Promise<string[]>;
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: SubmissionLimits = { maxRequestSize: 4 * 1024 * 1024, maxAnnotations: 50, maxAnnotationSize: 4096, maxDumps: 4, bodyTimeoutMs: 1000 };

export async function startCollector(
  options: {
    limits?: Partial<SubmissionLimits>;
    throttle?: ThrottleConfig;
    wrapQueue?: (queue: ProcessingQueue) => ProcessingQueue;
    sweepIntervalMs?: number;
    dir?: string;
    maxInFlight?: number;
  } = {},
): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mayday-collector-'));
  const store = await FsRawCrashStore.open(join(dir, 'raw'), { fsync: false });
  const queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
  const pending = await FsPendingCrashes.open(join(dir, 'raw', '.pending'), { fsync: false });
  const metrics = new Registry();
  const app = Fastify({ logger: false });
  await app.register(collectorPlugin, {
    rawCrashStore: store,
    queue: options.wrapQueue ? options.wrapQueue(queue) : queue,
    pending,
    sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    throttle: options.throttle,
    metrics: new CollectorMetrics(metrics),
    maxInFlight: options.maxInFlight,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    store,
    queue,
    pending,
    metrics,
    app,
    async queued() {
      const ids: string[] = [];
      for (let item = await queue.take(); item; item = await queue.take()) ids.push(item.crashId);
      return ids.sort();
    },
    async close() {
      await app.close();
      await queue.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
