import { describe, expect, it } from 'vitest';
import type { CounterSample } from '../../../../src/ports/alert-state.js';
import { evaluate, failureCounts, type ComponentSnapshot, type EvaluationInput } from '../../../../src/roles/scheduler/alerts/evaluate.js';
import { alertRules, type AlertRule } from '../../../../src/roles/scheduler/alerts/rules.js';

const NOW = 1_700_000_000_000;
const S = 1000;

const rule = (name: string, fields: Record<string, unknown>): AlertRule => alertRules([{ name, fields }], 30 * S)[0];
const node = (name: string, extra: Partial<ComponentSnapshot> = {}): ComponentSnapshot => ({ id: `${name}@h:1`, name, host: 'h', roles: ['processor'], lastSeen: NOW - 5 * S, stats: {}, ...extra });
const input = (extra: Partial<EvaluationInput>): EvaluationInput => ({ rules: [], now: NOW, components: [], queues: [], jobs: [], counters: [], ...extra });

describe('alert rules from the configuration', () => {
  it('apply each kind\'s defaults, node_down following dashboard.down_after', () => {
    const rules = alertRules(
      [
        { name: 'down', fields: { kind: 'node_down' } },
        { name: 'age', fields: { kind: 'queue_age' } },
        { name: 'rate', fields: { kind: 'failure_rate' } },
        { name: 'job', fields: { kind: 'job_failed', job: [] } },
        { name: 'custom', fields: { kind: 'node_down', threshold: 90, for: 60_000, node: ['p1'], role: ['processor'], severity: 'critical' } },
      ],
      45_000,
    );
    expect(rules.map((r) => [r.name, r.threshold, r.forMs, r.severity])).toEqual([
      ['down', 45, 0, 'warning'],
      ['age', 600, 0, 'warning'],
      ['rate', 10, 0, 'warning'],
      ['job', 1, 0, 'warning'],
      ['custom', 90, 60_000, 'critical'],
    ]);
    expect(rules[2].windowMs).toBe(300_000);
    expect(rules[3].jobs).toBeUndefined();
    expect(rules[4]).toMatchObject({ nodes: ['p1'], roles: ['processor'] });
    expect(() => alertRules([{ name: 'x', fields: { kind: 'disk_full' } }], 1)).toThrow(/unknown kind/);
  });
});

