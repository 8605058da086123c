import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../../../src/ports/alert-state.js';
import type { Condition } from '../../../../src/roles/scheduler/alerts/evaluate.js';
import { claimDelivery, closeReason, delivered, deliveryDue, step, withoutNotice, type StateSettings } from '../../../../src/roles/scheduler/alerts/state.js';

const T0 = 1_700_000_000_000;
const S = 1000;
const condition = (message = 'node p2 has sent no heartbeat for 31 s'): Condition => ({ key: 'down:p2', rule: 'down', subject: 'p2', severity: 'critical', message });
const settings = (extra: Partial<StateSettings> = {}): StateSettings => ({ forMs: 60 * S, repeatIntervalMs: 3600 * S, targets: ['w1', 'w2'], ...extra });

/** Drives `step` like the job does: the record written becomes the stored one. */
function run(record: AlertRecord | undefined, holds: boolean, now: number, s: StateSettings = settings()): AlertRecord | undefined {
  return step(record, holds ? condition(`held at ${now - T0}`) : undefined, now, s) ?? record;
}

describe('the alert state machine', () => {
  it('none → pending while the condition holds for less than `for`; nothing without a condition', () => {
    expect(step(undefined, undefined, T0, settings())).toBeUndefined();
    const pending = step(undefined, condition(), T0, settings());
    expect(pending).toEqual({ key: 'down:p2', rule: 'down', subject: 'p2', severity: 'critical', status: 'pending', message: condition().message, since: T0, updatedAt: T0, version: 1 });
    // Still holding, `for` not yet elapsed: no write at all.
    expect(step(pending, condition(), T0 + 59 * S, settings())).toBeUndefined();
  });

  it('pending → firing once `for` has elapsed, owing one firing notice to every webhook', () => {
    const pending = step(undefined, condition(), T0, settings())!;
    const firing = step(pending, condition('now 90 s'), T0 + 60 * S, settings())!;
    expect(firing).toMatchObject({ status: 'firing', since: T0, firedAt: T0 + 60 * S, lastNotifiedAt: T0 + 60 * S, message: 'now 90 s', version: 2 });
    expect(firing.notice).toEqual({ kind: 'firing', at: T0 + 60 * S, targets: ['w1', 'w2'], attempts: 0 });
  });

  it('none → firing at once when `for` is 0', () => {
    expect(step(undefined, condition(), T0, settings({ forMs: 0 }))).toMatchObject({ status: 'firing', since: T0, firedAt: T0, version: 1, notice: { kind: 'firing' } });
  });

  it('pending → inactive when the condition goes before `for`: nothing is owed', () => {
    const pending = step(undefined, condition(), T0, settings())!;
    const inactive = step(pending, undefined, T0 + 30 * S, settings())!;
    expect(inactive).toMatchObject({ status: 'inactive', version: 2, updatedAt: T0 + 30 * S });
    expect(inactive.notice).toBeUndefined();
    expect(step(inactive, undefined, T0 + 40 * S, settings())).toBeUndefined();
    // A new episode starts from scratch: a new `since`, pending again.
    expect(step(inactive, condition(), T0 + 50 * S, settings())).toMatchObject({ status: 'pending', since: T0 + 50 * S, version: 3 });
  });

  it('firing repeats every repeat_interval while it holds, and never with 0', () => {
    let record = run(undefined, true, T0, settings({ forMs: 0 }))!;
    const notices: string[] = [];
    for (let t = T0 + 10 * S; t <= T0 + 7300 * S; t += 10 * S) {
      const next = step(record, condition(), t, settings({ forMs: 0 }));
      if (next) {
        notices.push(`${next.notice!.kind}@${(t - T0) / S}`);
        record = next;
      }
    }
    expect(notices).toEqual(['repeat@3600', 'repeat@7200']);
    expect(record).toMatchObject({ status: 'firing', firedAt: T0, lastNotifiedAt: T0 + 7200 * S });
    const never = run(undefined, true, T0, settings({ forMs: 0, repeatIntervalMs: 0 }))!;
    expect(step(never, condition(), T0 + 100 * 3600 * S, settings({ repeatIntervalMs: 0 }))).toBeUndefined();
  });

  it('firing → resolved when the condition goes, owing exactly one recovery notice; then nothing', () => {
    const firing = run(undefined, true, T0, settings({ forMs: 0 }))!;
    const resolved = step(firing, undefined, T0 + 300 * S, settings())!;
    expect(resolved).toMatchObject({ status: 'resolved', since: T0, firedAt: T0, resolvedAt: T0 + 300 * S, version: 2 });
    expect(resolved.message).toBe(`resolved after 5 min: the condition no longer holds (was: held at 0)`);
    expect(resolved.notice).toEqual({ kind: 'resolved', at: T0 + 300 * S, targets: ['w1', 'w2'], attempts: 0 });
    expect(step(resolved, undefined, T0 + 310 * S, settings())).toBeUndefined();
    // Firing again later is a new episode: pending (for > 0), then a new firing notice.
    const again = step(resolved, condition(), T0 + 400 * S, settings())!;
    expect(again).toMatchObject({ status: 'pending', since: T0 + 400 * S, version: 3 });
    expect(again.resolvedAt).toBeUndefined();
  });

  it('a node removed from the registry closes its firing alert saying so, not as a recovery', () => {
    const firing = run(undefined, true, T0, settings({ forMs: 0 }))!;
    const closed = step(firing, undefined, T0 + 300 * S, settings({ subjectGone: true }))!;
    expect(closed).toMatchObject({ status: 'resolved', resolvedAt: T0 + 300 * S, notice: { kind: 'resolved' } });
    expect(closed.message).toBe('closed after 5 min: p2 was removed from the registry, not recovered (was: held at 0)');
    expect(closed.message).not.toMatch(/no longer holds/);
    expect(closeReason(closed)).toBe('removed');
    expect(closeReason(step(firing, undefined, T0 + 300 * S, settings())!)).toBe('recovered');
    expect(closeReason(step(firing, undefined, T0 + 300 * S, settings({ forMs: undefined }))!)).toBe('rule_removed');
  });

  it('a rule removed from the configuration resolves its firing alerts and drops its pending ones', () => {
    const firing = run(undefined, true, T0, settings({ forMs: 0 }))!;
    const resolved = step(firing, undefined, T0 + 60 * S, settings({ forMs: undefined }))!;
    expect(resolved).toMatchObject({ status: 'resolved', notice: { kind: 'resolved' } });
    expect(resolved.message).toMatch(/rule down is no longer configured/);
    const pending = run(undefined, true, T0)!;
    expect(step(pending, undefined, T0 + S, settings({ forMs: undefined }))).toMatchObject({ status: 'inactive' });
  });

  it('without webhooks the states move the same, owing no notice', () => {
    const firing = step(undefined, condition(), T0, settings({ forMs: 0, targets: [] }))!;
    expect(firing).toMatchObject({ status: 'firing', lastNotifiedAt: T0 });
    expect(firing.notice).toBeUndefined();
    expect(step(firing, undefined, T0 + S, settings({ targets: [] }))!.notice).toBeUndefined();
  });

  it('delivers a notice by claim then result: failed webhooks are owed it again after the retry delay', () => {
    const firing = run(undefined, true, T0, settings({ forMs: 0 }))!;
    expect(deliveryDue(firing, T0, 60 * S)).toBe(true);
    const claimed = claimDelivery(firing, T0);
    expect(claimed).toMatchObject({ version: 2, notice: { attempts: 1, lastAttemptAt: T0 } });
    // Claimed (by this scheduler or another): not due again until the retry delay.
    expect(deliveryDue(claimed, T0 + 59 * S, 60 * S)).toBe(false);
    const partly = delivered(claimed, ['w2'], 'webhook h#w2: HTTP 503', T0 + 2 * S);
    expect(partly).toMatchObject({ version: 3, notice: { kind: 'firing', targets: ['w2'], attempts: 1, lastError: 'webhook h#w2: HTTP 503' } });
    expect(deliveryDue(partly, T0 + 60 * S, 60 * S)).toBe(true);
    const done = delivered(claimDelivery(partly, T0 + 60 * S), [], undefined, T0 + 61 * S);
    expect(done.notice).toBeUndefined();
    expect(done).toMatchObject({ status: 'firing', version: 5 });
    expect(deliveryDue(done, T0 + 1e9, 60 * S)).toBe(false);
    expect(withoutNotice(partly, T0 + 99 * S)).toMatchObject({ version: 4, updatedAt: T0 + 99 * S });
    expect(withoutNotice(partly, T0).notice).toBeUndefined();
  });

  it('a repeat or a recovery replaces a notice still owed', () => {
    const firing = run(undefined, true, T0, settings({ forMs: 0 }))!;
    const undelivered = delivered(claimDelivery(firing, T0), ['w1', 'w2'], 'down', T0);
    const resolved = step(undelivered, undefined, T0 + 10 * S, settings())!;
    expect(resolved.notice).toEqual({ kind: 'resolved', at: T0 + 10 * S, targets: ['w1', 'w2'], attempts: 0 });
  });
});
