/** `mayday config init|validate|graph|explain|diff`: names, options and help; the Configurator is loaded on use. */
import { Option, type Command } from 'commander';
import { PRESETS, type Preset } from '../../configurator/presets.js';
import type { GraphFormat } from '../commands/config.js';

const ENV_HELP = 'apply the MAYDAY_SECTION_KEY variables of this environment to every node file, as `mayday run` would (for secrets kept out of the files)';

// Kept in step with EXIT_CODES and exitCode() in ../commands/config.ts (a test reads both).
const VALIDATE_EXIT_CODES = `
Exit codes:
  0  no errors (warnings allowed)
  2  usage error (a file that cannot be read)
  3  schema errors
  4  topology errors (and no schema errors)
  6  environment errors (and no errors of the layers above)
The first layer with an error decides. Security findings are warnings today and never
change the exit code (a security error would exit 5).`;

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
    .option('--no-environment', 'skip the environment checks (services answering with the rights the nodes need, directories, ports): for CI and files prepared for other machines')
    .option('--env', ENV_HELP)
    .option('--base-dir <dir>', 'directory the nodes are started from (relative data_dir); default: the first file\'s directory')
    .addHelpText('after', VALIDATE_EXIT_CODES)
    .action(async (paths: string[], options: { format: 'text' | 'json'; environment: boolean; env?: boolean; baseDir?: string }) => (await load()).configValidate(paths, options));

  config
    .command('graph')
    .description("draw the deployment's topology: nodes by host, the storages, queues and databases they share, what flows between them")
    .argument('<paths...>', 'node files, or directories of them')
    .addOption(new Option('--format <format>', 'output format').choices(['svg', 'png', 'dot', 'mermaid', 'json']).default('svg'))
    .option('-o, --output <file>', 'write to this file (default: standard output)')
    .option('--env', ENV_HELP)
    .action(async (paths: string[], options: { format: GraphFormat; output?: string; env?: boolean }) => (await load()).configGraph(paths, options));

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
    .addOption(new Option('--format <format>', 'output: text, or json (the whole diff: option changes, graph changes, findingsNew, findingsResolved)').choices(['text', 'json']).default('text'))
    .option('--env', ENV_HELP)
    .addHelpText('after', '\nExit codes: 0 no differences, 1 differences, 2 usage error (a file that cannot be read).')
    .action(async (a: string, b: string, options: { format: 'text' | 'json'; env?: boolean }) => (await load()).configDiff(a, b, options));
}
