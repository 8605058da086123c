import { Counter, Gauge, type Registry } from 'prom-client';
import { QUEUE_EVENTS, queueStatKey, type QueueEvent } from '../common/queue-figures.js';
import { QUEUE_NAMES, type ProcessingQueue, type QueueCounts, type QueueName, type QueueStats } from '../ports/queue.js';
import type { Stats } from './component-stats.js';

/**
 * The queues in a node's heartbeat and at its `/metrics`. Depth, age and dead letters are
 * facts of the shared queue: the heartbeat samples them once per beat (two small queries),
 * and a scrape reads that sample, so Prometheus scraping often costs the database nothing.
 * Enqueues, hand-outs and acknowledgements are this process's own counters (no I/O).
 */

/** One beat's reading of the queue. */
export interface QueueSample {
  /** ms since epoch. */
  at: number;
  stats: QueueStats[];
  deadLetters: Record<QueueName, number>;
}

export async function sampleQueue(queue: ProcessingQueue, now: () => number = Date.now): Promise<QueueSample> {
  const [stats, deadLetters] = await Promise.all([queue.stats(), queue.deadLetterCounts()]);
  return { at: now(), stats, deadLetters };
}

/** Seconds the oldest waiting crash had waited when sampled; 0 when none waits. */
function oldestAgeSeconds(stats: QueueStats, at: number): number {
  return stats.oldestEnqueuedAt === undefined ? 0 : Math.max(0, (at - stats.oldestEnqueuedAt) / 1000);
}

/** The sample as heartbeat stats: `queue_<queue>_waiting`, `_in_flight`, `_oldest_age_seconds`, `_dead_letters`. */
export function queueSampleStats(sample: QueueSample): Stats {
  const stats: Stats = {};
  for (const s of sample.stats) {
    stats[queueStatKey(s.queue, 'waiting')] = s.waiting;
    stats[queueStatKey(s.queue, 'in_flight')] = s.inFlight;
    stats[queueStatKey(s.queue, 'oldest_age_seconds')] = Math.round(oldestAgeSeconds(s, sample.at));
    stats[queueStatKey(s.queue, 'dead_letters')] = sample.deadLetters[s.queue] ?? 0;
  }
  return stats;
}

const COUNT_OF: Record<QueueEvent, keyof QueueCounts> = { enqueued: 'enqueued', taken: 'taken', acked: 'acked', dead_lettered: 'deadLettered' };

/** This process's counters as heartbeat totals: `queue_<queue>_<event>_total`. */
export function queueCountStats(counts: Record<QueueName, QueueCounts>): Stats {
  const stats: Stats = {};
  for (const queue of QUEUE_NAMES) for (const event of QUEUE_EVENTS) stats[queueStatKey(queue, `${event}_total`)] = counts[queue][COUNT_OF[event]];
  return stats;
}

/** The totals whose per-second rates the heartbeat reports, and the rates' names. */
export const QUEUE_RATES: readonly (readonly [total: string, rate: string])[] = QUEUE_NAMES.flatMap((queue) =>
  QUEUE_EVENTS.map((event) => [queueStatKey(queue, `${event}_total`), queueStatKey(queue, `${event}_per_second`)] as const),
);

/**
 * `mayday_queue_*` at `/metrics`: the gauges read the last sample (none before the first,
 * or after a failed one: a stale depth would mislead), the counters this process's counts.
 */
export function registerQueueMetrics(registry: Registry, latest: () => QueueSample | undefined, counts: () => Record<QueueName, QueueCounts>): void {
  const gauge = (name: string, help: string, value: (stats: QueueStats, sample: QueueSample) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        this.reset();
        const sample = latest();
        if (sample) for (const s of sample.stats) this.set({ queue: s.queue }, value(s, sample));
      },
    });
  };
  gauge('mayday_queue_waiting', 'Crashes waiting in the queue, as of the last heartbeat.', (s) => s.waiting);
  gauge('mayday_queue_in_flight', 'Crashes handed to a processor and not yet acknowledged, as of the last heartbeat.', (s) => s.inFlight);
  gauge('mayday_queue_oldest_age_seconds', 'How long the oldest waiting crash had waited at the last heartbeat (0 when none waits).', (s, sample) => oldestAgeSeconds(s, sample.at));
  gauge('mayday_queue_dead_letters', 'Crashes the processors gave up on, in the dead letters, as of the last heartbeat.', (s, sample) => sample.deadLetters[s.queue] ?? 0);

  const counter = (event: QueueEvent, help: string): void => {
    // Counted by the adapter; a scrape brings the Prometheus counter up to it.
    const exported = new Map<QueueName, number>();
    new Counter({
      name: `mayday_queue_${event}_total`,
      help,
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        const now = counts();
        for (const queue of QUEUE_NAMES) {
          const value = now[queue][COUNT_OF[event]];
          const delta = value - (exported.get(queue) ?? 0);
          this.inc({ queue }, Math.max(0, delta));
          exported.set(queue, value);
        }
      },
    });
  };
  counter('enqueued', 'Crash ids this node put on the queue (an id already waiting there is not counted).');
  counter('taken', 'Crash ids this node took from the queue, redeliveries included.');
  counter('acked', 'Crash ids this node acknowledged: processed, gone from the queue.');
  counter('dead_lettered', 'Crash ids this node moved to the dead letters.');
}
