import type { FastifyError, FastifyPluginAsync, FastifyRequest } from 'fastify';

import { redactTokenInUrl } from '../auth/request-auth.js';

/**
 * Logs every answer with a 5xx status, once, at `error` level: method, URL (tokens
 * redacted, long URLs cut), status, and the error that caused it when there was one.
 * The node turns off Fastify's request logging (one line per request is too much for a
 * collector), and with it Fastify's own log of failed requests: a server error must not
 * go unseen, whichever route or hook failed and whether it threw or answered 5xx itself.
 */

/** Longest URL logged: the rest says nothing more about the failure and could flood the log. */
const MAX_LOGGED_URL = 2000;

const causes = new WeakMap<FastifyRequest, FastifyError | Error>();

const plugin: FastifyPluginAsync = async (app) => {
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
