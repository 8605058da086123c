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
