/** `mayday users create|set-password|list|groups`: names, options and help; the account store is loaded on use. */
import type { Command } from 'commander';
import { PERMISSIONS } from '../../common/permissions.js';
import type { CreateUserOptions, PasswordOptions } from '../commands/users.js';
import type { WhereOptions } from '../data-dir.js';
import { withWhere } from './options.js';

const load = () => import('../commands/users.js');

export function defineUsers(program: Command): void {
  const users = program.command('users').description('manage local accounts for the web login (users, groups, passwords)');

  withWhere(
    users
      .command('create')
      .description('create a user (the first administrator: --admin)')
      .argument('<name>', 'user name (letters, digits, "_.@+-")')
      .option('--password <password>', 'the password (prefer --password-stdin)')
      .option('--password-stdin', 'read the password from standard input')
      .option('--groups <list>', 'comma-separated groups to join (see `mayday users groups`)')
      .option('--permissions <list>', `comma-separated permissions granted to the user directly: ${PERMISSIONS.join(', ')}`)
      .option('--admin', 'grant the admin permission (everything)'),
  ).action(async (name: string, options: CreateUserOptions) => (await load()).createUser(name, options));

  withWhere(
    users.command('set-password').description("set a user's password (their sessions end)").argument('<name>').option('--password <password>', 'the password').option('--password-stdin', 'read the password from standard input'),
  ).action(async (name: string, options: WhereOptions & PasswordOptions) => (await load()).setPassword(name, options));

  withWhere(users.command('list').description('list users, their groups and permissions')).action(async (options: WhereOptions) => (await load()).listUsers(options));

  withWhere(users.command('groups').description('list groups and their permissions')).action(async (options: WhereOptions) => (await load()).listGroups(options));
}
