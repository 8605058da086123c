/**
 * Who may call a route, declared where the route is declared and enforced by the same
 * declaration: `app.get(url, withAccess('public'), handler)`,
 * `app.post(url, withAccess({ permission: 'reprocess' }, { bodyLimit }), handler)`.
 *
 * - `public`: anyone; the answer may still depend on the caller's permissions (protected
 *   fields are redacted for anonymous viewers by the route itself).
 * - `session`: a signed-in person (web session); anonymous callers are sent to the login
 *   page before the body is read.
 * - `{ permission }`: a token or session holding that permission. Anonymous callers get
 *   401 and callers that cannot hold it 403 before the body is read; a session whose CSRF
 *   token travels in a form body is decided after parsing (`requirePermission`).
 *
 * `routeAccessPlugin` refuses to start a node with a route that declares nothing, so a
 * new route cannot be exposed by omission; the node lists every route with its access
 * and a test calls each one anonymously to check that the declaration holds.
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteShorthandOptions, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import type { Permission } from '../common/permissions.js';
import { refuseUnlessPermissionPossible, requirePermission } from './request-auth.js';

/** Whether the deployment has accounts (users or API tokens) yet. */
export type AccountsProbe = () => Promise<boolean>;

/**
 * `{ permission, onceAccountsExist }`: open to anyone while the deployment has no
 * accounts (a fresh install must be configurable before its first user exists), then as
 * `{ permission }`, except that an anonymous browser is sent to the login page.
 */
export type RouteAccess = 'public' | 'session' | { readonly permission: Permission; readonly onceAccountsExist?: AccountsProbe };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (see `withAccess`). */
    access?: RouteAccess;
  }
}

/** How an access declaration reads in listings and errors: `public`, `session`, `permission:reprocess`. */
export function describeAccess(access: RouteAccess | undefined): string {
  if (access === undefined) return 'undeclared';
  return typeof access === 'string' ? access : `permission:${access.permission}`;
}

type Hooks<H> = H | H[] | undefined;
function asArray<H>(hooks: Hooks<H>): H[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** Sends anonymous callers of a `session` route to the login page, unread. */
function sessionRequired(loginUrl: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    request.session ? undefined : reply.header('connection', 'close').redirect(loginUrl, 303);
}

/**
 * Route options declaring `access`, with the hooks that enforce it placed before the
 * route's own. `loginUrl` is where anonymous callers of a `session` route are sent.
 */
export function withAccess<O extends RouteShorthandOptions>(access: RouteAccess, options?: O, loginUrl = '/login'): O {
  const given = (options ?? {}) as O;
  const config = { ...(given.config as object | undefined), access };
  if (access === 'public') return { ...given, config };
  if (access === 'session') {
    return { ...given, config, onRequest: [sessionRequired(loginUrl) as onRequestHookHandler, ...asArray(given.onRequest as Hooks<onRequestHookHandler>)] };
  }
  if (access.onceAccountsExist) {
    const probe = access.onceAccountsExist;
    // Only for routes without a body (pages): the permission is decided in preHandler.
    const require = requirePermission(access.permission);
    const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      if (!(await probe())) return undefined;
      if (request.permissions === undefined && request.session === undefined && request.method === 'GET' && /text\/html/.test(request.headers.accept ?? '')) {
        return reply.header('connection', 'close').redirect(`${loginUrl}?next=${encodeURIComponent(request.url)}`, 303);
      }
      return require(request, reply);
    };
    return { ...given, config, preHandler: [guard as preHandlerHookHandler, ...asArray(given.preHandler as Hooks<preHandlerHookHandler>)] };
  }
  return {
    ...given,
    config,
    onRequest: [refuseUnlessPermissionPossible(access.permission) as onRequestHookHandler, ...asArray(given.onRequest as Hooks<onRequestHookHandler>)],
    preHandler: [requirePermission(access.permission) as preHandlerHookHandler, ...asArray(given.preHandler as Hooks<preHandlerHookHandler>)],
  };
}

export class UndeclaredRouteAccessError extends Error {}

/**
 * Refuses, when it is added, any route that does not declare who may call it. Fastify's
 * automatic HEAD twin of a GET route carries the GET route's config, so it passes too.
 */
const plugin: FastifyPluginAsync = async (app) => {
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) {
      throw new UndeclaredRouteAccessError(`route ${[route.method].flat().join(',')} ${route.url} does not declare who may call it: use withAccess(...) in its options`);
    }
  });
};
// Not encapsulated: the hook must see the routes of every plugin.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const routeAccessPlugin = plugin;
