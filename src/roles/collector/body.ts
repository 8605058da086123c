import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { SubmissionRefused, malformed, tooLarge } from './refusal.js';

/**
 * The request body as a stream of chunks, guarded: a byte limit on what is sent, gzip
 * decompression with the same limit on what comes out (a gzip bomb stops at the limit,
 * not at the end of memory), and a pace (a client that stops sending, sends too slowly or
 * takes too long in all is answered 408, not left holding a connection and a partial
 * crash).
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

/** How fast a body must arrive. */
export interface BodyPace {
  /** Longest silence between two chunks. */
  idleMs: number;
  /** Lowest average rate, in bytes per second, once `graceMs` have passed; 0 for none. */
  minRate?: number;
  graceMs?: number;
  /** Longest time for the whole body, from the first read; undefined for none. */
  deadlineMs?: number;
}

/**
 * Fails with 408 when `source` is silent for `idleMs` (`timeout`), averages less than
 * `minRate` bytes per second after `graceMs` (`too_slow`: a client trickling a byte now
 * and then is never silent, yet could hold its connection for days), or is still
 * sending after `deadlineMs` (`deadline`). Each wait for a chunk is raced against the
 * nearest of the three, so a client is cut off on time even while it sends nothing.
 *
 * The stream is not destroyed (that would close the socket before the 408 is written);
 * the caller answers with `Connection: close`, and the read still pending then ends with
 * the connection.
 */
export async function* guardPace(source: Readable, pace: BodyPace): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const started = performance.now();
  const minRate = pace.minRate ?? 0;
  const graceMs = pace.graceMs ?? 0;
  let received = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    // When the average rate falls below the minimum if nothing more arrives.
    const slowAt = minRate > 0 ? Math.max(graceMs, (received / minRate) * 1000) : Infinity;
    const limits: [number, () => SubmissionRefused][] = [
      [pace.idleMs, () => new SubmissionRefused(408, 'timeout', `no data from the client for ${pace.idleMs} ms`)],
      [slowAt - elapsed, () => new SubmissionRefused(408, 'too_slow', `the client sent ${received} bytes in ${Math.round(performance.now() - started)} ms, under the minimum of ${minRate} bytes per second`)],
      [(pace.deadlineMs ?? Infinity) - elapsed, () => new SubmissionRefused(408, 'deadline', `the body took longer than ${pace.deadlineMs} ms`)],
    ];
    const [waitMs, refusal] = limits.reduce((nearest, limit) => (limit[0] < nearest[0] ? limit : nearest));

    let timer: NodeJS.Timeout | undefined;
    const next = chunks.next();
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, waitMs));
    });
    let result: IteratorResult<Buffer> | 'expired';
    try {
      result = await Promise.race([next, expired]);
    } catch (error) {
      throw new SubmissionRefused(400, 'incomplete', `the client stopped sending mid-body (${(error as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'expired') {
      next.catch(() => undefined);
      throw refusal();
    }
    if (result.done) return;
    received += result.value.length;
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
