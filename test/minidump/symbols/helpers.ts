import { parseSymbolFile } from '../../../src/minidump/symbols/index.js';
import type { ParsedSymbolFile } from '../../../src/minidump/symbols/index.js';

export const HEADER = 'MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 libtest.so';

/** Parse `MODULE ...` + `lines`, failing the test if the file is corrupt. */
export function parse(...lines: string[]): ParsedSymbolFile {
  const result = parseSymbolFile(new TextEncoder().encode([HEADER, ...lines].join('\n')));
  if (result.status !== 'parsed') throw new Error(`unexpected corrupt file: ${result.error}`);
  return result;
}
