import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { QUEUE_NAMES, type DeadLetter, type QueueName, type QueueStats } from '../ports/queue.js';
import { countsByQueue } from './queue-counters.js';
import { closePool, inTransaction, migratePg, openPgPool, pgErrorCode, UNIQUE_VIOLATION, type Migration } from './pg-database.js';

/**
 * The bookkeeping of the RabbitMQ queue in PostgreSQL: what a broker cannot answer.
 * RabbitMQ holds the messages and hands them out; it cannot tell whether a crash id is
 * queued (`has`), refuse a duplicate, count attempts across redeliveries, give the age of
 * the oldest waiting message of a queue that is partly delivered, nor keep a listable
 * dead-letter list. So every queued crash id has a row here, one per queue entry, and its
 * message carries the row's `entry` id: the row is the truth, the message a wake-up call.
 * A message whose row is gone (acknowledged, dead-lettered, superseded, or its enqueue
 * failed) is an orphan and is dropped when delivered, which makes deleting a row always
 * safe and duplicate messages harmless.
 *
 * Rows are `waiting` (a message is on the broker or on its way) or `taken` (handed out
 * under `lease`). At most one row per queue and crash id is waiting (a partial unique
 * index), so enqueuing an id already waiting is a no-op while an id being processed can
 * be queued again (a reprocessing request made during processing is not lost).
 *
 * `published` closes the gap between committing a row and the broker confirming its
 * message: a process killed in between leaves a waiting row without a message, which
 * `has` would report forever (and the verify job would then never queue the crash
 * again). Rows still unpublished after a while are claimed and published again.
 */

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'queue entries and dead letters',
    sql: `
      CREATE TABLE queue_entries (
        entry TEXT COLLATE "C" PRIMARY KEY,
        queue TEXT COLLATE "C" NOT NULL,
        crash_id TEXT COLLATE "C" NOT NULL,
        ruleset TEXT,
        enqueued_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'taken')),
        lease TEXT COLLATE "C",
        taken_at BIGINT,
        published BOOLEAN NOT NULL DEFAULT false,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX queue_entries_waiting ON queue_entries (queue, crash_id) WHERE state = 'waiting';
      CREATE UNIQUE INDEX queue_entries_lease ON queue_entries (lease) WHERE lease IS NOT NULL;
      CREATE INDEX queue_entries_crash ON queue_entries (crash_id);
      CREATE INDEX queue_entries_stats ON queue_entries (queue, state, enqueued_at);
      CREATE INDEX queue_entries_unpublished ON queue_entries (created_at) WHERE NOT published;
      CREATE TABLE queue_dead_letters (
        crash_id TEXT COLLATE "C" NOT NULL,
        queue TEXT COLLATE "C" NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        failed_at BIGINT NOT NULL,
        ruleset TEXT,
        PRIMARY KEY (queue, crash_id)
      );
      CREATE INDEX queue_dead_letters_failed ON queue_dead_letters (failed_at);
    `,
  },
];

export const LEDGER_COMPONENT = 'queue_ledger';

/** One queue entry as its message carries it. */
export interface LedgerEntry {
  entry: string;
  queue: QueueName;
  crashId: string;
  enqueuedAt: number;
  ruleset?: string;
}

/** A row handed out by `take`. */
export interface TakenEntry extends LedgerEntry {
  attempts: number;
}

export interface PgQueueLedgerOptions {
  /** A connection string (the ledger opens and ends its own pool) or a pool of the caller's (its search_path decides the schema). */
  pg: string | pg.Pool;
  /** The schema of the ledger's tables (created if missing); only with a connection string. */
  schema?: string;
  poolSize?: number;
  statementTimeoutMs?: number;
}

interface EntryRow {
  entry: string;
  queue: QueueName;
  crash_id: string;
  enqueued_at: number;
  ruleset: string | null;
  attempts: number;
}

function entryOf(row: EntryRow): TakenEntry {
  return {
    entry: row.entry,
    queue: row.queue,
    crashId: row.crash_id,
    enqueuedAt: Number(row.enqueued_at),
    attempts: Number(row.attempts),
    ...(row.ruleset !== null ? { ruleset: row.ruleset } : {}),
  };
}

