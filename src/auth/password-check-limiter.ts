/**
 * Bounds how many password checks run at once on a node.
 *
 * A check is a deliberately slow scrypt hash (tens of milliseconds of CPU and 32 MB) run
 * on libuv's thread pool, the pool the collector's file writes also need: ten guesses at
 * once (each within the login throttle's allowance) would hold every pool thread for
 * seconds and stall `/submit`. So checks run `concurrency` at a time, a few more wait
 * their turn, and beyond that a login is refused at once (the caller answers "busy, try
 * again"): the node's work for logins stays bounded whoever sends them.
 */

export interface PasswordCheckLimiterOptions {
  /** Checks running at once (default 1: the thread pool keeps its other threads for file I/O). */
  concurrency?: number;
  /** Checks waiting for their turn beyond those (default 4). */
  maxWaiting?: number;
}

/** Thrown by `run` when the limiter is full: nothing was checked. */
export class PasswordChecksBusyError extends Error {
  constructor() {
    super('too many logins are being checked; try again in a moment');
    this.name = 'PasswordChecksBusyError';
  }
}

export class PasswordCheckLimiter {
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: PasswordCheckLimiterOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxWaiting = options.maxWaiting ?? 4;
  }

  /** Runs `check` when a slot is free; rejects at once with `PasswordChecksBusyError` when too many wait already. */
  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new PasswordChecksBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await check();
    } finally {
      // The slot passes straight to the next in line (so `running` stays counted), or frees.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
