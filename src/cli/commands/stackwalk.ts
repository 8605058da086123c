/**
 * `mayday stackwalk DUMP... [--symbols-path DIR ...] [--json] [--pretty] [--machine-readable]`
 *
 * Walks and symbolizes minidumps like Breakpad's `minidump_stackwalk`: plain output is
 * Breakpad's human layout, `--machine-readable` its `-m` pipe layout, `--json` the
 * `json_dump` document (one line per dump, in argument order; `--pretty` indents). All
 * dumps share one symbol cache, so a module's symbols are parsed once per run.
 * A dump that cannot be read is reported on stderr with its file name and makes the exit
 * code 1; the other dumps are still processed.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsSymbolLoader } from '../../adapters/fs-symbol-supplier.js';
import { toHumanReadable, toJsonDump, toMachineReadable } from '../../minidump/output/index.js';
import { MemoizedSymbols, processMinidump } from '../../minidump/process/index.js';
import { readMinidump } from '../../minidump/reader/index.js';
import { SymbolCache } from '../../minidump/symbols/index.js';

export interface StackwalkOptions {
  readonly symbolsPath: string[];
  readonly json?: boolean;
  readonly pretty?: boolean;
  readonly machineReadable?: boolean;
}

/** Symbols kept in memory for one run (parsed symbol files can be large). */
const SYMBOL_BUDGET_BYTES = 1024 * 1024 * 1024;

/** How many DEBUG_FILE directories are looked into before a store is taken to have no layout. */
const LAYOUT_PROBE_LIMIT = 200;

/**
 * Why a `--symbols-path` cannot give any symbols (it does not exist, is not a directory,
 * or holds no DEBUG_FILE/DEBUG_ID/NAME.sym file), or undefined when it looks like a
 * symbol store. Looks only until the first symbol file.
 */
export async function symbolsPathProblem(dir: string): Promise<string | undefined> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`;
  }
  const subdirs = async (d: string): Promise<string[]> => {
    try {
      return (await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  let probed = 0;
  for (const debugFile of await subdirs(dir)) {
    if (++probed > LAYOUT_PROBE_LIMIT) break;
    for (const debugId of await subdirs(join(dir, debugFile))) {
      try {
        const files = await readdir(join(dir, debugFile, debugId));
        if (files.some((f) => f.endsWith('.sym'))) return undefined;
      } catch {
        // Unreadable: look on.
      }
    }
  }
  return 'holds no symbol store layout (DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym, e.g. libfoo.so/0123ABCD.../libfoo.so.sym)';
}

/** Runs the command; answers the exit code. Output goes through the given writers. */
export async function runStackwalk(
  dumps: readonly string[],
  options: StackwalkOptions,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  for (const dir of options.symbolsPath) {
    const problem = await symbolsPathProblem(dir);
    if (problem !== undefined) err(`mayday stackwalk: warning: --symbols-path ${dir} ${problem}; no symbols will be found there\n`);
  }
  const cache = new SymbolCache({
    loader: fsSymbolLoader(options.symbolsPath),
    budgetBytes: SYMBOL_BUDGET_BYTES,
    onLoadError: (module, error) => err(`symbols for ${module.debugFile} ${module.debugId}: ${String(error)}\n`),
  });
  const symbolSource = new MemoizedSymbols(cache);
  let exitCode = 0;
  for (const file of dumps) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (error) {
      err(`${file}: ${(error as Error).message}\n`);
      exitCode = 1;
      continue;
    }
    const dump = readMinidump(bytes);
    const state = await processMinidump(dump, cache, { symbolSource });
    if (state.fatal) {
      err(`${file}: ${state.fatal}\n`);
      exitCode = 1;
    }
    if (options.json) out(`${JSON.stringify(toJsonDump(state), null, options.pretty ? 2 : undefined)}\n`);
    else if (options.machineReadable) out(toMachineReadable(state));
    else out(toHumanReadable(state));
  }
  return exitCode;
}