describe('node_down', () => {
  const down = rule('down', { kind: 'node_down' });

  it('holds for a node silent for the threshold (the dashboard\'s down), by node key name@host', () => {
    const conditions = evaluate(
      input({
        rules: [down],
        components: [node('p1'), node('p2', { lastSeen: NOW - 30 * S }), node('c1', { lastSeen: NOW - 29_999, roles: ['collector'] })],
      }),
    );
    expect(conditions).toEqual([{ key: 'down:p2@h', rule: 'down', subject: 'p2@h', severity: 'warning', message: expect.stringMatching(/^node p2 on h \(processor\) has sent no heartbeat for 30 s/) }]);
  });

  it('alerts on a dead node while a live namesake runs on another host (every node is `mayday` unless named)', () => {
    const components = [
      node('mayday', { id: 'mayday@a:1', host: 'a', lastSeen: NOW - 120 * S }),
      node('mayday', { id: 'mayday@b:1', host: 'b', lastSeen: NOW - 2 * S }),
      // node.host names the machine for the deployment: it is the node's host in its key.
      node('mayday', { id: 'mayday@c7f2:1', host: 'c7f2', deploymentHost: 'vm-3', lastSeen: NOW - 90 * S }),
    ];
    expect(evaluate(input({ rules: [down], components })).map((c) => [c.key, c.message.split(' has')[0]])).toEqual([
      ['down:mayday@a', 'node mayday on a (processor)'],
      ['down:mayday@vm-3', 'node mayday on vm-3 (processor)'],
    ]);
    // A rule's `node` list takes a name (every host) or a key (one).
    expect(evaluate(input({ rules: [rule('one', { kind: 'node_down', node: ['mayday@vm-3'] })], components })).map((c) => c.key)).toEqual(['one:mayday@vm-3']);
    expect(evaluate(input({ rules: [rule('all', { kind: 'node_down', node: ['mayday'] })], components })).map((c) => c.key)).toEqual(['all:mayday@a', 'all:mayday@vm-3']);
  });

  it('takes a restarted node (same name and host, new process) for the same node: its newest heartbeat counts', () => {
    const components = [node('p2', { id: 'p2@h:100', lastSeen: NOW - 600 * S }), node('p2', { id: 'p2@h:200', lastSeen: NOW - 2 * S })];
    expect(evaluate(input({ rules: [down], components }))).toEqual([]);
    expect(evaluate(input({ rules: [down], components: components.slice(0, 1) })).map((c) => c.key)).toEqual(['down:p2@h']);
    // Restarted in a container with a new machine name, under the same node.host: the same node.
    const moved = [node('p2', { id: 'p2@old:1', host: 'old', deploymentHost: 'vm', lastSeen: NOW - 600 * S }), node('p2', { id: 'p2@new:1', host: 'new', deploymentHost: 'vm', lastSeen: NOW - 2 * S })];
    expect(evaluate(input({ rules: [down], components: moved }))).toEqual([]);
  });

  it('only looks at the nodes and roles named', () => {
    const components = [node('p1', { lastSeen: 0 }), node('c1', { lastSeen: 0, roles: ['collector', 'web'] }), node('w1', { lastSeen: 0, roles: ['web'] })];
    expect(evaluate(input({ rules: [rule('r', { kind: 'node_down', role: ['collector'] })], components })).map((c) => c.key)).toEqual(['r:c1@h']);
    expect(evaluate(input({ rules: [rule('n', { kind: 'node_down', node: ['w1', 'p1'] })], components })).map((c) => c.key)).toEqual(['n:p1@h', 'n:w1@h']);
    expect(evaluate(input({ rules: [rule('n', { kind: 'node_down', node: ['p1'], role: ['web'] })], components }))).toEqual([]);
  });
});

describe('queue_age', () => {
  it('holds for a queue whose oldest waiting crash is older than the threshold', () => {
    const queues = [
      { queue: 'standard', waiting: 12, oldestEnqueuedAt: NOW - 301 * S },
      { queue: 'priority', waiting: 1, oldestEnqueuedAt: NOW - 300 * S },
      { queue: 'reprocessing', waiting: 0 },
    ];
    const age = rule('age', { kind: 'queue_age', threshold: 300, severity: 'critical' });
    expect(evaluate(input({ rules: [age], queues }))).toEqual([
      { key: 'age:standard', rule: 'age', subject: 'standard', severity: 'critical', message: 'the oldest crash waiting in queue standard has waited 5 min (12 waiting)' },
    ]);
    expect(evaluate(input({ rules: [rule('p', { kind: 'queue_age', threshold: 10, queue: ['priority'] })], queues })).map((c) => c.key)).toEqual(['p:priority']);
  });
});

