/**
 * The node's logger: pino, writing JSON lines for log collectors, or coloured lines for a
 * person watching a terminal (`log.format`, `auto` by default: pretty on a terminal): time,
 * level, the role that wrote it, the message, then the other fields as JSON on the same line.
 * JSON stays the default whenever standard output is not a terminal: service managers,
 * pipes, files and the tests read it.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

export type LogFormatOption = Config['log']['format'];

/** What `log.format` means for a standard output that is (or is not) a terminal. */
export function chooseLogFormat(option: LogFormatOption, isTTY: boolean | undefined): 'json' | 'pretty' {
  if (option === 'auto') return isTTY === true ? 'pretty' : 'json';
  return option;
}

/** Where a logger writes: standard output, or in tests any stream with `isTTY` of its own. */
export interface LogOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A pino destination that turns each JSON line into a readable one before writing it.
 * Synchronous (pino-pretty's formatter, not its worker-thread transport), so that the
 * last lines before an exit are not lost.
 */
export async function prettyDestination(output: LogOutput, colorize: boolean): Promise<DestinationStream> {
  // Loaded only for a terminal: a JSON-logging node never pays for it.
  const { prettyFactory } = (await import('pino-pretty')).default;
  // One line a record, led by the role that wrote it: a terminal is read line by line.
  const prettify = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,node,role', singleLine: true, messageFormat: '{if role}{role}: {end}{msg}' });
  return { write: (line: string) => output.write(prettify(line)) };
}

/**
 * The logger of a node started by `mayday start` or `mayday run`: on standard output, or
 * on `output` (tests).
 */
export async function createNodeLogger(config: Config, output?: LogOutput): Promise<Logger> {
  const options = { level: config.log.level, base: { node: config.node.name } };
  const isTTY = output ? output.isTTY : process.stdout.isTTY;
  if (chooseLogFormat(config.log.format, isTTY) === 'json') {
    // pino's own destination for standard output: what the node always wrote.
    return output ? pino(options, output as DestinationStream) : pino(options);
  }
  return pino(options, await prettyDestination(output ?? process.stdout, isTTY === true));
}
