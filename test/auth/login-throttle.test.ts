import { describe, expect, it } from 'vitest';

import { LoginThrottle, addressKey, type LoginReservation } from '../../src/auth/login-throttle.js';

/** Reserves an attempt that fails (the reservation is simply kept). */
const fail = (throttle: LoginThrottle, name: string, address: string): LoginReservation => {
  const attempt = throttle.reserve(name, address);
  expect(attempt.allowed).toBe(true);
  return attempt;
};

describe('LoginThrottle', () => {
  it('refuses a (name, address) pair after too many failures until the oldest leaves the window', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      fail(throttle, 'Alice', '10.0.0.1');
      now += 100;
    }
    expect(throttle.reserve('alice', '10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 700 });
    // The same name from elsewhere, and another name from here, are still tried.
    expect(throttle.retryAfterMs('alice', '10.9.9.9')).toBe(0);
    expect(throttle.retryAfterMs('bob', '10.0.0.1')).toBe(0);
    now = 1001;
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(0);
  });

  it('counts an attempt when it starts: parallel attempts beyond the limit are refused', () => {
    const throttle = new LoginThrottle({ maxFailures: 3 });
    const started = Array.from({ length: 10 }, () => throttle.reserve('root', '1.2.3.4'));
    expect(started.filter((a) => a.allowed)).toHaveLength(3);
  });

  it('withdraws a successful attempt and forgets its pair, not the name', () => {
    const throttle = new LoginThrottle({ maxFailures: 2, maxFailuresPerName: 3 });
    fail(throttle, 'd', '5.6.7.8');
    const right = throttle.reserve('d', '5.6.7.8');
    if (!right.allowed) throw new Error('refused');
    expect(throttle.retryAfterMs('d', '5.6.7.8')).toBeGreaterThan(0);
    right.succeeded();
    right.succeeded(); // twice is once
    expect(throttle.retryAfterMs('d', '5.6.7.8')).toBe(0);
    fail(throttle, 'd', '9.9.9.9');
    fail(throttle, 'd', '9.9.9.8');
    fail(throttle, 'd', '9.9.9.7');
    // The name has 4 failures (the success cleared only its own pair): failing addresses wait.
    expect(throttle.retryAfterMs('d', '9.9.9.9')).toBeGreaterThan(0);
  });

  it('refuses an address trying many names', () => {
    const throttle = new LoginThrottle({ maxFailures: 10, maxFailuresPerAddress: 2 });
    fail(throttle, 'a', '1.2.3.4');
    fail(throttle, 'b', '1.2.3.4');
    expect(throttle.retryAfterMs('c', '1.2.3.4')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('c', '5.6.7.8')).toBe(0);
  });

  it('past the per-name ceiling refuses only the addresses that failed on the name', () => {
    const throttle = new LoginThrottle({ maxFailures: 10, maxFailuresPerName: 5 });
    for (let i = 0; i < 5; i++) fail(throttle, 'root', `10.0.0.${i}`);
    expect(throttle.retryAfterMs('root', '10.0.0.0')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('root', '192.0.2.1')).toBe(0);
    expect(throttle.retryAfterMs('other', '10.0.0.0')).toBe(0);
  });

  it('counts IPv6 clients by /64 and IPv4-mapped ones as IPv4', () => {
    const throttle = new LoginThrottle({ maxFailures: 2 });
    fail(throttle, 'root', '2001:db8:1:2::1');
    fail(throttle, 'root', '2001:db8:1:2:ffff::9');
    expect(throttle.retryAfterMs('root', '2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('root', '2001:db8:1:3::1')).toBe(0);
    fail(throttle, 'x', '::ffff:192.0.2.9');
    fail(throttle, 'x', '192.0.2.9');
    expect(throttle.retryAfterMs('x', '192.0.2.9')).toBeGreaterThan(0);
    expect(addressKey('2001::1:2:3:4:5:6')).toBe('2001:0:1:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('keeps bounded memory under many names', () => {
    let now = 0;
    const throttle = new LoginThrottle({ windowMs: 1000, now: () => now });
    let allowed = 0;
    for (let i = 0; i < 12_000; i++) {
      if (throttle.reserve(`user${i}`, `10.${i >> 8}.${i & 255}.1`).allowed) allowed++;
      now += 1;
    }
    expect(allowed).toBe(12_000);
    // 36,000 keys were made; those of failures that left the window are swept away.
    expect((throttle as unknown as { failures: Map<string, unknown> }).failures.size).toBeLessThanOrEqual(10_000 + 3);
  });
});
