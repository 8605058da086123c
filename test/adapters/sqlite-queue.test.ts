import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';

const dirs: string[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-queue-'));
  dirs.push(dir);
  return join(dir, 'queue.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite processing queue', () => {
  it('hands out priority before standard before reprocessing, oldest first', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    await queue.enqueue('a', 'reprocessing');
    await queue.enqueue('b', 'standard');
    await queue.enqueue('c', 'standard');
    await queue.enqueue('d', 'priority');
    const order: string[] = [];
    for (let item = await queue.take(); item; item = await queue.take()) order.push(item.crashId);
    expect(order).toEqual(['d', 'b', 'c', 'a']);
    await queue.close();
  });

  it('moves a waiting crash to the priority queue instead of queueing it twice', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    await queue.enqueue('a');
    await queue.enqueue('b');
    await queue.enqueue('b', 'priority');
    const stats = await queue.stats();
    expect(stats.map((s) => [s.queue, s.waiting])).toEqual([['priority', 1], ['standard', 1], ['reprocessing', 0]]);
    expect((await queue.take())?.crashId).toBe('b');
    expect((await queue.take())?.crashId).toBe('a');
    expect(await queue.take()).toBeUndefined();
    await queue.close();
  });

  it('commits concurrent enqueues together, and all of them are durable', async () => {
    const path = tempPath();
    const queue = SqliteQueue.open(path, { visibilityTimeoutMs: 60_000 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => queue.enqueue(`c${i}`)));
    await queue.close();
    const reopened = SqliteQueue.open(path, { visibilityTimeoutMs: 60_000 });
    expect((await reopened.stats()).find((s) => s.queue === 'standard')?.waiting).toBe(200);
    await reopened.close();
    await expect(reopened.enqueue('late')).rejects.toThrow(/closed/);
  });

  it('ignores an id already waiting in the same queue', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    await queue.enqueue('a');
    await queue.enqueue('a');
    const stats = await queue.stats();
    expect(stats.find((s) => s.queue === 'standard')?.waiting).toBe(1);
    await queue.close();
  });

  it('keeps a taken item invisible until acknowledged, and forgets it after', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    await queue.enqueue('a');
    const item = await queue.take();
    expect(item).toMatchObject({ crashId: 'a', queue: 'standard', attempts: 1 });
    expect(await queue.take()).toBeUndefined();
    expect((await queue.stats())[1]).toMatchObject({ queue: 'standard', waiting: 0, inFlight: 1 });
    await queue.ack(item!);
    expect((await queue.stats())[1]).toMatchObject({ waiting: 0, inFlight: 0 });
    await queue.close();
  });

  it('hands an unacknowledged item out again after the visibility timeout, and ignores the stale ack', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 1000 });
    await queue.enqueue('a');
    const first = await queue.take();
    await new Promise((r) => setTimeout(r, 1100));
    const second = await queue.take();
    expect(second).toMatchObject({ crashId: 'a', attempts: 2 });
    await queue.ack(first!); // stale lease: must not remove the item held by the second taker
    expect((await queue.stats())[1].inFlight).toBe(1);
    await queue.ack(second!);
    expect((await queue.stats())[1].inFlight).toBe(0);
    await queue.close();
  });

  it('releases an item with a delay', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    await queue.enqueue('a');
    await queue.release((await queue.take())!, 300);
    expect(await queue.take()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 350));
    expect(await queue.take()).toMatchObject({ crashId: 'a', attempts: 2 });
    await queue.close();
  });

  it('survives its process: items leased by a dead process are handed out at once on open', async () => {
    const path = tempPath();
    SqliteQueue.open(path, { visibilityTimeoutMs: 60_000 }).close();
    // Simulate a process that took an item and died: a lease owned by a pid that no longer exists.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    const db = new Database(path);
    db.prepare(`INSERT INTO queue_items (crash_id, queue, enqueued_at, visible_at, attempts, lease, owner_host, owner_pid)
                VALUES ('x', 'standard', 1, ?, 1, 'old', ?, ?)`).run(Date.now() + 3_600_000, (await import('node:os')).hostname(), deadPid);
    db.close();
    const queue = SqliteQueue.open(path, { visibilityTimeoutMs: 60_000 });
    expect(await queue.take()).toMatchObject({ crashId: 'x', attempts: 2 });
    await queue.close();
  });

  it('wakes a waiting taker when work arrives', async () => {
    const queue = SqliteQueue.open(tempPath(), { visibilityTimeoutMs: 60_000 });
    const started = Date.now();
    const waiting = queue.waitForWork(10_000);
    setTimeout(() => void queue.enqueue('a'), 50);
    await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    await queue.close();
  });

  it('refuses a database from a newer Mayday', async () => {
    const path = tempPath();
    SqliteQueue.open(path, { visibilityTimeoutMs: 1000 }).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES ('queue', 99, 'future', 'x')").run();
    db.close();
    expect(() => SqliteQueue.open(path, { visibilityTimeoutMs: 1000 })).toThrow(/newer than this Mayday knows/);
  });
});
