/**
 * The parts of `mayday start` that decide what a failed start says and leaves behind.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The one line that explains why the server could not listen, or undefined for an error
 * that is not about listening (it is then reported as it is).
 */
export function listenErrorLine(error: unknown, host: string, port: number): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `mayday: port ${port} on ${host} is in use (another Mayday, or another program): stop it or choose --port`;
    case 'EACCES':
      return `mayday: not allowed to listen on port ${port} of ${host} (ports below 1024 need privileges): choose --port`;
    case 'EADDRNOTAVAIL':
      return `mayday: ${host} is not an address of this machine: choose --host (127.0.0.1 for this machine only, 0.0.0.0 for every interface)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `mayday: cannot resolve the host name ${host}: choose --host`;
    default:
      return undefined;
  }
}

export interface CreatedPaths {
  /** Removes what appeared since the note was taken; answers what was removed. */
  removeCreated(): string[];
}

/**
 * Notes what exists of `dataDir` now, so that a failed start can take back only what it
 * made: the topmost directory it created on the way to `dataDir`, or, when `dataDir`
 * existed, the entries that appeared in it. Nothing that existed before is removed.
 */
export function noteCreatedPaths(dataDir: string): CreatedPaths {
  const target = resolve(dataDir);
  if (existsSync(target)) {
    const before = new Set(readdirSync(target));
    return {
      removeCreated() {
        if (!existsSync(target)) return [];
        const added = readdirSync(target).filter((name) => !before.has(name));
        for (const name of added) rmSync(join(target, name), { recursive: true, force: true });
        return added.map((name) => join(target, name));
      },
    };
  }
  // The topmost ancestor that does not exist yet: a start may make it and everything under it.
  let top = target;
  while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
  return {
    removeCreated() {
      if (!existsSync(top)) return [];
      rmSync(top, { recursive: true, force: true });
      return [top];
    },
  };
}