describe('failure_rate', () => {
  const rate = rule('rate', { kind: 'failure_rate', threshold: 20, window: 60_000 });
  const sample = (id: string, at: number, processed: number, failed: number): CounterSample => ({ nodeId: id, nodeName: id.split('@')[0], at, processed, failed });

  it('counts failed over processed + failed since the last sample at or before the window\'s start', () => {
    const p1 = node('p1', { stats: { processed: 190, failed: 30 } });
    const counters = [sample('p1@h:1', NOW - 120 * S, 0, 0), sample('p1@h:1', NOW - 61 * S, 100, 5), sample('p1@h:1', NOW - 30 * S, 150, 20)];
    expect(failureCounts(rate, { now: NOW, counters }, [p1])).toEqual({ processed: 90, failed: 25 });
    // 25 of 115: 21.7 %.
    expect(evaluate(input({ rules: [rate], components: [p1], counters }))).toEqual([
      { key: 'rate:p1@h', rule: 'rate', subject: 'p1@h', severity: 'warning', message: 'node p1 on h failed 25 of 115 crashes (21.7%, over 20%) in the last 60 s' },
    ]);
    // 20 % is not over 20 %.
    expect(evaluate(input({ rules: [rate], components: [node('p1', { stats: { processed: 180, failed: 25 } })], counters }))).toEqual([]);
  });

  it('uses the earliest sample in the window when none is older, or zero for a process started within it', () => {
    const counters = [sample('p1@h:1', NOW - 30 * S, 100, 10)];
    expect(failureCounts(rate, { now: NOW, counters }, [node('p1', { stats: { processed: 110, failed: 20 } })])).toEqual({ processed: 10, failed: 10 });
    expect(failureCounts(rate, { now: NOW, counters: [] }, [node('p1', { startedAt: NOW - 10 * S, stats: { processed: 4, failed: 1 } })])).toEqual({ processed: 4, failed: 1 });
    // Started before the window and never sampled: nothing is known of the window yet.
    expect(failureCounts(rate, { now: NOW, counters: [] }, [node('p1', { startedAt: NOW - 600 * S, stats: { processed: 4, failed: 1 } })])).toEqual({ processed: 0, failed: 0 });
  });

  it('adds up the processes of one node (name@host), and never alerts without crashes in the window', () => {
    const old = node('p1', { id: 'p1@h:1', stats: { processed: 50, failed: 50 } });
    const restarted = node('p1', { id: 'p1@h:2', startedAt: NOW - 5 * S, stats: { processed: 0, failed: 3 } });
    const counters = [sample('p1@h:1', NOW - 90 * S, 50, 50)];
    expect(evaluate(input({ rules: [rate], components: [old, restarted], counters })).map((c) => c.message)).toEqual(['node p1 on h failed 3 of 3 crashes (100.0%, over 20%) in the last 60 s']);
    expect(evaluate(input({ rules: [rate], components: [old], counters }))).toEqual([]);
    // Nodes without counters (a collector) are not looked at.
    expect(evaluate(input({ rules: [rate], components: [node('c1', { roles: ['collector'], startedAt: NOW, stats: { accepted: 10 } })] }))).toEqual([]);
  });
});

describe('job_failed', () => {
  const jobs = [
    { job: 'retention', failuresInARow: 2, lastError: 'disk full' },
    { job: 'verify-processed', failuresInARow: 0 },
    { job: 'missing-symbols', failuresInARow: 1 },
  ];
  it('holds for a job whose last `threshold` runs failed', () => {
    expect(evaluate(input({ rules: [rule('job', { kind: 'job_failed' })], jobs })).map((c) => [c.key, c.message])).toEqual([
      ['job:retention', 'scheduler job retention: its last 2 runs failed: disk full'],
      ['job:missing-symbols', 'scheduler job missing-symbols: its last run failed'],
    ]);
    expect(evaluate(input({ rules: [rule('twice', { kind: 'job_failed', threshold: 2 })], jobs })).map((c) => c.key)).toEqual(['twice:retention']);
    expect(evaluate(input({ rules: [rule('only', { kind: 'job_failed', job: ['missing-symbols'] })], jobs })).map((c) => c.key)).toEqual(['only:missing-symbols']);
  });
});

