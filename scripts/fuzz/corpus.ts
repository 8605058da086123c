/**
 * Seeds from the crash corpus: the project's own (fixtures/corpus) and, when this checkout
 * sits next to it, the shared one (../shared/corpus/linux-x86_64 and public). Files are
 * read where they are; nothing of the shared corpus is ever copied into the project.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, SHARED_CORPUS } from './target.js';

export const CORPUS_ROOTS = [join(PROJECT_ROOT, 'fixtures/corpus'), join(SHARED_CORPUS, 'linux-x86_64'), join(SHARED_CORPUS, 'public')].filter((dir) => existsSync(dir));

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
}

/** Every corpus file whose name ends with `suffix`, at most `maxBytes` long, in a stable order. */
export function corpusFiles(suffix: string, maxBytes = Infinity): string[] {
  const out: string[] = [];
  for (const root of CORPUS_ROOTS) walk(root, out);
  return out.filter((path) => path.endsWith(suffix) && statSync(path).size <= maxBytes).sort();
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
