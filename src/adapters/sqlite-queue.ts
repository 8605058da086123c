import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { EventEmitter } from 'node:events';
import { QUEUE_NAMES, type DeadLetter, type ProcessingQueue, type QueueCounts, type QueueItem, type QueueName, type QueueStats } from '../ports/queue.js';
import { QueueCounters, countsByQueue } from './queue-counters.js';
import { waitForEvent } from './wait-for-event.js';
import { openSqlite, type Migration } from './sqlite-database.js';
import { processIsAlive } from './fs-durable.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'queue items',
    sql: `
      CREATE TABLE queue_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        crash_id TEXT NOT NULL,
        queue TEXT NOT NULL,
        enqueued_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease TEXT,
        owner_host TEXT,
        owner_pid INTEGER,
        UNIQUE (queue, crash_id)
      );
      CREATE INDEX queue_items_ready ON queue_items (queue, visible_at, id);
    `,
  },
  {
    version: 2,
    description: 'rulesets and dead letters',
    sql: `
      ALTER TABLE queue_items ADD COLUMN ruleset TEXT;
      CREATE TABLE dead_letters (
        crash_id TEXT NOT NULL,
        queue TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        failed_at INTEGER NOT NULL,
        ruleset TEXT,
        PRIMARY KEY (queue, crash_id)
      );
    `,
  },
  {
    version: 3,
    description: 'lookup by crash id',
    sql: `CREATE INDEX queue_items_crash ON queue_items (crash_id);`,
  },
];

/** Socorro's order: users wait on priority, the collector feeds standard, bulk jobs last. */
const TAKE_ORDER: Record<QueueName, number> = { priority: 0, standard: 1, reprocessing: 2 };

/**
 * Leases the next visible item: the oldest of the first queue in `TAKE_ORDER` that has
 * one. One index seek per queue (`queue_items_ready`): ordering the whole table by a
 * computed queue rank instead read and sorted every waiting item on every take, under the
 * write lock that every processor of the machine shares (1 ms per take at 3,000 waiting).
 */
export const TAKE_SQL = `UPDATE queue_items SET visible_at = @visibleAt, attempts = attempts + 1, lease = @lease, owner_host = @host, owner_pid = @pid
  WHERE id = COALESCE(${QUEUE_NAMES.slice()
    .sort((a, b) => TAKE_ORDER[a] - TAKE_ORDER[b])
    .map((queue) => `(SELECT id FROM queue_items WHERE queue = '${queue}' AND visible_at <= @now ORDER BY visible_at, id LIMIT 1)`)
    .join(', ')})
  RETURNING crash_id, queue, attempts, enqueued_at, ruleset`;

/**
 * A durable at-least-once queue in one SQLite file. Taking an item leases it: it stays in
 * the table, invisible until `visible_at`; acknowledging deletes it. Items leased by a
 * process of this host that has since died are made visible again on open, so a restart
 * after SIGKILL resumes at once rather than after the visibility timeout.
 */
export class SqliteQueue implements ProcessingQueue {
  private readonly events = new EventEmitter();
  private readonly host = hostname();
  private readonly counters = new QueueCounters();

  private constructor(
    private readonly db: Database.Database,
    private readonly visibilityTimeoutMs: number,
  ) {
    this.events.setMaxListeners(0);
  }

  /**
   * `fsync: false` keeps WAL commits in the OS cache until a checkpoint: they survive the
   * process being killed, not a power failure (the raw crash store and the verify job
   * cover that case).
   */
  static open(path: string, options: { visibilityTimeoutMs: number; fsync?: boolean }): SqliteQueue {
    const db = openSqlite(path, 'queue', MIGRATIONS);
    if (options.fsync === false) db.pragma('synchronous = NORMAL');
    const queue = new SqliteQueue(db, options.visibilityTimeoutMs);
    queue.releaseLeasesOfDeadProcesses();
    return queue;
  }

