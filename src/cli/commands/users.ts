/**
 * `mayday users create|list|groups|set-password`: local accounts on the node's own
 * database (found from `--data-dir` or `--config`, as `mayday start` finds it). The first
 * administrator is made here: `mayday users create alice --admin --password-stdin`.
 *
 * Passwords come from stdin (`--password-stdin`, the safe way: not in the shell history
 * or the process list) or `--password` (convenient for throwaway setups).
 */

import { parsePermissions } from '../../auth/auth-schema.js';
import { AccountError, type AccountStore, type UserInfo } from '../../ports/account-store.js';
import { UserError } from '../../common/errors.js';
import type { Permission } from '../../common/permissions.js';
import { openAccountStore } from '../../node/backends.js';
import { openNodeData, type WhereOptions } from '../data-dir.js';
export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

/** Only `users create` may start a new database: the first administrator is made before the first start. */
async function openStore(options: WhereOptions, command: string): Promise<AccountStore> {
  const { config, paths } = openNodeData(`users ${command}`, options, { mayCreate: command === 'create' });
  return openAccountStore(config, paths);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The password given, without the one line ending `echo` or a file adds. */
async function passwordFrom(options: PasswordOptions, command: string): Promise<string | undefined> {
  if (options.password !== undefined && options.passwordStdin) throw new UserError(`mayday users ${command}: give --password or --password-stdin, not both`);
  if (options.passwordStdin) return (await readStdin()).replace(/\r?\n$/, '');
  return options.password;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(',');
}

export function formatUserTable(users: readonly UserInfo[]): string {
  const rows = [['USER', 'STATE', 'PASSWORD', 'GROUPS', 'PERMISSIONS']];
  for (const u of users) rows.push([u.username, u.active ? 'active' : 'inactive', u.hasPassword ? 'set' : '-', list(u.groups), list(u.permissions)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

async function withStore<T>(options: WhereOptions, command: string, run: (store: AccountStore) => Promise<T> | T): Promise<T> {
  const store = await openStore(options, command);
  try {
    return await run(store);
  } catch (error) {
    if (error instanceof AccountError) throw new UserError(`mayday users ${command}: ${error.message}`);
    throw error;
  } finally {
    await store.close();
  }
}

export type CreateUserOptions = WhereOptions & PasswordOptions & { groups?: string; permissions?: string; admin?: boolean };

/** `mayday users create`. */
export async function createUser(name: string, options: CreateUserOptions): Promise<void> {
  const password = await passwordFrom(options, 'create');
  let permissions: Permission[] = [];
  try {
    if (options.permissions !== undefined) permissions = parsePermissions(options.permissions);
  } catch (error) {
    throw new UserError(`mayday users create: ${(error as Error).message}`);
  }
  if (options.admin) permissions = [...new Set<Permission>([...permissions, 'admin'])];
  const groups = (options.groups ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
  const user = await withStore(options, 'create', (store) => store.createUser({ username: name, password, groups, permissions }));
  process.stderr.write(
    `user ${user.username} created: ${user.permissions.length ? user.permissions.join(', ') : 'no permissions (public data only)'}${user.hasPassword ? '' : '; no password, so no web login yet (mayday users set-password)'}\n`,
  );
}

/** `mayday users set-password`. */
export async function setPassword(name: string, options: WhereOptions & PasswordOptions): Promise<void> {
  const password = await passwordFrom(options, 'set-password');
  if (password === undefined) throw new UserError('mayday users set-password: give --password-stdin or --password');
  await withStore(options, 'set-password', (store) => store.setPassword(name, password));
  process.stderr.write(`password of ${name} set\n`);
}

/** `mayday users list`. */
export async function listUsers(options: WhereOptions): Promise<void> {
  process.stdout.write(await withStore(options, 'list', async (store) => formatUserTable(await store.listUsers())));
}

/** `mayday users groups`. */
export async function listGroups(options: WhereOptions): Promise<void> {
  const groups = await withStore(options, 'groups', (store) => store.listGroups());
  process.stdout.write(groups.map((g) => `${g.name.padEnd(18)} ${list(g.permissions).padEnd(40)} ${g.description ?? ''}`.trimEnd()).join('\n') + '\n');
}
