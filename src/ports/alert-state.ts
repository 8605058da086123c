/**
 * The alerts' memory, shared by every scheduler: one record per alert (a rule and a
 * subject, `processor_down:processor-2`) with where it is in its life (pending, firing,
 * resolved) and the notice it still owes, plus the processors' counter samples that
 * failure rates are computed from.
 *
 * Every change of a record is a compare-and-set on its version, so two schedulers (one
 * whose job claim expired while it was still running, and the one that took over) or a
 * restarted scheduler cannot both make the same transition, and so cannot both send its
 * notice.
 */

export type AlertStatus =
  /** The condition holds, for less than the rule's `for` so far. */
  | 'pending'
  /** Fired: a notice was (or is being) sent, and repeats while it lasts. */
  | 'firing'
  /** Fired, then its condition stopped holding: a recovery notice was (or is being) sent. */
  | 'resolved'
  /** Was pending, and its condition stopped holding before it fired: nothing was sent. */
  | 'inactive';

export type AlertSeverity = 'warning' | 'critical';

/** A notice an alert owes: the webhooks it has not reached yet. */
export interface OwedNotice {
  readonly kind: 'firing' | 'repeat' | 'resolved';
  /** ms since epoch: when the transition that owes it happened. */
  readonly at: number;
  /** The webhooks still owed it, each named by a hash of its URL (never the URL: it holds tokens). */
  readonly targets: readonly string[];
  /** Attempts so far, and when the last began (ms since epoch). */
  readonly attempts: number;
  readonly lastAttemptAt?: number;
  /** The last delivery error (the URL's host, never the URL). */
  readonly lastError?: string;
}

export interface AlertRecord {
  /** `RULE:SUBJECT`. */
  readonly key: string;
  readonly rule: string;
  readonly subject: string;
  readonly severity: AlertSeverity;
  readonly status: AlertStatus;
  /** What the condition said when it last changed status (or was last notified). */
  readonly message: string;
  /** ms since epoch: when the condition was first seen holding (in this episode). */
  readonly since: number;
  /** When it fired, when the last firing or repeat notice was due, when it resolved. */
  readonly firedAt?: number;
  readonly lastNotifiedAt?: number;
  readonly resolvedAt?: number;
  /** ms since epoch of the last write. */
  readonly updatedAt: number;
  /** Compare-and-set version: 1 when created, one more at every write. */
  readonly version: number;
  readonly notice?: OwedNotice;
}

/** A node's running totals of processed and failed crashes at one time (one process: `id` is `name@host:pid`). */
export interface CounterSample {
  readonly nodeId: string;
  readonly nodeName: string;
  /** ms since epoch. */
  readonly at: number;
  readonly processed: number;
  readonly failed: number;
}

export interface AlertStateStore {
  /** Every record, by key. */
  list(): Promise<AlertRecord[]>;
  /**
   * Writes `record` when the stored record's version is `record.version - 1` (for version
   * 1: when there is none). True when written; false when another writer got there first.
   */
  put(record: AlertRecord): Promise<boolean>;
  /** Removes resolved and inactive records that owe nothing and were last written before `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** Records samples; a second sample of one node at the same `at` is ignored. */
  recordCounters(samples: readonly CounterSample[]): Promise<void>;
  /** Samples taken at or after `since`, oldest first. */
  counters(since: number): Promise<CounterSample[]>;
  /** Removes samples taken before `before`; returns how many. */
  pruneCounters(before: number): Promise<number>;
  /** Releases the connection or file; calling it again does nothing. */
  close(): Promise<void>;
}
