/**
 * The Dashboard's pure modules (formats, derived rates, history data, live figures on the
 * graph). Only modules without Preact may be imported here: Preact's typings pull the DOM
 * library into the Node typecheck, where its fetch and streams clash with Node's.
 */
import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatDuration, formatFigure, formatValue } from '../../src/dashboard/web/format.js';
import { RateTracker } from '../../src/dashboard/web/rates.js';
import { chartData, seriesValues } from '../../src/dashboard/web/history-data.js';
import { edgeFigures, formatRate, liveAnnotations, liveEdgesOf, liveLinesOf, rateWidth, structureKey } from '../../src/dashboard/web/topology-live.js';
import { isProbeStat } from '../../src/common/probe-figures.js';
import { CPU, HEAP, KNOWN_KEYS, PROCESSED, RSS, probeRows, uptimeText } from '../../src/dashboard/web/stats.js';
import { dependencyLabel, formatSince, growingText, nextRun, reachSummary, sortAlerts, sortDependencies, sortJobs } from '../../src/dashboard/web/ops-view.js';
import type { AlertView, JobView } from '../../src/dashboard/web/types.js';
import type { ComponentView } from '../../src/roles/web/ops-model.js';
import { AUTO_LABEL_LIMIT, METRICS, layoutDeployment } from '../../src/configurator/graph/layout.js';
import { FLOW_COLOURS, LIVE_EDGE_IDLE, STATUS_COLOURS, renderSvg } from '../../src/configurator/graph/svg.js';
import { sampleGraph } from '../configurator/graph-sample.js';
import { compileDeployment } from '../../src/configurator/compile.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { configFingerprint } from '../../src/node/config-fingerprint.js';
import { runningTopology } from '../../src/roles/web/ops-topology.js';
import type { DeploymentGraph } from '../../src/configurator/deployment.js';

const component = (over: Partial<ComponentView> = {}): ComponentView => ({
  id: 'p1@h:1',
  key: 'p1@h',
  name: 'p1',
  host: 'h',
  roles: ['processor'],
  status: 'up',
  pid: 1,
  version: '1',
  url: 'http://h:8000',
  startedAt: 0,
  lastSeen: 10_000,
  uptimeSeconds: 10,
  silentSeconds: 1,
  configDiffers: false,
  stats: {},
  ...over,
});

describe('the Dashboard formats numbers with their units', () => {
  it('bytes, durations, rates, percentages and "ago"', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(150 * 2 ** 20)).toBe('150 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(3 * 3600 + 12 * 60)).toBe('3 h 12 min');
    expect(formatDuration(2 * 86_400 + 4 * 3600)).toBe('2 d 4 h');
    expect(formatAgo(3)).toBe('3 s ago');
    expect(formatAgo(0)).toBe('just now');
    expect(formatValue(12.345, 'percent')).toBe('12 %');
    expect(formatValue(0.87, 'ratio')).toBe('87 %');
    expect(formatValue(1500, 'ms')).toBe('1.5 s');
    expect(formatValue(undefined, 'ms')).toBe('–');
    expect(formatFigure(4.2, 'per_second', 'processed')).toBe('4.2 processed/s');
    expect(formatFigure(undefined, 'per_second', 'processed')).toBe('– processed/s');
  });
});

describe('rates the browser derives from running totals (a node of an older version)', () => {
  it('divides the change between two heartbeats by their interval, keeps it until the next, and never goes negative', () => {
    const rates = new RateTracker();
    expect(rates.apply([component({ lastSeen: 10_000, stats: { processed: 10 } })])[0].stats.processed_per_second).toBeUndefined();
    expect(rates.apply([component({ lastSeen: 20_000, stats: { processed: 60 } })])[0].stats.processed_per_second).toBe(5);
    // The same heartbeat seen again on the next stream event: the same rate.
    expect(rates.apply([component({ lastSeen: 20_000, stats: { processed: 60 } })])[0].stats.processed_per_second).toBe(5);
    // A restart resets the total.
    expect(rates.apply([component({ lastSeen: 30_000, stats: { processed: 2 } })])[0].stats.processed_per_second).toBeUndefined();
  });

  it('leaves a rate the node reports alone', () => {
    const rates = new RateTracker();
    rates.apply([component({ lastSeen: 10_000, stats: { processed: 10, processed_per_second: 1 } })]);
    expect(rates.apply([component({ lastSeen: 20_000, stats: { processed: 60, processed_per_second: 1 } })])[0].stats.processed_per_second).toBe(1);
  });
});

