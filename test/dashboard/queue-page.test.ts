/**
 * The queue page's model: which nodes it lists as filling and draining a queue, what it says
 * when no processor runs, and the history it asks for and draws.
 */
import { describe, expect, it } from 'vitest';
import { queueNodes, processorsSummary, QUEUE_CHARTS } from '../../src/dashboard/web/queue-page-model.js';
import { queueComponent } from '../../src/ports/ops-history.js';
import { QUEUE_SAMPLE_FIGURES } from '../../src/common/queue-figures.js';
import type { ComponentView } from '../../src/dashboard/web/types.js';

const component = (name: string, roles: string[], status: ComponentView['status'], stats: Record<string, number>): ComponentView => ({
  id: `${name}@vm:1`,
  key: `${name}@vm`,
  name,
  host: 'vm',
  roles,
  status,
  pid: 1,
  version: '0.1.0',
  url: 'http://127.0.0.1:1',
  startedAt: 0,
  lastSeen: 0,
  uptimeSeconds: 10,
  silentSeconds: 0,
  configDiffers: false,
  stats,
});

describe('the queue page', () => {
  it('lists every processor and the nodes that put crashes on the queue, down ones last, with their rates for that queue', () => {
    const nodes = [
      component('web', ['web'], 'up', { web_requests_per_second: 3 }),
      component('p2', ['processor'], 'down', { queue_standard_acked_per_second: 9, in_flight: 4 }),
      component('collector', ['collector'], 'up', { queue_standard_enqueued_per_second: 5, queue_priority_enqueued_per_second: 1 }),
      component('p1', ['processor'], 'up', { queue_standard_enqueued_per_second: 0, queue_standard_acked_per_second: 2.5, queue_standard_dead_lettered_per_second: 0.5, queue_priority_acked_per_second: 7, in_flight: 3 }),
    ];
    expect(queueNodes(nodes, 'standard')).toEqual([
      { key: 'collector@vm', name: 'collector', host: 'vm', status: 'up', isProcessor: false, enqueuedPerSecond: 5, ackedPerSecond: undefined, deadLetteredPerSecond: undefined, inFlight: undefined },
      { key: 'p1@vm', name: 'p1', host: 'vm', status: 'up', isProcessor: true, enqueuedPerSecond: 0, ackedPerSecond: 2.5, deadLetteredPerSecond: 0.5, inFlight: 3 },
      { key: 'p2@vm', name: 'p2', host: 'vm', status: 'down', isProcessor: true, enqueuedPerSecond: undefined, ackedPerSecond: 9, deadLetteredPerSecond: undefined, inFlight: 4 },
    ]);
    expect(queueNodes(nodes, 'reprocessing').map((r) => r.key)).toEqual(['p1@vm', 'p2@vm']);
  });

  it('says so when no processor runs: nothing drains the queue', () => {
    const down = queueNodes([component('p', ['processor'], 'down', {}), component('c', ['collector'], 'up', { queue_standard_enqueued_per_second: 2 })], 'standard');
    expect(processorsSummary(down)).toEqual({ text: 'No processor is running: nothing takes crashes from this queue. Start one.', bad: true });
    const stale = queueNodes([component('p', ['processor'], 'stale', {}), component('q', ['processor'], 'up', {})], 'standard');
    expect(processorsSummary(stale)).toEqual({ text: '2 processors running.', bad: false });
  });

  it('charts the figures the recorder keeps for a queue', () => {
    expect(queueComponent('standard')).toBe('queue:standard');
    const drawn = QUEUE_CHARTS.flatMap((c) => c.series.map((s) => s.key));
    expect(drawn).toEqual(['waiting', 'in_flight', 'oldest_age_seconds', 'enqueued_per_second', 'dequeued_per_second']);
    // Thousands waiting and a few in flight on one axis would flatten in flight to a line: a chart each.
    expect(QUEUE_CHARTS.map((c) => [c.id, c.series.map((s) => s.key)])).toEqual([
      ['waiting', ['waiting']],
      ['in-flight', ['in_flight']],
      ['oldest', ['oldest_age_seconds']],
      ['flow', ['enqueued_per_second', 'dequeued_per_second']],
    ]);
    // Each figure drawn from the queue's own samples has the name the nodes sample it under.
    for (const key of drawn.slice(0, 3)) expect(QUEUE_SAMPLE_FIGURES).toContain(key);
  });
});
