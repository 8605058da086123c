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
 * hook, and hands Fastify the URL with the value REDACTED. Names are compared once decoded,
 * as the query parser decodes them: `?tok%65n=` is a token too, and redacted. Without it (an app that does not
 * set `rewriteUrl`), the hook still reads and blanks the parameter, but a request log
 * written before the hooks run would have seen it.
 *
 * A request without a token is anonymous. One presenting a token that is unknown,
 * expired or revoked is refused with 401 rather than treated as anonymous: its client
 * certainly meant to be someone, and silently downgrading hides the mistake.
 *
 * Without a token, a web session (the `mayday_session` cookie set at login) authenticates
 * instead; an unknown or expired session is simply anonymous (sessions expire as a matter
 * of course). Browsers send cookies with requests other sites make, so a session's
 * authority is CSRF-checked on every state-changing request (POST, PUT, PATCH, DELETE):
 * the request must carry the session's CSRF token in an `X-CSRF-Token` header or a
 * `csrf_token` form field. One that does not is served as anonymous, with
 * `request.csrfRejected` set so that `requirePermission` says why it refuses (403). A
 * request with an `Auth-Token` needs no CSRF token: a cross-site page cannot set that
 * header, and the cookie is then ignored altogether.
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';

import type { Permission } from '../common/permissions.js';
import { hasPermission } from '../common/permissions.js';
import type { Principal, TokenVerifier } from '../ports/token-store.js';
import type { SessionPrincipal, SessionVerifier } from '../ports/account-store.js';
import { SESSION_COOKIE, parseCookies } from './cookies.js';
import { timingSafeEqual } from 'node:crypto';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Accept the API token in a `?token=` query parameter on this route. */
    allowQueryToken?: boolean;
  }
  interface FastifyRequest {
    /** Set by the auth layer for a request authenticated by an API token. */
    principal?: Principal;
    /** Set by the auth layer when the request carries a valid web session (even one refused by the CSRF check). */
    session?: SessionPrincipal;
    /** A state-changing request whose session was not used: its CSRF token was missing or wrong. */
    csrfRejected?: boolean;
  }
}

export interface RequestAuthOptions {
  tokens: TokenVerifier;
  /** Web sessions; without them only API tokens authenticate. */
  sessions?: SessionVerifier;
}

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = 'csrf_token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether a request's method may change state (and so needs the CSRF check). */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Constant-time equality of a presented CSRF token and the session's. */
export function sameCsrfToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value[0] : undefined;
}

export const AUTH_HEADER = 'auth-token';
const REDACTED = 'REDACTED';

/** Where the query of a request target starts (after the first `?`, or `#`, as Fastify's router reads it); -1 without one. */
function queryStart(url: string): number {
  const question = url.indexOf('?');
  const hash = url.indexOf('#');
  const first = question < 0 ? hash : hash < 0 ? question : Math.min(question, hash);
  return first < 0 ? -1 : first + 1;
}

/** A query component decoded as Fastify's query parser does: `+` a space, escapes decoded, left as it is if they are malformed. */
function decodeQueryComponent(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Whether a raw query parameter name reads as `token`, in any case, by a strict or a lenient decoder. */
function namesToken(rawName: string): boolean {
  if (rawName.length > 3 * 'token'.length) return false;
  const lenient = [...new URLSearchParams(`${rawName}=`).keys()][0] ?? '';
  return decodeQueryComponent(rawName).toLowerCase() === 'token' || lenient.toLowerCase() === 'token';
}

/**
 * Splits the API token out of a URL path+query: the value of every parameter whose name
 * reads as `token` once decoded (`?tok%65n=`, `?TOKEN=`) is replaced by REDACTED, and the
 * value of the first one Fastify would read as `token` is returned beside the URL.
 */
export function splitTokenFromUrl(url: string): { url: string; token?: string } {
  const start = queryStart(url);
  if (start < 0) return { url };
  let token: string | undefined;
  let changed = false;
  const pairs = url
    .slice(start)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      if (!namesToken(rawName)) return pair;
      if (token === undefined && decodeQueryComponent(rawName) === 'token') token = eq < 0 ? '' : decodeQueryComponent(pair.slice(eq + 1));
      changed = true;
      // The name stays as sent: `TOKEN=REDACTED` must not become a `token` the hook would try.
      return `${rawName}=${REDACTED}`;
    });
  return changed ? { url: `${url.slice(0, start)}${pairs.join('&')}`, token } : { url };
}

