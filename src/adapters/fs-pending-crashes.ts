import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QUEUE_NAMES, type QueueName } from '../ports/queue.js';
import type { PendingCrash, PendingCrashes } from '../ports/pending-crashes.js';
import { fsyncDirectory, removeOrphanedTemporaries, writeFileDurably } from './fs-durable.js';

/**
 * The collector's pending-crash journal as one small file per crash,
 * `DIR/<crash id>` holding the queue name, written durably (flushed, renamed, directory
 * flushed) before the client is answered. Kept beside the raw crashes (`raw/.pending/`)
 * because it is part of the same promise: stored means processed eventually.
 */
export class FsPendingCrashes implements PendingCrashes {
  private constructor(
    private readonly dir: string,
    private readonly durable: boolean,
  ) {}

  static async open(dir: string, options: { fsync?: boolean } = {}): Promise<FsPendingCrashes> {
    await mkdir(dir, { recursive: true });
    await removeOrphanedTemporaries(dir);
    return new FsPendingCrashes(dir, options.fsync ?? true);
  }

  async add(crash: PendingCrash): Promise<void> {
    await writeFileDurably(this.path(crash.crashId), crash.queue, this.durable);
  }

  async remove(crashId: string): Promise<void> {
    await rm(this.path(crashId), { force: true });
    if (this.durable) await fsyncDirectory(this.dir);
  }

  async list(limit: number): Promise<PendingCrash[]> {
    const names = (await readdir(this.dir)).filter((n) => /^[0-9a-f-]{36}$/.test(n));
    const withTimes = await Promise.all(
      names.map(async (name) => {
        try {
          const [info, text] = await Promise.all([stat(join(this.dir, name)), readFile(join(this.dir, name), 'utf8')]);
          const queue = (QUEUE_NAMES as readonly string[]).includes(text.trim()) ? (text.trim() as QueueName) : 'standard';
          return { crashId: name, queue, at: info.mtimeMs };
        } catch {
          return undefined; // removed meanwhile by another sweeper
        }
      }),
    );
    return withTimes
      .filter((x): x is { crashId: string; queue: QueueName; at: number } => x !== undefined)
      .sort((a, b) => a.at - b.at || a.crashId.localeCompare(b.crashId))
      .slice(0, limit)
      .map(({ crashId, queue }) => ({ crashId, queue }));
  }

  private path(crashId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(crashId)) throw new Error(`not a crash id: ${crashId}`);
    return join(this.dir, crashId);
  }
}
