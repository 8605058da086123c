import cliProgress from 'cli-progress';

/**
 * Progress for long CLI jobs (uploads, reprocessing, load tests): a bar on a terminal,
 * and a plain line every 10% otherwise (CI logs, pipes), always on standard error so
 * that standard output stays machine-readable.
 */
export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

export function progress(label: string, total: number): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { increment: (by = 1) => bar.increment(by), stop: () => bar.stop() };
  }
  let done = 0;
  let lastTenth = 0;
  return {
    increment(by = 1) {
      done += by;
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${label}: ${done}/${total}\n`);
      }
    },
    stop() {},
  };
}
