/**
 * Mayday as an OpenID Connect relying party, through `openid-client`: discovery of the
 * provider (lazily, at the first login, and again after a failure, so that a provider
 * that is down neither stops the node from starting nor stays "down" once it is back),
 * the authorization URL (code flow, PKCE S256, state and nonce), and the code exchange
 * with the ID token's validation (signature, issuer, audience, expiry, nonce), then the
 * claims, completed from userinfo when the ID token lacks the ones Mayday reads.
 */

import * as oidc from 'openid-client';

import type { OidcPendingLogin } from './oidc-state.js';

export interface OidcClientSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** `PUBLIC_URL/login/oidc/callback`. */
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** Claims worth a userinfo request when the ID token lacks them (the name and groups claims). */
  readonly wantedClaims: readonly string[];
  /** Seconds each request to the provider may take. */
  readonly timeoutSeconds?: number;
  /** After a failed discovery, how long logins are answered "unavailable" before it is tried again. */
  readonly retryAfterMs?: number;
}

/** The provider cannot be reached or answers nonsense: the login cannot start or finish now. */
export class OidcUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcUnavailableError';
  }
}

/** The provider's answer to this login is refused (bad state, nonce, signature, or an error it reports). */
export class OidcRejectedError extends Error {
  constructor(
    message: string,
    /** The provider's own error code (`access_denied`, ...) when it sent one. */
    readonly providerError?: string,
  ) {
    super(message);
    this.name = 'OidcRejectedError';
  }
}

export interface OidcStart {
  readonly url: URL;
  readonly pending: Omit<OidcPendingLogin, 'next' | 'expiresAt'>;
}

export class OidcClient {
  private discovered?: oidc.Configuration;
  private discovering?: Promise<oidc.Configuration>;
  private failedAt = -Infinity;
  private lastFailure = '';

  constructor(
    readonly settings: OidcClientSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The provider's configuration, discovered once; failures are retried after `retryAfterMs`. */
  async configuration(): Promise<oidc.Configuration> {
    if (this.discovered) return this.discovered;
    if (this.now() - this.failedAt < (this.settings.retryAfterMs ?? 5_000)) throw new OidcUnavailableError(this.lastFailure);
    this.discovering ??= this.discover().finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    try {
      this.discovered = await oidc.discovery(new URL(issuer), clientId, clientSecret === undefined ? undefined : { client_secret: clientSecret }, clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret), {
        // An http issuer is the operator's explicit choice (a provider on the same host, a test).
        execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        timeout: this.settings.timeoutSeconds ?? 10,
      });
      return this.discovered;
    } catch (error) {
      this.failedAt = this.now();
      this.lastFailure = `the OpenID Connect provider ${issuer} could not be discovered: ${describe(error)}`;
      throw new OidcUnavailableError(this.lastFailure, { cause: error });
    }
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async start(): Promise<OidcStart> {
    const config = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, pending: { state, nonce, codeVerifier } };
  }

  /**
   * Exchanges the code of the provider's redirect (`query`: its query string) for tokens,
   * validating the state, the PKCE verifier and the ID token; returns the ID token's claims,
   * completed from userinfo for the wanted claims it lacks.
   */
  async finish(query: string, pending: OidcPendingLogin): Promise<Record<string, unknown>> {
    const config = await this.configuration();
    const currentUrl = new URL(this.settings.redirectUri);
    currentUrl.search = query;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
    } catch (error) {
      throw classify(error);
    }
    const claims: Record<string, unknown> = { ...tokens.claims() };
    const missing = this.settings.wantedClaims.some((name) => !(name in claims) && !name.includes('.'));
    if (missing && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        // The ID token's claims win: they are signed.
        for (const [name, value] of Object.entries(info)) if (!(name in claims)) claims[name] = value;
      } catch (error) {
        throw classify(error);
      }
    }
    return claims;
  }

  /** The provider's logout URL (RP-initiated logout), when it has one; undefined otherwise or when it cannot be reached. */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<URL | undefined> {
    try {
      const config = await this.configuration();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(config, { client_id: this.settings.clientId, post_logout_redirect_uri: postLogoutRedirectUri });
    } catch {
      return undefined;
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

/** A failure of the exchange: the provider's refusal or a check that failed is "rejected"; a network failure "unavailable". */
function classify(error: unknown): Error {
  if (error instanceof oidc.AuthorizationResponseError) return new OidcRejectedError(`the provider refused the login: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, error.error);
  if (error instanceof oidc.ResponseBodyError) return new OidcRejectedError(`the provider refused the code: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, error.error);
  if ((error instanceof TypeError && error.message === 'fetch failed') || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))) {
    return new OidcUnavailableError(`the OpenID Connect provider could not be reached: ${describe(error)}`, { cause: error });
  }
  return new OidcRejectedError(`the provider's answer failed a check: ${describe(error)}`);
}
