/** `mayday submit`: its name, options and help; the client is loaded on use. */
import type { Command } from 'commander';
import type { SubmitOptions } from '../commands/submit.js';
import { collect } from './options.js';

export function defineSubmit(program: Command): void {
  // `submit --version V` is the product version (as the issue and Breakpad's -v name it);
  // positional options keep the root's own --version from taking it.
  program.enablePositionalOptions();
  program
    .command('submit')
    .description('send a minidump to a collector as a Breakpad client does (or many, for a load test)')
    .argument('<dump>', 'the minidump file')
    .requiredOption('--url <url>', 'the collector (http://HOST:PORT or its /submit URL)')
    .option('--product <name>', 'product name (sent as prod, as Breakpad does)')
    .option('--version <version>', 'product version (sent as ver)')
    .option('--annotation <key=value>', 'another annotation; repeatable', collect, [])
    .option('--gzip', 'compress the body (Content-Encoding: gzip), as Crashpad does')
    .option('--repeat <n>', 'send it N times (load test: prints requests/s and latency percentiles)')
    .option('--concurrency <c>', 'requests in flight at once with --repeat', '1')
    .action(async (dump: string, options: SubmitOptions) => {
      const { runSubmit } = await import('../commands/submit.js');
      const code = await runSubmit(dump, options, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
      if (code !== 0) process.exitCode = code;
    });
}
