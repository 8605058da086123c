/** `mayday signature`: its name, options and help; the signature generator is loaded on use. */
import type { Command } from 'commander';
import type { SignatureCommandOptions } from '../commands/signature.js';

export function defineSignature(program: Command): void {
  program
    .command('signature')
    .description('print the signature of a crash (processed crash or stackwalker JSON, or frames)')
    .argument('[crash]', 'processed crash JSON (with json_dump) or stackwalker JSON document')
    .option('--frames <frames...>', 'frames, top first: function names, module@0xoffset or @0xaddress')
    .option('--debug', 'also print the proto signature and how each frame was treated')
    .option('--lists <dir>', 'directory of signature lists (sentinel.txt, irrelevant.txt, prefix.txt, line-number.txt) overriding the defaults')
    .action(async (crash: string | undefined, options: SignatureCommandOptions) => {
      const { runSignature } = await import('../commands/signature.js');
      const code = await runSignature(crash, options, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
      if (code !== 0) process.exitCode = code;
    });
}
