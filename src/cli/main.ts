import { Command, CommanderError } from 'commander';
import { UserError } from '../common/errors.js';
import { versionInfo } from '../common/version.js';
import { registerStart } from './commands/start.js';
import { registerStackwalk } from './commands/stackwalk.js';
import { registerSubmit } from './commands/submit.js';
import { registerSymbols } from './commands/symbols.js';
import { registerTokens } from './commands/tokens.js';
import { registerUsers } from './commands/users.js';
import { registerReprocess } from './commands/reprocess.js';
import { registerSignature } from './commands/signature.js';
import { registerConfig } from './commands/config.js';

/** The `mayday` command. Each sub-command lives in `commands/` and registers itself here. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('mayday')
    .description('Mayday: a self-hostable crash ingestion pipeline for native software')
    .version(versionInfo().version)
    .showHelpAfterError()
    .exitOverride();
  registerStart(program);
  registerStackwalk(program);
  registerSubmit(program);
  registerSymbols(program);
  registerTokens(program);
  registerUsers(program);
  registerReprocess(program);
  registerSignature(program);
  registerConfig(program);

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
