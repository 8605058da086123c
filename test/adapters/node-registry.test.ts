import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PgNodeRegistry } from '../../src/adapters/pg-node-registry.js';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';
import type { NodeReport } from '../../src/ports/node-registry.js';
import { nodeRegistryContract } from './node-registry.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl, withSchema } from './pg-support.js';

/** Reports `node`, then moves the server's time of the report `agoMs` back: the database's view of a node silent since. */
async function reportAgo(registry: PgNodeRegistry, schema: string, node: NodeReport, agoMs: number): Promise<void> {
  await registry.report(node);
  await withSchema(schema, (client) => client.query('UPDATE registry_nodes SET last_seen = last_seen - $2 WHERE id = $1', [node.id, agoMs]));
}

function nodeReport(id: string, nodeNow: number): NodeReport {
  return { id, name: id.split('@')[0]!, host: 'h', pid: 1, roles: ['processor'], version: '1', url: 'http://h', startedAt: nodeNow - 120_000, lastSeen: nodeNow, stats: { processed: 7 } };
}

nodeRegistryContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-registry-'));
  const file = join(dir, 'mayday.sqlite');
  const registry = SqliteNodeRegistry.open(file);
  return {
    registry,
    openAnother: async () => SqliteNodeRegistry.open(file),
    // One machine, one clock: the node's own times are the reader's.
    reportAgo: (node, agoMs) => registry.report({ ...node, startedAt: node.startedAt - agoMs, lastSeen: node.lastSeen - agoMs }),
    dispose: async () => {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

nodeRegistryContract(
  'PostgreSQL',
  async () => {
    const schema = freshSchema();
    const registry = await PgNodeRegistry.open({ connectionString: pgUrl, schema });
    return {
      registry,
      openAnother: () => PgNodeRegistry.open({ connectionString: pgUrl, schema }),
      reportAgo: (node, agoMs) => reportAgo(registry, schema, node, agoMs),
      dispose: async () => {
        await registry.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);

describe.skipIf(pgSkip !== false)(`PostgreSQL node registry${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('gives up on a statement that runs past the statement timeout', async () => {
    const schema = freshSchema();
    const registry = await PgNodeRegistry.open({ connectionString: pgUrl, schema, statementTimeoutMs: 200, poolSize: 1 });
    try {
      await registry.report({ id: 'a@h:1', name: 'a', host: 'h', pid: 1, roles: [], version: '1', url: 'http://h', startedAt: 0, lastSeen: Date.now(), stats: {} });
      await withSchema(schema, async (client) => {
        // Another session holds the node's row: the update waits, then is cancelled.
        await client.query('BEGIN');
        await client.query("SELECT * FROM registry_nodes WHERE id = 'a@h:1' FOR UPDATE");
        const started = Date.now();
        await expect(registry.forget('a@h:1')).rejects.toThrow(/statement timeout/);
        expect(Date.now() - started).toBeLessThan(5_000);
        await client.query('ROLLBACK');
      });
      // The pool's connection is still good afterwards.
      expect((await registry.nodes(60_000)).map((n) => n.id)).toEqual(['a@h:1']);
    } finally {
      await registry.close();
      await dropSchema(schema);
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(PgNodeRegistry.open({ connectionString: pgUrl, schema: 'x; DROP TABLE y' })).rejects.toThrow(/invalid schema name/);
  });
});

describe.skipIf(pgSkip !== false)(`PostgreSQL node registry across skewed clocks${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  let schema: string;
  let registry: PgNodeRegistry;
  beforeEach(async () => {
    schema = freshSchema();
    registry = await PgNodeRegistry.open({ connectionString: pgUrl, schema });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await registry.close();
    await dropSchema(schema);
  });

  /** How far an age may be from the expected one: the time the test itself takes. */
  const slack = 2_000;

  it.each([
    ['ahead', 60_000],
    ['behind', -60_000],
  ])("judges a node whose clock is a minute %s by the time of its report, not by its clock", async (_, skewMs) => {
    const sent = nodeReport('skewed@h:1', Date.now() + skewMs);
    await registry.report(sent);
    const [node] = await registry.nodes();
    expect(Math.abs(Date.now() - node!.lastSeen)).toBeLessThan(slack);
    // The start moves with it: the uptime is the one the node measured, and the start is on the reader's clock.
    expect(node!.lastSeen - node!.startedAt).toBe(120_000);
    expect(Math.abs(Date.now() - 120_000 - node!.startedAt)).toBeLessThan(slack);
    expect(node).toMatchObject({ id: 'skewed@h:1', stats: { processed: 7 } });
    // A window shorter than the skew keeps it: it reported just now.
    expect((await registry.nodes(5_000)).map((n) => n.id)).toEqual(['skewed@h:1']);
  });

  it('drops a silent node from the window on time although its clock is ahead', async () => {
    // Trusting its clock, this node would look a minute fresher than it is: still up after 45 s of silence.
    await reportAgo(registry, schema, nodeReport('ahead@h:1', Date.now() + 60_000), 45_000);
    await registry.report(nodeReport('steady@h:2', Date.now()));
    expect((await registry.nodes(30_000)).map((n) => n.id)).toEqual(['steady@h:2']);
    const ahead = (await registry.nodes()).find((n) => n.id === 'ahead@h:1')!;
    expect(Math.abs(Date.now() - ahead.lastSeen - 45_000)).toBeLessThan(slack);
  });

  it("gives ages right to a reader whose clock is 40 s ahead of the reporting node's", async () => {
    await registry.report(nodeReport('p@h:1', Date.now()));
    await reportAgo(registry, schema, nodeReport('q@h:2', Date.now()), 20_000);
    // Only the reader's Date moves; the database and the connection keep real time.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 40_000 });
    const nodes = await registry.nodes();
    const ages = new Map(nodes.map((n) => [n.id, Date.now() - n.lastSeen]));
    expect(Math.abs(ages.get('p@h:1')!)).toBeLessThan(slack);
    expect(Math.abs(ages.get('q@h:2')! - 20_000)).toBeLessThan(slack);
    expect((await registry.nodes(10_000)).map((n) => n.id)).toEqual(['p@h:1']);
  });

  it('stores the server time of the report, and keeps the node its report', async () => {
    const sent = nodeReport('r@h:1', Date.now() - 60_000);
    await registry.report(sent);
    const [row] = await withSchema(schema, async (client) => (await client.query<{ age: number; report: string }>('SELECT (floor(extract(epoch FROM now()) * 1000)::bigint - last_seen)::float8 AS age, report FROM registry_nodes')).rows);
    expect(Math.abs(row!.age)).toBeLessThan(slack);
    expect(row!.report).toBe(JSON.stringify(sent));
  });
});
