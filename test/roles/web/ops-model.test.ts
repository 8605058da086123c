import { describe, expect, it } from 'vitest';
import type { NodeReport } from '../../../src/ports/node-registry.js';
import { nodeReport } from '../../support/node-reports.js';
import { componentsView, dependenciesView, edgeRates, failureCountsOf, problemSettings, problemsOf, queuesView } from '../../../src/roles/web/ops-model.js';
import { growingMinutes } from '../../../src/ports/ops-history.js';
import { loadConfig } from '../../../src/config/load.js';

const NOW = 1_800_000_000_000;
const THRESHOLDS = { staleAfterMs: 15_000, downAfterMs: 30_000 };

const node = (name: string, overrides: Partial<NodeReport> = {}): NodeReport => nodeReport(name, NOW, { configHash: 'h1', ...overrides });

describe('componentsView', () => {
  it('is up, stale or down by the age of the last heartbeat', () => {
    const view = componentsView([node('a'), node('b', { lastSeen: NOW - 15_000 }), node('c', { lastSeen: NOW - 30_000 })], NOW, THRESHOLDS);
    expect(view.map((c) => [c.name, c.status, c.silentSeconds])).toEqual([
      ['a', 'up', 1],
      ['b', 'stale', 15],
      ['c', 'down', 30],
    ]);
    expect(view[0].uptimeSeconds).toBe(3599);
  });

  it('shows the newest instance of a restarted node, on the host its configuration names', () => {
    const old = node('p', { pid: 10, startedAt: NOW - 600_000, lastSeen: NOW - 120_000, deploymentHost: 'c' });
    const fresh = node('p', { pid: 11, startedAt: NOW - 5000, lastSeen: NOW - 500, deploymentHost: 'c' });
    const view = componentsView([old, fresh], NOW, THRESHOLDS);
    expect(view).toHaveLength(1);
    expect(view[0]).toMatchObject({ id: 'p@m:11', key: 'p@c', host: 'c', status: 'up' });
  });

  it('keeps namesakes on two hosts apart (every node is `mayday` unless named), and says two live ones share a name', () => {
    const dead = node('mayday', { id: 'mayday@a:1', host: 'a', lastSeen: NOW - 120_000 });
    const live = node('mayday', { id: 'mayday@b:1', host: 'b' });
    const view = componentsView([dead, live], NOW, THRESHOLDS);
    expect(view.map((c) => [c.key, c.status])).toEqual([
      ['mayday@a', 'down'],
      ['mayday@b', 'up'],
    ]);
    const problems = problemsOf(view, [], {});
    expect(problems.map((p) => [p.kind, p.subject])).toEqual([['node-down', 'mayday@a']]);
    // Two live ones: a duplicate-name problem (the down one above is not live).
    const both = componentsView([{ ...dead, lastSeen: NOW - 1000 }, live], NOW, THRESHOLDS);
    expect(problemsOf(both, [], {})).toEqual([{ severity: 'warning', kind: 'duplicate-name', subject: 'mayday', message: '2 running nodes are named mayday (on a, b): give each its own node.name' }]);
  });

  it('flags a running node whose configuration differs from most of its peers with the same roles', () => {
    const view = componentsView(
      [node('p1'), node('p2'), node('p3', { configHash: 'other' }), node('w', { roles: ['web'], configHash: 'other' }), node('gone', { configHash: 'x', lastSeen: NOW - 60_000 })],
      NOW,
      THRESHOLDS,
    );
    expect(view.filter((c) => c.configDiffers).map((c) => c.name)).toEqual(['p3']);
    // Two peers, two configurations: both flagged, which one is right is the operator's call.
    const pair = componentsView([node('x1'), node('x2', { configHash: 'h2' })], NOW, THRESHOLDS);
    expect(pair.map((c) => c.configDiffers)).toEqual([true, true]);
  });
});

