import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';
import { queueContract } from './queue.contract.js';

const dirs: string[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-queue-'));
  dirs.push(dir);
  return join(dir, 'queue.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Long enough for the contract's steps between a take and its acknowledgement, short enough to wait out in `abandon`. */
const CONTRACT_VISIBILITY_MS = 1500;

queueContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-queue-'));
  const path = join(dir, 'queue.sqlite');
  return {
    open: async () => SqliteQueue.open(path, { visibilityTimeoutMs: CONTRACT_VISIBILITY_MS }),
    // Every enqueue is visible to `take` once it resolved.
    settle: async () => undefined,
    abandon: async (queue) => {
      await new Promise((resolve) => setTimeout(resolve, CONTRACT_VISIBILITY_MS + 100));
      await queue.close();
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SQLite processing queue', () => {
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

  it('refuses a database from a newer Mayday', async () => {
    const path = tempPath();
    SqliteQueue.open(path, { visibilityTimeoutMs: 1000 }).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES ('queue', 99, 'future', 'x')").run();
    db.close();
    expect(() => SqliteQueue.open(path, { visibilityTimeoutMs: 1000 })).toThrow(/newer than this Mayday knows/);
  });
});
