/** `mayday reprocess`: its name, options and help; the storage adapters are loaded on use. */
import type { Command } from 'commander';
import { RULESET_NAMES } from '../../schema/rulesets.js';
import type { ReprocessOptions } from '../commands/reprocess.js';

export function defineReprocess(program: Command): void {
  program
    .command('reprocess')
    .description('put crashes on the reprocessing queue, to be processed again (with the default ruleset, or e.g. --ruleset signature), on a data directory or a running node (--url, --token)')
    .argument('[crash-ids...]', 'crash ids (bp- prefix allowed)')
    .option('--crash-id <id...>', 'crash ids (bp- prefix allowed)')
    .option('--signature <signature>', 'every crash with this signature (of the last 7 days, unless --query names a date range)')
    .option('--query <query>', 'a Super Search query selecting the crashes, e.g. "product=Example&version=1.0&date=>=2026-11-01"')
    .option('--missing-symbols [module]', 'the crashes that missed symbols: of one module (DEBUG_FILE/DEBUG_ID), or of any module listed on the missing-symbols page')
    .option('--days <n>', 'with --missing-symbols: how many days back', '7')
    .option('--ruleset <name>', `ruleset to process with: ${RULESET_NAMES.join(', ')}`, 'default')
    .option('--data-dir <dir>', 'data directory of the embedded storage (default ./var)')
    .option('--config <file>', 'a node configuration file naming the storage')
    .option('--url <url>', 'a running node to ask instead, e.g. https://crashes.example.com (needs --token)')
    .option('--token <token>', 'with --url: an API token with the reprocess permission (default: $MAYDAY_TOKEN)')
    .action(async (positional: string[], options: ReprocessOptions) => (await import('../commands/reprocess.js')).reprocessCommand(positional, options));
}
