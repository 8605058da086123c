import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own sample crashes and their symbols (fixtures/), for `mayday start --demo`. */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/**
 * How often each sample crash is sent, so that the pages show a realistic spread: a few
 * top crashers and a tail, several versions and channels.
 */
const WEIGHTS: Record<string, number> = { null: 14, abort: 9, overflow: 6, divzero: 4, badcall: 3, thread: 2 };
const VERSIONS = ['1.0', '1.1', '2.0', '2.0', '2.1', '2.1', '2.1'];
const CHANNELS = ['release', 'release', 'release', 'beta', 'nightly'];

/** Installs the fixtures' symbols into the node's first symbols directory (nothing is overwritten). */
export function installDemoSymbols(symbolsDir: string): void {
  for (const source of [join(FIXTURES, 'corpus/symbols'), join(FIXTURES, 'inline/symbols')]) {
    if (existsSync(source)) cpSync(source, symbolsDir, { recursive: true, force: false, errorOnExist: false });
  }
}

/**
 * Submits the sample crashes through the running node's real collector, as a Breakpad
 * client would, with annotations varied across products, versions and channels.
 * Returns how many were accepted.
 */
export async function submitDemoCrashes(url: string): Promise<number> {
  const dumps = readdirSync(join(FIXTURES, 'corpus/dumps')).filter((f) => f.endsWith('.dmp')).sort();
  let accepted = 0;
  let n = 0;
  for (const file of dumps) {
    const kind = file.replace(/^example-app-(debug-)?/, '').replace(/\.dmp$/, '');
    const debug = file.includes('-debug-');
    const bytes = readFileSync(join(FIXTURES, 'corpus/dumps', file));
    for (let i = 0; i < (WEIGHTS[kind] ?? 1) * (debug ? 1 : 2); i++, n++) {
      const form = new FormData();
      form.append('ProductName', debug ? 'ExampleDebug' : 'Example');
      form.append('Version', VERSIONS[n % VERSIONS.length]);
      form.append('ReleaseChannel', CHANNELS[(n * 7) % CHANNELS.length]);
      form.append('BuildID', `2026112${n % 8}000000`);
      form.append('upload_file_minidump', new Blob([bytes]), file);
      const response = await fetch(`${url}/submit`, { method: 'POST', body: form });
      if (response.status === 200) accepted++;
      await response.text();
    }
  }
  const inline = join(FIXTURES, 'inline/inline-crasher.dmp');
  if (existsSync(inline)) {
    const form = new FormData();
    form.append('ProductName', 'InlineCrasher');
    form.append('Version', '0.1');
    form.append('upload_file_minidump', new Blob([readFileSync(inline)]), 'inline-crasher.dmp');
    const response = await fetch(`${url}/submit`, { method: 'POST', body: form });
    if (response.status === 200) accepted++;
    await response.text();
  }
  return accepted;
}
