import { open, rename, mkdir, rm, rmdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Filesystem helpers for writes that must survive a crash of the process or the machine:
 * data is written under a temporary name, flushed, renamed into place, and the directory
 * entry is flushed too. A reader sees either the old file or the new one, never a part.
 */

export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurably(path: string, data: string | Uint8Array, durable = true): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryName(path);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (durable) await fsyncDirectory(dirname(path));
}

/** `NAME.<pid>.<random>.tmp`, so that leftovers can be traced to a process that died. */
export function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Whether a process with this pid is alive on this machine. */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes entries of `dir` named `<anything>.<pid>.<hex>.tmp` whose pid is dead. */
export async function removeOrphanedTemporaries(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (match && !processIsAlive(Number(match[1]))) {
      await rm(join(dir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Flushes a directory, sharing flushes between concurrent callers (group commit): a
 * caller whose change came after the flush in progress started waits for the next one,
 * which covers every change made until it starts. Under load one fsync of a busy
 * directory (today's raw crashes) serves many crashes.
 */
export class DirectoryFlusher {
  private readonly state = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  flush(dir: string): Promise<void> {
    const current = this.state.get(dir);
    if (!current) return this.start(dir);
    current.next ??= current.running.then(
      () => this.start(dir),
      () => this.start(dir),
    );
    return current.next;
  }

  private start(dir: string): Promise<void> {
    const running = fsyncDirectory(dir).finally(() => {
      const entry = this.state.get(dir);
      if (entry && entry.running === running) {
        if (entry.next) {
          // The queued flush replaces this one when it starts (see `flush`).
        } else {
          this.state.delete(dir);
        }
      }
    });
    const entry = this.state.get(dir);
    if (entry) {
      entry.running = running;
      entry.next = undefined;
    } else {
      this.state.set(dir, { running });
    }
    return running;
  }
}

/** The `YYYYMMDD` directories under `root`, oldest first. */
export async function dayDirectories(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && /^\d{8}$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Removes files (missing ones are skipped), then each day directory they were in that is
 * left empty, so that a store's day listing only shows days that hold something.
 */
export async function deleteDayFiles(root: string, files: readonly string[]): Promise<void> {
  for (const file of files) await rm(file, { force: true });
  for (const dir of new Set(files.map((file) => dirname(file)))) {
    if (dirname(dir) !== root) continue;
    try {
      await rmdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'ENOENT' && code !== 'EEXIST') throw error;
    }
  }
}
