/**
 * The `[auth] oidc_*` options as the single sign-on parts a web node registers: the
 * provider client (discovered at the first login, not here: a provider that is down does
 * not stop the node), the login state sealer, and the claim mapping. Undefined when
 * `auth.oidc_issuer` is unset.
 */

import type { Config } from '../config/schema.js';
import type { AccountStore } from '../ports/account-store.js';
import { parseGroupMap } from '../config/oidc-options.js';
import type { ClaimMapping } from '../auth/oidc-claims.js';
import { OidcClient } from '../auth/oidc-client.js';
import { OidcStateSealer } from '../auth/oidc-state.js';

export interface SingleSignOn {
  readonly client: OidcClient;
  readonly sealer: OidcStateSealer;
  readonly mapping: ClaimMapping;
  readonly label: string;
  readonly logoutAtProvider: boolean;
  /** `PUBLIC_URL/` (no trailing slash doubled). */
  readonly homeUrl: string;
}

export function singleSignOnFromConfig(config: Config): SingleSignOn | undefined {
  const auth = config.auth;
  // The loader refuses an issuer without public_url and client id (config/requirements.ts).
  if (auth.oidc_issuer === undefined || auth.oidc_client_id === undefined || config.web.public_url === undefined) return undefined;
  const base = config.web.public_url.replace(/\/+$/, '');
  const mapping: ClaimMapping = {
    usernameClaim: auth.oidc_username_claim,
    groupsClaim: auth.oidc_groups_claim,
    groupMap: parseGroupMap(auth.oidc_group_map),
    createUsers: auth.oidc_create_users,
  };
  return {
    client: new OidcClient({
      issuer: auth.oidc_issuer,
      clientId: auth.oidc_client_id,
      clientSecret: auth.oidc_client_secret,
      redirectUri: `${base}/login/oidc/callback`,
      scopes: auth.oidc_scopes,
      wantedClaims: [mapping.usernameClaim, ...(mapping.groupMap.size > 0 ? [mapping.groupsClaim] : [])],
    }),
    sealer: new OidcStateSealer(auth.oidc_client_secret),
    mapping,
    label: auth.oidc_button_label,
    logoutAtProvider: auth.oidc_logout_at_provider,
    homeUrl: `${base}/`,
  };
}

/**
 * The Mayday groups `auth.oidc_group_map` names that the database does not have (groups
 * live in the database, so the loader cannot check them): said once at start-up, since
 * logins would otherwise leave them out with only a log line each. Empty when the store
 * cannot be read now (the logins report it then).
 */
export async function missingMappedGroups(mapping: ClaimMapping, accounts: Pick<AccountStore, 'listGroups'>): Promise<string[]> {
  const wanted = new Set([...mapping.groupMap.values()].flat());
  if (wanted.size === 0) return [];
  try {
    const known = new Set((await accounts.listGroups()).map((g) => g.name));
    return [...wanted].filter((g) => !known.has(g)).sort();
  } catch {
    return [];
  }
}
