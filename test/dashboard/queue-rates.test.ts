/**
 * A queue's rates on the Dashboard: the sum of the running nodes' rates (each enqueue and
 * acknowledgement is counted by the one node that made it), and how the table shows them.
 */
import { describe, expect, it } from 'vitest';
import { queueRates, queueStatKey } from '../../src/common/queue-figures.js';
import { queueRatesText } from '../../src/dashboard/web/queue-rates.js';

const node = (status: string, figures: Record<string, number>) => ({ status, stats: Object.fromEntries(Object.entries(figures).map(([figure, value]) => [`queue_standard_${figure}`, value])) });

describe('queue rates', () => {
  it('sums the nodes that are not down: in is enqueued, out is acknowledged or dead-lettered', () => {
    const nodes = [
      node('up', { enqueued_per_second: 4, acked_per_second: 0, dead_lettered_per_second: 0 }), // a collector
      node('up', { enqueued_per_second: 0, acked_per_second: 2.5, dead_lettered_per_second: 0.5, taken_per_second: 9 }), // a processor retrying
      node('stale', { enqueued_per_second: 0, acked_per_second: 1 }),
      node('down', { enqueued_per_second: 100, acked_per_second: 100 }), // its last rates are over
    ];
    expect(queueRates(nodes, 'standard')).toEqual({ enqueuedPerSecond: 4, dequeuedPerSecond: 4 });
    expect(queueRates(nodes, 'priority')).toBeUndefined();
  });

  it('is unknown when no running node reports it', () => {
    expect(queueRates([{ status: 'up', stats: { processed_per_second: 3 } }], 'standard')).toBeUndefined();
    expect(queueRates([node('down', { enqueued_per_second: 1 })], 'standard')).toBeUndefined();
    expect(queueStatKey('reprocessing', 'acked_per_second')).toBe('queue_reprocessing_acked_per_second');
  });

  it('shows in/s and out/s in few digits, or a dash when unknown', () => {
    expect(queueRatesText({ enqueuedPerSecond: 12.345, dequeuedPerSecond: 0.5 })).toBe('12/s \u00b7 0.5/s');
    expect(queueRatesText({ enqueuedPerSecond: 0, dequeuedPerSecond: 0 })).toBe('0/s \u00b7 0/s');
    expect(queueRatesText({})).toBe('\u2014');
  });
});