/** Replaces the value of every parameter named `token` (however encoded) in a URL path+query with REDACTED. */
export function redactTokenInUrl(url: string): string {
  return splitTokenFromUrl(url).url;
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
  const split = splitTokenFromUrl(url);
  if (split.url === url) return url;
  if (split.token !== undefined) tokensFromUrls.set(req, split.token);
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = split.url;
  return split.url;
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
  app.decorateRequest('session', undefined);
  app.decorateRequest('csrfRejected', false);
  app.addHook('onRequest', async (request, reply) => {
    const fromQuery = queryToken(request);
    if (request.raw.url !== undefined) {
      const redacted = redactTokenInUrl(request.raw.url);
      if (redacted !== request.raw.url) request.raw.url = redacted;
    }

    const header = request.headers[AUTH_HEADER];
    let token = typeof header === 'string' ? header.trim() : undefined;
    if (token === undefined && fromQuery !== undefined && request.routeOptions.config?.allowQueryToken === true) token = fromQuery;
    if (token === undefined || token === '') {
      await useSession(request);
      return;
    }

    const principal = await options.tokens.verify(token);
    if (!principal) {
      // The body (maybe a large upload) will not be read: do not keep the connection for it.
      return reply.code(401).header('connection', 'close').send({ error: 'invalid, expired or revoked API token' });
    }
    request.principal = principal;
    request.permissions = principal.permissions;
  });

  /** The session's permissions apply now for safe methods, or when the CSRF header matches. */
  async function useSession(request: FastifyRequest): Promise<void> {
    const sessionId = options.sessions && parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (!sessionId) return;
    const session = await options.sessions!.verifySession(sessionId);
    if (!session) return;
    request.session = session;
    if (!isStateChanging(request.method) || sameCsrfToken(headerValue(request, CSRF_HEADER), session.csrfToken)) request.permissions = session.permissions;
  }

  // A form's CSRF token is in its body, parsed only after `onRequest`.
  app.addHook('preValidation', async (request) => {
    const session = request.session;
    if (!session || request.permissions !== undefined || request.principal !== undefined || !isStateChanging(request.method)) return;
    const body = request.body;
    const field = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
    if (sameCsrfToken(Array.isArray(field) ? field[0] : field, session.csrfToken)) request.permissions = session.permissions;
    else request.csrfRejected = true;
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
    if (request.csrfRejected) {
      return reply.code(403).header('connection', 'close').send({ error: `the CSRF token is missing or wrong: send the session's token in the ${CSRF_HEADER} header or a ${CSRF_FIELD} form field` });
    }
    if (request.permissions === undefined) {
      return reply.code(401).header('connection', 'close').header('www-authenticate', 'Auth-Token').send({ error: `an API token with the ${permission} permission is needed (Auth-Token header)` });
    }
    return reply.code(403).header('connection', 'close').send({ error: `${request.principal ? 'this API token lacks' : 'you lack'} the ${permission} permission` });
  };
}

/**
 * An `onRequest` hook for routes with a body: refuses, before a byte of the body is read,
 * a request that cannot have `permission` whatever its body says (anonymous: 401; a token
 * or a session lacking it: 403). A session holding the permission may still carry its CSRF
 * token in a form body; it passes here, and `requirePermission` decides after parsing.
 */
export function refuseUnlessPermissionPossible(permission: Permission) {
  const refuse = requirePermission(permission);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const possible = request.permissions ?? request.session?.permissions;
    if (hasPermission({ permissions: possible }, permission)) return undefined;
    if (request.session && request.permissions === undefined) return reply.code(403).header('connection', 'close').send({ error: `you lack the ${permission} permission` });
    return refuse(request, reply);
  };
}
