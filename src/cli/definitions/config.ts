/** `mayday config init|validate|graph|explain|diff`: names, options and help; the Configurator is loaded on use. */
import { Option, type Command } from 'commander';
import { PRESETS, type Preset } from '../../configurator/presets.js';
import type { GraphFormat } from '../commands/config.js';

const load = () => import('../commands/config.js');

export function defineConfig(program: Command): void {
  const config = program.command('config').description('generate, validate, draw and compare deployments (the Configurator on the command line)');

  config
    .command('init')
    .description('write a deployment that validates clean')
    .argument('<dir>', 'directory to write the files into (created if missing)')
    .addOption(new Option('--preset <preset>', 'which deployment').choices([...PRESETS]).default('all-in-one'))
    .option('--hosts <hosts>', 'comma-separated host names to spread the nodes over (node.host); services are taken to run on the first')
    .option('--force', 'overwrite files that exist')
    .action(async (dir: string, options: { preset: Preset; hosts?: string; force?: boolean }) => (await load()).configInit(dir, options));

  config
    .command('validate')
    .description('check a deployment: schema, topology, security and environment; findings as file:line: severity: message')
    .argument('<paths...>', 'node files, or directories of them (*.ini); included files are read too')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .option('--no-environment', 'skip the environment checks (services answering, directories, ports): for CI and files prepared for other machines')
    .option('--base-dir <dir>', 'directory the nodes are started from (relative data_dir); default: the first file\'s directory')
    .action(async (paths: string[], options: { format: 'text' | 'json'; environment: boolean; baseDir?: string }) => (await load()).configValidate(paths, options));

  config
    .command('graph')
    .description("draw the deployment's topology: nodes by host, the storages, queues and databases they share, what flows between them")
    .argument('<paths...>', 'node files, or directories of them')
    .addOption(new Option('--format <format>', 'output format').choices(['svg', 'png', 'dot', 'mermaid', 'json']).default('svg'))
    .option('-o, --output <file>', 'write to this file (default: standard output)')
    .action(async (paths: string[], options: { format: GraphFormat; output?: string }) => (await load()).configGraph(paths, options));

  config
    .command('explain')
    .description('document an option: type, default, allowed values, environment variable')
    .argument('<option>', 'SECTION.KEY, or SECTION for every option of a section')
    .action(async (option: string) => {
      process.stdout.write((await load()).explain(option));
    });

  config
    .command('diff')
    .description('what changed between two deployments, option by option and in the graph')
    .argument('<a>', 'the first deployment: a directory or a node file')
    .argument('<b>', 'the second')
    .action(async (a: string, b: string) => (await load()).configDiff(a, b));
}
