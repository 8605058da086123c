import { describe, expect, it } from 'vitest';

import { LoginThrottle } from '../../src/auth/login-throttle.js';

describe('LoginThrottle', () => {
  it('refuses a user name after too many failures until the oldest leaves the window', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('Alice', `10.0.0.${i}`)).toBe(0);
      throttle.recordFailure('Alice', `10.0.0.${i}`);
      now += 100;
    }
    expect(throttle.retryAfterMs('alice', '10.9.9.9')).toBe(700);
    expect(throttle.retryAfterMs('bob', '10.9.9.9')).toBe(0);
    now = 1001;
    expect(throttle.retryAfterMs('alice', '10.9.9.9')).toBe(0);
  });

  it('refuses an address trying many names, and forgets a name after a success', () => {
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 60_000 });
    throttle.recordFailure('a', '1.2.3.4');
    throttle.recordFailure('b', '1.2.3.4');
    expect(throttle.retryAfterMs('c', '1.2.3.4')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('c', '5.6.7.8')).toBe(0);
    throttle.recordFailure('d', '5.6.7.8');
    throttle.recordFailure('d', '9.9.9.9');
    expect(throttle.retryAfterMs('d', '7.7.7.7')).toBeGreaterThan(0);
    throttle.recordSuccess('d');
    expect(throttle.retryAfterMs('d', '7.7.7.7')).toBe(0);
  });
});
