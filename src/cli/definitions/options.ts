/** Option helpers shared by the command definitions (kept light: every start loads them). */
import type { Command } from 'commander';

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The options that find a node's data (as `mayday start` finds it): `--data-dir`, `--config`. */
export function withWhere(command: Command): Command {
  return command.option('--data-dir <dir>', 'data directory of the node (default ./var)').option('--config <file>', "the node's INI configuration file");
}
