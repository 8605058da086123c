import { describe, expect, it } from 'vitest';

import { PasswordCheckLimiter, PasswordChecksBusyError } from '../../src/auth/password-check-limiter.js';

/** A check that finishes when told to, recording how many run at once. */
function controlled(state: { running: number; most: number; order: number[] }) {
  const finishers: (() => void)[] = [];
  const check = (id: number, fail = false) => async (): Promise<number> => {
    state.running++;
    state.most = Math.max(state.most, state.running);
    state.order.push(id);
    await new Promise<void>((resolve) => finishers.push(resolve));
    state.running--;
    if (fail) throw new Error(`check ${id} failed`);
    return id;
  };
  const finishOne = async (): Promise<void> => {
    for (let i = 0; i < 5 && finishers.length === 0; i++) await new Promise((r) => setImmediate(r));
    finishers.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { check, finishOne };
}

describe('PasswordCheckLimiter', () => {
  it('runs checks one at a time in arrival order, lets a few wait, and refuses the rest at once', async () => {
    const state = { running: 0, most: 0, order: [] as number[] };
    const { check, finishOne } = controlled(state);
    const limiter = new PasswordCheckLimiter({ concurrency: 1, maxWaiting: 2 });
    const settled: (number | string)[] = [];
    const runs = [0, 1, 2, 3, 4].map((id) =>
      limiter.run(check(id)).then(
        (value) => void settled.push(value),
        (error: Error) => void settled.push(error instanceof PasswordChecksBusyError ? `busy ${id}` : error.message),
      ),
    );
    await new Promise((r) => setImmediate(r));
    // 0 runs, 1 and 2 wait, 3 and 4 are refused without running.
    expect(settled).toEqual(['busy 3', 'busy 4']);
    for (let i = 0; i < 3; i++) await finishOne();
    await Promise.all(runs);
    expect(settled).toEqual(['busy 3', 'busy 4', 0, 1, 2]);
    expect(state.order).toEqual([0, 1, 2]);
    expect(state.most).toBe(1);
  });

  it('frees the slot when a check fails, and takes new checks once the queue drains', async () => {
    const state = { running: 0, most: 0, order: [] as number[] };
    const { check, finishOne } = controlled(state);
    const limiter = new PasswordCheckLimiter({ concurrency: 2, maxWaiting: 0 });
    const a = limiter.run(check(1, true)).catch((error: Error) => error.message);
    const b = limiter.run(check(2));
    await expect(limiter.run(check(3))).rejects.toBeInstanceOf(PasswordChecksBusyError);
    await finishOne();
    await expect(a).resolves.toBe('check 1 failed');
    const c = limiter.run(check(4));
    await finishOne();
    await finishOne();
    await expect(b).resolves.toBe(2);
    await expect(c).resolves.toBe(4);
    expect(state.most).toBe(2);
  });
});
