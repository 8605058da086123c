/**
 * How an outage of PostgreSQL or of the S3 server is told from other failures (found by
 * the distributed fault tests, test/e2e/faults-*.test.ts): the web node answers 503 for
 * it and the processor waits it out instead of dead-lettering crashes.
 */
import { S3Client, GetObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, isPgUnavailable } from '../../src/adapters/pg-database.js';
import { isS3Unavailable } from '../../src/adapters/s3-client.js';
import { freePort } from '../support/free-port.js';
import { startBlackhole } from './s3rver-support.js';

describe('isPgUnavailable', () => {
  it('takes connection failures, a server shutting down or starting up, and a full server for an outage', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      expect(isPgUnavailable(error), error.message).toBe(true);
    }
  });

  it('leaves a statement\'s own faults alone', () => {
    for (const error of [
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      new Error('disk full'),
      'a string',
      undefined,
    ]) {
      expect(isPgUnavailable(error)).toBe(false);
    }
  });
});

describe('a PostgreSQL pool whose server accepts connections and never answers', () => {
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>;
  beforeAll(async () => {
    blackhole = await startBlackhole();
  });
  afterAll(() => blackhole.close());

  it('fails a query within its connect timeout, as an outage, instead of hanging', async () => {
    const pool = createPgPool({ connectionString: `postgres://postgres@${new URL(blackhole.endpoint).host}/x`, connectTimeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await pool.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(isPgUnavailable(error), String(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await pool.end();
    }
  });
});

describe('isS3Unavailable', () => {
  it('takes the SDK\'s network errors and 5xx answers for an outage, and nothing without $metadata', async () => {
    const client = new S3Client({ endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const refused = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.destroy();
    expect(isS3Unavailable(refused), String(refused)).toBe(true);

    const answer = (status: number, name: string): S3ServiceException => new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
    expect(isS3Unavailable(answer(503, 'ServiceUnavailable'))).toBe(true);
    expect(isS3Unavailable(answer(500, 'InternalError'))).toBe(true);
    expect(isS3Unavailable(answer(404, 'NoSuchKey'))).toBe(false);
    expect(isS3Unavailable(answer(403, 'AccessDenied'))).toBe(false);
    // A database's refused connection is not the storage's.
    expect(isS3Unavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(false);
  });
});