describe('history charts', () => {
  it('draw a recorded figure as is, and a rate held only as a total as the rate between points', () => {
    const points = [0, 60_000, 120_000].map((at, i) => ({ component: 'p1', at, metrics: { processed: i * 120, cpu_percent: 10 + i } }));
    expect(seriesValues(points, CPU)).toEqual([10, 11, 12]);
    expect(seriesValues(points, PROCESSED)).toEqual([null, 2, 2]);
  });

  it('break the line where the component was silent for more than a step and a half', () => {
    const points = [0, 60_000, 300_000].map((at) => ({ component: 'p1', at, metrics: { rss_bytes: 1, heap_used_bytes: 2 } }));
    const [xs, rss] = chartData(points, [RSS, HEAP], 60_000);
    expect(xs).toEqual([0, 60, 120, 300]);
    expect(rss).toEqual([1, 1, null, 1]);
  });
});

describe('the live figures on the topology', () => {
  const graph: DeploymentGraph = {
    hosts: [{ id: 'h', nodes: ['node:p1', 'node:c1'], resources: [] }],
    nodes: [
      { id: 'node:p1', name: 'p1', host: 'h', roles: ['processor'], file: '(running)', listen: 'h:8000' },
      { id: 'node:c1', name: 'c1', host: 'h', roles: ['collector', 'web'], file: '(running)', listen: 'h:8001' },
    ],
    resources: [{ id: 'q', kind: 'queue', label: 'embedded queue', detail: '/q', backend: 'sqlite', host: 'h' }],
    edges: [],
  };

  it('reserve a status line and one line per role on nodes, two on the queue', () => {
    expect(liveLinesOf(graph)).toEqual({ 'node:p1': 2, 'node:c1': 3, q: 2 });
  });

  it('show status, throughput and queue depth, and a down node without figures', () => {
    const live = liveAnnotations(
      graph,
      [component({ stats: { processed_per_second: 4 } }), component({ id: 'c1@h:2', name: 'c1', roles: ['collector', 'web'], status: 'down', silentSeconds: 45, stats: { collector_accepted_per_second: 9 } })],
      [{ queue: 'standard', waiting: 12, inFlight: 2, oldestAgeSeconds: 75 }],
    );
    expect(live.status).toEqual({ 'node:p1': 'up', 'node:c1': 'down' });
    expect(live.lines?.['node:p1']?.map((l) => l.text)).toEqual(['● up · beat 1 s ago', '4 processed/s']);
    expect(live.lines?.['node:c1']?.map((l) => l.text)).toEqual(['● DOWN · silent 45 s', '– accepted/s', '– req/s']);
    expect(live.lines?.q?.map((l) => l.text)).toEqual(['12 waiting · 2 in flight', 'oldest waiting 1 min']);
  });

  it('lay out again only when the structure changes', () => {
    expect(structureKey(graph)).toBe(structureKey(structuredClone(graph)));
    expect(structureKey(graph)).not.toBe(structureKey({ ...graph, nodes: graph.nodes.slice(1) }));
  });
});

