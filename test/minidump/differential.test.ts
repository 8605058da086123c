/**
 * Differential test against Breakpad's `minidump_stackwalk -m` output: for every corpus
 * dump, OS, CPU, crash reason/address, crashing thread, module list and every frame's
 * module, function, file, line and offset must match, except for the differences listed
 * (with reasons) in docs/stackwalk-differences.md and allowed, narrowly, below.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { toMachineReadable } from '../../src/minidump/output/index.js';
import { processMinidump } from '../../src/minidump/process/index.js';
import { readMinidump } from '../../src/minidump/reader/index.js';
import { directorySupplier } from './process/dir-supplier.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = join(root, 'fixtures/corpus');
const publicDir = resolve(root, '../shared/corpus/public');
const hasPublic = existsSync(join(publicDir, 'manifest.json'));

interface Parsed {
  readonly header: string[]; // OS, CPU, Crash lines
  readonly modules: string[];
  readonly frames: Map<string, string>; // "thread|frame" -> "module|function|file|line|offset"
}

function parse(text: string): Parsed {
  const header: string[] = [];
  const modules: string[] = [];
  const frames = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (/^(OS|CPU|GPU|Crash)\|/.test(line)) header.push(line);
    else if (line.startsWith('Module|')) modules.push(line);
    else {
      const f = line.split('|');
      frames.set(`${f[0]}|${f[1]}`, f.slice(2).join('|'));
    }
  }
  return { header, modules, frames };
}

/**
 * Known, explained differences (docs/stackwalk-differences.md). Each names the dump and
 * exactly what may differ.
 */
const ALLOWED: Record<string, { readonly extraFramesWhereReferenceHasNone?: boolean }> = {
  // Breakpad rejects the x86 CET/XSAVE context (size it does not know) and walks nothing;
  // our reader decodes the context, so we print frames where the reference has none.
  'google-breakpad/tiny-exe-with-cet-xsave-x86.dmp': { extraFramesWhereReferenceHasNone: true },
};

const summary = { dumps: 0, identical: 0, framesCompared: 0, framesDiffering: 0, allowed: 0 };

async function compare(name: string, dumpPath: string, symbols: string, expectedPath: string): Promise<void> {
  const dump = readMinidump(new Uint8Array(readFileSync(dumpPath)));
  const state = await processMinidump(dump, directorySupplier(symbols));
  const ours = parse(toMachineReadable(state));
  const ref = parse(readFileSync(expectedPath, 'utf8'));
  summary.dumps++;
  expect(ours.header, `${name}: OS/CPU/crash`).toEqual(ref.header);
  expect(ours.modules, `${name}: modules`).toEqual(ref.modules);
  const allow = ALLOWED[name];
  let differing = 0;
  for (const [key, expected] of ref.frames) {
    summary.framesCompared++;
    if (ours.frames.get(key) !== expected) differing++;
    expect(ours.frames.get(key), `${name}: frame ${key}`).toBe(expected);
  }
  const extra = [...ours.frames.keys()].filter((k) => !ref.frames.has(k));
  if (extra.length > 0 && allow?.extraFramesWhereReferenceHasNone && ref.frames.size === 0) {
    summary.allowed += extra.length;
  } else {
    expect(extra, `${name}: frames the reference does not have`).toEqual([]);
  }
  summary.framesDiffering += differing;
  if (differing === 0 && extra.length === 0) summary.identical++;
}

afterAll(() => {
  console.log(
    `stackwalk differential: ${summary.identical}/${summary.dumps} dumps identical; ` +
      `${summary.framesCompared} frames compared, ${summary.framesDiffering} differing; ` +
      `${summary.allowed} extra frames allowed by the documented list`,
  );
});

describe('differential vs Breakpad: fixtures/corpus (linux-x86_64)', () => {
  const dumps = readdirSync(join(corpus, 'dumps')).filter((f) => f.endsWith('.dmp'));
  it.each(dumps)('%s', async (file) => {
    const name = file.replace(/\.dmp$/, '');
    await compare(name, join(corpus, 'dumps', file), join(corpus, 'symbols'), join(corpus, 'expected', `${name}.breakpad-m.txt`));
  });
});

interface ManifestEntry {
  readonly file: string;
  readonly reference: string;
  readonly symbol_path: string | null;
  readonly expected_m: string;
}
const manifest: ManifestEntry[] = hasPublic ? (JSON.parse(readFileSync(join(publicDir, 'manifest.json'), 'utf8')) as { dumps: ManifestEntry[] }).dumps : [];

describe.skipIf(!hasPublic)('differential vs Breakpad: shared public corpus (skipped: ../shared/corpus/public absent)', () => {
  const ok = manifest.filter((d) => d.reference === 'ok');
  it.each(ok.map((d) => [d.file, d] as const))('%s', async (_file, d) => {
    await compare(d.file, join(publicDir, d.file), join(publicDir, d.symbol_path ?? 'no-symbols'), join(publicDir, d.expected_m));
  });

  const rejected = manifest.filter((d) => d.reference !== 'ok');
  it.each(rejected.map((d) => [d.file, d.reference] as const))('%s (reference: %s) processes without throwing, with errors', async (file) => {
    const dump = readMinidump(new Uint8Array(readFileSync(join(publicDir, file))));
    const state = await processMinidump(dump, directorySupplier(join(publicDir, 'none')));
    expect(state.fatal !== undefined || state.errors.length > 0).toBe(true);
    expect(() => toMachineReadable(state)).not.toThrow();
  });
});
