/**
 * Streams a request body to a file, counting bytes, and stops with 413 the moment the
 * count passes the limit, so an over-size upload never fills the disk (the
 * Content-Length, when sent, is checked before the first byte is read).
 */

import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { UploadRefused } from './upload-refused.js';

/** A pass-through that fails with 413 once more than `maxBytes` went through it. */
export function byteLimit(maxBytes: number, what: string): Transform & { bytes: () => number } {
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(new UploadRefused(413, `${what} is larger than the limit of ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
  return Object.assign(transform, { bytes: () => bytes });
}

/** Refuses at once a body whose declared length is over the limit. */
export function checkDeclaredLength(contentLength: string | undefined, maxBytes: number): void {
  if (contentLength === undefined) return;
  const declared = Number(contentLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new UploadRefused(413, `the upload (${declared} bytes) is larger than the limit of ${maxBytes} bytes`);
  }
}

/** Writes `body` to `file`; resolves with the byte count. */
export async function receiveToFile(body: Readable, file: string, maxBytes: number): Promise<number> {
  const limit = byteLimit(maxBytes, 'the upload');
  await pipeline(body, limit, createWriteStream(file, { flags: 'wx' }));
  return limit.bytes();
}