  /**
   * Durable when it resolves. Enqueues that arrive while others are pending are written
   * in one transaction (group commit): with `synchronous = FULL` every commit is an fsync
   * that blocks the event loop, so under load one fsync covers many crashes.
   */
  enqueue(crashId: string, queue: QueueName = 'standard', options: { ruleset?: string } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ crashId, queue, ruleset: options.ruleset ?? null, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flushEnqueues());
    });
  }

  private readonly pending: { crashId: string; queue: QueueName; ruleset: string | null; resolve: () => void; reject: (error: unknown) => void }[] = [];

  private readonly preparedStatements = new Map<string, Database.Statement>();

  /** Each statement is prepared once: preparing is a measurable part of a queue operation's cost under load. */
  private prepare(sql: string): Database.Statement {
    let statement = this.preparedStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.preparedStatements.set(sql, statement);
    }
    return statement;
  }

  private flushEnqueues(): void {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const now = Date.now();
    try {
      if (!this.db.open) throw new Error('the queue is closed');
      const promote = this.prepare("DELETE FROM queue_items WHERE queue = 'standard' AND crash_id = ? AND (lease IS NULL OR visible_at <= ?) RETURNING enqueued_at");
      const insert = this.prepare(
        `INSERT INTO queue_items (crash_id, queue, enqueued_at, visible_at, ruleset) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (queue, crash_id) DO NOTHING`,
      );
      const inserted: QueueName[] = [];
      this.db.transaction(() => {
        for (const item of batch) {
          // A priority request moves the crash ahead rather than queueing it twice: its
          // waiting standard entry keeps its age (for queue-wait metrics) and is removed.
          let enqueuedAt = now;
          if (item.queue === 'priority') {
            const waiting = promote.get(item.crashId, now) as { enqueued_at: number } | undefined;
            if (waiting) enqueuedAt = waiting.enqueued_at;
          }
          if (insert.run(item.crashId, item.queue, enqueuedAt, now, item.ruleset).changes > 0) inserted.push(item.queue);
        }
      })();
      for (const queue of inserted) this.counters.add(queue, 'enqueued');
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) item.resolve();
    this.events.emit('work');
  }

  async has(crashId: string): Promise<boolean> {
    return this.prepare('SELECT 1 FROM queue_items WHERE crash_id = ? LIMIT 1').get(crashId) !== undefined;
  }

  async take(): Promise<QueueItem | undefined> {
    const now = Date.now();
    const lease = randomUUID();
    const row = this.prepare(TAKE_SQL).get({ visibleAt: now + this.visibilityTimeoutMs, lease, host: this.host, pid: process.pid, now }) as
      | { crash_id: string; queue: QueueName; attempts: number; enqueued_at: number; ruleset: string | null }
      | undefined;
    if (!row) return undefined;
    this.counters.add(row.queue, 'taken');
    return { crashId: row.crash_id, queue: row.queue, attempts: row.attempts, enqueuedAt: row.enqueued_at, lease, ...(row.ruleset ? { ruleset: row.ruleset } : {}) };
  }

  async deadLetter(item: QueueItem, error: string): Promise<void> {
    const moved = this.db.transaction(() => {
      const removed = this.prepare('DELETE FROM queue_items WHERE queue = ? AND crash_id = ? AND lease = ?').run(item.queue, item.crashId, item.lease);
      if (removed.changes === 0) return false; // handed out again meanwhile: that taker decides
      this.db
        .prepare(
          `INSERT INTO dead_letters (crash_id, queue, attempts, error, failed_at, ruleset) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (queue, crash_id) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at`,
        )
        .run(item.crashId, item.queue, item.attempts, error, Date.now(), item.ruleset ?? null);
      return true;
    })();
    if (moved) this.counters.add(item.queue, 'deadLettered');
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = this.prepare('SELECT * FROM dead_letters ORDER BY failed_at DESC LIMIT ?').all(limit) as {
      crash_id: string;
      queue: QueueName;
      attempts: number;
      error: string;
      failed_at: number;
      ruleset: string | null;
    }[];
    return rows.map((r) => ({ crashId: r.crash_id, queue: r.queue, attempts: r.attempts, error: r.error, failedAt: r.failed_at, ...(r.ruleset ? { ruleset: r.ruleset } : {}) }));
  }

  async retryDeadLetter(crashId: string): Promise<boolean> {
    const now = Date.now();
    const { found, inserted } = this.db.transaction(() => {
      const rows = this.prepare('SELECT queue, ruleset FROM dead_letters WHERE crash_id = ?').all(crashId) as { queue: QueueName; ruleset: string | null }[];
      const queued: QueueName[] = [];
      for (const row of rows) {
        const result = this.db
          .prepare(`INSERT INTO queue_items (crash_id, queue, enqueued_at, visible_at, ruleset) VALUES (?, ?, ?, ?, ?) ON CONFLICT (queue, crash_id) DO NOTHING`)
          .run(crashId, row.queue, now, now, row.ruleset);
        if (result.changes > 0) queued.push(row.queue);
      }
      this.prepare('DELETE FROM dead_letters WHERE crash_id = ?').run(crashId);
      return { found: rows.length > 0, inserted: queued };
    })();
    for (const queue of inserted) this.counters.add(queue, 'enqueued');
    if (found) this.events.emit('work');
    return found;
  }

  async ack(item: QueueItem): Promise<void> {
    const removed = this.prepare('DELETE FROM queue_items WHERE queue = ? AND crash_id = ? AND lease = ?').run(item.queue, item.crashId, item.lease);
    if (removed.changes > 0) this.counters.add(item.queue, 'acked');
  }

  async release(item: QueueItem, delayMs = 0): Promise<void> {
    this.db
      .prepare('UPDATE queue_items SET visible_at = ?, lease = NULL, owner_host = NULL, owner_pid = NULL WHERE queue = ? AND crash_id = ? AND lease = ?')
      .run(Date.now() + delayMs, item.queue, item.crashId, item.lease);
    if (delayMs === 0) this.events.emit('work');
  }

  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForEvent(this.events, 'work', timeoutMs, signal);
  }

  async stats(): Promise<QueueStats[]> {
    const now = Date.now();
    const rows = this.db
      .prepare(
        `SELECT queue,
                SUM(CASE WHEN lease IS NULL OR visible_at <= ? THEN 1 ELSE 0 END) AS waiting,
                SUM(CASE WHEN lease IS NOT NULL AND visible_at > ? THEN 1 ELSE 0 END) AS in_flight,
                MIN(CASE WHEN lease IS NULL OR visible_at <= ? THEN enqueued_at END) AS oldest
         FROM queue_items GROUP BY queue`,
      )
      .all(now, now, now) as { queue: QueueName; waiting: number; in_flight: number; oldest: number | null }[];
    return QUEUE_NAMES.map((queue) => {
      const row = rows.find((r) => r.queue === queue);
      return { queue, waiting: row?.waiting ?? 0, inFlight: row?.in_flight ?? 0, ...(row?.oldest != null ? { oldestEnqueuedAt: row.oldest } : {}) };
    }).sort((a, b) => TAKE_ORDER[a.queue] - TAKE_ORDER[b.queue]);
  }

  async deadLetterCounts(): Promise<Record<QueueName, number>> {
    return countsByQueue(this.prepare('SELECT queue, COUNT(*) AS n FROM dead_letters GROUP BY queue').all() as { queue: string; n: number }[]);
  }

  counts(): Record<QueueName, QueueCounts> {
    return this.counters.snapshot();
  }

  async check(): Promise<void> {
    this.prepare('SELECT COUNT(*) FROM queue_items').get();
  }

  async close(): Promise<void> {
    this.flushEnqueues();
    this.events.emit('work');
    if (this.db.open) this.db.close();
  }

  private releaseLeasesOfDeadProcesses(): void {
    const owners = this.db
      .prepare('SELECT DISTINCT owner_pid FROM queue_items WHERE lease IS NOT NULL AND owner_host = ?')
      .pluck()
      .all(this.host) as number[];
    // Our own pid can only appear here from an earlier process that had it (pid reuse
    // after a restart): nothing has been taken through this instance yet.
    const dead = owners.filter((pid) => pid !== null && (pid === process.pid || !processIsAlive(pid)));
    const release = this.prepare(
      'UPDATE queue_items SET visible_at = ?, lease = NULL, owner_host = NULL, owner_pid = NULL WHERE owner_host = ? AND owner_pid = ?',
    );
    for (const pid of dead) release.run(Date.now(), this.host, pid);
  }
}
