import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';
import { SqliteNodeRegistry } from '../../../src/adapters/sqlite-node-registry.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { SqliteOpsHistory } from '../../../src/adapters/sqlite-ops-history.js';
import type { NodeReport } from '../../../src/ports/node-registry.js';
import { hostname } from 'node:os';

/** The Dashboard's JSON on a real all-roles node, with other nodes' reports in its registry. */

let dir: string;
let node: RunningNode;
let registry: SqliteNodeRegistry;

function report(name: string, overrides: Partial<NodeReport>): NodeReport {
  const now = Date.now();
  return { id: `${name}@elsewhere:1`, name, host: 'elsewhere', pid: 1, roles: ['processor'], version: '0.1.0', url: 'http://elsewhere:1', startedAt: now - 60_000, lastSeen: now, stats: {}, ...overrides };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-ops-api-'));
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'node.name': 'web-1', 'web.port': '0', 'node.roles': 'collector, processor, web', 'node.heartbeat_interval': '200ms' } });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
  registry = SqliteNodeRegistry.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  await registry.report(report('processor-9', { lastSeen: Date.now() - 45_000 }));
}, 60_000);
afterAll(async () => {
  await registry?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/api/ops', () => {
  it('lists this node up and a silent one down, with the problem it makes', async () => {
    const body = (await (await fetch(`${node.url}/api/ops/components`)).json()) as { thresholds: unknown; components: { key: string; status: string; roles: string[] }[] };
    expect(body.thresholds).toEqual({ staleAfterMs: 15_000, downAfterMs: 30_000 });
    // Each node is name@host: node.host when set, else the machine's host name.
    expect(body.components.map((c) => [c.key, c.status])).toEqual([
      ['processor-9@elsewhere', 'down'],
      [`web-1@${hostname()}`, 'up'],
    ]);
    const overview = (await (await fetch(`${node.url}/api/ops/overview`)).json()) as { problems: { kind: string; subject: string }[]; queues: { queue: string }[] };
    expect(overview.problems).toContainEqual(expect.objectContaining({ kind: 'node-down', subject: 'processor-9@elsewhere' }));
    expect(overview.queues.map((q) => q.queue).sort()).toEqual(['priority', 'reprocessing', 'standard']);
    // This node probes its database, queue and storages at every heartbeat.
    const full = (await (await fetch(`${node.url}/api/ops/overview`)).json()) as { dependencies: { name: string; reachableFrom: string[]; unreachableFrom: string[]; latencyMs: number }[]; deadLetters: number; jobs: unknown[] };
    expect(full.dependencies.map((d) => d.name)).toEqual(['crash_index', 'node_registry', 'processed_crash_store', 'queue', 'raw_crash_store', 'symbol_store']);
    for (const d of full.dependencies) expect(d, d.name).toMatchObject({ reachableFrom: ['web-1'], unreachableFrom: [] });
    expect(full.deadLetters).toBe(0);
    expect(full.jobs).toEqual(expect.any(Array));
  });

  it('gives each queue its dead letters and its rates, summed from the heartbeats of the nodes that are up', async () => {
    // This node's heartbeat (every 200 ms) carries its queue's counts; the down processor-9 reports none.
    let queues: { queue: string; deadLetters?: number; enqueuedPerSecond?: number; dequeuedPerSecond?: number }[] = [];
    for (let tries = 0; tries < 50; tries++) {
      queues = ((await (await fetch(`${node.url}/api/ops/queues`)).json()) as { queues: typeof queues }).queues;
      if (queues.every((q) => q.enqueuedPerSecond !== undefined)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(queues.map((q) => q.queue).sort()).toEqual(['priority', 'reprocessing', 'standard']);
    for (const q of queues) expect(q, q.queue).toMatchObject({ deadLetters: 0, enqueuedPerSecond: expect.any(Number), dequeuedPerSecond: expect.any(Number) });
  });

  it('streams the overview as Server-Sent Events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${node.url}/api/ops/stream`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const reader = response.body!.getReader();
    let text = '';
    while ((text.match(/event: overview/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const first = JSON.parse(/event: overview\ndata: (.*)\n/.exec(text)![1]) as { components: { name: string }[] };
    expect(first.components.map((c) => c.name)).toContain('web-1');
  });

  it('an operator removes a node that is gone; an unknown one is 404', async () => {
    expect((await fetch(`${node.url}/api/ops/components/processor-9@elsewhere:1`, { method: 'DELETE' })).status).toBe(204);
    const body = (await (await fetch(`${node.url}/api/ops/components`)).json()) as { components: { name: string }[] };
    expect(body.components.map((c) => c.name)).toEqual(['web-1']);
    expect((await fetch(`${node.url}/api/ops/components/nothing@x:1`, { method: 'DELETE' })).status).toBe(404);
  });

  it('serves a component\'s history, minute points within the last day, and refuses bad ranges', async () => {
    const history = SqliteOpsHistory.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const key = `web-1@${hostname()}`;
    await history.record([
      // Recorded by an earlier version, under the bare name: still this node's history.
      { component: 'web-1', at: minute - 180_000, metrics: { cpu_percent: 5, rss_bytes: 1e8 } },
      { component: key, at: minute - 120_000, metrics: { cpu_percent: 10, rss_bytes: 1e8 } },
      { component: key, at: minute - 60_000, metrics: { cpu_percent: 30, rss_bytes: 1.2e8 } },
      { component: 'queue:standard', at: minute - 60_000, metrics: { waiting: 4 } },
    ]);
    await history.close();
    type Answer = { resolution: string; points: { component: string; at: number; metrics: Record<string, number> }[] };
    const answer = (await (await fetch(`${node.url}/api/ops/history?component=${encodeURIComponent(key)}&from=${now - 3_600_000}&to=${now}`)).json()) as Answer;
    expect(answer.resolution).toBe('minute');
    expect(answer.points.map((p) => [p.component, p.at, p.metrics.cpu_percent])).toEqual([
      [key, minute - 180_000, 5],
      [key, minute - 120_000, 10],
      [key, minute - 60_000, 30],
    ]);
    // A bare name (an old link) names the one node that has it...
    const bare = (await (await fetch(`${node.url}/api/ops/history?component=web-1&from=${now - 3_600_000}&to=${now}`)).json()) as Answer;
    expect(bare.points).toEqual(answer.points);
    // ...and is refused once two hosts run a node of that name.
    await registry.report(report('web-1', { id: 'web-1@other:1', host: 'other' }));
    const ambiguous = await fetch(`${node.url}/api/ops/history?component=web-1`);
    expect(ambiguous.status).toBe(400);
    expect(((await ambiguous.json()) as { error: string }).error).toBe(`several nodes are named web-1: give one of ${[key, 'web-1@other'].sort().join(', ')}`);
    const other = (await (await fetch(`${node.url}/api/ops/history?component=web-1@other&from=${now - 3_600_000}&to=${now}`)).json()) as Answer;
    expect(other.points).toEqual([]);
    await registry.forget('web-1@other:1');
    const only = (await (await fetch(`${node.url}/api/ops/history?component=${encodeURIComponent(key)}&metric=rss_bytes`)).json()) as { points: { metrics: Record<string, number> }[] };
    expect(only.points.map((p) => Object.keys(p.metrics))).toEqual([['rss_bytes'], ['rss_bytes'], ['rss_bytes']]);
    for (const bad of ['', 'component=web-1&from=x', `component=web-1&from=${now}&to=${now - 1}`, `component=web-1&from=${now - 9 * 86_400_000}&to=${now}`, 'component=web-1&metric=a%20b']) {
      expect((await fetch(`${node.url}/api/ops/history?${bad}`)).status, bad).toBe(400);
    }
  });

  it('once the deployment has accounts, reading needs view_ops (admin implies it) and removing a node needs admin', async () => {
    const tokens = SqliteTokenStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
    const admin = (await tokens.create({ user: 'ops', permissions: ['admin'] })).token;
    const monitor = (await tokens.create({ user: 'monitor', permissions: ['view_ops'] })).token;
    const other = (await tokens.create({ user: 'dev', permissions: ['reprocess'] })).token;
    await tokens.close();
    expect((await fetch(`${node.url}/api/ops/components`)).status).toBe(401);
    expect((await fetch(`${node.url}/api/ops/components`, { headers: { 'auth-token': other } })).status).toBe(403);
    expect((await fetch(`${node.url}/api/ops/components`, { headers: { 'auth-token': admin } })).status).toBe(200);
    // A monitoring token reads everything the Dashboard reads...
    for (const url of ['/api/ops/components', '/api/ops/queues', '/api/ops/overview', '/api/ops/history?component=queue:standard', '/dashboard']) {
      expect((await fetch(`${node.url}${url}`, { headers: { 'auth-token': monitor } })).status, url).toBe(200);
    }
    const controller = new AbortController();
    const stream = await fetch(`${node.url}/api/ops/stream`, { headers: { 'auth-token': monitor }, signal: controller.signal });
    expect(stream.status).toBe(200);
    controller.abort();
    // ...and cannot remove a node: that stays admin's.
    await registry.report(report('processor-8', { lastSeen: Date.now() - 60_000 }));
    expect((await fetch(`${node.url}/api/ops/components/processor-8@elsewhere:1`, { method: 'DELETE', headers: { 'auth-token': monitor } })).status).toBe(403);
    expect((await fetch(`${node.url}/api/ops/components/processor-8@elsewhere:1`, { method: 'DELETE', headers: { 'auth-token': other } })).status).toBe(403);
    expect((await fetch(`${node.url}/api/ops/components/processor-8@elsewhere:1`, { method: 'DELETE', headers: { 'auth-token': admin } })).status).toBe(204);
  });
});
