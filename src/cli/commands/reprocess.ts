import type { Command } from 'commander';
import { FsRawCrashStore } from '../../adapters/fs-raw-crash-store.js';
import { SqliteQueue } from '../../adapters/sqlite-queue.js';
import { parseCrashId } from '../../common/crash-id.js';
import { UserError } from '../../common/errors.js';
import { resolvePaths } from '../../config/resolve.js';
import { loadNodeConfig } from '../load-node-config.js';
import { progress } from '../progress.js';
import { RULESET_NAMES } from '../../schema/rulesets.js';

const RULESETS: readonly string[] = RULESET_NAMES;

export function registerReprocess(program: Command): void {
  program
    .command('reprocess')
    .description('put crashes on the reprocessing queue, to be processed again (with the default ruleset, or e.g. --ruleset signature)')
    .option('--crash-id <id...>', 'crash ids (bp- prefix allowed)')
    .option('--ruleset <name>', `ruleset to process with: ${RULESETS.join(', ')}`, 'default')
    .option('--data-dir <dir>', 'data directory of the embedded storage (default ./var)')
    .option('--config <file>', 'a node configuration file naming the storage')
    .action(async (options: { crashId?: string[]; ruleset: string; dataDir?: string; config?: string }) => {
      if (!RULESETS.includes(options.ruleset)) throw new UserError(`mayday reprocess: unknown ruleset "${options.ruleset}" (known: ${RULESETS.join(', ')})`);
      if (!options.crashId?.length) throw new UserError('mayday reprocess: name the crashes with --crash-id ID ...');
      const ids = options.crashId.map((raw) => {
        const id = parseCrashId(raw);
        if (!id) throw new UserError(`mayday reprocess: "${raw}" is not a crash id`);
        return id;
      });
      const config = loadNodeConfig(options.config, options.dataDir ? { 'node.data_dir': options.dataDir } : {});
      const paths = resolvePaths(config, process.cwd());
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
