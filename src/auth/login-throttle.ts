/**
 * Slows password guessing without handing anyone a way to lock others out.
 *
 * Failed logins are counted per (user name, client address) pair, per address, and per
 * name, in a sliding window:
 * - a pair over `maxFailures` is refused: one client guessing one account;
 * - an address over `maxFailuresPerAddress` is refused for every name: one client trying
 *   many accounts;
 * - a name over `maxFailuresPerName` (much higher) is refused only to the addresses that
 *   have themselves failed on it: a guess spread over many addresses then gets one try per
 *   new address, while the account's owner, who has not been failing, still logs in.
 * So failures from one address never lock the name for the others (anyone could otherwise
 * lock the administrator out).
 *
 * An attempt is counted when it starts, before the slow password hash, and withdrawn if
 * the password was right: parallel guesses cannot all slip in before the first failure is
 * recorded. A success also forgets its pair's failures.
 *
 * IPv6 clients are counted by /64, the block one subscriber usually gets; IPv4-mapped
 * IPv6 addresses as their IPv4 address. In memory, per web node: an attacker spreading
 * attempts over several nodes gets a few more tries, which the scrypt cost per attempt
 * still makes slow.
 */

import { isIPv4, isIPv6 } from 'node:net';

export interface LoginThrottleOptions {
  /** Failures allowed per (name, address) pair in the window (default 10). */
  maxFailures?: number;
  /** Failures allowed per address, whatever the names (default 30). */
  maxFailuresPerAddress?: number;
  /** Failures one name may collect from all addresses before the failing ones are refused (default 100). */
  maxFailuresPerName?: number;
  windowMs?: number;
  now?: () => number;
}

/** The answer to "may this login be tried now?". */
export type LoginReservation =
  | {
      readonly allowed: true;
      /** The password was right: the attempt no longer counts, and the pair's failures are forgotten. */
      succeeded(): void;
      /** The password was not checked after all (the node was busy): the attempt no longer counts. */
      withdraw(): void;
    }
  | { readonly allowed: false; readonly retryAfterMs: number };

/** The key a client address is counted under: IPv6 by its /64, IPv4-mapped IPv6 as IPv4. */
export function addressKey(address: string): string {
  const bare = address.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(bare)) return bare;
  const split = (part: string | undefined): string[] => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const [head, tail] = bare.split('::');
  const headGroups = split(head);
  const tailGroups = split(tail);
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly maxFailuresPerAddress: number;
  private readonly maxFailuresPerName: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Sweep forgotten keys when the map grows past this (then doubled: sweeping stays amortised linear). */
  private sweepAt = 10_000;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.maxFailuresPerAddress = options.maxFailuresPerAddress ?? 30;
    this.maxFailuresPerName = options.maxFailuresPerName ?? 100;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Reserves an attempt for `username` from `address`, counted as a failure until
   * `succeeded()` is called; or says how long to wait.
   */
  reserve(username: string, address: string): LoginReservation {
    const keys = this.keys(username, address);
    const wait = this.retryAfterMs(username, address);
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    const at = this.now();
    for (const [key, max] of [[keys.pair, this.maxFailures], [keys.address, this.maxFailuresPerAddress], [keys.name, this.maxFailuresPerName]] as const) {
      const list = this.recent(key);
      list.push(at);
      // Only the latest `max` failures decide a wait: older ones need not be kept (or scanned).
      this.failures.set(key, list.length > max ? list.slice(-max) : list);
    }
    this.sweep();
    let settled = false;
    const withdraw = (): void => {
      if (settled) return;
      settled = true;
      for (const key of [keys.pair, keys.address, keys.name]) {
        const list = this.failures.get(key);
        const index = list?.lastIndexOf(at) ?? -1;
        if (index >= 0) list!.splice(index, 1);
      }
    };
    return {
      allowed: true,
      withdraw,
      succeeded: () => {
        withdraw();
        this.failures.delete(keys.pair);
      },
    };
  }

  /** Milliseconds until an attempt for `username` from `address` is allowed; 0 when it is now. */
  retryAfterMs(username: string, address: string): number {
    const keys = this.keys(username, address);
    const failedHere = this.recent(keys.pair).length > 0;
    return Math.max(
      this.waitFor(keys.pair, this.maxFailures),
      this.waitFor(keys.address, this.maxFailuresPerAddress),
      failedHere ? this.waitFor(keys.name, this.maxFailuresPerName) : 0,
    );
  }

  private keys(username: string, address: string): { pair: string; address: string; name: string } {
    const name = username.toLowerCase();
    const client = addressKey(address);
    return { pair: `p:${name}\u0000${client}`, address: `a:${client}`, name: `n:${name}` };
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private waitFor(key: string, max: number): number {
    const list = this.recent(key);
    if (list.length < max) return 0;
    return list[list.length - max]! + this.windowMs - this.now();
  }

  /** Bounded memory: forgets keys whose failures all left the window. */
  private sweep(): void {
    if (this.failures.size <= this.sweepAt) return;
    for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
    this.sweepAt = Math.max(10_000, 2 * this.failures.size);
  }
}
