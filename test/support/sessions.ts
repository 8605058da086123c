import type { AccountStore } from '../../src/ports/account-store.js';
import type { Permission } from '../../src/common/permissions.js';
import { SESSION_COOKIE } from '../../src/auth/cookies.js';

/**
 * Signs in a new person with these permissions, as the login form would: a session cookie
 * and its CSRF token, for tests that post the pages' forms.
 */
export function sessionMaker(accounts: AccountStore): (permissions: Permission[]) => Promise<{ cookie: string; csrf: string }> {
  let people = 0;
  return async (permissions) => {
    const user = await accounts.createUser({ username: `person${++people}`, password: 'a long enough password', permissions });
    const { sessionId } = await accounts.createSession(user.id);
    return { cookie: `${SESSION_COOKIE}=${sessionId}`, csrf: (await accounts.verifySession(sessionId))!.csrfToken };
  };
}
