import { mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Heartbeat } from '../../src/node/heartbeat.js';
import { databaseSize } from '../../src/node/storage-size.js';
import { SqliteNodeRegistry } from '../../src/adapters/sqlite-node-registry.js';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';
import type { ProcessingQueue } from '../../src/ports/queue.js';
import pg from 'pg';
import { freshSchema, pgSkip, pgUrl } from '../adapters/pg-support.js';

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

/** The value of a sample in Prometheus text (`name{labels} value`), undefined when absent. */
function scraped(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('node heartbeat: queues, dependencies and storage', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('samples the queue once per beat, counts its own enqueues and acknowledgements, and shows both at /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-heartbeat-queue-'));
    dirs.push(dir);
    const queue = SqliteQueue.open(join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
    const registry = SqliteNodeRegistry.open(':memory:');
    const prometheus = new Registry();
    // Counts the queue's reads, to show that a scrape reads none.
    let reads = 0;
    const counted: ProcessingQueue = Object.assign(Object.create(queue) as ProcessingQueue, {
      stats: () => (reads++, queue.stats()),
      deadLetterCounts: () => (reads++, queue.deadLetterCounts()),
    });
    const heartbeat = new Heartbeat({ registry, name: 'q-1', roles: ['processor'], url: 'http://x', intervalMs: 60_000, queue: counted, prometheus, log: pino({ level: 'silent' }) });
    await heartbeat.start();
    const before = Date.now();
    for (const id of ['a', 'b', 'c']) await queue.enqueue(id);
    await queue.enqueue('a'); // already waiting: not an enqueue
    await queue.enqueue('r', 'reprocessing');
    const first = (await queue.take())!;
    await queue.ack(first);
    const second = (await queue.take())!;
    await queue.deadLetter(second, 'boom');
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const stats = { ...heartbeat.report().stats, ...(await heartbeat.sample()) };
    expect(stats).toMatchObject({
      queue_standard_waiting: 1,
      queue_standard_in_flight: 0,
      queue_standard_dead_letters: 1,
      queue_standard_enqueued_total: 3,
      queue_standard_taken_total: 2,
      queue_standard_acked_total: 1,
      queue_standard_dead_lettered_total: 1,
      queue_reprocessing_waiting: 1,
      queue_reprocessing_enqueued_total: 1,
      queue_priority_waiting: 0,
      queue_priority_oldest_age_seconds: 0,
    });
    // The rates are the totals' change since the report made at start, over its time (a little over 1.1 s).
    const perSecondOfOne = stats.queue_standard_acked_per_second;
    expect(perSecondOfOne).toBeGreaterThan(0.3);
    expect(perSecondOfOne).toBeLessThanOrEqual(1 / 1.1);
    expect(stats.queue_standard_enqueued_per_second).toBeCloseTo(3 * perSecondOfOne, 9);
    expect(stats.queue_reprocessing_taken_per_second).toBe(0);
    expect(stats.queue_standard_oldest_age_seconds).toBeGreaterThanOrEqual(1);
    expect(stats.queue_standard_oldest_age_seconds).toBeLessThanOrEqual(Math.ceil((Date.now() - before) / 1000));

    const readsAfterBeat = reads;
    const text = await prometheus.metrics();
    await prometheus.metrics();
    expect(reads).toBe(readsAfterBeat);
    expect(scraped(text, 'mayday_queue_waiting{queue="standard"}')).toBe(1);
    expect(scraped(text, 'mayday_queue_waiting{queue="reprocessing"}')).toBe(1);
    expect(scraped(text, 'mayday_queue_in_flight{queue="standard"}')).toBe(0);
    expect(scraped(text, 'mayday_queue_dead_letters{queue="standard"}')).toBe(1);
    expect(scraped(text, 'mayday_queue_dead_letters{queue="priority"}')).toBe(0);
    expect(scraped(text, 'mayday_queue_oldest_age_seconds{queue="standard"}')).toBeGreaterThanOrEqual(1);
    expect(scraped(text, 'mayday_queue_enqueued_total{queue="standard"}')).toBe(3);
    expect(scraped(text, 'mayday_queue_taken_total{queue="standard"}')).toBe(2);
    expect(scraped(text, 'mayday_queue_acked_total{queue="standard"}')).toBe(1);
    expect(scraped(text, 'mayday_queue_dead_lettered_total{queue="standard"}')).toBe(1);
    // Counters follow the queue between beats (they cost no query); a second scrape does not count twice.
    await queue.enqueue('d');
    expect(scraped(await prometheus.metrics(), 'mayday_queue_enqueued_total{queue="standard"}')).toBe(4);
    expect(scraped(await prometheus.metrics(), 'mayday_queue_enqueued_total{queue="standard"}')).toBe(4);

    await heartbeat.stop();
    await registry.close();
    await queue.close();
  });

  it('reports each dependency as up or down with its probe time, and the sizes of its storage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-heartbeat-deps-'));
    dirs.push(dir);
    const database = join(dir, 'mayday.sqlite');
    const db = new Database(database);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x BLOB)');
    db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(200_000));
    const expectedBytes = statSync(database).size + statSync(`${database}-wal`).size;
    expect(statSync(`${database}-wal`).size).toBeGreaterThan(200_000);
    const registry = SqliteNodeRegistry.open(':memory:');
    const prometheus = new Registry();
    const heartbeat = new Heartbeat({
      registry,
      name: 'd-1',
      roles: ['web'],
      url: 'http://x',
      intervalMs: 60_000,
      probes: [
        { name: 'queue', check: async () => new Promise((resolve) => setTimeout(resolve, 30)) },
        { name: 'crash_index', check: async () => { throw new Error('connection refused'); } },
      ],
      storage: { dataDir: dir, database: databaseSize({ sqliteFile: database }) },
      prometheus,
      log: pino({ level: 'silent' }),
    });
    // Nothing sampled yet: no figure rather than a false one.
    const empty = await prometheus.metrics();
    expect(empty).not.toMatch(/^mayday_dependency_up\{/m);
    expect(empty).not.toMatch(/^mayday_data_dir_free_bytes\{/m);
    await heartbeat.start();
    const [node] = await registry.nodes(60_000);
    const space = statfsSync(dir);
    expect(node.stats).toMatchObject({ probe_queue_ok: 1, probe_crash_index_ok: 0, database_size_bytes: expectedBytes, data_dir_size_bytes: space.blocks * space.bsize });
    expect(node.stats.probe_queue_ms).toBeGreaterThanOrEqual(25);
    // Free space moves with everything else on the machine: within 64 MiB of this reading.
    expect(Math.abs(node.stats.data_dir_free_bytes - space.bavail * space.bsize)).toBeLessThan(64 * 2 ** 20);

    const text = await prometheus.metrics();
    expect(scraped(text, 'mayday_dependency_up{dependency="queue"}')).toBe(1);
    expect(scraped(text, 'mayday_dependency_up{dependency="crash_index"}')).toBe(0);
    expect(scraped(text, 'mayday_dependency_probe_seconds{dependency="queue"}')).toBeCloseTo(node.stats.probe_queue_ms / 1000, 6);
    expect(scraped(text, 'mayday_database_size_bytes{backend="sqlite"}')).toBe(expectedBytes);
    expect(scraped(text, `mayday_data_dir_free_bytes{dir="${dir}"}`)).toBe(node.stats.data_dir_free_bytes);
    expect(scraped(text, `mayday_data_dir_size_bytes{dir="${dir}"}`)).toBe(space.blocks * space.bsize);

    db.close();
    await heartbeat.stop();
    await registry.close();
  });

  it('leaves out of a report what it could not read, and keeps the old figures', async () => {
    const registry = SqliteNodeRegistry.open(':memory:');
    const prometheus = new Registry();
    const broken = { stats: async () => { throw new Error('queue down'); }, deadLetterCounts: async () => ({ priority: 0, standard: 0, reprocessing: 0 }), counts: () => ({ priority: { enqueued: 0, taken: 0, acked: 0, deadLettered: 0 }, standard: { enqueued: 2, taken: 0, acked: 0, deadLettered: 0 }, reprocessing: { enqueued: 0, taken: 0, acked: 0, deadLettered: 0 } }) } as unknown as ProcessingQueue; // the heartbeat calls these three only
    const heartbeat = new Heartbeat({ registry, name: 'b-1', roles: ['collector'], url: 'http://x', intervalMs: 60_000, queue: broken, storage: { dataDir: '/no/such/dir', database: { backend: 'postgresql', bytes: async () => { throw new Error('no database'); } } }, prometheus, log: pino({ level: 'silent' }) });
    await heartbeat.start();
    const [node] = await registry.nodes(60_000);
    expect(node.stats.queue_standard_enqueued_total).toBe(2);
    for (const key of ['queue_standard_waiting', 'data_dir_free_bytes', 'database_size_bytes']) expect(node.stats[key], key).toBeUndefined();
    expect(node.stats.rss_bytes).toBeGreaterThan(0);
    const text = await prometheus.metrics();
    expect(text).not.toMatch(/^mayday_queue_waiting\{/m);
    expect(text).not.toMatch(/^mayday_database_size_bytes\{/m);
    expect(scraped(text, 'mayday_queue_enqueued_total{queue="standard"}')).toBe(2);
    await heartbeat.stop();
    await registry.close();
  });
});

describe.skipIf(pgSkip !== false)(`database size on PostgreSQL${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('is pg_database_size of the current database, and grows with a table', async () => {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 1 });
    const schema = freshSchema();
    try {
      const size = databaseSize({ pgPool: pool, sqliteFile: '/not/used' });
      expect(size.backend).toBe('postgresql');
      const before = await size.bytes();
      // An empty database is several MiB of catalogs.
      expect(before).toBeGreaterThan(2 ** 20);
      await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.filler AS SELECT repeat('x', 1000) AS x FROM generate_series(1, 5000)`);
      expect(await size.bytes()).toBeGreaterThanOrEqual(before + 4_000_000);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await pool.end();
    }
  });
});