describe('namesakes on the running topology (ops-topology.ts, then the live figures)', () => {
  // Two processors both called `mayday` (the default name), on hosts a and b, draining one queue.
  const processor = compileDeployment(presetFiles('distributed', ['a', 'b', 'c'])).nodes.find((n) => n.id === 'processor-1')!;
  const config = configFingerprint(processor.config).shared;
  const mayday = (host: string, over: Partial<ComponentView>): ComponentView =>
    component({ id: `mayday@${host}:1`, key: `mayday@${host}`, name: 'mayday', host, url: `http://${host}:800${host === 'a' ? 1 : 2}`, ...over });

  it('are two boxes, each with its own status, figures, address and edge rates', async () => {
    const components = [
      mayday('a', { stats: { processed_per_second: 3, failed_per_second: 0.5 } }),
      mayday('b', { status: 'down', silentSeconds: 90, stats: { processed_per_second: 7, failed_per_second: 0 } }),
    ];
    const { topology, edgeRates } = runningTopology(components, () => config);
    expect(topology.nodes.map((n) => [n.id, n.name, n.host, n.listen])).toEqual([
      ['node:mayday@a', 'mayday', 'a', 'a:8001'],
      ['node:mayday@b', 'mayday', 'b', 'b:8002'],
    ]);
    const queue = topology.resources.find((r) => r.kind === 'queue')!.id;
    // The up node's rates on its own edges; the down one's last figures on none.
    expect(edgeRates[`${queue}->node:mayday@a`]).toBe(3.5);
    expect(edgeRates['node:mayday@a->' + topology.resources.find((r) => r.kind === 'processed-store')!.id]).toBe(3);
    expect(Object.keys(edgeRates).filter((id) => id.includes('mayday@b'))).toEqual([]);

    const live = liveAnnotations(topology, components, [], edgeRates);
    expect(live.status).toEqual({ 'node:mayday@a': 'up', 'node:mayday@b': 'down' });
    expect(live.lines?.['node:mayday@a']?.map((l) => l.text)).toEqual(['● up · beat 1 s ago', '3 processed/s']);
    expect(live.lines?.['node:mayday@b']?.map((l) => l.text)).toEqual(['● DOWN · silent 1 min', '– processed/s']);
    expect(live.edges?.[`${queue}->node:mayday@a`]).toEqual({ text: '3.5/s', width: rateWidth(3.5) });
    expect(live.edges?.[`${queue}->node:mayday@b`]).toBeUndefined();

    // Drawn: two boxes, one green and one red, both saying `mayday`.
    const laid = await layoutDeployment(topology, [], { liveLines: liveLinesOf(topology), liveEdges: liveEdgesOf(topology) });
    const svg = renderSvg(laid, { live });
    expect(svg).toMatch(/<g class="node status-up" data-id="node:mayday@a">/);
    expect(svg).toMatch(/<g class="node status-down" data-id="node:mayday@b">/);
    expect(svg.match(/<text [^>]*>mayday<\/text>/g)?.length).toBe(2);
  });

  it('each carry their own rates when both are up', () => {
    const components = [mayday('a', { stats: { processed_per_second: 3, failed_per_second: 0 } }), mayday('b', { stats: { processed_per_second: 7, failed_per_second: 1 } })];
    const { topology, edgeRates } = runningTopology(components, () => config);
    const queue = topology.resources.find((r) => r.kind === 'queue')!.id;
    expect([edgeRates[`${queue}->node:mayday@a`], edgeRates[`${queue}->node:mayday@b`]]).toEqual([3, 8]);
    // A node that reported no configuration is not drawn, and its namesake's box is not taken for it.
    const one = runningTopology(components, (c) => (c.host === 'b' ? config : undefined));
    expect(one.topology.nodes.map((n) => n.id)).toEqual(['node:mayday@b']);
    expect(liveAnnotations(one.topology, [components[0]], []).status).toEqual({});
  });
});

