import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isExecutable, type OwnServer } from './own-server.js';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own, for fault tests that stop or restart the
 * database: the machine's server (port 5432) serves every other test file running at the
 * same time and must never be restarted. A fresh cluster in a temporary directory, on a
 * port of its own, trusting local connections; `fsync` off, since nothing here must
 * survive a power failure.
 *
 * PostgreSQL refuses to run as root: as root, the directory is given to the `postgres`
 * user and every command runs as that user (`runuser`).
 */
export interface OwnPostgres extends OwnServer {
  /** `fast`: connections are ended and the server stops cleanly; `immediate`: as after a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** The server's log (for failure messages). */
  log(): string;
}

/** The directory of `initdb` and `pg_ctl`: the newest of /usr/lib/postgresql/N/bin (Debian), else PATH. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(`/usr/lib/postgresql/${version}/bin`);
  } catch {
    // Not Debian's layout.
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return candidates.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl')));
}

const isRoot = process.getuid?.() === 0;

/** The uid and gid of the `postgres` user, when running as root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
  } catch {
    return undefined;
  }
}

/** Whether `startOwnPostgres` can work here, or why not. */
export function ownPostgresUnavailable(): string | false {
  if (postgresBinDir() === undefined) return 'initdb and pg_ctl are not installed (looked in /usr/lib/postgresql/*/bin and on PATH)';
  if (isRoot && postgresUser() === undefined) return 'running as root without a postgres user to run PostgreSQL as';
  return false;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('initdb and pg_ctl are not installed');
  const dir = mkdtempSync(join(tmpdir(), 'mayday-postgres-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const user = isRoot ? postgresUser() : undefined;
  if (isRoot && !user) throw new Error('running as root without a postgres user');
  if (user) chownSync(dir, user.uid, user.gid);
  const port = await freePort();
  let up = false;
  let disposed = false;

  const exec = async (program: string, args: string[]): Promise<void> => {
    const [file, argv] = user ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    try {
      await run(file, argv, { cwd: dir, timeout: 120_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\nserver log:\n${readLog()}`);
    }
  };
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-10_000);
    } catch {
      return '';
    }
  };

  const start = async (): Promise<void> => {
    // -k: the Unix socket in our directory, not /var/run/postgresql (the machine's server's).
    await exec('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
    up = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    up = false;
  };
  // Should the test process end without its afterAll (an uncaught error), the server goes too.
  const onExit = (): void => {
    if (!up) return;
    try {
      const [file, argv] = user ? ['runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']] : [join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']];
      execFileSync(file, argv, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // Nothing more can be done from an exit handler.
    }
  };
  process.once('exit', onExit);

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    process.off('exit', onExit);
    await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
    up = false;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, running: () => up, start, stop, dispose, log: readLog };
}
