/** `mayday start` and `mayday run`: names, options and help; the node (Fastify, storage drivers) is loaded on use. */
import type { Command } from 'commander';
import type { StartOptions } from '../commands/start.js';

const load = () => import('../commands/start.js');

export function defineStart(program: Command): void {
  program
    .command('start')
    .description('run the whole pipeline (collector, processor, web app) in one process on embedded storage')
    .option('--data-dir <dir>', 'where crashes and databases are kept (default ./var)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 accepts crashes from other machines)')
    .option('--port <n>', 'HTTP port (default 8000; 0 picks a free one)')
    .option('--config <file>', 'an INI configuration file')
    .option('--demo', "on a fresh data directory, add the project's sample crashes (with their symbols), spread over the last 30 days, so that the pages have something to show")
    .action(async (options: StartOptions) => (await load()).startCommand(options));

  program
    .command('run')
    .description('run one node of a deployment: the roles and back ends its configuration file names')
    .requiredOption('--config <file>', "the node's INI configuration file")
    .action(async (options: { config: string }) => (await load()).runCommand(options));
}
