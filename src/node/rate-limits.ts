/**
 * Per-client rate limits on the API and on the Crash Stats pages that query the crash
 * index: one client may make `requestsPerMinute` such requests in a minute (all these
 * routes together); past that it gets 429 with `Retry-After` until its minute is over.
 *
 * A client is, in this order: the API token it authenticated with (by token id, so the
 * token itself is never kept), the signed-in user of its session (a fresh login does not
 * start a fresh minute), or its address as Fastify tells it (behind a proxy listed in
 * `web.trusted_proxies`, the client its X-Forwarded-For names; IPv6 by /64, as one host
 * usually holds the whole prefix). Only credentials the auth layer verified count: a
 * made-up token is refused with 401 before this runs, and a made-up session cookie is
 * anonymous, so rotating fake credentials does not dodge the limit.
 *
 * Not limited: `/submit` (crash reporters retry, and the collector has its own throttle),
 * the health endpoints and `/metrics` (load balancers and monitoring poll them), the
 * account pages (the login throttle guards them) and symbol uploads (CI jobs upload
 * thousands of files, each authenticated).
 *
 * The limit runs in `onRequest`, after the auth hook (route hooks follow the app's), before
 * the route's own hooks and before any body is read, so a refused request costs no parsing.
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type {} from '../auth/request-auth.js';

export interface RateLimitsOptions {
  /** Requests per minute per client over all limited routes; 0 turns the limit off. */
  requestsPerMinute: number;
}

const WINDOW_MS = 60_000;
/** Clients remembered at once (least recently seen forgotten first): bounds the memory an address sweep can take. */
const CLIENTS_REMEMBERED = 10_000;

/** The Crash Stats pages that run crash index queries (exact route patterns). */
const LIMITED_PAGES = new Set(['/', '/topcrashers/', '/signature/', '/search/', '/report/index/:id', '/missing-symbols/']);

/** Whether requests to this route pattern count against the client's limit. */
export function isRateLimitedRoute(url: string): boolean {
  return url.startsWith('/api/') || LIMITED_PAGES.has(url);
}

/** Who is asking, as the limit counts clients. */
export function clientKey(request: FastifyRequest): string {
  if (request.principal) return `token:${request.principal.tokenId}`;
  if (request.session) return `user:${request.session.userId}`;
  return `address:${fastifyRateLimit.normalizeIP(request.ip)}`;
}

const plugin: FastifyPluginAsync<RateLimitsOptions> = async (app, { requestsPerMinute }) => {
  if (requestsPerMinute <= 0) return;
  // Not `global`: the plugin then adds its check to each route we name below, all sharing
  // one count per client (per-route `config.rateLimit` would give each route its own).
  await app.register(fastifyRateLimit, { global: false, max: requestsPerMinute, timeWindow: WINDOW_MS, cache: CLIENTS_REMEMBERED, keyGenerator: clientKey });
  const check = app.createRateLimit();
  const refusalsLogged = new RefusalLog();

  async function limit(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const result = await check(request);
    if (result.isAllowed) return undefined;
    reply.header('x-ratelimit-limit', result.max).header('x-ratelimit-remaining', result.remaining);
    if (!result.isExceeded) return undefined;
    const retryAfter = Math.max(1, result.ttlInSeconds);
    if (refusalsLogged.first(result.key, result.ttl)) request.log.warn({ client: result.key, limit: result.max, retryAfter }, 'client over its rate limit');
    return reply
      .code(429)
      .header('retry-after', retryAfter)
      .send({ error: `rate limit exceeded: at most ${result.max} requests a minute per client; retry in ${retryAfter} s` });
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!isRateLimitedRoute(route.url)) return;
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    // First of the route's own hooks (a permission check there is work too). Fastify derives
    // a HEAD route from each GET route's options: count it once.
    if (!hooks.includes(limit)) route.onRequest = [limit, ...hooks];
  });
};
// Not encapsulated: the `onRoute` hook must see the routes every role plugin adds.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const rateLimitsPlugin = plugin;

/**
 * Remembers which clients were told "over the limit" in their current window, so the log
 * gets one line per client per minute rather than one per refused request (a flood of
 * refusals must not become a flood of log lines).
 */
class RefusalLog {
  private readonly until = new Map<string, number>();

  first(key: string, ttlMs: number): boolean {
    const now = Date.now();
    const seen = this.until.get(key);
    if (seen !== undefined && seen > now) return false;
    if (this.until.size >= CLIENTS_REMEMBERED) {
      for (const [k, end] of this.until) if (end <= now) this.until.delete(k);
      // All still current: forget the oldest rather than grow without bound.
      if (this.until.size >= CLIENTS_REMEMBERED) this.until.delete(this.until.keys().next().value!);
    }
    this.until.set(key, now + ttlMs);
    return true;
  }
}
