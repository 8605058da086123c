/**
 * Request authentication: resolves the API token a request presents into
 * `request.permissions` once, before any route runs; roles then only ask
 * `hasPermission` (or use `requirePermission` as a preHandler).
 *
 * The token comes in the `Auth-Token` header (Socorro's and Tecken's header). Routes
 * whose clients cannot send headers (Breakpad's `sym_upload`) opt in to a `?token=`
 * query parameter with `config: { allowQueryToken: true }`. Tokens in URLs end up in
 * logs, so a `token` query parameter is blanked out of the URL before anything can log
 * it: the server passes `redactTokenRewriteUrl` as Fastify's `rewriteUrl`, which runs
 * before routing and before Fastify's own request log, keeps the token aside for this
 * hook, and hands Fastify the URL with `token=REDACTED`. Without it (an app that does not
 * set `rewriteUrl`), the hook still reads and blanks the parameter, but a request log
 * written before the hooks run would have seen it.
 *
 * A request without a token is anonymous. One presenting a token that is unknown,
 * expired or revoked is refused with 401 rather than treated as anonymous: its client
 * certainly meant to be someone, and silently downgrading hides the mistake.
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';

import type { Permission } from '../common/permissions.js';
import { hasPermission } from '../common/permissions.js';
import type { Principal, TokenVerifier } from './token-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Accept the API token in a `?token=` query parameter on this route. */
    allowQueryToken?: boolean;
  }
  interface FastifyRequest {
    /** Set by the auth layer for an authenticated request. */
    principal?: Principal;
  }
}

export interface RequestAuthOptions {
  tokens: TokenVerifier;
}

export const AUTH_HEADER = 'auth-token';
const REDACTED = 'REDACTED';

/** Replaces the value of every `token` query parameter in a URL path+query with REDACTED. */
export function redactTokenInUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => (/^token(=|$)/i.test(pair) ? `token=${REDACTED}` : pair))
    .join('&');
  return `${url.slice(0, question)}?${query}`;
}

/** Tokens taken out of URLs by `redactTokenRewriteUrl`, until the hook reads them. */
const tokensFromUrls = new WeakMap<IncomingMessage, string>();

/**
 * For Fastify's `rewriteUrl` option: returns the URL with any `token` parameter blanked,
 * remembering the token for the auth hook. Fastify saves the original URL as
 * `req.originalUrl` just before calling this, so that is blanked too.
 */
export function redactTokenRewriteUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!/[?&]token(=|&|$)/i.test(url)) return url;
  const token = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('token');
  if (token !== null) tokensFromUrls.set(req, token);
  const redacted = redactTokenInUrl(url);
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = redacted;
  return redacted;
}

function queryToken(request: FastifyRequest): string | undefined {
  const stashed = tokensFromUrls.get(request.raw);
  if (stashed !== undefined) {
    tokensFromUrls.delete(request.raw);
    if ((request.query as Record<string, unknown> | undefined)?.token !== undefined) delete (request.query as Record<string, unknown>).token;
    return stashed;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const value = query?.token;
  if (query && 'token' in query) delete query.token;
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

const plugin: FastifyPluginAsync<RequestAuthOptions> = async (app, options) => {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const fromQuery = queryToken(request);
    if (request.raw.url !== undefined && /[?&]token(=|&|$)/i.test(request.raw.url)) request.raw.url = redactTokenInUrl(request.raw.url);

    const header = request.headers[AUTH_HEADER];
    let token = typeof header === 'string' ? header.trim() : undefined;
    if (token === undefined && fromQuery !== undefined && request.routeOptions.config?.allowQueryToken === true) token = fromQuery;
    if (token === undefined || token === '') return;

    const principal = await options.tokens.verify(token);
    if (!principal) {
      // The body (maybe a large upload) will not be read: do not keep the connection for it.
      return reply.code(401).header('connection', 'close').send({ error: 'invalid, expired or revoked API token' });
    }
    request.principal = principal;
    request.permissions = principal.permissions;
  });
};
// Not encapsulated: the hook must see every route of the app, whichever plugin adds it
// (what the `fastify-plugin` package does, without the dependency).
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const requestAuthPlugin = plugin;

/** A preHandler refusing requests without `permission`: 401 when anonymous, 403 otherwise. */
export function requirePermission(permission: Permission) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (hasPermission(request, permission)) return undefined;
    if (request.permissions === undefined) {
      return reply.code(401).header('connection', 'close').header('www-authenticate', 'Auth-Token').send({ error: `an API token with the ${permission} permission is needed (Auth-Token header)` });
    }
    return reply.code(403).header('connection', 'close').send({ error: `this API token lacks the ${permission} permission` });
  };
}
