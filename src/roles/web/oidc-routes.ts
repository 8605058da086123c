/**
 * Single sign-on through an OpenID Connect provider (`[auth] oidc_*` options,
 * docs/authentication.md): `GET /login/oidc` sends the browser to the provider (code flow
 * with PKCE; state, nonce and verifier sealed in a short-lived cookie, `oidc-state.ts`), and
 * `GET /login/oidc/callback` takes it back: the code is exchanged and the ID token checked
 * (`oidc-client.ts`), the claims name a Mayday user (`oidc-claims.ts`), created or updated
 * with their groups by the account store, and the login ends as a local one does: the same
 * session cookie, with its own CSRF token.
 *
 * Every failure is a page saying what happened and offering the way back (the local
 * login still works); details go to the log, never a stack trace to the browser.
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import type { AccountStore, OidcLoginResult } from '../../ports/account-store.js';
import { SESSION_COOKIE, parseCookies, serializeCookie } from '../../auth/cookies.js';
import { loginFromClaims, type ClaimMapping } from '../../auth/oidc-claims.js';
import { OidcRejectedError, OidcUnavailableError, type OidcClient } from '../../auth/oidc-client.js';
import { OIDC_STATE_COOKIE, OIDC_STATE_LIFETIME_MS, OIDC_STATE_PATH, type OidcStateSealer } from '../../auth/oidc-state.js';
import { withAccess } from '../../auth/route-access.js';
import { safeNext } from './account-pages.js';
import { html, type Html } from './html.js';
import { page } from './layout.js';

export interface OidcRoutesOptions {
  client: Pick<OidcClient, 'start' | 'finish' | 'endSessionUrl'>;
  /** `PUBLIC_URL/`: where the provider's logout sends people back. */
  homeUrl: string;
  sealer: OidcStateSealer;
  accounts: Pick<AccountStore, 'oidcLogin' | 'createSession'>;
  mapping: ClaimMapping;
  /** `auth.oidc_button_label`, for the pages. */
  label: string;
  secureCookies: boolean;
  now?: () => number;
}

/** A failure page: what happened, and the way back to the login page. */
export function oidcProblemPage(title: string, message: Html | string, next = '/'): string {
  return page(
    title,
    html`<h1>${title}</h1><div class="card" id="oidc-problem" role="alert"><p>${message}</p>
<p><a href="/login?next=${encodeURIComponent(next)}">Back to the login page</a> (local accounts still log in there).</p></div>`,
  );
}

const REFUSALS: Record<Extract<OidcLoginResult, { ok: false }>['reason'], (name: string) => string> = {
  inactive: (name) => `The account ${name} is deactivated. An administrator can reactivate it.`,
  name_taken: (name) => `A local account named ${name} already exists, so single sign-on cannot take it over. An administrator can rename one of them, or link the account by removing its password.`,
  not_provisioned: (name) => `There is no account for ${name}, and this node does not create accounts at the first login. Ask an administrator for one.`,
  invalid_name: (name) => `The provider names you "${name}", which cannot be a Mayday user name (letters, digits, "_.@+-").`,
};