describe('the graph with live figures (layout.ts and svg.ts, optional)', () => {
  const graph: DeploymentGraph = {
    hosts: [{ id: 'h', nodes: ['node:p1'], resources: ['q'] }],
    nodes: [{ id: 'node:p1', name: 'p1', host: 'h', roles: ['processor'], file: '(running)', listen: 'h:8000' }],
    resources: [{ id: 'q', kind: 'queue', label: 'embedded queue', detail: '/q', backend: 'sqlite', host: 'h' }],
    edges: [{ id: 'q->node:p1', from: 'q', to: 'node:p1', flows: ['crash ids'] }],
  };

  it('makes room for the lines, draws them with the status, and leaves the plain drawing as it was', async () => {
    const plain = await layoutDeployment(graph, []);
    const live = await layoutDeployment(graph, [], { liveLines: liveLinesOf(graph) });
    expect(live.nodes[0].height).toBe(plain.nodes[0].height + METRICS.liveGap + 2 * METRICS.bodyLine);
    expect(live.nodes[0].liveLines).toBe(2);
    expect(plain.nodes[0].liveLines).toBeUndefined();
    const svg = renderSvg(live, { live: liveAnnotations(graph, [component({ status: 'down', silentSeconds: 40 })], []) });
    expect(svg).toContain('class="node status-down"');
    expect(svg).toContain(`stroke="${STATUS_COLOURS.down}"`);
    expect(svg).toMatch(/<text class="live" data-line="0"[^>]*>● DOWN · silent 40 s<\/text>/);
    expect(svg).toContain('nothing waiting');
    expect(renderSvg(plain)).not.toContain('class="live"');
  });
});

describe('throughput on the edges of the topology', () => {
  const graph: DeploymentGraph = {
    hosts: [{ id: 'h', nodes: ['node:c1', 'node:p1', 'node:w1'], resources: ['raw', 'q', 'db', 'sym'] }],
    nodes: [
      { id: 'node:c1', name: 'c1', host: 'h', roles: ['collector'], file: '(running)', listen: 'h:8000' },
      { id: 'node:p1', name: 'p1', host: 'h', roles: ['processor'], file: '(running)', listen: 'h:8001' },
      { id: 'node:w1', name: 'w1', host: 'h', roles: ['web'], file: '(running)', listen: 'h:8002' },
    ],
    resources: [
      { id: 'raw', kind: 'raw-store', label: 'raw crashes', detail: '/raw', backend: 'fs', host: 'h' },
      { id: 'q', kind: 'queue', label: 'embedded queue', detail: '/q', backend: 'sqlite', host: 'h' },
      { id: 'db', kind: 'database', label: 'crash index', detail: '/db', backend: 'sqlite', host: 'h' },
      { id: 'sym', kind: 'symbol-store', label: 'symbols', detail: '/sym', backend: 'fs', host: 'h' },
    ],
    edges: [
      { id: 'node:c1->raw', from: 'node:c1', to: 'raw', flows: ['raw crashes'] },
      { id: 'node:c1->q', from: 'node:c1', to: 'q', flows: ['crash ids'] },
      { id: 'q->node:p1', from: 'q', to: 'node:p1', flows: ['crash ids'] },
      { id: 'node:p1->db', from: 'node:p1', to: 'db', flows: ['index rows', 'heartbeats'] },
      { id: 'sym->node:p1', from: 'sym', to: 'node:p1', flows: ['symbols'] },
      { id: 'node:w1->db', from: 'node:w1', to: 'db', flows: ['index rows', 'heartbeats'] },
    ],
  };

  it('keep room on the edges the server can measure, from the structure alone', () => {
    expect(liveEdgesOf(graph)).toEqual(['node:c1->raw', 'node:c1->q', 'q->node:p1', 'node:p1->db']);
  });

  it('read as crashes per second, greyed at zero, absent when not measured, thicker with throughput', () => {
    expect([0, 0.004, 0.35, 4.2, 27, 1340].map(formatRate)).toEqual(['0/s', '<0.01/s', '0.35/s', '4.2/s', '27/s', '1.3k/s']);
    expect(rateWidth(0)).toBe(1.5);
    expect(rateWidth(4)).toBeGreaterThan(2);
    expect(rateWidth(1e6)).toBe(4);
    expect(edgeFigures(graph, { 'node:c1->raw': 4.2, 'q->node:p1': 0, 'gone->x': 3 })).toEqual({
      'node:c1->raw': { text: '4.2/s', width: rateWidth(4.2) },
      'q->node:p1': { text: '0/s', tone: 'muted' },
    });
    expect(liveAnnotations(graph, [], [], { 'node:c1->q': 1 }).edges).toEqual({ 'node:c1->q': { text: '1/s', width: rateWidth(1) } });
    expect(liveAnnotations(graph, [], []).edges).toEqual({});
  });

  it('are drawn in the room the labels kept, and the plain drawing is left as it was', async () => {
    const plain = await layoutDeployment(graph, []);
    const laid = await layoutDeployment(graph, [], { liveEdges: liveEdgesOf(graph) });
    const raw = laid.edges.find((e) => e.id === 'node:c1->raw')!;
    const plainRaw = plain.edges.find((e) => e.id === 'node:c1->raw')!;
    expect(raw.label?.text).toBe('raw crashes');
    expect(raw.label!.width).toBe(plainRaw.label!.width + METRICS.liveEdgeGap + METRICS.liveEdgeWidth);
    expect(raw.label!.live).toEqual({ x: raw.label!.x + raw.label!.width - METRICS.labelPadX - METRICS.liveEdgeWidth, y: raw.label!.y, width: METRICS.liveEdgeWidth, height: raw.label!.height });
    expect(laid.edges.find((e) => e.id === 'sym->node:p1')!.label?.live).toBeUndefined();
    expect(plain.edges.every((e) => e.label?.live === undefined)).toBe(true);

    const svg = renderSvg(laid, { live: liveAnnotations(graph, [], [], { 'node:c1->raw': 4.2, 'q->node:p1': 0 }) });
    expect(svg).toMatch(new RegExp(`<text class="edge-rate" data-id="node:c1-&gt;raw"[^>]*fill="${FLOW_COLOURS['raw crashes']}"[^>]*>4.2/s</text>`));
    expect(svg).toMatch(new RegExp(`<text class="edge-rate" data-id="q-&gt;node:p1"[^>]*fill="${LIVE_EDGE_IDLE}"[^>]*>0/s</text>`));
    expect(svg).toMatch(/<text class="edge-rate" data-id="node:c1-&gt;q"[^>]*><\/text>/);
    expect(svg).toMatch(new RegExp(`data-id="node:c1-&gt;raw" data-from="node:c1" data-to="raw"><title>[^<]*</title><path [^>]*stroke-width="${rateWidth(4.2)}"`));
    expect(renderSvg(plain)).not.toContain('edge-rate');
  });

  it('past AUTO_LABEL_LIMIT get labels holding only the rate, hidden while there is none', async () => {
    const big = sampleGraph();
    expect(big.edges.length).toBeGreaterThan(AUTO_LABEL_LIMIT);
    const measured = liveEdgesOf(big);
    expect(measured.length).toBeGreaterThan(0);
    const laid = await layoutDeployment(big, [], { liveEdges: measured });
    expect(laid.edges.filter((e) => e.label).map((e) => e.id)).toEqual(measured);
    for (const id of measured) expect(laid.edges.find((e) => e.id === id)!.label).toMatchObject({ text: '', width: METRICS.liveEdgeWidth + 2 * METRICS.labelPadX });
    const svg = renderSvg(laid, { live: { edges: { [measured[0]]: { text: '3/s' } } } });
    expect(svg.match(/<g class="edge-label"[^>]*visibility="hidden"/g)?.length).toBe(measured.length - 1);
  });
});

