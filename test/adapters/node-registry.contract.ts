import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STATUS_SAMPLE_RETENTION_MS, type NodeRegistry, type NodeReport, type StatusSample } from '../../src/ports/node-registry.js';

/**
 * The node registry contract: every adapter (SQLite, PostgreSQL) must pass exactly these
 * tests, so that `/status` means the same whichever database holds the registry.
 */

export interface NodeRegistrySubject {
  registry: NodeRegistry;
  /** Another registry on the same database: another node's view. */
  openAnother(): Promise<NodeRegistry>;
  /**
   * Has the registry hold `node` as reported `agoMs` ago by a node whose clock agrees with
   * the reader's: how depends on whose clock the adapter trusts (the node's own on SQLite,
   * the database server's on PostgreSQL).
   */
  reportAgo(node: NodeReport, agoMs: number): Promise<void>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

/** How far a read-back `lastSeen` may be from the expected one: the time the test itself takes. */
const CLOCK_SLACK_MS = 2_000;

/** A report with its times blanked: what must read back exactly, in the same key order. */
function timeless(node: NodeReport): string {
  return JSON.stringify({ ...node, startedAt: 0, lastSeen: 0 });
}

function report(id: string, overrides: Partial<NodeReport> = {}): NodeReport {
  const [name, rest] = id.split('@') as [string, string];
  return {
    id,
    name,
    host: rest.split(':')[0]!,
    pid: Number(rest.split(':')[1]),
    roles: ['collector', 'web'],
    version: '1.2.3',
    url: `http://${rest}`,
    startedAt: Date.now() - 60_000,
    lastSeen: Date.now(),
    // Keys deliberately not in sorted order: they must come back as written.
    stats: { rss_bytes: 123_456_789, processed: 42, failed: 0, in_flight: 3 },
    ...overrides,
  };
}

function sample(at: number, processed: number): StatusSample {
  return {
    at,
    waiting: { standard: 5, priority: 0, reprocessing: 1 },
    processed,
    meanTimeToProcess: processed === 0 ? null : 1.5,
    processorsWorking: 2,
    totals: { 'p1@h:1': { processed: 10, firstProcessed: 1, seconds: 12.5 } },
  };
}

export function nodeRegistryContract(name: string, open: () => Promise<NodeRegistrySubject>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`node registry contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let subject: NodeRegistrySubject;
    let registry: NodeRegistry;
    beforeEach(async () => {
      subject = await open();
      registry = subject.registry;
    });
    afterEach(async () => {
      await subject?.dispose();
    });

    it('keeps what each node reports, exactly as reported but for its times, ordered by id (byte order)', async () => {
      const nodes = [report('web@b.example:20'), report('Proc@a.example:10', { lastCompletedCrash: 'de1e7e0b-0000-4000-8000-000000260101' }), report('_edge@c.example:30')];
      for (const node of nodes) await registry.report(node);
      const seen = await registry.nodes(60_000);
      expect(seen.map((n) => n.id)).toEqual(['Proc@a.example:10', '_edge@c.example:30', 'web@b.example:20']);
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const node of seen) {
        const sent = byId.get(node.id)!;
        // Same values and the same key order (a JSON document read back as written).
        expect(timeless(node)).toBe(timeless(sent));
        // The times are the reader's: here the same clock as the node's, so near what was sent, and the uptime exact.
        expect(Math.abs(node.lastSeen - sent.lastSeen)).toBeLessThan(CLOCK_SLACK_MS);
        expect(node.lastSeen - node.startedAt).toBe(sent.lastSeen - sent.startedAt);
      }
    });

    it("gives each node's last report on the reader's clock, with the uptime the node measured", async () => {
      const sent = report('quiet@h:1', { startedAt: Date.now() - 3_600_000 });
      await subject.reportAgo(sent, 45_000);
      const [node] = await registry.nodes();
      expect(Math.abs(Date.now() - node!.lastSeen - 45_000)).toBeLessThan(CLOCK_SLACK_MS);
      expect(node!.lastSeen - node!.startedAt).toBe(sent.lastSeen - sent.startedAt);
    });

    it('keeps one entry per node id: a later report replaces the earlier one', async () => {
      await registry.report(report('p@h:1', { stats: { processed: 1 } }));
      await registry.report(report('p@h:1', { stats: { processed: 2 }, roles: ['processor'] }));
      const seen = await registry.nodes(60_000);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ id: 'p@h:1', roles: ['processor'], stats: { processed: 2 } });
    });

    it('lists only the nodes seen within the window', async () => {
      await registry.report(report('fresh@h:1'));
      await subject.reportAgo(report('stale@h:2'), 10 * 60_000);
      expect((await registry.nodes(60_000)).map((n) => n.id)).toEqual(['fresh@h:1']);
      expect((await registry.nodes(3_600_000)).map((n) => n.id)).toEqual(['fresh@h:1', 'stale@h:2']);
    });

    it('lists every node without a window, long silent ones included, until they are forgotten', async () => {
      await registry.report(report('fresh@h:1'));
      await subject.reportAgo(report('gone@h:2'), 30 * 86_400_000);
      expect((await registry.nodes()).map((n) => n.id)).toEqual(['fresh@h:1', 'gone@h:2']);
      await registry.forget('gone@h:2');
      expect((await registry.nodes()).map((n) => n.id)).toEqual(['fresh@h:1']);
    });

    it('keeps what a report carries besides its counters: host, configuration hash and configuration', async () => {
      await registry.report(report('c@h:1', { deploymentHost: 'ingest-1', configHash: 'abc', config: { queue: { prefix: 'mayday.' } } }));
      expect((await registry.nodes())[0]).toMatchObject({ deploymentHost: 'ingest-1', configHash: 'abc', config: { queue: { prefix: 'mayday.' } } });
    });

    it('forgets a node that stops, and only that node', async () => {
      await registry.report(report('a@h:1'));
      await registry.report(report('b@h:2'));
      await registry.forget('a@h:1');
      await registry.forget('never-seen@h:3');
      expect((await registry.nodes(60_000)).map((n) => n.id)).toEqual(['b@h:2']);
    });

    it('shows every node the same registry to the others', async () => {
      const other = await subject.openAnother();
      try {
        await registry.report(report('a@h:1'));
        await other.report(report('b@h:2'));
        expect((await other.nodes(60_000)).map((n) => n.id)).toEqual(['a@h:1', 'b@h:2']);
        await other.recordSample(sample(Date.now(), 3));
        expect((await registry.lastSample())?.processed).toBe(3);
      } finally {
        await other.close();
      }
    });

    it('keeps status samples in time order, the first sample for an `at` standing', async () => {
      expect(await registry.lastSample()).toBeUndefined();
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      await registry.recordSample(sample(now - 120_000, 1));
      await registry.recordSample(sample(now, 3));
      await registry.recordSample(sample(now - 60_000, 2));
      // A second web node sampling the same minute: ignored.
      await registry.recordSample(sample(now - 60_000, 99));
      const all = await registry.samples(0);
      expect(all.map((s) => [s.at, s.processed])).toEqual([
        [now - 120_000, 1],
        [now - 60_000, 2],
        [now, 3],
      ]);
      expect(JSON.stringify(all[2])).toBe(JSON.stringify(sample(now, 3)));
      expect((await registry.samples(now - 60_000)).map((s) => s.processed)).toEqual([2, 3]);
      expect(await registry.lastSample()).toEqual(sample(now, 3));
    });

    it('prunes samples taken before a time', async () => {
      const now = Date.now();
      await registry.recordSample(sample(now - STATUS_SAMPLE_RETENTION_MS - 60_000, 1));
      await registry.recordSample(sample(now - STATUS_SAMPLE_RETENTION_MS + 60_000, 2));
      await registry.recordSample(sample(now, 3));
      expect(await registry.pruneSamples(now - STATUS_SAMPLE_RETENTION_MS)).toBe(1);
      expect((await registry.samples(0)).map((s) => s.processed)).toEqual([2, 3]);
      expect(await registry.pruneSamples(now - STATUS_SAMPLE_RETENTION_MS)).toBe(0);
    });

    it('answers its health check, and closing twice is harmless', async () => {
      await registry.check();
      await registry.close();
      await registry.close();
    });
  });
}
