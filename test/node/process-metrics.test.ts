import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ProcessMetrics, registerProcessGauges } from '../../src/node/process-metrics.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('process metrics', () => {
  it('samples load, CPU, memory and event-loop lag as numbers', () => {
    const metrics = new ProcessMetrics();
    try {
      const sample = metrics.sample();
      expect(Object.keys(sample).sort()).toEqual(
        ['cpu_percent', 'event_loop_lag_p50_ms', 'event_loop_lag_p99_ms', 'heap_used_bytes', 'load1', 'load15', 'load5', 'rss_bytes'].sort(),
      );
      for (const value of Object.values(sample)) expect(Number.isFinite(value) && value >= 0).toBe(true);
      expect(sample.rss_bytes).toBeGreaterThan(sample.heap_used_bytes);
      // The first sample covers the process's life so far, which used some CPU.
      expect(sample.cpu_percent).toBeGreaterThan(0);
    } finally {
      metrics.close();
    }
  });

  it('reports a busy interval as busy and an idle one as idle', async () => {
    const metrics = new ProcessMetrics();
    try {
      metrics.sample();
      spin(300);
      const busy = metrics.sample();
      await sleep(300);
      const idle = metrics.sample();
      // On shared cores the busy loop still gets a good part of one; the idle interval next to nothing.
      expect(busy.cpu_percent).toBeGreaterThan(25);
      expect(idle.cpu_percent).toBeLessThan(busy.cpu_percent / 2);
    } finally {
      metrics.close();
    }
  });

  it('sees a stall of the event loop in the interval that had it, and not in the next', async () => {
    const metrics = new ProcessMetrics();
    try {
      await sleep(100);
      metrics.sample();
      await sleep(100);
      spin(150);
      await sleep(100);
      const stalled = metrics.sample();
      await sleep(300);
      const calm = metrics.sample();
      expect(stalled.event_loop_lag_p99_ms).toBeGreaterThan(100);
      expect(calm.event_loop_lag_p99_ms).toBeLessThan(stalled.event_loop_lag_p99_ms);
      expect(calm.event_loop_lag_p50_ms).toBeLessThan(20);
    } finally {
      metrics.close();
    }
  });

  it('exposes the load average and uptime at /metrics', async () => {
    const registry = new Registry();
    registerProcessGauges(registry, Date.now() - 5000);
    const text = await registry.metrics();
    expect(text).toMatch(/^mayday_host_load_average\{minutes="1"\} [\d.]+$/m);
    expect(text).toMatch(/^mayday_host_load_average\{minutes="15"\} [\d.]+$/m);
    const uptime = Number(/^mayday_node_uptime_seconds ([\d.]+)$/m.exec(text)?.[1]);
    expect(uptime).toBeGreaterThanOrEqual(5);
  });
});
