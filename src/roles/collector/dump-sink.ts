import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { DumpInfo, RawCrashWriter } from '../../ports/raw-crash-store.js';

/**
 * One dump part on its way into the raw crash writer. Chunks are handed over as the
 * multipart reader produces them; `write` waits while the writer is behind (backpressure,
 * so a 2 MB dump is never held whole), and fails at once if the writer failed.
 */
export class DumpSink {
  private readonly stream = new PassThrough({ highWaterMark: 256 * 1024 });
  private readonly done: Promise<DumpInfo>;
  private failure: unknown;
  private head = Buffer.alloc(0);

  constructor(
    readonly name: string,
    writer: RawCrashWriter,
  ) {
    this.done = writer.addDump(name, this.stream);
    this.done.catch((error: unknown) => {
      this.failure = error ?? new Error('storing the dump failed');
      this.stream.destroy();
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.head.length < 4) this.head = Buffer.concat([this.head, chunk.subarray(0, 4 - this.head.length)]);
    if (!this.stream.write(chunk)) {
      await Promise.race([once(this.stream, 'drain'), this.done]);
      if (this.failure !== undefined) throw this.failure;
    }
  }

  /** Ends the dump; resolves when it is written (flushed, if the store is durable). */
  async end(): Promise<DumpInfo> {
    this.stream.end();
    return this.done;
  }

  /** Abandons the dump (the submission failed); resolves once the writer let go of it. */
  async cancel(): Promise<void> {
    this.stream.destroy(new Error('submission abandoned'));
    await this.done.catch(() => undefined);
  }

  /** Whether the dump starts with the minidump signature `MDMP`. */
  get isMinidump(): boolean {
    return this.head.toString('latin1') === 'MDMP';
  }
}
