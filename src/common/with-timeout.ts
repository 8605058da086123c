/**
 * `work`'s result, or an Error when it takes longer than `ms` (the work itself is not
 * stopped: the caller stops waiting). The timer is cleared either way, so a finished check
 * does not keep the process alive.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
