import type { EventEmitter } from 'node:events';

/**
 * Resolves on the next `name` event of `events`, after `timeoutMs`, or when `signal`
 * aborts, whichever comes first, and leaves no listener or timer behind: the queues'
 * `waitForWork` is called in a loop for the life of a processor.
 */
export function waitForEvent(events: EventEmitter, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      events.off(name, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    events.on(name, done);
    signal?.addEventListener('abort', done);
  });
}
