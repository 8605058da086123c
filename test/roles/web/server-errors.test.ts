/**
 * Every 5xx answer is logged once (issue 10, finding 14): the node turns Fastify's request
 * logging off, which also silenced Fastify's log of failed requests. `serverErrorsPlugin`
 * (src/node/server-errors.ts) logs method, redacted URL, status and cause, whichever
 * plugin's route failed and however it failed.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailable } from '../../../src/adapters/rabbitmq-queue.js';
import { dependencyOutage, OUTAGE_RETRY_AFTER_SECONDS, serverErrorsPlugin } from '../../../src/node/server-errors.js';

interface LogLine {
  level: number;
  msg: string;
  method?: string;
  url?: string;
  status?: number;
  err?: { message: string; type: string };
}

const lines: LogLine[] = [];
let app: FastifyInstance;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  app = Fastify({ logger: { level: 'info', stream: sink }, disableRequestLogging: true });
  await app.register(serverErrorsPlugin);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/throws', async () => {
    throw new Error('the disk is on fire');
  });
  app.get('/answers-503', async (_request, reply) => reply.code(503).send({ error: 'later' }));
  app.get('/refuses', async (_request, reply) => reply.code(400).send({ error: 'bad' }));
  app.get('/client-error', async () => {
    throw Object.assign(new Error('not for you'), { statusCode: 404 });
  });
  // A role's plugin: its own encapsulated context, with its own error handler.
  await app.register(async (role) => {
    role.setErrorHandler(async (error, _request, reply) => reply.code(502).send({ error: (error as Error).message }));
    role.get('/role/fails', async () => {
      throw new TypeError('value.trim is not a function');
    });
  });
});
afterAll(() => app.close());

const serverErrors = (): LogLine[] => lines.filter((l) => l.msg.startsWith('server error'));

describe('serverErrorsPlugin', () => {
  it('logs each 5xx answer once, with method, redacted URL, status and cause', async () => {
    lines.length = 0;
    expect((await app.inject('/throws?token=s3cret&x=1')).statusCode).toBe(500);
    expect((await app.inject({ method: 'GET', url: '/answers-503' })).statusCode).toBe(503);
    expect((await app.inject('/role/fails')).statusCode).toBe(502);
    const logged = serverErrors();
    expect(logged.map((l) => [l.method, l.url, l.status])).toEqual([
      ['GET', '/throws?token=REDACTED&x=1', 500],
      ['GET', '/answers-503', 503],
      ['GET', '/role/fails', 502],
    ]);
    expect(logged.every((l) => l.level === 50)).toBe(true);
    expect(logged[0]!.err?.message).toBe('the disk is on fire');
    expect(logged[0]!.msg).toContain('the disk is on fire');
    expect(logged[1]!.err).toBeUndefined();
    expect(logged[2]!.err).toMatchObject({ type: 'TypeError', message: 'value.trim is not a function' });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
  });

  it('leaves successful answers and client errors alone', async () => {
    lines.length = 0;
    for (const url of ['/ok', '/refuses', '/client-error', '/nowhere']) expect((await app.inject(url)).statusCode).toBeLessThan(500);
    expect(serverErrors()).toEqual([]);
  });

  it('cuts very long URLs', async () => {
    lines.length = 0;
    await app.inject(`/throws?q=${'x'.repeat(10_000)}`);
    const [line] = serverErrors();
    expect(line!.url!.length).toBeLessThan(2100);
  });
});

/**
 * A service the node depends on being down is a 503 with Retry-After, saying which (found
 * by the distributed fault tests: with PostgreSQL or the S3 server stopped, every page and
 * API call of the web node answered 500 with the driver's message).
 */
describe('answers for an unavailable service', () => {
  let outages: FastifyInstance;
  const refused = (extra: object = {}): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect', ...extra });

  beforeAll(async () => {
    outages = Fastify({ logger: false });
    await outages.register(serverErrorsPlugin);
    outages.get('/api/pg-refused', async () => {
      throw refused();
    });
    outages.get('/api/pg-shutdown', async () => {
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
    });
    outages.get('/api/pg-terminated', async () => {
      throw new Error('Connection terminated unexpectedly');
    });
    outages.get('/api/s3-refused', async () => {
      // The SDK's network errors carry $metadata: the storage's, not the database's.
      throw refused({ $metadata: { attempts: 5, totalRetryDelay: 500 } });
    });
    outages.get('/api/wrapped', async () => {
      throw new Error('dump upload_file_minidump could not be read', { cause: refused({ $metadata: { attempts: 5 } }) });
    });
    outages.get('/api/broker', async () => {
      throw new BrokerUnavailable('RabbitMQ is not connected (publishing)');
    });
    outages.get('/api/bad-sql', async () => {
      throw Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601', severity: 'ERROR' });
    });
    outages.get('/page', async () => {
      throw refused();
    });
    // A role's error handler that passes on what it does not know (as the web role's does).
    await outages.register(async (role) => {
      role.setErrorHandler(async (error) => {
        throw error;
      });
      role.get('/role/page', async () => {
        throw refused();
      });
    });
  });
  afterAll(() => outages.close());

  it('answers 503 with Retry-After naming the database, the storage or the queue', async () => {
    for (const [url, what] of [
      ['/api/pg-refused', 'database'],
      ['/api/pg-shutdown', 'database'],
      ['/api/pg-terminated', 'database'],
      ['/api/s3-refused', 'storage'],
      ['/api/wrapped', 'storage'],
      ['/api/broker', 'queue'],
    ] as const) {
      const response = await outages.inject(url);
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['retry-after'], url).toBe(String(OUTAGE_RETRY_AFTER_SECONDS));
      expect(response.json(), url).toMatchObject({ unavailable: what, error: expect.stringMatching(/ is unavailable; try again in a few seconds$/) });
    }
  });

  it('answers pages in HTML, also through a role error handler that passes the error on', async () => {
    for (const url of ['/page', '/role/page']) {
      const response = await outages.inject({ url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('the database is unavailable');
    }
  });

  it('leaves other failures as they were: 500', async () => {
    expect((await outages.inject('/api/bad-sql')).statusCode).toBe(500);
    expect(dependencyOutage(new Error('disk full'))).toBeUndefined();
    expect(dependencyOutage(new TypeError('value.trim is not a function'))).toBeUndefined();
  });
});
