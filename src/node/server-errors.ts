import type { FastifyError, FastifyPluginAsync, FastifyRequest } from 'fastify';

import { redactTokenInUrl } from '../auth/request-auth.js';
import { isPgUnavailable } from '../adapters/pg-database.js';
import { BrokerUnavailable } from '../adapters/rabbitmq-queue.js';
import { isS3Unavailable } from '../adapters/s3-client.js';

/**
 * Answers 503 with Retry-After, and says which, when a request failed because a service
 * the node depends on is down or restarting (PostgreSQL, the S3 server, RabbitMQ): the
 * client may try again shortly, and an operator reading the answer knows where to look.
 * Fastify's default would be a 500 carrying the driver's message. Other errors keep
 * Fastify's default answer.
 *
 * Also logs every answer with a 5xx status, once, at `error` level: method, URL (tokens
 * redacted, long URLs cut), status, and the error that caused it when there was one.
 * The node turns off Fastify's request logging (one line per request is too much for a
 * collector), and with it Fastify's own log of failed requests: a server error must not
 * go unseen, whichever route or hook failed and whether it threw or answered 5xx itself.
 */

/** Longest URL logged: the rest says nothing more about the failure and could flood the log. */
const MAX_LOGGED_URL = 2000;

const causes = new WeakMap<FastifyRequest, FastifyError | Error>();

export type Dependency = 'database' | 'storage' | 'queue';

const OUTAGE_MESSAGES: Record<Dependency, string> = {
  database: 'the database is unavailable',
  storage: 'the storage is unavailable',
  queue: 'the processing queue is unavailable',
};

/** What a client told the service is unavailable waits before trying again: outages worth a 503 are restarts, seconds long. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * Which dependency's outage `error` reports (itself or a cause), or undefined for any
 * other failure. The storage and the queue are recognised by their own errors first: a
 * refused connection of the S3 SDK is the storage's, not the database's.
 */
export function dependencyOutage(error: unknown): Dependency | undefined {
  const errors = chain(error);
  for (const e of errors) {
    if (isS3Unavailable(e)) return 'storage';
    if (e instanceof BrokerUnavailable) return 'queue';
  }
  return errors.some(isPgUnavailable) ? 'database' : undefined;
}

/** The error, its causes and, for an AggregateError, its errors (bounded: a cycle must not loop). */
function chain(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const pending = [error];
  while (pending.length > 0 && seen.length < 16) {
    const e = pending.shift();
    if (e === undefined || e === null || seen.includes(e)) continue;
    seen.push(e);
    if (e instanceof AggregateError) pending.push(...(e.errors as unknown[]));
    if (e instanceof Error && e.cause !== undefined) pending.push(e.cause);
  }
  return seen;
}

/** Pages are HTML; the API, health endpoints and clients asking for JSON get JSON. */
function wantsHtml(request: FastifyRequest): boolean {
  const path = request.url;
  if (path.startsWith('/api/') || path.startsWith('/__') || path === '/metrics' || path.startsWith('/submit')) return false;
  const accept = request.headers.accept ?? '';
  return !accept.includes('application/json') || accept.includes('text/html');
}

const plugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(async (error, request, reply) => {
    const dependency = dependencyOutage(error);
    if (dependency === undefined) throw error; // Fastify's default answer
    const message = `${OUTAGE_MESSAGES[dependency]}; try again in a few seconds`;
    reply.code(503).header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS)).header('cache-control', 'no-store');
    if (!wantsHtml(request)) return reply.send({ error: message, unavailable: dependency });
    return reply
      .type('text/html; charset=utf-8')
      .send(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head><body><h1>Temporarily unavailable</h1><p>Mayday cannot answer now: ${message}.</p></body></html>\n`);
  });

  app.addHook('onError', async (request, _reply, error) => {
    causes.set(request, error);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 500) return;
    const url = redactTokenInUrl(request.url);
    const error = causes.get(request);
    request.log.error(
      { method: request.method, url: url.length > MAX_LOGGED_URL ? `${url.slice(0, MAX_LOGGED_URL)}…` : url, status: reply.statusCode, ...(error ? { err: error } : {}) },
      `server error: ${request.method} answered ${reply.statusCode}${error ? `: ${error.message.slice(0, 500)}` : ''}`,
    );
  });
};
// Not encapsulated: the hooks must see the routes of every role plugin.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const serverErrorsPlugin = plugin;
