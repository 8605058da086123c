/** `mayday stackwalk`: its name, options and help; the walker itself is loaded on use. */
import type { Command } from 'commander';
import type { StackwalkOptions } from '../commands/stackwalk.js';
import { collect } from './options.js';

export function defineStackwalk(program: Command): void {
  program
    .command('stackwalk')
    .description('walk and symbolize minidumps (Breakpad minidump_stackwalk compatible output)')
    .argument('<dumps...>', 'minidump files')
    .option('--symbols-path <dir>', 'Breakpad symbol store (NAME/ID/NAME.sym); repeatable', collect, [])
    .option('--json', 'print the json_dump document (one line per dump)')
    .option('--pretty', 'indent the JSON')
    .option('-m, --machine-readable', "print Breakpad's pipe-separated format")
    .action(async (dumps: string[], options: StackwalkOptions) => {
      const { runStackwalk } = await import('../commands/stackwalk.js');
      const code = await runStackwalk(dumps, options, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
      if (code !== 0) process.exitCode = code;
    });
}
