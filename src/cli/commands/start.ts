import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startNode, type RunningNode } from '../../node/node.js';
import { loadNodeConfig } from '../load-node-config.js';
import { versionInfo } from '../../common/version.js';
import type { Config } from '../../config/schema.js';
import { resolvePaths } from '../../config/resolve.js';
import { installDemoSymbols, submitDemoCrashes } from '../demo.js';

const SAMPLE_DUMP = fileURLToPath(new URL('../../../fixtures/corpus/dumps/example-app-null.dmp', import.meta.url));

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the whole pipeline (collector, processor, web app) in one process on embedded storage')
    .option('--data-dir <dir>', 'where crashes and databases are kept (default ./var)')
    .option('--port <n>', 'HTTP port (default 8000; 0 picks a free one)')
    .option('--config <file>', 'an INI configuration file')
    .option('--demo', 'on a fresh data directory, submit the project\'s sample crashes (with their symbols) so that the pages have something to show')
    .action(async (options: { dataDir?: string; port?: string; config?: string; demo?: boolean }) => {
      const overrides: Record<string, string> = {};
      if (options.dataDir !== undefined) overrides['node.data_dir'] = options.dataDir;
      if (options.port !== undefined) overrides['web.port'] = options.port;
      const config = loadNodeConfig(options.config, overrides);
      const paths = resolvePaths(config, process.cwd());
      // Fresh means no crash index yet: a demo never mixes into real data.
      const fresh = !existsSync(paths.database);
      if (options.demo && fresh) installDemoSymbols(paths.symbols[0]);
      const node = await runUntilSignalled(config, true);
      if (options.demo) {
        if (!fresh) {
          process.stderr.write(`  --demo: ${paths.dataDir} already holds data; no sample crashes were added.\n`);
        } else {
          const accepted = await submitDemoCrashes(node.url);
          process.stderr.write(`  --demo: submitted ${accepted} sample crashes through the collector; they are being processed now.\n\n`);
        }
      }
    });

  program
    .command('run')
    .description('run one node of a deployment: the roles and back ends its configuration file names')
    .requiredOption('--config <file>', 'the node\'s INI configuration file')
    .action(async (options: { config: string }) => {
      const config = loadNodeConfig(options.config, {});
      await runUntilSignalled(config, false);
    });
}

async function runUntilSignalled(config: Config, banner: boolean): Promise<RunningNode> {
  const log = pino({ level: config.log.level, base: { node: config.node.name } });
  const node = await startNode(config, { cwd: process.cwd(), log });
  if (banner) printBanner(node, config);
  handleSignals(node, log);
  return node;
}

function printBanner(node: RunningNode, config: Config): void {
  const dump = existsSync(SAMPLE_DUMP) ? SAMPLE_DUMP : 'crash.dmp';
  const roles = config.node.roles;
  const lines = [
    '',
    `  Mayday ${versionInfo().version} is running at ${node.url}/`,
    `  roles: ${roles.join(', ')}   data: ${node.paths.dataDir}`,
    '',
    '  Submit a crash:',
    `    curl -F upload_file_minidump=@${dump} -F ProductName=Example -F Version=1.0 ${node.url}/submit`,
    '',
    `  Then open ${node.url}/ to see it. Ctrl-C stops.`,
    '',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

function handleSignals(node: RunningNode, log: pino.Logger): void {
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled++;
    if (signalled > 1) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    log.info({ signal }, 'shutting down: finishing in-flight requests and crashes');
    node.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