export class PgQueueLedger {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
  ) {}

  static async open(options: PgQueueLedgerOptions): Promise<PgQueueLedger> {
    if (typeof options.pg === 'string') {
      const pool = await openPgPool(
        {
          connectionString: options.pg,
          ...(options.schema !== undefined ? { schema: options.schema } : {}),
          ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
          ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
        },
        LEDGER_COMPONENT,
        MIGRATIONS,
      );
      return new PgQueueLedger(pool, true);
    }
    // A shared pool's connections have their search_path already: a different schema here
    // would put the tables in one schema and `schema_migrations` in another.
    if (options.schema !== undefined) throw new Error('the queue ledger takes a schema only with a connection string; set the search_path of the pool instead');
    await migratePg(options.pg, LEDGER_COMPONENT, MIGRATIONS);
    return new PgQueueLedger(options.pg, false);
  }

  /**
   * Adds a waiting, not yet published entry; undefined when the crash id is already
   * waiting in that queue. A priority entry inherits the age of the crash's waiting
   * standard entry (which `published` then removes), so queue-wait metrics stay true.
   */
  async insert(crashId: string, queue: QueueName, ruleset: string | undefined, now: number): Promise<LedgerEntry | undefined> {
    const entry = randomUUID();
    const { rows } = await this.pool.query<{ enqueued_at: number }>(
      `INSERT INTO queue_entries (entry, queue, crash_id, ruleset, enqueued_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $2 = 'priority'
         THEN COALESCE((SELECT enqueued_at FROM queue_entries WHERE queue = 'standard' AND crash_id = $3 AND state = 'waiting'), $5::bigint)
         ELSE $5::bigint END)
       ON CONFLICT (queue, crash_id) WHERE state = 'waiting' DO NOTHING
       RETURNING enqueued_at`,
      [entry, queue, crashId, ruleset ?? null, now],
    );
    if (rows.length === 0) return undefined;
    return { entry, queue, crashId, enqueuedAt: Number(rows[0]!.enqueued_at), ...(ruleset !== undefined ? { ruleset } : {}) };
  }

  /**
   * Records that the broker confirmed an entry's message. A priority entry then replaces
   * the crash's waiting standard entry (whose message becomes an orphan): the crash is
   * moved ahead, not processed twice. Done after the confirm, so that a failed publish
   * leaves the standard entry where it was.
   */
  async published(entries: readonly LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.pool.query(
      `WITH marked AS (UPDATE queue_entries SET published = true WHERE entry = ANY($1::text[]) RETURNING queue, crash_id)
       DELETE FROM queue_entries s USING marked m
       WHERE m.queue = 'priority' AND s.queue = 'standard' AND s.crash_id = m.crash_id AND s.state = 'waiting'`,
      [entries.map((e) => e.entry)],
    );
  }

  /** Forgets an entry whose message could not be published (a message that did get through is then an orphan). */
  async remove(entry: string): Promise<void> {
    await this.pool.query('DELETE FROM queue_entries WHERE entry = $1', [entry]);
  }

  /**
   * Hands an entry out under a new lease, whatever its state: a delivery of a row already
   * taken is the broker's redelivery after its taker's connection died (or, rarely, a
   * duplicate message), and the new taker takes over. Undefined for an orphan message.
   */
  async take(entry: string, lease: string, now: number): Promise<TakenEntry | undefined> {
    const { rows } = await this.pool.query<EntryRow>(
      `UPDATE queue_entries SET state = 'taken', attempts = attempts + 1, lease = $2, taken_at = $3, published = true
       WHERE entry = $1 RETURNING entry, queue, crash_id, enqueued_at, ruleset, attempts`,
      [entry, lease, now],
    );
    return rows[0] ? entryOf(rows[0]) : undefined;
  }

  /** Removes the entry handed out under `lease`; false when the lease is stale. */
  async ack(lease: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM queue_entries WHERE lease = $1', [lease])).rowCount ?? 0) > 0;
  }

  /**
   * Puts the entry handed out under `lease` back to waiting. `superseded` when the crash
   * was queued again meanwhile (that entry stands; this one is removed), `stale` when the
   * lease is no longer current.
   */
  async release(lease: string): Promise<{ outcome: 'released'; entry: TakenEntry } | { outcome: 'superseded' | 'stale' }> {
    try {
      const { rows } = await this.pool.query<EntryRow>(
        `UPDATE queue_entries SET state = 'waiting', lease = NULL, taken_at = NULL WHERE lease = $1
         RETURNING entry, queue, crash_id, enqueued_at, ruleset, attempts`,
        [lease],
      );
      return rows[0] ? { outcome: 'released', entry: entryOf(rows[0]) } : { outcome: 'stale' };
    } catch (error) {
      if (pgErrorCode(error) !== UNIQUE_VIOLATION) throw error;
      return (await this.ack(lease)) ? { outcome: 'superseded' } : { outcome: 'stale' };
    }
  }

  /** Moves the entry handed out under `lease` to the dead letters; false when the lease is stale. */
  async deadLetter(lease: string, error: string, now: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<EntryRow>('DELETE FROM queue_entries WHERE lease = $1 RETURNING entry, queue, crash_id, enqueued_at, ruleset, attempts', [lease]);
      const row = rows[0];
      if (!row) return false;
      await client.query(
        `INSERT INTO queue_dead_letters (crash_id, queue, attempts, error, failed_at, ruleset) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (queue, crash_id) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at, ruleset = excluded.ruleset`,
        [row.crash_id, row.queue, row.attempts, error, now, row.ruleset],
      );
      return true;
    });
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const { rows } = await this.pool.query<{ crash_id: string; queue: QueueName; attempts: number; error: string; failed_at: number; ruleset: string | null }>(
      'SELECT crash_id, queue, attempts, error, failed_at, ruleset FROM queue_dead_letters ORDER BY failed_at DESC, crash_id LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({
      crashId: r.crash_id,
      queue: r.queue,
      attempts: Number(r.attempts),
      error: r.error,
      failedAt: Number(r.failed_at),
      ...(r.ruleset !== null ? { ruleset: r.ruleset } : {}),
    }));
  }

  /**
   * Turns a crash's dead letters back into waiting, unpublished entries (one per queue it
   * died in). `found` is false when there was none; `entries` are the rows to publish (a
   * queue where the crash is already waiting needs none). `restore` undoes it when they
   * cannot be published.
   */
  async reviveDeadLetters(crashId: string, now: number): Promise<{ found: boolean; entries: LedgerEntry[]; restore: () => Promise<void> }> {
    return inTransaction(this.pool, async (client) => {
      const { rows: letters } = await client.query<{ crash_id: string; queue: QueueName; attempts: number; error: string; failed_at: number; ruleset: string | null }>(
        'DELETE FROM queue_dead_letters WHERE crash_id = $1 RETURNING crash_id, queue, attempts, error, failed_at, ruleset',
        [crashId],
      );
      const entries: LedgerEntry[] = [];
      for (const letter of letters) {
        const entry = randomUUID();
        const inserted = await client.query(
          `INSERT INTO queue_entries (entry, queue, crash_id, ruleset, enqueued_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (queue, crash_id) WHERE state = 'waiting' DO NOTHING`,
          [entry, letter.queue, crashId, letter.ruleset, now],
        );
        if ((inserted.rowCount ?? 0) > 0) entries.push({ entry, queue: letter.queue, crashId, enqueuedAt: now, ...(letter.ruleset !== null ? { ruleset: letter.ruleset } : {}) });
      }
      const restore = async (): Promise<void> => {
        await inTransaction(this.pool, async (c) => {
          await c.query('DELETE FROM queue_entries WHERE entry = ANY($1::text[])', [entries.map((e) => e.entry)]);
          for (const l of letters) {
            await c.query(
              `INSERT INTO queue_dead_letters (crash_id, queue, attempts, error, failed_at, ruleset) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (queue, crash_id) DO NOTHING`,
              [l.crash_id, l.queue, l.attempts, l.error, l.failed_at, l.ruleset],
            );
          }
        });
      };
      return { found: letters.length > 0, entries, restore };
    });
  }

  /**
   * Publishes again the waiting entries still unpublished `olderThanMs` after they were
   * written (their enqueuer died between commit and confirm). The rows stay locked while
   * `publish` runs, so that nodes sweeping together publish each once; they are marked
   * published only if it succeeds. Ages are measured by the database's clock, not the
   * nodes'. Returns how many were published.
   */
  async republishStale(olderThanMs: number, limit: number, publish: (entries: LedgerEntry[]) => Promise<void>): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<EntryRow>(
        `SELECT entry, queue, crash_id, enqueued_at, ruleset, attempts FROM queue_entries
         WHERE NOT published AND state = 'waiting' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [olderThanMs, limit],
      );
      if (rows.length === 0) return 0;
      const entries = rows.map(entryOf);
      await publish(entries);
      await client.query('UPDATE queue_entries SET published = true WHERE entry = ANY($1::text[])', [entries.map((e) => e.entry)]);
      return entries.length;
    });
  }

  /** Dead letters per queue, counted (the primary key's index answers it). */
  async deadLetterCounts(): Promise<Record<QueueName, number>> {
    const { rows } = await this.pool.query<{ queue: string; n: string }>('SELECT queue, COUNT(*) AS n FROM queue_dead_letters GROUP BY queue');
    return countsByQueue(rows);
  }

  async has(crashId: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM queue_entries WHERE crash_id = $1 LIMIT 1', [crashId])).rowCount ?? 0) > 0;
  }

  /** Waiting and in-flight counts and the oldest waiting entry per queue, in take order. */
  async stats(): Promise<QueueStats[]> {
    const { rows } = await this.pool.query<{ queue: QueueName; state: 'waiting' | 'taken'; n: number; oldest: number | null }>(
      'SELECT queue, state, COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM queue_entries GROUP BY queue, state',
    );
    return QUEUE_NAMES.map((queue) => {
      const waiting = rows.find((r) => r.queue === queue && r.state === 'waiting');
      const taken = rows.find((r) => r.queue === queue && r.state === 'taken');
      return {
        queue,
        waiting: Number(waiting?.n ?? 0),
        inFlight: Number(taken?.n ?? 0),
        ...(waiting?.oldest != null ? { oldestEnqueuedAt: Number(waiting.oldest) } : {}),
      };
    });
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM queue_entries LIMIT 1');
  }

  async close(): Promise<void> {
    if (this.ownsPool) await closePool(this.pool);
  }
}
