/** `mayday tokens create|list|revoke`: names, options and help; the token store is loaded on use. */
import type { Command } from 'commander';
import { PERMISSIONS } from '../../common/permissions.js';
import type { CreateTokenOptions } from '../commands/tokens.js';
import type { WhereOptions } from '../data-dir.js';
import { withWhere } from './options.js';

const load = () => import('../commands/tokens.js');

export function defineTokens(program: Command): void {
  const tokens = program.command('tokens').description('manage API tokens (symbol uploads, reprocessing, protected data)');

  withWhere(
    tokens
      .command('create')
      .description('create an API token and print it (it is shown only this once)')
      .requiredOption('--permissions <list>', `comma-separated: ${PERMISSIONS.join(', ')}`)
      .option('--user <name>', 'the user the token belongs to (required; created if new, and granted any of the permissions they lack)')
      .option('--expires <days>', 'days until the token expires (default: never)')
      .option('--description <text>', 'what the token is for, shown by `tokens list`'),
  ).action(async (options: CreateTokenOptions) => (await load()).createToken(options));

  withWhere(tokens.command('list').description('list API tokens (never their secret)').option('--user <name>', "only this user's tokens")).action(
    async (options: WhereOptions & { user?: string }) => (await load()).listTokens(options),
  );

  withWhere(tokens.command('revoke').description('revoke an API token by its id (from `tokens list`)').argument('<id>')).action(
    async (id: string, options: WhereOptions) => (await load()).revokeToken(id, options),
  );
}
