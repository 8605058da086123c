import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** What the process and its host look like over one heartbeat interval. */
export interface ProcessSample {
  load1: number;
  load5: number;
  load15: number;
  /** CPU time of the process (every thread, the stackwalk workers too) over wall time, in % of one core: above 100 on several cores. */
  cpu_percent: number;
  rss_bytes: number;
  heap_used_bytes: number;
  /** How late the event loop ran a timer, beyond the timer's own period. */
  event_loop_lag_p50_ms: number;
  event_loop_lag_p99_ms: number;
}

/**
 * The event-loop monitor's period. Coarse enough that its wake-ups cost nothing that
 * shows (50 a second), fine enough that a stall of a few tens of ms is seen.
 */
const LAG_RESOLUTION_MS = 20;

/**
 * Samples CPU, memory, load and event-loop lag once per heartbeat; CPU and lag cover the
 * time since the previous sample (the first: since the process started, for CPU).
 */
export class ProcessMetrics {
  private readonly lag: IntervalHistogram;
  private previousCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  /** performance.now() counts from the process's start, as process.cpuUsage() does. */
  private previousAt = 0;

  constructor() {
    this.lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.lag.enable();
  }

  sample(): ProcessSample {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const cpuMicros = cpu.user - this.previousCpu.user + (cpu.system - this.previousCpu.system);
    const wallMicros = (now - this.previousAt) * 1000;
    this.previousCpu = cpu;
    this.previousAt = now;
    const memory = process.memoryUsage();
    const [load1, load5, load15] = loadavg();
    const sample: ProcessSample = {
      load1,
      load5,
      load15,
      cpu_percent: wallMicros > 0 ? (100 * cpuMicros) / wallMicros : 0,
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      event_loop_lag_p50_ms: lagMs(this.lag.percentile(50)),
      event_loop_lag_p99_ms: lagMs(this.lag.percentile(99)),
    };
    this.lag.reset();
    return sample;
  }

  close(): void {
    this.lag.disable();
  }
}

/** The monitor records the time between its timer's runs, its own period included: lag is what exceeds it. Nanoseconds in. */
function lagMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - LAG_RESOLUTION_MS);
}

/**
 * The host load average and the node's uptime at `/metrics`, read when scraped. CPU,
 * memory and event-loop lag are there already (prom-client's default metrics).
 */
export function registerProcessGauges(registry: Registry, startedAt: number): void {
  new Gauge({
    name: 'mayday_host_load_average',
    help: 'Load average of the host over the last 1, 5 and 15 minutes (label minutes).',
    labelNames: ['minutes'],
    registers: [registry],
    collect() {
      const [one, five, fifteen] = loadavg();
      this.set({ minutes: '1' }, one);
      this.set({ minutes: '5' }, five);
      this.set({ minutes: '15' }, fifteen);
    },
  });
  new Gauge({
    name: 'mayday_node_uptime_seconds',
    help: 'Seconds since this node started.',
    registers: [registry],
    collect() {
      this.set((Date.now() - startedAt) / 1000);
    },
  });
}
