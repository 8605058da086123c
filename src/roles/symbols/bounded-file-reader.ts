/**
 * The file reader yauzl reads an uploaded zip through, bounded by the file's size.
 *
 * yauzl's own file reader (fd-slicer) passes every offset the zip declares straight to
 * `fs.read`. A zip64 record can declare an offset above 2^53, where `fs.read` throws a
 * `RangeError` synchronously inside an I/O callback: an uncaught exception that ends the
 * node, while the upload waits for ever (fuzz finding 10 in docs/security.md). This reader
 * refuses any range that is not inside the file with an ordinary error, so yauzl reports
 * the zip as bad and the upload gets a 400.
 */

import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

const CHUNK_BYTES = 64 * 1024;

export class BoundedFileReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly fd: number,
    /** The file's size when it was opened: the upload is complete and never grows. */
    readonly size: number,
  ) {
    super();
  }

  /** Why a read of `[start, end)` cannot be done, or undefined when it can. */
  private outOfBounds(start: number, end: number): Error | undefined {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      return new Error(`the zip points at bytes ${start} to ${end}, outside the ${this.size}-byte file`);
    }
    return undefined;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const problem = this.outOfBounds(start, end);
    if (problem) {
      return new Readable({
        read() {
          this.destroy(problem);
        },
      });
    }
    // Not fs.createReadStream: destroying one closes its descriptor whatever autoClose
    // says, and every entry's stream shares the one descriptor that close() releases.
    const fd = this.fd;
    let position = start;
    return new Readable({
      highWaterMark: CHUNK_BYTES,
      read() {
        const length = Math.min(CHUNK_BYTES, end - position);
        if (length === 0) {
          this.push(null);
          return;
        }
        const chunk = Buffer.allocUnsafe(length);
        read(fd, chunk, 0, length, position, (error, bytesRead) => {
          if (error) this.destroy(error);
          else if (bytesRead === 0) this.destroy(new Error(`the zip file ended early at offset ${position}`));
          else {
            position += bytesRead;
            this.push(chunk.subarray(0, bytesRead));
          }
        });
      },
    });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const problem = this.outOfBounds(position, position + length);
    if (problem) {
      setImmediate(callback, problem);
      return;
    }
    read(this.fd, buffer, offset, length, position, (error, bytesRead) => {
      if (error) callback(error);
      else if (bytesRead < length) callback(new Error(`the zip file ended ${length - bytesRead} bytes early at offset ${position}`));
      else callback(null);
    });
  }

  override close(callback: (err: Error | null) => void): void {
    close(this.fd, (error) => callback(error ?? null));
  }
}
