/**
 * Slows password guessing: after `maxFailures` failed logins within `windowMs` for one
 * user name, or from one client address, further attempts are refused until the oldest
 * failure leaves the window. Counting per name stops a distributed guess at one account;
 * counting per address stops one client trying many accounts. A successful login clears
 * the name's count. In memory, per web node: an attacker spreading attempts over several
 * nodes gets a few more tries, which the scrypt cost per attempt still makes slow.
 */

export interface LoginThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until an attempt for `username` from `address` is allowed; 0 when it is now. */
  retryAfterMs(username: string, address: string): number {
    return Math.max(this.waitFor(`u:${username.toLowerCase()}`), this.waitFor(`a:${address}`));
  }

  recordFailure(username: string, address: string): void {
    for (const key of [`u:${username.toLowerCase()}`, `a:${address}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
    // Bounded memory: forget keys whose failures all left the window.
    if (this.failures.size > 10_000) for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
  }

  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private waitFor(key: string): number {
    const list = this.recent(key);
    if (list.length < this.maxFailures) return 0;
    return list[list.length - this.maxFailures]! + this.windowMs - this.now();
  }
}
