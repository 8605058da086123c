import { describe, expect, it } from 'vitest';
import type { NodeReport } from '../../../src/ports/node-registry.js';
import { nodeReport } from '../../support/node-reports.js';
import { historyPointsFrom } from '../../../src/roles/web/ops-history-recorder.js';
import { queueComponent } from '../../../src/ports/ops-history.js';

const MINUTE = 1_800_000_000_000;
const NOW = MINUTE + 42_500;

const node = (name: string, overrides: Partial<NodeReport> = {}): NodeReport => nodeReport(name, NOW, { stats: { cpu_percent: 12.5, rss_bytes: 1_000_000 }, ...overrides });

describe('historyPointsFrom', () => {
  it('makes one point per node, under its key name@host, with its stats, at the minute', () => {
    const points = historyPointsFrom([node('processor-1'), node('collector-1', { deploymentHost: 'vm-2', stats: { collector_accepted_per_second: 3 } })], [], NOW);
    expect(points).toEqual([
      { component: 'processor-1@m', at: MINUTE, metrics: { cpu_percent: 12.5, rss_bytes: 1_000_000 } },
      { component: 'collector-1@vm-2', at: MINUTE, metrics: { collector_accepted_per_second: 3 } },
    ]);
  });

  it('records namesakes on two hosts apart: neither hides the other', () => {
    const points = historyPointsFrom([node('mayday', { id: 'mayday@a:1', host: 'a', stats: { v: 1 } }), node('mayday', { id: 'mayday@b:1', host: 'b', startedAt: NOW - 10, stats: { v: 2 } })], [], NOW);
    expect(points.map((p) => [p.component, p.metrics.v])).toEqual([
      ['mayday@a', 1],
      ['mayday@b', 2],
    ]);
  });

  it('copies the stats rather than sharing them with the report', () => {
    const report = node('p');
    const [point] = historyPointsFrom([report], [], NOW);
    point!.metrics.cpu_percent = 99;
    expect(report.stats.cpu_percent).toBe(12.5);
  });

  it('records the newest instance of a restarted node, and nothing for a silent one', () => {
    const old = node('p', { pid: 10, startedAt: NOW - 600_000, lastSeen: NOW - 5_000, stats: { v: 1 } });
    const fresh = node('p', { pid: 11, startedAt: NOW - 5_000, lastSeen: NOW - 500, stats: { v: 2 } });
    const down = node('gone', { lastSeen: NOW - 30_001 });
    const justUp = node('edge', { lastSeen: NOW - 30_000 });
    expect(historyPointsFrom([old, fresh, down, justUp], [], NOW).map((p) => [p.component, p.metrics.v])).toEqual([
      ['p@m', 2],
      ['edge@m', undefined],
    ]);
    expect(historyPointsFrom([down], [], NOW, { maxSilenceMs: 60_000 }).map((p) => p.component)).toEqual(['gone@m']);
  });

  it('keeps the queue figures once, under the queue, with the running nodes\' rates summed, not in every node\'s point', () => {
    const collector = node('collector-1', { stats: { collector_accepted_per_second: 3, queue_standard_waiting: 7, queue_standard_enqueued_per_second: 3, queue_standard_acked_per_second: 0 } });
    const processor = node('processor-1', { stats: { processed_per_second: 2, queue_standard_waiting: 7, queue_standard_enqueued_per_second: 0, queue_standard_acked_per_second: 2, queue_standard_dead_lettered_per_second: 0.5 } });
    const points = historyPointsFrom([collector, processor], [{ queue: 'standard', waiting: 7, inFlight: 1, oldestEnqueuedAt: NOW - 10_000 }], NOW);
    expect(points).toEqual([
      { component: 'collector-1@m', at: MINUTE, metrics: { collector_accepted_per_second: 3 } },
      { component: 'processor-1@m', at: MINUTE, metrics: { processed_per_second: 2 } },
      { component: 'queue:standard', at: MINUTE, metrics: { waiting: 7, in_flight: 1, oldest_age_seconds: 10, enqueued_per_second: 3, dequeued_per_second: 2.5 } },
    ]);
  });

  it('makes one point per queue: waiting, in flight and the age of the oldest waiting crash', () => {
    const points = historyPointsFrom(
      [],
      [
        { queue: 'standard', waiting: 12, inFlight: 2, oldestEnqueuedAt: NOW - 90_400 },
        { queue: 'priority', waiting: 0, inFlight: 0 },
        // A queue that cannot tell the age: left out, not a misleading 0.
        { queue: 'reprocessing', waiting: 5, inFlight: 1 },
      ],
      NOW,
    );
    expect(points).toEqual([
      { component: 'queue:standard', at: MINUTE, metrics: { waiting: 12, in_flight: 2, oldest_age_seconds: 90 } },
      { component: 'queue:priority', at: MINUTE, metrics: { waiting: 0, in_flight: 0, oldest_age_seconds: 0 } },
      { component: 'queue:reprocessing', at: MINUTE, metrics: { waiting: 5, in_flight: 1 } },
    ]);
    expect(queueComponent('standard')).toBe('queue:standard');
  });

  it('never reports a negative age when a crash was queued after the registry was read', () => {
    const [point] = historyPointsFrom([], [{ queue: 'standard', waiting: 1, inFlight: 0, oldestEnqueuedAt: NOW + 2_000 }], NOW);
    expect(point!.metrics.oldest_age_seconds).toBe(0);
  });
});
