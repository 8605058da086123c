import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { partitionOfCrashId } from '../common/crash-id.js';
import type { DumpInfo, RawCrash, RawCrashStore, RawCrashWriter } from '../ports/raw-crash-store.js';
import { DirectoryFlusher, fsyncDirectory, removeOrphanedTemporaries, temporaryName } from './fs-durable.js';

/**
 * Raw crashes on the local filesystem, one directory per crash:
 * `ROOT/YYYYMMDD/<crash id>/raw_crash.json` and `.../dumps/<dump name>`.
 * A crash is received into `ROOT/.incoming/<crash id>.<pid>.<rand>.tmp/` and renamed
 * into its day's directory on commit, so a crash is either wholly there or not at all;
 * leftovers of a process that died mid-request are removed on open.
 */
export class FsRawCrashStore implements RawCrashStore {
  /** Day directories known to exist, so that each commit need not create its day. */
  private readonly days = new Set<string>();
  private readonly flusher = new DirectoryFlusher();

  private constructor(
    private readonly root: string,
    private readonly durable: boolean,
  ) {}

  static async open(root: string, options: { fsync?: boolean } = {}): Promise<FsRawCrashStore> {
    await mkdir(join(root, '.incoming'), { recursive: true });
    await removeOrphanedTemporaries(join(root, '.incoming'));
    return new FsRawCrashStore(root, options.fsync ?? true);
  }

  async begin(crashId: string): Promise<RawCrashWriter> {
    const incoming = temporaryName(join(this.root, '.incoming', crashId));
    await mkdir(join(incoming, 'dumps'), { recursive: true });
    return new FsRawCrashWriter(incoming, this.crashDir(crashId), this.durable, this);
  }

  async get(crashId: string): Promise<RawCrash | undefined> {
    const text = await readIfExists(join(this.crashDir(crashId), 'raw_crash.json'));
    return text === undefined ? undefined : (JSON.parse(text.toString('utf8')) as RawCrash);
  }

  async getDump(crashId: string, name: string): Promise<Buffer | undefined> {
    if (!isSafeName(name)) return undefined;
    return readIfExists(join(this.crashDir(crashId), 'dumps', name));
  }

  async *listDay(day: string): AsyncIterable<string> {
    if (!/^\d{8}$/.test(day)) return;
    let names: string[];
    try {
      names = await readdir(join(this.root, day));
    } catch {
      return;
    }
    for (const name of names.sort()) if (!name.endsWith('.tmp')) yield name;
  }

  async check(): Promise<void> {
    await access(this.root, constants.R_OK | constants.W_OK);
    await access(join(this.root, '.incoming'), constants.R_OK | constants.W_OK);
  }

  /** Creates a day directory once per process. */
  async ensureDay(day: string): Promise<void> {
    if (this.days.has(day)) return;
    await mkdir(day, { recursive: true });
    if (this.durable) await fsyncDirectory(this.root);
    this.days.add(day);
  }

  forgetDay(day: string): void {
    this.days.delete(day);
  }

  flushDirectory(dir: string): Promise<void> {
    return this.flusher.flush(dir);
  }

  private crashDir(crashId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(crashId)) throw new Error(`not a crash id: ${crashId}`);
    return join(this.root, partitionOfCrashId(crashId), crashId);
  }
}

class FsRawCrashWriter implements RawCrashWriter {
  private finished = false;

  constructor(
    private readonly incoming: string,
    private readonly destination: string,
    private readonly durable: boolean,
    private readonly store: FsRawCrashStore,
  ) {}

  async addDump(name: string, data: Readable): Promise<DumpInfo> {
    if (!isSafeName(name)) throw new Error(`unsafe dump name: ${name}`);
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(join(this.incoming, 'dumps', name), 'wx');
    try {
      // Written chunk by chunk through the handle (not a write stream) so that the same
      // handle can be flushed before it is closed; awaiting each write is the backpressure.
      for await (const chunk of data) {
        const buffer = chunk as Buffer;
        hash.update(buffer);
        size += buffer.length;
        for (let offset = 0; offset < buffer.length; ) {
          offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
        }
      }
      if (this.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    return { size, sha256: hash.digest('hex') };
  }

  async commit(crash: RawCrash): Promise<void> {
    if (this.finished) throw new Error('raw crash already committed or aborted');
    // Written in place: the incoming directory is invisible until the rename below, which
    // is what makes the crash appear whole.
    const handle = await open(join(this.incoming, 'raw_crash.json'), 'wx');
    try {
      await handle.writeFile(JSON.stringify(crash));
      if (this.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (this.durable) await Promise.all([fsyncDirectory(join(this.incoming, 'dumps')), fsyncDirectory(this.incoming)]);
    const day = join(this.destination, '..');
    await this.store.ensureDay(day);
    try {
      await rename(this.incoming, this.destination);
    } catch (error) {
      // The day directory went away since it was created (retention cleaning up): again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.store.forgetDay(day);
      await this.store.ensureDay(day);
      await rename(this.incoming, this.destination);
    }
    if (this.durable) await this.store.flushDirectory(day);
    this.finished = true;
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await rm(this.incoming, { recursive: true, force: true });
  }
}

/** Dump names are sanitised by the collector; this is the store's own last line of defence. */
function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name) && !name.includes('..');
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
