/**
 * From the claims a provider vouches for to the login the account store performs: who
 * (`ISSUER SUBJECT`), the name a new account gets, and, when `auth.oidc_group_map` is set,
 * the Mayday groups the person's provider groups map to. Pure.
 */

import type { OidcLogin } from '../ports/account-store.js';
import { USER_NAME_PATTERN } from './auth-schema.js';

export interface ClaimMapping {
  /** `auth.oidc_username_claim`; the subject when the claim is absent or no valid user name. */
  readonly usernameClaim: string;
  /** `auth.oidc_groups_claim`: a claim name or a dotted path into nested claims. */
  readonly groupsClaim: string;
  /** Claim value -> Mayday groups (`auth.oidc_group_map`); empty: groups are not managed by the provider. */
  readonly groupMap: ReadonlyMap<string, readonly string[]>;
  readonly createUsers: boolean;
}

/** The value at a claim name, or along a dotted path when no claim has the whole name. */
export function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A groups claim as strings: a list (non-strings dropped), or one string. */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The login the claims ask for. `iss` and `sub` have been checked by the client library. */
export function loginFromClaims(claims: Readonly<Record<string, unknown>>, mapping: ClaimMapping): OidcLogin {
  const issuer = String(claims.iss);
  const sub = String(claims.sub);
  const named = claimAt(claims, mapping.usernameClaim);
  const username = typeof named === 'string' && USER_NAME_PATTERN.test(named) ? named : sub;
  const groups = mapping.groupMap.size === 0 ? undefined : [...new Set(claimValues(claimAt(claims, mapping.groupsClaim)).flatMap((v) => mapping.groupMap.get(v) ?? []))].sort();
  return { subject: `${issuer} ${sub}`, username, groups, createUnknown: mapping.createUsers };
}
