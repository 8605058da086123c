import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './mayday-process.js';

/** The project's own corpus (a copy of ../shared/corpus/linux-x86_64). */
export const CORPUS = join(PROJECT_ROOT, 'fixtures/corpus');

export interface CorpusDump {
  name: string;
  path: string;
  /** Parsed `Crash|reason|address|thread` and `Module|...` lines of the reference output. */
  expected: { reason: string; address: string; crashingThread: number; modules: { file: string; debugId: string; base: string; end: string }[] };
}

export function corpusDumps(): CorpusDump[] {
  return readdirSync(join(CORPUS, 'dumps'))
    .filter((f) => f.endsWith('.dmp'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.dmp$/, '');
      const lines = readFileSync(join(CORPUS, 'expected', `${name}.breakpad-m.txt`), 'utf8').split('\n');
      const crash = lines.find((l) => l.startsWith('Crash|'))!.split('|');
      const modules = lines
        .filter((l) => l.startsWith('Module|'))
        .map((l) => l.split('|'))
        .map((m) => ({ file: m[1], debugId: m[4], base: m[5], end: m[6] }));
      return { name, path: join(CORPUS, 'dumps', file), expected: { reason: crash[1], address: crash[2], crashingThread: Number(crash[3]), modules } };
    });
}

/** Every `.sym` file of a symbol store directory (`DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym`), e.g. the corpus's `symbols/`. */
export function symbolFiles(dir = join(CORPUS, 'symbols')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? symbolFiles(full) : name.endsWith('.sym') ? [full] : [];
  });
}
