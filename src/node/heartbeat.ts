import { hostname, loadavg } from 'node:os';
import type { Logger } from 'pino';
import type { NodeRegistry, NodeReport } from '../ports/node-registry.js';
import type { ProcessorWorker } from '../roles/processor/worker.js';
import { versionInfo } from '../common/version.js';

/**
 * Reports this node to the registry every `intervalMs`: who it is, its roles, and its
 * counters (processing totals, memory, CPU, load), for `/status` and the Dashboard.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  readonly id: string;

  constructor(
    private readonly options: {
      registry: NodeRegistry;
      name: string;
      roles: string[];
      url: string;
      intervalMs: number;
      worker?: ProcessorWorker;
      /** The collector's running totals (received, accepted, refused, bytes, ...). */
      collectorCounts?: Readonly<Record<string, number>>;
      log: Logger;
    },
  ) {
    this.id = `${options.name}@${hostname()}:${process.pid}`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.options.registry.forget(this.id).catch(() => undefined);
  }

  report(): NodeReport {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const stats: Record<string, number> = {
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      cpu_user_seconds: cpu.user / 1e6,
      cpu_system_seconds: cpu.system / 1e6,
      load1: loadavg()[0],
    };
    for (const [name, value] of Object.entries(this.options.collectorCounts ?? {})) stats[`collector_${name}`] = value;
    const worker = this.options.worker;
    if (worker) {
      Object.assign(stats, {
        processed: worker.counts.processed,
        failed: worker.counts.failed,
        retried: worker.counts.retried,
        dead_lettered: worker.counts.deadLettered,
        in_flight: worker.inFlight.size,
        first_processed: worker.sums.firstProcessed,
        submission_to_processed_seconds_sum: worker.sums.submissionToProcessedSeconds,
        taken: worker.sums.taken,
        queue_wait_seconds_sum: worker.sums.queueWaitSeconds,
        last_completed_at: worker.lastCompleted?.at ?? 0,
      });
    }
    return {
      id: this.id,
      name: this.options.name,
      host: hostname(),
      pid: process.pid,
      roles: this.options.roles,
      version: versionInfo().version,
      url: this.options.url,
      startedAt: this.startedAt,
      lastSeen: Date.now(),
      stats,
      ...(worker?.lastCompleted ? { lastCompletedCrash: worker.lastCompleted.crashId } : {}),
    };
  }

  private async beat(): Promise<void> {
    try {
      await this.options.registry.report(this.report());
    } catch (error) {
      this.options.log.warn({ err: error }, 'reporting to the node registry failed');
    }
  }
}
