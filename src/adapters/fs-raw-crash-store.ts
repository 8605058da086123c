import { createHash } from 'node:crypto';
import { access, constants, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { partitionOfCrashId } from '../common/crash-id.js';
import type { DumpInfo, RawCrash, RawCrashStore, RawCrashWriter } from '../ports/raw-crash-store.js';
import { dayDirectories, deleteDayFiles, DirectoryFlusher, fsyncDirectory, removeOrphanedTemporaries, temporaryName } from './fs-durable.js';

/**
 * Raw crashes on the local filesystem, one file per crash: `ROOT/YYYYMMDD/<crash id>.crash`.
 *
 * A crash file holds its dumps one after the other as they were received, then a JSON
 * trailer (the raw crash and where each dump lies), then the trailer's length and a magic
 * number. One file per crash is what keeps the collector fast and safe: dumps are streamed
 * straight into it, a single fsync makes all of it durable, and a rename from
 * `ROOT/.incoming/` makes it appear whole (a reader sees all of a crash or nothing). The
 * day directory's own flush, which makes the rename durable, is shared between concurrent
 * crashes. Files of a process that died mid-request are removed on open.
 *
 * `mayday raw-crash`-style tooling is not needed to look inside: the trailer is plain JSON
 * at the end of the file (`tail -c 65536 FILE`), and the dumps are byte ranges.
 */
export const CRASH_FILE_MAGIC = Buffer.from('MAYDAYC1', 'latin1');
const FOOTER_SIZE = 8 + CRASH_FILE_MAGIC.length;

interface Trailer {
  raw_crash: RawCrash;
  dumps: Record<string, { offset: number; size: number }>;
}

export class FsRawCrashStore implements RawCrashStore {
  /** Day directories known to exist, so that each commit need not create its day. */
  private readonly knownDays = new Set<string>();
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
    const destination = this.crashFile(crashId);
    const incoming = temporaryName(join(this.root, '.incoming', crashId));
    return new FsRawCrashWriter(await open(incoming, 'wx'), incoming, destination, this.durable, this);
  }

  async get(crashId: string): Promise<RawCrash | undefined> {
    return (await this.trailer(crashId))?.trailer.raw_crash;
  }

  async getDump(crashId: string, name: string): Promise<Buffer | undefined> {
    const found = await this.trailer(crashId, async (handle, trailer) => {
      const range = Object.hasOwn(trailer.dumps, name) ? trailer.dumps[name] : undefined;
      if (!range) return undefined;
      const bytes = Buffer.alloc(range.size);
      await readFully(handle, bytes, range.offset);
      return bytes;
    });
    return found?.extra;
  }

  async *listDay(day: string): AsyncIterable<string> {
    if (!/^\d{8}$/.test(day)) return;
    let names: string[];
    try {
      names = await readdir(join(this.root, day));
    } catch {
      return;
    }
    for (const name of names.sort()) if (name.endsWith('.crash')) yield name.slice(0, -'.crash'.length);
  }

  async days(): Promise<string[]> {
    return dayDirectories(this.root);
  }

  async delete(crashIds: readonly string[]): Promise<void> {
    await deleteDayFiles(this.root, crashIds.map((id) => this.crashFile(id)));
    for (const id of crashIds) this.knownDays.delete(join(this.root, partitionOfCrashId(id)));
  }

  async check(): Promise<void> {
    await access(this.root, constants.R_OK | constants.W_OK);
    await access(join(this.root, '.incoming'), constants.R_OK | constants.W_OK);
  }

  /** Creates a day directory once per process. */
  async ensureDay(day: string): Promise<void> {
    if (this.knownDays.has(day)) return;
    await mkdir(day, { recursive: true });
    if (this.durable) await fsyncDirectory(this.root);
    this.knownDays.add(day);
  }

  forgetDay(day: string): void {
    this.knownDays.delete(day);
  }

  flushDirectory(dir: string): Promise<void> {
    return this.flusher.flush(dir);
  }

  /** Opens a crash file and reads its trailer; `then` may read more while it is open. */
  private async trailer<T>(crashId: string, then?: (handle: FileHandle, trailer: Trailer) => Promise<T>): Promise<{ trailer: Trailer; extra?: T } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.crashFile(crashId), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size < FOOTER_SIZE) throw new Error(`crash file of ${crashId} is truncated`);
      const footer = Buffer.alloc(FOOTER_SIZE);
      await readFully(handle, footer, size - FOOTER_SIZE);
      if (!footer.subarray(8).equals(CRASH_FILE_MAGIC)) throw new Error(`crash file of ${crashId} has no Mayday trailer`);
      const length = Number(footer.readBigUInt64LE(0));
      if (length > size - FOOTER_SIZE) throw new Error(`crash file of ${crashId} has a bad trailer length`);
      const text = Buffer.alloc(length);
      await readFully(handle, text, size - FOOTER_SIZE - length);
      const trailer = JSON.parse(text.toString('utf8')) as Trailer;
      return { trailer, extra: then ? await then(handle, trailer) : undefined };
    } finally {
      await handle.close();
    }
  }

  private crashFile(crashId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(crashId)) throw new Error(`not a crash id: ${crashId}`);
    return join(this.root, partitionOfCrashId(crashId), `${crashId}.crash`);
  }
}

