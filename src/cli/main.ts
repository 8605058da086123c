import { Command, CommanderError } from 'commander';
import { UserError } from '../common/errors.js';
import { packageVersion } from '../common/version.js';
import { defineConfig } from './definitions/config.js';
import { defineReprocess } from './definitions/reprocess.js';
import { defineSignature } from './definitions/signature.js';
import { defineStackwalk } from './definitions/stackwalk.js';
import { defineStart } from './definitions/start.js';
import { defineSubmit } from './definitions/submit.js';
import { defineSymbols } from './definitions/symbols.js';
import { defineTokens } from './definitions/tokens.js';
import { defineUsers } from './definitions/users.js';

/**
 * The `mayday` command. Each sub-command's name, options and help are in `definitions/`
 * (cheap to load); what it does is in `commands/`, imported only when it runs, so that
 * `mayday stackwalk` does not load Fastify, the database drivers or the Configurator.
 * test/cli/lazy-loading.test.ts keeps it so.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('mayday')
    .description('Mayday: a self-hostable crash ingestion pipeline for native software')
    // The package's version only: the commit (versionInfo) would run git at every start.
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  defineStart(program);
  defineStackwalk(program);
  defineSubmit(program);
  defineSymbols(program);
  defineTokens(program);
  defineUsers(program);
  defineReprocess(program);
  defineSignature(program);
  defineConfig(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof UserError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
