import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { SubmissionRefused, malformed, tooLarge } from './refusal.js';

/**
 * The request body as a stream of chunks, guarded: a byte limit on what is sent, gzip
 * decompression with the same limit on what comes out (a gzip bomb stops at the limit,
 * not at the end of memory), and an idle timeout (a client that stops sending is answered
 * 408, not left holding a connection and a partial crash).
 */

/** Counts bytes through, failing once more than `limit` have passed. */
export async function* limitBytes(source: AsyncIterable<Buffer>, limit: number, refusal: () => SubmissionRefused, onChunk?: (n: number) => void): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    onChunk?.(chunk.length);
    if (seen > limit) throw refusal();
    yield chunk;
  }
}

export async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const input = Readable.from(source, { objectMode: false });
  const inflater = createGunzip();
  let sourceError: unknown;
  input.on('error', (error) => {
    sourceError = error;
    inflater.destroy(error);
  });
  input.pipe(inflater);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (error) {
    if (sourceError !== undefined) throw sourceError;
    throw malformed('bad_gzip', `the gzip body is corrupt: ${(error as Error).message}`);
  } finally {
    input.destroy();
    inflater.destroy();
  }
}

/**
 * Fails with 408 when `source` yields nothing for `idleMs`. The stream is not destroyed
 * (that would close the socket before the 408 is written); the caller answers with
 * `Connection: close`, and the read still pending then ends with the connection.
 */
export async function* idleTimeout(source: Readable, idleMs: number): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const next = chunks.next();
    const silence = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), idleMs);
    });
    let result: IteratorResult<Buffer> | 'timeout';
    try {
      result = await Promise.race([next, silence]);
    } catch (error) {
      throw new SubmissionRefused(400, 'incomplete', `the client stopped sending mid-body (${(error as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'timeout') {
      next.catch(() => undefined);
      throw new SubmissionRefused(408, 'timeout', `no data from the client for ${idleMs} ms`);
    }
    if (result.done) return;
    yield result.value;
  }
}

/** What Content-Length and Content-Encoding say, checked before anything is read. */
export function checkFraming(headers: { 'content-length'?: string; 'content-encoding'?: string; 'transfer-encoding'?: string }, maxRequestSize: number): { compressed: boolean; declaredLength?: number } {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  const compressed = encoding === 'gzip' || encoding === 'x-gzip';
  if (encoding !== '' && encoding !== 'identity' && !compressed) throw malformed('bad_encoding', `unsupported Content-Encoding ${encoding}`);
  const raw = headers['content-length'];
  if (raw === undefined) {
    if (headers['transfer-encoding'] === undefined) throw malformed('empty_body', 'the request has no body');
    return { compressed };
  }
  if (!/^\d+$/.test(raw.trim())) throw malformed('bad_content_length', `Content-Length is not a number: ${raw}`);
  const declaredLength = Number(raw);
  if (declaredLength === 0) throw malformed('empty_body', 'the request body is empty');
  if (declaredLength > maxRequestSize) throw tooLarge('too_large', `the body (${declaredLength} bytes) exceeds the limit of ${maxRequestSize} bytes`);
  return { compressed, declaredLength };
}