describe('dependency_unreachable', () => {
  const probes = (ok: Record<string, 0 | 1>): Record<string, number> => Object.fromEntries(Object.entries(ok).flatMap(([name, v]) => [[`probe_${name}_ok`, v], [`probe_${name}_ms`, v ? 3 : 5000]]));
  const unreachable = rule('dep', { kind: 'dependency_unreachable', severity: 'critical' });

  it('holds for each dependency a running node could not reach, naming those nodes', () => {
    const components = [
      node('p1', { stats: probes({ crash_index: 0, queue: 1 }) }),
      node('p2', { id: 'p2@h:2', stats: probes({ crash_index: 0, queue: 1 }) }),
      node('c1', { roles: ['collector'], stats: probes({ crash_index: 1, queue: 0, raw_crash_store: 1 }) }),
    ];
    expect(evaluate(input({ rules: [unreachable], components }))).toEqual([
      { key: 'dep:crash_index', rule: 'dep', subject: 'crash_index', severity: 'critical', message: 'the crash index is unreachable from 2 of the 3 running nodes that probe it: p1@h, p2@h' },
      { key: 'dep:queue', rule: 'dep', subject: 'queue', severity: 'critical', message: 'the queue is unreachable from 1 of the 3 running nodes that probe it: c1@h' },
    ]);
    // Every node lost it: the message says so.
    const all = [node('p1', { stats: probes({ queue: 0 }) }), node('c1', { stats: probes({ queue: 0 }) })];
    expect(evaluate(input({ rules: [unreachable], components: all })).map((c) => c.message)).toEqual(['the queue is unreachable from every running node that probes it (2): c1@h, p1@h']);
  });

  it('ignores down nodes (their probes are old), counts a restarted node by its newest process, and heeds threshold and filters', () => {
    const components = [
      // Down: silent for dashboard.down_after.
      node('p1', { lastSeen: NOW - 30 * S, stats: probes({ crash_index: 0 }) }),
      // Restarted: the old process could not reach it, the new one can.
      node('p2', { id: 'p2@h:1', lastSeen: NOW - 20 * S, stats: probes({ crash_index: 0 }) }),
      node('p2', { id: 'p2@h:2', lastSeen: NOW - 2 * S, stats: probes({ crash_index: 1 }) }),
      node('w1', { roles: ['web'], stats: probes({ crash_index: 0, symbol_store: 0 }) }),
    ];
    expect(evaluate(input({ rules: [unreachable], components })).map((c) => [c.key, c.message])).toEqual([
      ['dep:crash_index', 'the crash index is unreachable from 1 of the 2 running nodes that probe it: w1@h'],
      ['dep:symbol_store', 'the symbol store is unreachable from every running node that probes it (1): w1@h'],
    ]);
    // A longer down_after keeps p1 running.
    expect(evaluate(input({ rules: [unreachable], components, downAfterMs: 60 * S })).map((c) => c.message)[0]).toMatch(/from 2 of the 3 running nodes that probe it: p1@h, w1@h$/);
    expect(evaluate(input({ rules: [rule('two', { kind: 'dependency_unreachable', threshold: 2 })], components }))).toEqual([]);
    expect(evaluate(input({ rules: [rule('db', { kind: 'dependency_unreachable', dependency: ['crash_index'] })], components })).map((c) => c.key)).toEqual(['db:crash_index']);
    expect(evaluate(input({ rules: [rule('proc', { kind: 'dependency_unreachable', role: ['processor'] })], components }))).toEqual([]);
  });
});

