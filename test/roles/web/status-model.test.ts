import { describe, expect, it } from 'vitest';
import { buildStatus, nextSample } from '../../../src/roles/web/status-model.js';
import type { NodeReport } from '../../../src/ports/node-registry.js';
import type { QueueStats } from '../../../src/ports/queue.js';

function node(id: string, roles: string[], stats: Record<string, number>, lastCompletedCrash?: string): NodeReport {
  return { id, name: id, host: 'h', pid: 1, roles, version: '0.1.0', url: 'http://x', startedAt: 0, lastSeen: 1000, stats, ...(lastCompletedCrash ? { lastCompletedCrash } : {}) };
}

const queues: QueueStats[] = [
  { queue: 'priority', waiting: 0, inFlight: 0 },
  { queue: 'standard', waiting: 7, inFlight: 2, oldestEnqueuedAt: 10_000 },
  { queue: 'reprocessing', waiting: 3, inFlight: 0, oldestEnqueuedAt: 40_000 },
];

describe('processing status', () => {
  it('sums queues and processors, and derives means from the processors running totals', () => {
    const status = buildStatus({
      now: 70_000,
      version: '0.1.0',
      schemaVersions: { crash_index: 1 },
      queues,
      nodes: [
        node('p1', ['processor'], { processed: 10, first_processed: 8, submission_to_processed_seconds_sum: 4, taken: 10, queue_wait_seconds_sum: 5, last_completed_at: 60_000 }, 'crash-a'),
        node('p2', ['processor'], { processed: 2, first_processed: 2, submission_to_processed_seconds_sum: 6, taken: 2, queue_wait_seconds_sum: 1, last_completed_at: 65_000 }, 'crash-b'),
        node('w', ['web'], {}),
      ],
      history: [],
    });
    expect(status.waiting_total).toBe(10);
    expect(status.queues[1]).toMatchObject({ queue: 'standard', waiting: 7, in_flight: 2, oldest_age_seconds: 60 });
    expect(status.processors_working).toBe(2);
    expect(status.mean_time_to_process_seconds).toBe(1); // (4 + 6) / (8 + 2)
    expect(status.mean_time_in_queue_seconds).toBe(0.5); // (5 + 1) / 12
    expect(status.most_recently_completed).toEqual({ crash_id: 'crash-b', at: new Date(65_000).toISOString() });
  });

  it('has no means before anything was processed', () => {
    const status = buildStatus({ now: 0, version: 'x', schemaVersions: {}, queues: [], nodes: [], history: [] });
    expect(status.mean_time_to_process_seconds).toBeNull();
    expect(status.processors_working).toBe(0);
  });

  it('turns running totals into per-interval figures, and survives a processor restart', () => {
    const first = nextSample(60_000, queues, [node('p1', ['processor'], { processed: 100, first_processed: 100, submission_to_processed_seconds_sum: 50 })], undefined);
    expect(first).toMatchObject({ at: 60_000, processed: 0, waiting: { standard: 7, reprocessing: 3 }, processorsWorking: 1 });
    const second = nextSample(120_000, queues, [node('p1', ['processor'], { processed: 130, first_processed: 120, submission_to_processed_seconds_sum: 60 })], first);
    expect(second).toMatchObject({ processed: 30, meanTimeToProcess: 0.5 });
    const restarted = nextSample(180_000, queues, [node('p1', ['processor'], { processed: 5, first_processed: 5, submission_to_processed_seconds_sum: 1 })], second);
    expect(restarted.processed).toBe(5);
    const twoNodes = nextSample(240_000, queues, [node('p1', ['processor'], { processed: 7 }), node('p2', ['processor'], { processed: 50 })], restarted);
    expect(twoNodes.processed).toBe(2); // p2 is new: it counts from the next sample
  });
});
