import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { loadConfig, formatFinding, type IncludeReader } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UserError } from '../common/errors.js';

/**
 * Loads a node's configuration for a command: the file (if any), the environment and the
 * command-line overrides. Every finding is printed as `file:line: severity: message`;
 * errors stop the command with all of them listed, never a stack trace.
 */
export function loadNodeConfig(file: string | undefined, overrides: Record<string, string>): Config {
  let text: string | undefined;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UserError(`${file}: cannot read the configuration file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const result = loadConfig({ file: text === undefined ? undefined : { name: file!, text }, readInclude: readIncludeFromDisk, env: process.env, overrides });
  for (const finding of result.findings.filter((f) => f.severity === 'warning')) process.stderr.write(formatFinding(finding) + '\n');
  if (!result.config) {
    const errors = result.findings.filter((f) => f.severity === 'error').map(formatFinding);
    throw new UserError(`${errors.join('\n')}\nmayday: the configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was started.`);
  }
  return result.config;
}

/** `include = PATH` is relative to the directory of the file that names it. */
export const readIncludeFromDisk: IncludeReader = (path, from) => {
  const name = isAbsolute(path) ? path : join(dirname(from), path);
  try {
    return { name, text: readFileSync(name, 'utf8') };
  } catch (error) {
    throw new Error(`${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
};
