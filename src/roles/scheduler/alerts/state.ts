import type { AlertRecord, OwedNotice } from '../../../ports/alert-state.js';
import { duration, type Condition } from './evaluate.js';

/**
 * The life of one alert, as a pure function from its stored record and whether its
 * condition holds now to the record to write (and the notice that write owes):
 *
 *   (none | inactive | resolved) --condition--> pending, or firing at once when `for` is 0
 *   pending --condition held `for`--> firing            (owes a firing notice)
 *   pending --condition gone--> inactive                (nothing was sent, nothing is)
 *   firing --still, repeat_interval since the last--> firing (owes a repeat notice)
 *   firing --condition gone, or rule removed--> resolved (owes one recovery notice)
 *   firing --its node removed from the registry--> resolved, closed (owes one notice that
 *          says so: on-call must not read a node deleted while down as one that recovered)
 *
 * Each write is a compare-and-set on the record's version (the store's `put`), so a
 * transition, and the notice it owes, happens once however many schedulers try it.
 * Delivering a notice is claimed the same way (`claimDelivery`), then recorded
 * (`delivered`): targets that failed are tried again after `retryAfterMs`.
 */

export interface StateSettings {
  /** How long the rule's condition must hold before firing (ms); absent when the rule no longer exists. */
  readonly forMs: number | undefined;
  /** 0: never repeat. */
  readonly repeatIntervalMs: number;
  /** The webhooks (hashes of their URLs) a new notice is owed to; none: no notice is owed, the state still changes. */
  readonly targets: readonly string[];
  /** The alert's subject (a node) is no longer in the registry: removed by an operator, or gone. */
  readonly subjectGone?: boolean;
}

/** Why a firing alert stopped: its condition ended, its subject left the registry, or its rule was removed. */
export type CloseReason = 'recovered' | 'removed' | 'rule_removed';

const CLOSED_BECAUSE: Record<Exclude<CloseReason, 'recovered'>, (record: AlertRecord) => string> = {
  removed: (record) => `${record.subject} was removed from the registry, not recovered`,
  rule_removed: (record) => `rule ${record.rule} is no longer configured`,
};

/** Why a resolved record was closed, read back from its message (the record stores no more). */
export function closeReason(record: Pick<AlertRecord, 'message'>): CloseReason {
  if (record.message.startsWith('resolved after')) return 'recovered';
  return record.message.split(' (was: ')[0].endsWith(' was removed from the registry, not recovered') ? 'removed' : 'rule_removed';
}

/** The record to write for `record` now, or undefined when nothing changes. */
export function step(record: AlertRecord | undefined, condition: Condition | undefined, now: number, settings: StateSettings): AlertRecord | undefined {
  const version = (record?.version ?? 0) + 1;
  const notice = (kind: OwedNotice['kind']): { notice?: OwedNotice } => (settings.targets.length > 0 ? { notice: { kind, at: now, targets: [...settings.targets], attempts: 0 } } : {});
  const active = record !== undefined && (record.status === 'pending' || record.status === 'firing');

  if (!active) {
    if (!condition || settings.forMs === undefined) return undefined;
    const base = { key: condition.key, rule: condition.rule, subject: condition.subject, severity: condition.severity, message: condition.message, since: now, updatedAt: now, version };
    if (settings.forMs <= 0) return { ...base, status: 'firing', firedAt: now, lastNotifiedAt: now, ...notice('firing') };
    return { ...base, status: 'pending' };
  }

  const { notice: _owed, firedAt: _f, lastNotifiedAt: _l, resolvedAt: _r, ...kept } = record;
  if (record.status === 'pending') {
    if (!condition || settings.forMs === undefined) return { ...kept, status: 'inactive', updatedAt: now, version };
    if (now - record.since < settings.forMs) return undefined;
    return { ...kept, severity: condition.severity, message: condition.message, status: 'firing', firedAt: now, lastNotifiedAt: now, updatedAt: now, version, ...notice('firing') };
  }

  // firing
  if (!condition || settings.forMs === undefined) {
    const reason: CloseReason = settings.forMs === undefined ? 'rule_removed' : settings.subjectGone ? 'removed' : 'recovered';
    const firedAt = record.firedAt ?? record.since;
    const after = duration(now - firedAt);
    return {
      ...kept,
      firedAt,
      lastNotifiedAt: record.lastNotifiedAt ?? firedAt,
      status: 'resolved',
      resolvedAt: now,
      message: reason === 'recovered' ? `resolved after ${after}: the condition no longer holds (was: ${record.message})` : `closed after ${after}: ${CLOSED_BECAUSE[reason](record)} (was: ${record.message})`,
      updatedAt: now,
      version,
      ...notice('resolved'),
    };
  }
  const last = record.lastNotifiedAt ?? record.firedAt ?? record.since;
  if (settings.repeatIntervalMs > 0 && now - last >= settings.repeatIntervalMs) {
    return { ...kept, firedAt: record.firedAt ?? record.since, severity: condition.severity, message: condition.message, lastNotifiedAt: now, updatedAt: now, version, ...notice('repeat') };
  }
  return undefined;
}

/**
 * A record whose owed notice should be (re)sent now: never attempted, or last attempted
 * `retryAfterMs` ago (longer than one delivery can take, so an attempt in progress on
 * another scheduler is not doubled).
 */
export function deliveryDue(record: AlertRecord, now: number, retryAfterMs: number): boolean {
  const n = record.notice;
  return n !== undefined && (n.lastAttemptAt === undefined || now - n.lastAttemptAt >= retryAfterMs);
}

/** The record that claims a delivery attempt of its notice (written before sending). */
export function claimDelivery(record: AlertRecord, now: number): AlertRecord {
  const n = record.notice!;
  return { ...record, notice: { ...n, attempts: n.attempts + 1, lastAttemptAt: now }, updatedAt: now, version: record.version + 1 };
}

/** The record after an attempt: the notice is kept only for the targets that failed. */
export function delivered(claimed: AlertRecord, failed: readonly string[], error: string | undefined, now: number): AlertRecord {
  const { notice, ...rest } = claimed;
  const left = notice ? notice.targets.filter((t) => failed.includes(t)) : [];
  return { ...rest, ...(notice && left.length > 0 ? { notice: { ...notice, targets: left, ...(error ? { lastError: error } : {}) } } : {}), updatedAt: now, version: claimed.version + 1 };
}

/** The record with its notice given up (too old, or owed to webhooks no longer configured). */
export function withoutNotice(record: AlertRecord, now: number): AlertRecord {
  const { notice: _n, ...rest } = record;
  return { ...rest, updatedAt: now, version: record.version + 1 };
}

