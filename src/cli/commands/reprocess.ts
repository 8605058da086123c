import type { Command } from 'commander';
import { FsRawCrashStore } from '../../adapters/fs-raw-crash-store.js';
import { SqliteQueue } from '../../adapters/sqlite-queue.js';
import { parseCrashId } from '../../common/crash-id.js';
import { UserError } from '../../common/errors.js';
import { openNodeData } from '../data-dir.js';
import { progress } from '../progress.js';
import { RULESET_NAMES } from '../../schema/rulesets.js';
import { SqliteCrashIndex } from '../../adapters/sqlite-crash-index.js';
import { queryStringToParams, selectCrashIds } from '../../roles/web/crash-selection.js';
import { SuperSearchParamError } from '../../roles/web/super-search-params.js';

const RULESETS: readonly string[] = RULESET_NAMES;

function parseIds(given: string[]): string[] {
  return given.map((raw) => {
    const id = parseCrashId(raw);
    if (!id) throw new UserError(`mayday reprocess: "${raw}" is not a crash id`);
    return id;
  });
}

/** An operator on the node's own storage may select on protected fields too. */
async function selectByQuery(database: string, signature: string | undefined, query: string | undefined): Promise<string[]> {
  const params = query !== undefined ? queryStringToParams(query) : {};
  if (signature !== undefined) params.signature = signature;
  const index = SqliteCrashIndex.open(database);
  try {
    return await selectCrashIds(index, params, { canViewProtected: true });
  } catch (error) {
    if (error instanceof SuperSearchParamError || error instanceof RangeError) throw new UserError(`mayday reprocess: ${error.message}`);
    throw error;
  } finally {
    await index.close();
  }
}

export function registerReprocess(program: Command): void {
  program
    .command('reprocess')
    .description('put crashes on the reprocessing queue, to be processed again (with the default ruleset, or e.g. --ruleset signature)')
    .option('--crash-id <id...>', 'crash ids (bp- prefix allowed)')
    .option('--signature <signature>', 'every crash with this signature (of the last 7 days, unless --query names a date range)')
    .option('--query <query>', 'a Super Search query selecting the crashes, e.g. "product=Example&version=1.0&date=>=2026-11-01"')
    .option('--ruleset <name>', `ruleset to process with: ${RULESETS.join(', ')}`, 'default')
    .option('--data-dir <dir>', 'data directory of the embedded storage (default ./var)')
    .option('--config <file>', 'a node configuration file naming the storage')
    .action(async (options: { crashId?: string[]; signature?: string; query?: string; ruleset: string; dataDir?: string; config?: string }) => {
      if (!RULESETS.includes(options.ruleset)) throw new UserError(`mayday reprocess: unknown ruleset "${options.ruleset}" (known: ${RULESETS.join(', ')})`);
      const ways = [options.crashId?.length, options.signature !== undefined, options.query !== undefined].filter(Boolean).length;
      if (ways !== 1) throw new UserError('mayday reprocess: name the crashes with exactly one of --crash-id ID ..., --signature S or --query Q');
      const { config, paths } = openNodeData('reprocess', options);
      const ids = options.crashId?.length ? parseIds(options.crashId) : await selectByQuery(paths.database, options.signature, options.query);
      if (ids.length === 0) {
        process.stdout.write('no crash matches; nothing was queued\n');
        return;
      }
      const raw = await FsRawCrashStore.open(paths.raw, { fsync: config.storage.fsync });
      const queue = SqliteQueue.open(paths.queue, { visibilityTimeoutMs: config.queue.visibility_timeout });
      const bar = progress('queueing', ids.length);
      const unknown: string[] = [];
      try {
        for (const id of ids) {
          if (await raw.get(id)) await queue.enqueue(id, 'reprocessing', { ruleset: options.ruleset });
          else unknown.push(id);
          bar.increment();
        }
      } finally {
        bar.stop();
        await queue.close();
      }
      const queued = ids.length - unknown.length;
      process.stdout.write(`queued ${queued} crash${queued === 1 ? '' : 'es'} for reprocessing with the ${options.ruleset} ruleset\n`);
      if (unknown.length > 0) {
        process.stderr.write(`not found (no raw crash): ${unknown.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
