/**
 * What every S3 adapter (symbols, raw and processed crashes) shares: its options, one way
 * to build a client that works with S3-compatible servers as well as AWS, and errors that
 * say what is wrong with the bucket rather than the SDK's `UnknownError`.
 */

import { DeleteObjectsCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { NETWORK_ERROR_CODES } from './network-errors.js';

export interface S3StoreOptions {
  readonly bucket: string;
  /** Prepended to every key, e.g. `symbols/`. */
  readonly prefix?: string;
  /** For S3-compatible servers (MinIO, s3rver, Ceph); AWS when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Static credentials; without them the SDK's default chain (env, profile, IAM role) is used. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted servers need. */
  readonly forcePathStyle?: boolean;
  /**
   * Per request, in ms: how long connecting may take and how long a connection may stay
   * silent. Not a bound on a whole transfer, so a big part on a slow link is not cut off.
   */
  readonly timeoutMs?: number;
}

export interface S3ClientTuning {
  /** Attempts per request, first one included (the SDK's standard retry mode, with jittered backoff). */
  readonly maxAttempts?: number;
  /** When the options give no `timeoutMs`; without either, the SDK's own (none). */
  readonly defaultTimeoutMs?: number;
}

/**
 * For the crash stores. Five attempts (four retries, the SDK's jittered exponential backoff
 * from 100 ms): enough to ride out a throttling burst or a restarting server while the
 * client is still connected, short enough that an outage fails the submission (which the
 * client retries later) within seconds. 30 s per request: connecting, and silence on a
 * connection; also `check()`'s whole deadline.
 */
export const CRASH_STORE_TUNING = { maxAttempts: 5, defaultTimeoutMs: 30_000 } as const satisfies S3ClientTuning;

export function createS3Client(options: S3StoreOptions, tuning: S3ClientTuning = {}): S3Client {
  const timeoutMs = options.timeoutMs ?? tuning.defaultTimeoutMs;
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    credentials:
      options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // Checksums only where S3 requires them: the SDK's default streams uploads as
    // `aws-chunked` with trailing checksums, which several S3-compatible servers
    // (s3rver, older MinIO and Ceph) store verbatim, framing and all.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(tuning.maxAttempts === undefined ? {} : { maxAttempts: tuning.maxAttempts, retryMode: 'standard' }),
    // `socketTimeout`, not `requestTimeout`: the SDK only logs a warning when a request
    // outlives `requestTimeout` unless told to throw, and a total-time bound would cut off
    // big uploads on slow links; an idle connection is what a dead server looks like.
    requestHandler: timeoutMs === undefined ? undefined : { connectionTimeout: timeoutMs, socketTimeout: timeoutMs },
  });
}

/**
 * Whether `error` (one error, not its causes) is the SDK saying the S3 server cannot be
 * used now: unreachable, silent, or answering 5xx or throttling after the SDK's own
 * retries. Only the SDK's errors qualify (they carry `$metadata`, network errors included),
 * so a database's refused connection is not taken for the storage's.
 */
export function isS3Unavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return false;
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    return (status !== undefined && status >= 500) || error.name === 'SlowDown' || error.name === 'ServiceUnavailable' || error.name === 'RequestTimeout';
  }
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) || name === 'TimeoutError' || name === 'RequestTimeout';
}

/** A missing key or bucket, however the server words it. */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.name === 'NoSuchBucket' || error.$metadata.httpStatusCode === 404;
}

/**
 * `HeadBucket` within `deadlineMs` in all (retries included), for `/__heartbeat__`: a
 * health check must answer, so a server that accepts connections and never replies fails
 * it instead of holding it. Rejects with what is wrong, in words.
 */
export async function checkBucket(client: S3Client, options: S3StoreOptions, deadlineMs: number): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: options.bucket }), { abortSignal: AbortSignal.timeout(deadlineMs) });
  } catch (error) {
    throw new Error(`S3 store ${storeName(options)} is unavailable: ${describeFailure(error, options, deadlineMs)}`, { cause: error });
  }
}

export function storeName(options: S3StoreOptions): string {
  return `s3://${options.bucket}/${options.prefix ?? ''}`;
}

function describeFailure(error: unknown, options: S3StoreOptions, deadlineMs: number): string {
  const where = options.endpoint ?? 'AWS';
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (status === 404 || error.name === 'NotFound' || error.name === 'NoSuchBucket') return `bucket ${options.bucket} does not exist at ${where}`;
    if (status === 403 || error.name === 'Forbidden' || error.name === 'AccessDenied') return `access to bucket ${options.bucket} is denied (check the credentials)`;
    return `${where} answered HTTP ${status ?? '?'} ${error.name}${error.message && error.message !== 'UnknownError' ? `: ${error.message}` : ''}`;
  }
  if (error instanceof Error) {
    if (error.name === 'AbortError' || error.name === 'TimeoutError') return `no answer from ${where} within ${deadlineMs} ms`;
    const code = (error as NodeJS.ErrnoException).code;
    // Node reports a refused connection to several addresses as an AggregateError with no message.
    if (code !== undefined) return `cannot connect to ${where} (${code}${error.message ? `: ${error.message}` : ''})`;
    return `${error.name}: ${error.message}`;
  }
  return String(error);
}

/**
 * Crash ids name objects: the same loose shape the filesystem stores accept (36 hex digits
 * and dashes), which is all a key needs to stay inside its prefix.
 */
export function checkedCrashId(crashId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(crashId)) throw new Error(`not a crash id: ${crashId}`);
  return crashId;
}

/** The most keys one DeleteObjects request may name. */
const DELETE_BATCH = 1000;

/**
 * Deletes keys, a thousand per request (S3's DeleteObjects); a missing key is not an
 * error. Rejects with the first key the server refused to delete.
 */
export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const answer = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    const failed = (answer.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} of ${batch.length} keys, first ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
  }
}

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