export const oidcRoutesPlugin: FastifyPluginAsync<OidcRoutesOptions> = async (app, options) => {
  const { client, sealer, accounts, mapping } = options;
  const now = options.now ?? Date.now;
  const secure = (request: FastifyRequest): boolean => options.secureCookies || request.protocol === 'https';
  const stateCookie = (request: FastifyRequest, value: string, maxAgeSeconds: number): string =>
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    serializeCookie(OIDC_STATE_COOKIE, value, { secure: secure(request), path: OIDC_STATE_PATH, sameSite: 'Lax', maxAge: maxAgeSeconds });
  const problem = (request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string, next = '/'): FastifyReply =>
    reply.code(status).header('cache-control', 'no-store').header('set-cookie', stateCookie(request, '', 0)).type('text/html; charset=utf-8').send(oidcProblemPage(title, message, next));

  app.get<{ Querystring: { next?: string } }>('/login/oidc', withAccess('public'), async (request, reply) => {
    const next = safeNext(request.query.next);
    let started;
    try {
      started = await client.start();
    } catch (error) {
      if (!(error instanceof OidcUnavailableError)) throw error;
      request.log.warn({ err: { message: error.message } }, 'single sign-on unavailable');
      return problem(request, reply, 503, 'Single sign-on unavailable', `${options.label} cannot be reached right now. Please try again in a moment.`, next);
    }
    const sealed = sealer.seal({ ...started.pending, next, expiresAt: now() + OIDC_STATE_LIFETIME_MS });
    return reply.header('cache-control', 'no-store').header('set-cookie', stateCookie(request, sealed, OIDC_STATE_LIFETIME_MS / 1000)).redirect(started.url.href, 303);
  });

  // After logout (`auth.oidc_logout_at_provider`): a link, not a redirect, to the provider's
  // logout, because the page's CSP (form-action 'self') stops a form's redirect off-site.
  app.get('/logout/oidc', withAccess('public'), async (_request, reply) => {
    const url = await client.endSessionUrl(options.homeUrl);
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(
        page(
          'Logged out',
          html`<h1>Logged out</h1><div class="card"><p>You have logged out of Mayday.</p>
${url ? html`<p><a href="${url.href}" id="provider-logout">Also sign out of ${options.label}</a> (other sites that use it will ask you to sign in again).</p>` : html`<p class="muted">${options.label} may still remember you: signing in again may not ask for your password.</p>`}
<p><a href="/">Home</a></p></div>`,
        ),
      );
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/login/oidc/callback', withAccess('public'), async (request, reply) => {
    const pending = sealer.open(parseCookies(request.headers.cookie).get(OIDC_STATE_COOKIE), now());
    if (!pending) {
      request.log.info('single sign-on callback without a valid login state');
      return problem(request, reply, 400, 'Sign-in expired', 'This sign-in was not started in this browser, or took too long. Please sign in again.');
    }
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    let claims: Record<string, unknown>;
    try {
      claims = await client.finish(query, pending);
    } catch (error) {
      if (error instanceof OidcUnavailableError) {
        request.log.warn({ err: { message: error.message } }, 'single sign-on: the provider could not be reached');
        return problem(request, reply, 502, 'Single sign-on unavailable', `${options.label} could not be reached to finish the sign-in. Please try again in a moment.`, pending.next);
      }
      if (error instanceof OidcRejectedError) {
        request.log.info({ err: { message: error.message } }, 'single sign-on refused');
        const message =
          error.providerError === 'access_denied'
            ? `${options.label} did not sign you in (access was denied or the sign-in was cancelled).`
            : error.providerError
              ? `${options.label} refused the sign-in (${error.providerError}).`
              : `The answer from ${options.label} could not be verified, so you are not signed in. Please try again.`;
        return problem(request, reply, 403, 'Not signed in', message, pending.next);
      }
      throw error;
    }
    const login = loginFromClaims(claims, mapping);
    const result = await accounts.oidcLogin(login);
    if (!result.ok) {
      request.log.info({ subject: login.subject, user: result.username, reason: result.reason }, 'single sign-on login refused');
      return problem(request, reply, 403, 'Not signed in', REFUSALS[result.reason](result.username), pending.next);
    }
    if (result.unknownGroups.length > 0) request.log.warn({ user: result.username, groups: result.unknownGroups }, 'auth.oidc_group_map names groups that do not exist: left out');
    const { sessionId, expiresAt } = await accounts.createSession(result.userId);
    request.log.info({ user: result.username, subject: login.subject, created: result.created, groups: login.groups }, 'logged in through single sign-on');
    return reply
      .header('cache-control', 'no-store')
      .header('set-cookie', [serializeCookie(SESSION_COOKIE, sessionId, { secure: secure(request), maxAge: (expiresAt - Date.now()) / 1000 }), stateCookie(request, '', 0)])
      .redirect(pending.next, 303);
  });
};