describe('problems', () => {
  it('lists down nodes first, then late ones, differing configurations, failing processors and old queues', () => {
    const components = componentsView(
      [
        node('late', { lastSeen: NOW - 20_000 }),
        node('dead', { lastSeen: NOW - 45_000, deploymentHost: 'c' }),
        node('failing', { stats: { processed_per_second: 1, failed_per_second: 1 } }),
        node('fine', { stats: { processed_per_second: 10, failed_per_second: 0.1 } }),
      ],
      NOW,
      THRESHOLDS,
    );
    const queues = queuesView([{ queue: 'standard', waiting: 3, inFlight: 1, oldestEnqueuedAt: NOW - 400_000 }, { queue: 'priority', waiting: 0, inFlight: 0 }], NOW);
    expect(queues).toEqual([
      { queue: 'standard', waiting: 3, inFlight: 1, oldestAgeSeconds: 400 },
      { queue: 'priority', waiting: 0, inFlight: 0, oldestAgeSeconds: null },
    ]);
    const failures = new Map([
      ['failing@m', { processed: 10, failed: 10 }],
      ['fine@m', { processed: 100, failed: 1 }],
    ]);
    expect(problemsOf(components, queues, { queueAgeWarningSeconds: 300 }, { failures })).toEqual([
      { severity: 'critical', kind: 'node-down', subject: 'dead@c', message: 'dead on c is down: no heartbeat for 45 s' },
      { severity: 'warning', kind: 'processor-failing', subject: 'failing@m', message: 'failing on m failed 10 of its 20 crashes (50%) in the last 10 min' },
      { severity: 'warning', kind: 'node-stale', subject: 'late@m', message: 'late on m is late: no heartbeat for 20 s' },
      { severity: 'warning', kind: 'queue-old', subject: 'standard', message: 'the oldest crash in the standard queue has waited 7 min' },
    ]);
  });
});

describe('dependencies, jobs and queue trends', () => {
  it('gathers each probed dependency across running nodes, with who cannot reach it and the median time', () => {
    const components = componentsView(
      [
        node('a', { stats: { probe_crash_index_ok: 1, probe_crash_index_ms: 2, probe_queue_ok: 1, probe_queue_ms: 1 } }),
        node('b', { stats: { probe_crash_index_ok: 0, probe_crash_index_ms: 3000, probe_queue_ok: 1, probe_queue_ms: 5 } }),
        node('c', { stats: { probe_crash_index_ok: 1, probe_crash_index_ms: 4 } }),
        node('dead', { lastSeen: NOW - 60_000, stats: { probe_crash_index_ok: 0 } }),
      ],
      NOW,
      THRESHOLDS,
    );
    const dependencies = dependenciesView(components);
    expect(dependencies).toEqual([
      { name: 'crash_index', reachableFrom: ['a', 'c'], unreachableFrom: ['b'], latencyMs: 4 },
      { name: 'queue', reachableFrom: ['a', 'b'], unreachableFrom: [], latencyMs: 5 },
    ]);
    const jobs = [{ job: 'retention', lastRunAt: NOW - 1000, lastOutcome: 'failed', lastError: 'disk full', failuresInARow: 2, nextRunAt: NOW + 1000, running: false }];
    const problems = problemsOf(components, [], { queueAgeWarningSeconds: 300 }, { dependencies, jobs });
    expect(problems.filter((p) => p.kind === 'dependency-unreachable' || p.kind === 'job-failed')).toEqual([
      { severity: 'critical', kind: 'dependency-unreachable', subject: 'crash_index', message: 'b cannot reach the crash index' },
      { severity: 'warning', kind: 'job-failed', subject: 'retention', message: 'the scheduler job retention failed 2 times in a row: disk full' },
    ]);
  });

  it('a processor is failing by its share over a window, with a minimum of crashes, not by one heartbeat', () => {
    const processor = componentsView([node('p', { startedAt: NOW - 3_600_000, stats: { processed: 500, failed: 40, processed_per_second: 0, failed_per_second: 1 } })], NOW, THRESHOLDS);
    const windowStart = NOW - 600_000;
    // Its totals now minus those of its earliest point in the window: 30 failed of 130.
    const points = [{ at: windowStart - 60_000, processed: 300, failed: 0 }, { at: windowStart + 60_000, processed: 400, failed: 10 }, { at: NOW - 60_000, processed: 480, failed: 35 }];
    expect(failureCountsOf(processor[0], points, windowStart)).toEqual({ processed: 100, failed: 30 });
    // A process started within the window counts whole; points of an earlier process (larger totals, or before its start) are not its own.
    expect(failureCountsOf({ startedAt: NOW - 60_000, stats: { processed: 1, failed: 1 } }, [{ at: NOW - 120_000, processed: 900, failed: 9 }], windowStart)).toEqual({ processed: 1, failed: 1 });
    // Nothing known of the window: no verdict.
    expect(failureCountsOf(processor[0], [], windowStart)).toBeUndefined();

    // One failure of one crash (100 %, and all the last heartbeat saw) is below the minimum count.
    expect(problemsOf(processor, [], {}, { failures: new Map([['p@m', { processed: 0, failed: 1 }]]) })).toEqual([]);
    expect(problemsOf(processor, [], {}, { failures: new Map([['p@m', { processed: 100, failed: 30 }]]) }).map((p) => p.kind)).toEqual(['processor-failing']);
    // The thresholds are the [dashboard] options.
    const { config } = loadConfig({ overrides: { 'dashboard.failing_share': '50', 'dashboard.failing_min_crashes': '200', 'dashboard.queue_growing_minutes': '3', 'dashboard.queue_age_warning': '2m', 'dashboard.failing_window': '5m' } });
    const settings = problemSettings(config!.dashboard);
    expect(settings).toEqual({ queueAgeWarningSeconds: 120, queueGrowingMinutes: 3, failingShare: 0.5, failingMinCrashes: 200, failingWindowMs: 300_000 });
    expect(problemsOf(processor, [], settings, { failures: new Map([['p@m', { processed: 100, failed: 30 }]]) })).toEqual([]);
    const queues = [{ queue: 'standard', waiting: 9, inFlight: 0, oldestAgeSeconds: 130, growingFor: 3 }];
    expect(problemsOf([], queues, settings).map((p) => p.kind)).toEqual(['queue-growing', 'queue-old']);
    expect(problemsOf([], queues, {}).map((p) => p.kind)).toEqual([]);
  });

  it('the alerts job overdue is critical: no scheduler evaluates the rules, nothing would page', () => {
    const job = (over: object) => ({ job: 'alerts', lastRunAt: NOW - 300_000, lastOutcome: 'success', lastError: null, failuresInARow: 0, nextRunAt: NOW - 290_000, running: false, ...over });
    expect(problemsOf([], [], {}, { jobs: [job({})], now: NOW })).toEqual([
      { severity: 'critical', kind: 'alerts-overdue', subject: 'alerts', message: 'the alerts job is overdue by 5 min: no scheduler is evaluating the alert rules, so nothing would page anyone' },
    ]);
    expect(problemsOf([], [], {}, { jobs: [job({ nextRunAt: NOW - 30_000 })], now: NOW })).toEqual([]);
    expect(problemsOf([], [], {}, { jobs: [job({ running: true })], now: NOW })).toEqual([]);
    expect(problemsOf([], [], {}, { jobs: [job({ job: 'retention' })], now: NOW })).toEqual([]);
  });

  it('a queue that grew at every minute point for ten minutes is a problem', () => {
    const minute = (i: number, waiting: number) => ({ at: NOW - (12 - i) * 60_000, waiting });
    const rising = Array.from({ length: 12 }, (_, i) => minute(i, 10 + i * 5));
    expect(growingMinutes(rising)).toBe(11);
    expect(growingMinutes([...rising.slice(0, 11), minute(11, 0)])).toBe(0);
    expect(growingMinutes([minute(0, 5), minute(1, 5), minute(2, 6)])).toBe(1);
    const queues = queuesView([{ queue: 'standard', waiting: 65, inFlight: 8 }], NOW).map((q) => ({ ...q, growingFor: growingMinutes(rising) }));
    expect(problemsOf([], queues, { queueAgeWarningSeconds: 300 })).toEqual([
      { severity: 'warning', kind: 'queue-growing', subject: 'standard', message: 'the standard queue has grown for 11 minutes (65 waiting)' },
    ]);
  });
});