describe('queue_growing', () => {
  const M = 60_000;
  const points = (...waiting: number[]) => waiting.map((w, i) => ({ at: NOW - (waiting.length - i) * M, waiting: w }));

  it('holds for a queue grown at every minute point for threshold minutes, as the Dashboard counts it (growingMinutes)', () => {
    const growing = rule('grow', { kind: 'queue_growing', threshold: 5 });
    const queueHistory = [
      { queue: 'standard', points: points(50, 10, 20, 30, 40, 50, 60) },
      // Grew for four minutes only.
      { queue: 'priority', points: points(9, 9, 1, 2, 3, 4, 5) },
      { queue: 'reprocessing', points: [] },
    ];
    expect(evaluate(input({ rules: [growing], queueHistory }))).toEqual([
      { key: 'grow:standard', rule: 'grow', subject: 'standard', severity: 'warning', message: 'queue standard has grown at every minute for 5 min, from 10 to 60 waiting' },
    ]);
    expect(evaluate(input({ rules: [rule('four', { kind: 'queue_growing', threshold: 4 })], queueHistory })).map((c) => c.key)).toEqual(['four:standard', 'four:priority']);
    expect(evaluate(input({ rules: [rule('p', { kind: 'queue_growing', threshold: 4, queue: ['priority'] })], queueHistory })).map((c) => c.key)).toEqual(['p:priority']);
    // Points come in any order; a flat last minute ends the growth.
    expect(evaluate(input({ rules: [growing], queueHistory: [{ queue: 'standard', points: points(10, 20, 30, 40, 50, 60).reverse() }] })).map((c) => c.key)).toEqual(['grow:standard']);
    expect(evaluate(input({ rules: [growing], queueHistory: [{ queue: 'standard', points: points(10, 20, 30, 40, 50, 60, 60) }] }))).toEqual([]);
  });

  it('takes dashboard.queue_growing_minutes as its default threshold', () => {
    expect(alertRules([{ name: 'g', fields: { kind: 'queue_growing' } }], 30 * S, { queueGrowingMinutes: 7 })[0].threshold).toBe(7);
    expect(alertRules([{ name: 'g', fields: { kind: 'queue_growing' } }], 30 * S)[0].threshold).toBe(10);
  });
});

describe('nodes_below', () => {
  it('holds when fewer than threshold nodes of the role run, one alert per role, naming who runs and who is down', () => {
    const components = [
      node('p1'),
      node('p2', { lastSeen: NOW - 45 * S }),
      // Restarted: one node, running.
      node('p3', { id: 'p3@h:1', lastSeen: NOW - 600 * S }),
      node('p3', { id: 'p3@h:2', lastSeen: NOW - 1 * S }),
      node('w1', { roles: ['web', 'collector'] }),
    ];
    const fleet = rule('fleet', { kind: 'nodes_below', role: ['processor', 'collector', 'scheduler'], threshold: 3, severity: 'critical' });
    expect(evaluate(input({ rules: [fleet], components }))).toEqual([
      { key: 'fleet:processor', rule: 'fleet', subject: 'processor', severity: 'critical', message: 'only 2 processor nodes are running (p1@h, p3@h), fewer than 3; down: p2@h (a node stopped cleanly leaves the registry and is not listed)' },
      { key: 'fleet:collector', rule: 'fleet', subject: 'collector', severity: 'critical', message: 'only 1 collector node is running (w1@h), fewer than 3 (a node stopped cleanly leaves the registry and is not listed)' },
      { key: 'fleet:scheduler', rule: 'fleet', subject: 'scheduler', severity: 'critical', message: 'no scheduler node is running, fewer than 3 (a node stopped cleanly leaves the registry and is not listed)' },
    ]);
    expect(evaluate(input({ rules: [rule('two', { kind: 'nodes_below', role: ['processor'], threshold: 2 })], components }))).toEqual([]);
    // The default threshold is 1: alerts when none runs.
    const none = rule('none', { kind: 'nodes_below', role: ['processor'] });
    expect(none.threshold).toBe(1);
    expect(evaluate(input({ rules: [none], components }))).toEqual([]);
    expect(evaluate(input({ rules: [none], components: [] })).map((c) => c.message)).toEqual(['no processor node is running, fewer than 1 (a node stopped cleanly leaves the registry and is not listed)']);
    // `node` narrows who counts.
    expect(evaluate(input({ rules: [rule('n', { kind: 'nodes_below', role: ['processor'], node: ['p2', 'p3'], threshold: 2 })], components })).map((c) => c.message)).toEqual([
      'only 1 processor node is running (p3@h), fewer than 2; down: p2@h (a node stopped cleanly leaves the registry and is not listed)',
    ]);
  });

  it('needs a role', () => {
    expect(() => alertRules([{ name: 'x', fields: { kind: 'nodes_below', threshold: 2 } }], 30 * S)).toThrow(/alert rule x: kind nodes_below needs role/);
    expect(() => alertRules([{ name: 'x', fields: { kind: 'nodes_below', role: [] } }], 30 * S)).toThrow(/needs role/);
  });
});