describe('alerts, storages, jobs and queue trends as the overview shows them (ops-view.ts)', () => {
  const now = 1_700_000_000_000;
  const job = (over: Partial<JobView>): JobView => ({ job: 'j', lastRunAt: now - 180_000, lastOutcome: 'success', lastError: null, failuresInARow: 0, nextRunAt: now + 420_000, running: false, ...over });

  it('names the dependencies readably, unreachable ones first, and counts the nodes that reach them', () => {
    expect(dependencyLabel('crash_index')).toBe('crash index (database)');
    expect(dependencyLabel('raw_crash_store')).toBe('raw crash store');
    expect(dependencyLabel('some_new_thing')).toBe('some new thing');
    const deps = [
      { name: 'symbol_store', reachableFrom: ['a', 'b'], unreachableFrom: [], latencyMs: 1 },
      { name: 'queue', reachableFrom: ['a'], unreachableFrom: ['b'], latencyMs: 2 },
      { name: 'crash_index', reachableFrom: ['a', 'b'], unreachableFrom: [], latencyMs: 0.4 },
    ];
    expect(sortDependencies(deps).map((d) => d.name)).toEqual(['queue', 'crash_index', 'symbol_store']);
    expect(reachSummary(deps[0])).toBe('2 of 2 nodes');
    expect(reachSummary(deps[1])).toBe('1 of 2 nodes');
    expect(reachSummary({ name: 'x', reachableFrom: [], unreachableFrom: ['a'], latencyMs: null })).toBe('0 of 1 node');
  });

  it('says when a job ran and is due, and "overdue" only past a minute late', () => {
    expect(formatSince(now - 180_000, now)).toBe('3 min ago');
    expect(formatSince(now - 200, now)).toBe('just now');
    expect(formatSince(null, now)).toBe('never');
    expect(nextRun(now + 420_000, now)).toEqual({ text: 'in 7 min', overdue: false });
    expect(nextRun(now - 30_000, now)).toEqual({ text: 'due now', overdue: false });
    expect(nextRun(now - 5 * 60_000, now)).toEqual({ text: 'overdue by 5 min', overdue: true });
    expect(nextRun(now - 5 * 60_000, now, true)).toEqual({ text: 'due now', overdue: false });
    expect(nextRun(null, now)).toEqual({ text: '–', overdue: false });
    const jobs = [job({ job: 'a' }), job({ job: 'b', nextRunAt: now - 600_000 }), job({ job: 'c', lastOutcome: 'failure', failuresInARow: 2, lastError: 'boom' })];
    expect(sortJobs(jobs, now).map((j) => j.job)).toEqual(['c', 'b', 'a']);
  });

  it('puts firing alerts before pending ones, critical first, then the oldest', () => {
    const alert = (over: Partial<AlertView>): AlertView => ({ key: 'r:s', rule: 'r', subject: 's', severity: 'warning', status: 'firing', message: '', since: now, ...over });
    const sorted = sortAlerts([
      alert({ key: 'pending-critical', status: 'pending', severity: 'critical' }),
      alert({ key: 'warning-new', since: now - 1000 }),
      alert({ key: 'warning-old', since: now - 9000 }),
      alert({ key: 'critical', severity: 'critical' }),
    ]);
    expect(sorted.map((a) => a.key)).toEqual(['critical', 'warning-old', 'warning-new', 'pending-critical']);
  });

  it('badges a queue the server says is growing (it sets growingFor from dashboard.queue_growing_minutes, like the problem)', () => {
    expect(growingText(undefined)).toBeUndefined();
    expect(growingText(0)).toBeUndefined();
    expect(growingText(12)).toBe('↑ growing 12 min');
  });
});

