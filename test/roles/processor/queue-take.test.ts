/**
 * Every processor of a machine takes its crashes from one SQLite queue, under that file's
 * write lock: a take must cost the same with 10 or 100,000 crashes waiting. It used to
 * order the whole table by a computed queue rank (a full scan and a sort per take: 2 ms at
 * 2,000 waiting, the largest part of what a second processor process had to wait for).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteQueue, TAKE_SQL } from '../../../src/adapters/sqlite-queue.js';

const dir = mkdtempSync(join(tmpdir(), 'mayday-queue-take-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('taking from the queue', () => {
  it('seeks the index of each queue instead of scanning and sorting the table', async () => {
    const path = join(dir, 'queue.sqlite');
    (await SqliteQueue.open(path, { visibilityTimeoutMs: 60_000 }).close());
    const db = new Database(path, { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${TAKE_SQL}`).all({ visibleAt: 0, lease: 'l', host: 'h', pid: 1, now: 0 }) as { detail: string }[]).map((row) => row.detail);
      expect(plan.filter((step) => step.startsWith('SEARCH queue_items USING COVERING INDEX queue_items_ready (queue=? AND visible_at<?)'))).toHaveLength(3);
      for (const step of plan) {
        expect(step).not.toMatch(/^SCAN /);
        expect(step).not.toMatch(/TEMP B-TREE/);
      }
    } finally {
      db.close();
    }
  });

  it('still hands out priority, then standard, then reprocessing, oldest first, among visible items only', async () => {
    const queue = SqliteQueue.open(join(dir, 'order.sqlite'), { visibilityTimeoutMs: 60_000 });
    try {
      await queue.enqueue('r1', 'reprocessing');
      await queue.enqueue('s1', 'standard');
      await queue.enqueue('s2', 'standard');
      await queue.enqueue('p1', 'priority');
      const held = await queue.take(); // p1
      await queue.release(held!, 60_000); // invisible for a minute
      const order: string[] = [];
      for (let item = await queue.take(); item; item = await queue.take()) order.push(item.crashId);
      expect([held!.crashId, ...order]).toEqual(['p1', 's1', 's2', 'r1']);
    } finally {
      await queue.close();
    }
  });
});
