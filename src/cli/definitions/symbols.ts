/** `mayday symbols upload|reprocess`: names, options and help; the uploader is loaded on use. */
import type { Command } from 'commander';
import type { ReprocessCommandOptions, UploadCommandOptions } from '../commands/symbols.js';

export function defineSymbols(program: Command): void {
  const symbols = program.command('symbols').description('upload Breakpad symbols and reprocess the crashes that missed them');

  symbols
    .command('upload')
    .description('upload .sym files, directories of them, or zips in the symbol-store layout')
    .argument('<paths...>')
    .requiredOption('--url <url>', 'the Mayday node, e.g. https://crashes.example.com')
    .option('--token <token>', 'API token with upload_symbols (default: $MAYDAY_TOKEN)')
    .option('--retries <n>', 'retries per file on network errors, 5xx and 429', '5')
    .option('--timeout <seconds>', 'limit per request (0: none)', '600')
    .option('--no-reprocess', 'do not queue the recent crashes that missed these symbols for reprocessing (queued by default; needs the reprocess permission)')
    .action(async (paths: string[], options: UploadCommandOptions) => (await import('../commands/symbols.js')).uploadCommand(paths, options));

  symbols
    .command('reprocess')
    .description("re-queue the crashes of the last N days that missed a module's symbols")
    .requiredOption('--url <url>', 'the Mayday node')
    .requiredOption('--debug-file <name>', 'debug file of the module, e.g. libfoo.so or foo.pdb')
    .requiredOption('--debug-id <id>', 'debug id of the module')
    .option('--days <n>', 'how far back to look', '7')
    .option('--token <token>', 'API token with reprocess (default: $MAYDAY_TOKEN)')
    .action(async (options: ReprocessCommandOptions) => (await import('../commands/symbols.js')).reprocessCommand(options));
}