describe('edgeRates', () => {
  it('puts each node\'s crash rates on the edges it feeds or drains', () => {
    const components = componentsView(
      [
        node('c', { roles: ['collector'], stats: { collector_accepted_per_second: 4, collector_deferred_per_second: 1 } }),
        node('p', { stats: { processed_per_second: 3, failed_per_second: 0.5 } }),
        node('w', { roles: ['web'], stats: { web_requests_per_second: 9 } }),
        node('gone', { lastSeen: NOW - 60_000, stats: { processed_per_second: 7 } }),
      ],
      NOW,
      THRESHOLDS,
    );
    const edge = (from: string, to: string, flows: string[]) => ({ id: `${from}->${to}`, from, to, flows });
    expect(
      edgeRates(
        [
          edge('node:c', 'raw', ['raw crashes']),
          edge('node:c', 'q', ['crash ids']),
          edge('q', 'node:p', ['crash ids']),
          edge('raw', 'node:p', ['raw crashes']),
          edge('node:p', 'processed', ['processed crashes']),
          edge('node:p', 'db', ['index rows', 'heartbeats']),
          edge('db', 'node:w', ['index rows']),
        ],
        // The running nodes' figures by box (runningTopology leaves the down ones out).
        new Map(components.filter((c) => c.name !== 'gone').map((c) => [`node:${c.name}`, c.stats])),
      ),
    ).toEqual({ 'node:c->raw': 5, 'node:c->q': 4, 'q->node:p': 3.5, 'raw->node:p': 3.5, 'node:p->processed': 3, 'node:p->db': 3 });
  });
});
