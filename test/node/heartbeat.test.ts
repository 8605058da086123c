import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Heartbeat } from '../../src/node/heartbeat.js';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';

describe('node heartbeat', () => {
  it('reports who the node is and its counters, and is forgotten on stop', async () => {
    const registry = SqliteNodeRegistry.open(':memory:');
    const counts = { received: 0, accepted: 0 };
    const heartbeat = new Heartbeat({ registry, name: 'edge-1', roles: ['collector'], url: 'http://x', intervalMs: 60_000, collectorCounts: counts, log: pino({ level: 'silent' }) });
    counts.received = 5;
    counts.accepted = 4;
    await heartbeat.start();
    const [node] = await registry.nodes(60_000);
    expect(node).toMatchObject({ id: heartbeat.id, name: 'edge-1', roles: ['collector'], pid: process.pid });
    expect(node.stats).toMatchObject({ collector_received: 5, collector_accepted: 4 });
    expect(node.stats.rss_bytes).toBeGreaterThan(0);
    expect(node.stats.processed).toBeUndefined();
    await heartbeat.stop();
    expect(await registry.nodes(60_000)).toEqual([]);
    await registry.close();
  });
});
