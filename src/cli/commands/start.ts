import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { startNode, type RunningNode } from '../../node/node.js';
import { loadNodeConfig } from '../load-node-config.js';
import { versionInfo } from '../../common/version.js';
import type { Config } from '../../config/schema.js';
import { resolvePaths } from '../../config/resolve.js';
import { installDemoSymbols, loadDemoCrashes } from '../demo.js';
import { createNodeLogger } from '../logger.js';
import { listenErrorLine, noteCreatedPaths } from '../start-support.js';

const SAMPLE_DUMP = fileURLToPath(new URL('../../../fixtures/corpus/dumps/example-app-null.dmp', import.meta.url));

export interface StartOptions {
  dataDir?: string;
  host?: string;
  port?: string;
  config?: string;
  demo?: boolean;
}

/** `mayday start`. */
export async function startCommand(options: StartOptions): Promise<void> {
  const overrides: Record<string, string> = {};
  if (options.dataDir !== undefined) overrides['node.data_dir'] = options.dataDir;
  if (options.host !== undefined) overrides['web.host'] = options.host;
  if (options.port !== undefined) overrides['web.port'] = options.port;
  const config = loadNodeConfig(options.config, overrides);
  const paths = resolvePaths(config, process.cwd());
  // Fresh means no crash index yet: a demo never mixes into real data.
  const fresh = !existsSync(paths.database);
  // A start that fails on a fresh data directory takes back what it made there (and
  // only that: a directory or file that existed before is never removed).
  const created = fresh ? noteCreatedPaths(paths.dataDir) : undefined;
  const failed = (line: string): never => {
    process.stderr.write(`${line}\n`);
    reportRemoved(created?.removeCreated() ?? [], paths.dataDir);
    process.exit(1);
  };
  let node: RunningNode;
  try {
    if (options.demo && fresh) installDemoSymbols(paths.symbols[0]);
    node = await runUntilSignalled(config, true);
  } catch (error) {
    const line = listenErrorLine(error, config.web.host, config.web.port);
    if (line !== undefined) return failed(line);
    reportRemoved(created?.removeCreated() ?? [], paths.dataDir);
    throw error;
  }
  if (options.demo) {
    if (!fresh) {
      process.stderr.write(`  --demo: ${paths.dataDir} already holds data; no sample crashes were added.\n`);
    } else {
      let accepted: number;
      try {
        accepted = await loadDemoCrashes(node.intake);
      } catch (error) {
        await node.close().catch(() => undefined);
        return failed(`mayday: --demo: submitting the sample crashes failed: ${(error as Error).message}`);
      }
      process.stderr.write(`  --demo: submitted ${accepted} sample crashes, dated over the last 30 days, through the collector; they are being processed now.\n\n`);
    }
  }
}

/** `mayday run`. */
export async function runCommand(options: { config: string }): Promise<void> {
  const config = loadNodeConfig(options.config, {});
  await runUntilSignalled(config, false);
}

async function runUntilSignalled(config: Config, banner: boolean): Promise<RunningNode> {
  const log = await createNodeLogger(config);
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
    ...reachLines(config.web.host, node.paths.dataDir, node.url),
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

function reportRemoved(removed: readonly string[], dataDir: string): void {
  if (removed.length === 1 && !removed[0].startsWith(`${dataDir}/`)) process.stderr.write(`mayday: removed ${removed[0]}, which this start had made\n`);
  else if (removed.length > 0) process.stderr.write(`mayday: removed the ${removed.length} files and directories this start had made in ${dataDir}\n`);
}

/** Whether `host` only takes connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1';
}

/** What the banner says about who can reach the server. */
export function reachLines(host: string, dataDir: string, url: string): string[] {
  if (isLoopback(host)) {
    return [
      `  Listening on ${host} only (loopback): crash reports from other machines cannot reach it.`,
      '  To accept crashes from other machines, create an admin account first',
      `    mayday users create NAME --admin --password-stdin --data-dir ${dataDir}`,
      '  then restart with --host 0.0.0.0 (or the address of one network interface).',
      '',
    ];
  }
  // On a wildcard address the node's URL names 127.0.0.1; others use this machine's name.
  const where = url.replace('//127.0.0.1:', `//${hostname()}:`);
  return [`  Listening on ${host}: other machines can send crashes to ${where}/submit (protect the admin pages with an account: mayday users create NAME --admin).`, ''];
}

function handleSignals(node: RunningNode, log: Logger): void {
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
