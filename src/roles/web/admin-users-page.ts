/**
 * `/admin/users`: users and groups managed from the browser, by people with `admin`
 * (the page is `pages/admin-users.ts`). The same account store as `mayday users`, so the
 * two see and change the same accounts. Every change is a POST form carrying the
 * session's CSRF token (checked by `request-auth.ts`), answered with the page and what
 * happened; refusals of the store (an unknown group, a weak password, a taken name) are a
 * 400 with its message. An admin cannot deactivate themselves (the last admin locking
 * everyone out with one click).
 */

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { PERMISSIONS, type Permission } from '../../common/permissions.js';
import { AccountError, type AccountStore } from '../../ports/account-store.js';
import { withAccess } from '../../auth/route-access.js';
import { firstValue, formBodyParser, type FormBody } from './form-body.js';
import { adminUsersPage } from './pages/admin-users.js';

export interface AdminUsersOptions {
  accounts: Pick<AccountStore, 'listUsers' | 'listGroups' | 'getUser' | 'createUser' | 'setGroups' | 'setPermissions' | 'setActive' | 'setPassword'>;
  /** Single sign-on is configured (said on the page). */
  singleSignOn?: boolean;
}

type Form = Partial<FormBody>;
const FORM_BODY_LIMIT = 16 * 1024;
/** Pages for browsers: an anonymous one is sent to the login page (see `withAccess`'s `onceAccountsExist`); admin pages exist only once accounts do. */
const ADMIN_PAGE = { permission: 'admin', onceAccountsExist: async () => true } as const;
const ADMIN_FORM = { permission: 'admin' } as const;

const many = (value: string | string[] | undefined): string[] => [value ?? []].flat().map((v) => v.trim()).filter((v) => v !== '');

export const adminUsersPlugin: FastifyPluginAsync<AdminUsersOptions> = async (app, options) => {
  const { accounts } = options;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser({ maxFields: 200 }));

  const show = async (request: FastifyRequest, reply: FastifyReply, status: number, message?: { kind: 'ok' | 'err'; text: string }): Promise<FastifyReply> => {
    const [users, groups] = await Promise.all([accounts.listUsers(), accounts.listGroups()]);
    // Reached only with a session or a token holding admin; a token has no CSRF token, and no forms to post.
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(adminUsersPage({ users, groups, csrfToken: request.session?.csrfToken ?? '', viewer: request.session?.user ?? request.principal?.user ?? '', message, singleSignOn: options.singleSignOn ?? false }));
  };

  /** Runs a change; the store's refusals become a 400 with their message. */
  const change = async (request: FastifyRequest, reply: FastifyReply, run: () => Promise<string>): Promise<FastifyReply> => {
    try {
      const done = await run();
      request.log.info({ by: request.session?.user ?? request.principal?.user, change: done }, 'account changed on /admin/users');
      return show(request, reply, 200, { kind: 'ok', text: done });
    } catch (error) {
      if (error instanceof AccountError) return show(request, reply, 400, { kind: 'err', text: error.message });
      throw error;
    }
  };

  const permissionsOf = (form: Form): Permission[] => {
    const wanted = many(form.permissions);
    const unknown = wanted.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
    if (unknown.length > 0) throw new AccountError(`unknown permission ${unknown.join(', ')} (known: ${PERMISSIONS.join(', ')})`);
    return wanted as Permission[];
  };
  const usernameOf = (form: Form): string => {
    const name = firstValue(form.username)?.trim() ?? '';
    if (name === '') throw new AccountError('no user name given');
    return name;
  };

  app.get('/admin/users', withAccess(ADMIN_PAGE), async (request, reply) => show(request, reply, 200));

  app.post<{ Body: Form | undefined }>('/admin/users', withAccess(ADMIN_FORM, { bodyLimit: FORM_BODY_LIMIT }), async (request, reply) =>
    change(request, reply, async () => {
      const form = request.body ?? {};
      const password = firstValue(form.password) || undefined;
      const user = await accounts.createUser({ username: usernameOf(form), password, groups: many(form.groups), permissions: permissionsOf(form) });
      return `User ${user.username} created${user.hasPassword ? '' : ' without a password (single sign-on, or set one below)'}.`;
    }),
  );

  app.post<{ Body: Form | undefined }>('/admin/users/access', withAccess(ADMIN_FORM, { bodyLimit: FORM_BODY_LIMIT }), async (request, reply) =>
    change(request, reply, async () => {
      const form = request.body ?? {};
      const username = usernameOf(form);
      const permissions = permissionsOf(form);
      if (!(await accounts.getUser(username))) throw new AccountError(`no user ${username}`);
      await accounts.setGroups(username, many(form.groups));
      await accounts.setPermissions(username, permissions);
      return `Groups and permissions of ${username} saved.`;
    }),
  );

  app.post<{ Body: Form | undefined }>('/admin/users/active', withAccess(ADMIN_FORM, { bodyLimit: FORM_BODY_LIMIT }), async (request, reply) =>
    change(request, reply, async () => {
      const form = request.body ?? {};
      const username = usernameOf(form);
      const active = firstValue(form.active);
      if (active !== '0' && active !== '1') throw new AccountError('active must be 0 or 1');
      if (active === '0' && username === request.session?.user) throw new AccountError('you cannot deactivate yourself');
      await accounts.setActive(username, active === '1');
      return `${username} ${active === '1' ? 'reactivated' : 'deactivated: their sessions ended and their tokens stopped working'}.`;
    }),
  );

  app.post<{ Body: Form | undefined }>('/admin/users/password', withAccess(ADMIN_FORM, { bodyLimit: FORM_BODY_LIMIT }), async (request, reply) =>
    change(request, reply, async () => {
      const form = request.body ?? {};
      const username = usernameOf(form);
      await accounts.setPassword(username, firstValue(form.password) ?? '');
      return `Password of ${username} set; their sessions ended.`;
    }),
  );
};
