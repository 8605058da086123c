import type { AccountStore } from '../ports/account-store.js';
import type { TokenStore } from '../ports/token-store.js';
import type { AccountsProbe } from './route-access.js';

/**
 * Whether a deployment has accounts yet: a user, or an API token (a deployment run by
 * scripts may have tokens and no people). Once true it stays true for the process: the
 * answer only matters while a fresh install has none, and a page must not reopen because
 * the last user was removed.
 */
export function accountsExistProbe(accounts: AccountStore, tokens: TokenStore): AccountsProbe {
  let exist = false;
  return async () => {
    if (!exist) exist = (await accounts.listUsers()).length > 0 || (await tokens.list()).length > 0;
    return exist;
  };
}