describe('the detail page\'s probes and uptime', () => {
  it('shows probe_* figures as dependencies reached, with their probe latency, not as counters', () => {
    const stats = { probe_raw_crash_store_ok: 1, probe_raw_crash_store_ms: 2.5, probe_crash_index_ok: 0, probe_crash_index_ms: 3000, probe_queue_ms: 4, processed: 3 };
    expect(probeRows(stats)).toEqual([
      { name: 'crash_index', label: 'crash index (database)', reachable: false, reachability: 'unreachable', latency: '3 s' },
      { name: 'queue', label: 'processing queue', reachable: undefined, reachability: '–', latency: '4 ms' },
      { name: 'raw_crash_store', label: 'raw crash store', reachable: true, reachability: 'reachable', latency: '2.5 ms' },
    ]);
    // The page's "Other figures" leaves them out (they are neither known stats nor counters).
    expect(Object.keys(stats).filter((k) => !KNOWN_KEYS.has(k) && !isProbeStat(k))).toEqual([]);
  });

  it('a down node is not "up 3 s": it says how long it ran', () => {
    expect(uptimeText(component({ status: 'up', uptimeSeconds: 3 * 3600 }))).toBe('3 h');
    expect(uptimeText(component({ status: 'stale', uptimeSeconds: 45 }))).toBe('45 s');
    expect(uptimeText(component({ status: 'down', uptimeSeconds: 3 }))).toBe('was up 3 s');
  });
});
