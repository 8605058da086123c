/**
 * The administration of users and groups (`/admin/users`, `admin-users-page.ts`): every
 * user with their groups, own permissions, state, how they log in and their last login,
 * each row with its forms (groups and permissions, deactivate or reactivate, a new
 * password); a form to create a user; the groups with their permissions. Pure: the view
 * in, the page out.
 */

import { CSRF_FIELD } from '../../../auth/request-auth.js';
import { PERMISSIONS } from '../../../common/permissions.js';
import type { GroupInfo, UserInfo } from '../../../ports/account-store.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';

export interface AdminUsersView {
  readonly users: readonly UserInfo[];
  readonly groups: readonly GroupInfo[];
  /** The session's CSRF token, for every form. */
  readonly csrfToken: string;
  /** Who is looking (they cannot deactivate themselves). */
  readonly viewer: string;
  readonly message?: { readonly kind: 'ok' | 'err'; readonly text: string };
  /** Single sign-on is configured (the "how they log in" column says so). */
  readonly singleSignOn: boolean;
}

const STYLE = html`<style>
.admin-users td { vertical-align:top; }
.admin-users form.inline { display:inline-block; margin:0 6px 4px 0; }
.admin-users fieldset { border:0; padding:0; margin:0 0 4px; }
.admin-users label.opt { font-weight:400; margin-right:10px; white-space:nowrap; }
.admin-users button, .admin-create button { background:var(--link); color:#fff; border:0; border-radius:6px; padding:4px 12px; font:inherit; cursor:pointer; }
.admin-users button.danger { background:#fff; color:var(--accent); border:1px solid var(--accent); }
.admin-users input[type=password] { width:150px; padding:3px 6px; border:1px solid var(--line); border-radius:6px; }
.admin-create input:not([type=checkbox]) { width:240px; padding:6px 8px; border:1px solid var(--line); border-radius:6px; font:inherit; }
.admin-users .inactive td:first-child { text-decoration:line-through; color:var(--muted); }
</style>`;

const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC'));

/** How a user logs in: a password, single sign-on, both, or neither yet. */
export function loginMethods(user: Pick<UserInfo, 'hasPassword' | 'oidcSubject'>): string {
  const ways = [user.hasPassword ? 'local' : '', user.oidcSubject !== null ? 'OIDC' : ''].filter((w) => w !== '');
  return ways.length > 0 ? ways.join(' + ') : 'none yet';
}

function csrf(view: AdminUsersView): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">`;
}

function userRow(view: AdminUsersView, user: UserInfo): Html {
  const id = `user-${user.username}`;
  return html`<tr id="${id}" class="${user.active ? '' : 'inactive'}" data-user="${user.username}">
<td class="mono">${user.username}</td>
<td>${user.groups.join(', ') || html`<span class="muted">none</span>`}</td>
<td>${user.ownPermissions.join(', ') || html`<span class="muted">none</span>`}</td>
<td>${user.active ? 'active' : html`<span class="badge err">inactive</span>`}</td>
<td class="login-method" title="${user.oidcSubject ?? ''}">${loginMethods(user)}</td>
<td>${when(user.lastLoginAt)}</td>
<td>
  <form method="post" action="/admin/users/access" class="inline access-form">${csrf(view)}<input type="hidden" name="username" value="${user.username}">
    <fieldset><b>Groups</b> ${view.groups.map((g) => html`<label class="opt"><input type="checkbox" name="groups" value="${g.name}"${user.groups.includes(g.name) ? html` checked` : ''}> ${g.name}</label>`)}</fieldset>
    <fieldset><b>Own permissions</b> ${PERMISSIONS.map((p) => html`<label class="opt"><input type="checkbox" name="permissions" value="${p}"${user.ownPermissions.includes(p) ? html` checked` : ''}> ${p}</label>`)}</fieldset>
    <button type="submit">Save</button>
  </form><br>
  ${
    user.username === view.viewer
      ? html`<span class="muted">(you)</span>`
      : html`<form method="post" action="/admin/users/active" class="inline active-form">${csrf(view)}<input type="hidden" name="username" value="${user.username}"><input type="hidden" name="active" value="${user.active ? '0' : '1'}"><button type="submit"${user.active ? html` class="danger"` : ''}>${user.active ? 'Deactivate' : 'Reactivate'}</button></form>`
  }
  <form method="post" action="/admin/users/password" class="inline password-form">${csrf(view)}<input type="hidden" name="username" value="${user.username}"><input type="password" name="password" autocomplete="new-password" placeholder="new password" aria-label="New password for ${user.username}" required> <button type="submit">Set password</button></form>
</td></tr>`;
}

export function adminUsersPage(view: AdminUsersView): string {
  return page(
    'Users and groups',
    html`${STYLE}<h1>Users and groups</h1>
${view.message ? html`<p class="badge ${view.message.kind}" id="admin-message" role="${view.message.kind === 'err' ? 'alert' : 'status'}">${view.message.text}</p>` : ''}
<p class="muted">A user's permissions are their own plus their groups'. Changing a password or deactivating a user ends their sessions.${view.singleSignOn ? ' Single sign-on users whose groups come from the provider (auth.oidc_group_map) get them again at their next login.' : ''} The same accounts are managed by <code>mayday users</code>.</p>
<table class="admin-users" id="admin-users"><thead><tr><th>User</th><th>Groups</th><th>Own permissions</th><th>State</th><th>Logs in</th><th>Last login</th><th></th></tr></thead>
<tbody>${view.users.map((u) => userRow(view, u))}</tbody></table>

<h2>New user</h2>
<div class="card admin-create"><form method="post" action="/admin/users" id="create-user-form">${csrf(view)}
<p><label>User name <input name="username" required maxlength="128" pattern="[A-Za-z0-9][A-Za-z0-9_.@+\\-]*"></label>
<label>Password <input type="password" name="password" autocomplete="new-password" placeholder="empty: single sign-on only"></label></p>
<p><b>Groups</b> ${view.groups.map((g) => html`<label class="opt" style="font-weight:400;margin-right:10px"><input type="checkbox" name="groups" value="${g.name}"> ${g.name}</label>`)}</p>
<p><b>Own permissions</b> ${PERMISSIONS.map((p) => html`<label class="opt" style="font-weight:400;margin-right:10px"><input type="checkbox" name="permissions" value="${p}"> ${p}</label>`)}</p>
<p><button type="submit">Create user</button></p></form></div>

<h2>Groups</h2>
<table id="admin-groups"><thead><tr><th>Group</th><th>Permissions</th><th>Description</th><th>Members</th></tr></thead>
<tbody>${view.groups.map((g) => html`<tr><td class="mono">${g.name}</td><td>${g.permissions.join(', ')}</td><td>${g.description ?? ''}</td><td>${view.users.filter((u) => u.groups.includes(g.name)).length}</td></tr>`)}</tbody></table>`,
    { wide: true },
  );
}