class FsRawCrashWriter implements RawCrashWriter {
  private finished = false;
  private offset = 0;
  private readonly dumps: Trailer['dumps'] = {};
  /** Dumps are appended one at a time, in the order they were handed in. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly handle: FileHandle,
    private readonly incoming: string,
    private readonly destination: string,
    private readonly durable: boolean,
    private readonly store: FsRawCrashStore,
  ) {}

  addDump(name: string, data: Readable): Promise<DumpInfo> {
    if (!isSafeName(name)) return Promise.reject(new Error(`unsafe dump name: ${name}`));
    const written = this.tail.then(() => this.append(name, data));
    this.tail = written.catch(() => undefined);
    return written;
  }

  private async append(name: string, data: Readable): Promise<DumpInfo> {
    if (this.finished) throw new Error('raw crash already committed or aborted');
    if (Object.hasOwn(this.dumps, name)) throw new Error(`dump ${name} was already added`);
    const hash = createHash('sha256');
    const start = this.offset;
    // Awaiting each write is the backpressure on the client's upload.
    for await (const chunk of data) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      await this.write(buffer);
    }
    this.dumps[name] = { offset: start, size: this.offset - start };
    return { size: this.offset - start, sha256: hash.digest('hex') };
  }

  private async write(buffer: Buffer): Promise<void> {
    for (let done = 0; done < buffer.length; ) {
      const { bytesWritten } = await this.handle.write(buffer, done, buffer.length - done, this.offset);
      done += bytesWritten;
      this.offset += bytesWritten;
    }
  }

  async commit(crash: RawCrash): Promise<void> {
    await this.tail;
    if (this.finished) throw new Error('raw crash already committed or aborted');
    this.finished = true;
    try {
      const trailer = Buffer.from(JSON.stringify({ raw_crash: crash, dumps: this.dumps } satisfies Trailer), 'utf8');
      const footer = Buffer.alloc(FOOTER_SIZE);
      footer.writeBigUInt64LE(BigInt(trailer.length), 0);
      CRASH_FILE_MAGIC.copy(footer, 8);
      await this.write(Buffer.concat([trailer, footer]));
      if (this.durable) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
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
  }

  /** Not waiting for a dump still streaming in: a stalled client must not hold the abort. */
  async abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.incoming, { force: true });
  }
}

/** Dump names are sanitised by the collector; this is the store's own last line of defence. */
function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name) && !name.includes('..');
}

async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of crash file');
    done += bytesRead;
  }
}
