/**
 * Every symbol file of both corpora parses, and lookups agree with Breakpad's reference
 * `minidump_stackwalk` outputs for every frame in a module we have symbols for (function,
 * file, line, the printed offset from the line or function base, and inline frames).
 */

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { symbolStorePath } from '../../../src/adapters/fs-symbol-supplier.js';
import { parseSymbolFile } from '../../../src/minidump/symbols/index.js';
import type { ParsedSymbolFile } from '../../../src/minidump/symbols/index.js';
import { referenceFrames } from './reference-frames.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = path.join(root, 'fixtures/corpus');
const publicCorpus = path.resolve(root, '../shared/corpus/public');
const havePublic = existsSync(path.join(publicCorpus, 'manifest.json'));

/** Files of the public corpus that are broken on purpose, and what is wrong with them. */
const HEADERLESS = new Set([
  'getsentry-symbolic/extra-symbols/crash_linux.cfi-only.sym',
  'getsentry-symbolic/symbols/crash_macos/3F58BC3DEABE3361B5FB52A6762985980/crash_macos.sym',
]);
const CORRUPT = new Set(['getsentry-rust-breakpad/extra-symbols/Corrupt.sym']);

function symFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.sym'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

const parsedCache = new Map<string, ParsedSymbolFile | undefined>();
function load(file: string): ParsedSymbolFile | undefined {
  if (!parsedCache.has(file)) {
    const result = existsSync(file) ? parseSymbolFile(readFileSync(file), { allowMissingModule: true }) : undefined;
    parsedCache.set(file, result?.status === 'parsed' ? result : undefined);
  }
  return parsedCache.get(file);
}

const normalise = (file: string | undefined) => file?.split(/[\\/]/).pop();

/** Compare our lookups with the reference frames of one dump; returns how many were checked. */
function checkDump(name: string, human: string, machine: string, symbolDir: string): { frames: number; inlined: number } {
  let frames = 0;
  let inlined = 0;
  for (const frame of referenceFrames(name, human, machine)) {
    const relative = symbolStorePath(frame.module);
    const parsed = relative && load(path.join(symbolDir, relative));
    if (!parsed) continue;
    const hit = parsed.symbols.lookup(frame.address);
    const base = frame.file !== undefined ? hit?.lineBase : hit?.functionBase;
    // Breakpad strips directories from file names in its human-readable output.
    expect({
      where: frame.where,
      functionName: hit?.functionName,
      file: normalise(hit?.file),
      line: hit?.line,
      offset: hit && base !== undefined ? frame.returnAddress - base : undefined,
      inlines: hit?.inlines.map((i) => ({ functionName: i.functionName, file: normalise(i.file), line: i.line })) ?? [],
    }).toEqual({
      where: frame.where,
      functionName: frame.functionName,
      file: frame.file,
      line: frame.line,
      offset: frame.functionName === undefined ? undefined : frame.offset,
      inlines: frame.inlines,
    });
    frames++;
    if (frame.inlines.length > 0) inlined++;
  }
  return { frames, inlined };
}

describe('fixtures corpus (linux-x86_64)', () => {
  it.each(symFiles(path.join(fixtures, 'symbols')))('parses %s without errors', (file) => {
    const result = parseSymbolFile(readFileSync(path.join(fixtures, 'symbols', file)));
    expect(result.status).toBe('parsed');
    if (result.status !== 'parsed') return;
    expect(result.errors).toEqual([]);
    expect(result.symbols.corrupt).toBe(false);
    // The store layout names the module: DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym.
    const [debugFile, debugId] = file.split('/');
    expect(result.module).toMatchObject({ debugFile, debugId, os: 'Linux', cpu: 'x86_64' });
    expect(result.symbols.publicCount + result.symbols.functionCount).toBeGreaterThan(0);
  });

  it('agrees with Breakpad on every symbolized frame of the 12 dumps', () => {
    let total = 0;
    for (const dump of readdirSync(path.join(fixtures, 'dumps'))) {
      const name = dump.replace(/\.dmp$/, '');
      const read = (suffix: string) => readFileSync(path.join(fixtures, 'expected', `${name}${suffix}`), 'utf8');
      total += checkDump(name, read('.breakpad.txt'), read('.breakpad-m.txt'), path.join(fixtures, 'symbols')).frames;
    }
    expect(total).toBeGreaterThan(200);
  });

  it('a few addresses checked by hand against example-app-null.breakpad.txt', () => {
    const app = load(path.join(fixtures, 'symbols/example-app/976F2167C7F8BCF5CD91FBC5AEF299110/example-app.sym'));
    // Frame 0: rip 0x564fd55a4274, module base 0x564fd55a1000 -> offset 0x3274,
    // printed "crash_null_deref(Widget*) [crasher.cc : 14 + 0x4]".
    expect(app?.symbols.lookup(0x3274n)).toMatchObject({
      functionName: 'crash_null_deref(Widget*)',
      file: '/srv/example-app/crasher.cc',
      line: 14,
      lineBase: 0x3270n,
    });
    // Frame 1: return address 0x328d - 1, printed "layout_frame(Widget*, int) [crasher.cc : 15 + 0x5]".
    expect(app?.symbols.lookup(0x328cn)).toMatchObject({ functionName: 'layout_frame(Widget*, int)', line: 15, lineBase: 0x3288n });
  });
});

describe.skipIf(!havePublic)('public corpus (../shared/corpus/public; skipped when that folder is absent)', () => {
  const files = havePublic ? symFiles(publicCorpus) : [];

  it('has symbol files', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('parses %s', (file) => {
    const bytes = readFileSync(path.join(publicCorpus, file));
    const strict = parseSymbolFile(bytes);
    if (HEADERLESS.has(file)) {
      expect(strict.status).toBe('corrupt');
      const lenient = parseSymbolFile(bytes, { allowMissingModule: true });
      expect(lenient.status === 'parsed' && lenient.errors).toEqual([{ line: 1, message: 'expected a MODULE record first' }]);
      return;
    }
    expect(strict.status).toBe('parsed');
    if (strict.status !== 'parsed') return;
    if (CORRUPT.has(file)) {
      expect(strict.errors.length).toBeGreaterThan(0);
      expect(strict.symbols.corrupt).toBe(true);
    } else {
      expect(strict.errors).toEqual([]);
      expect(strict.symbols.corrupt).toBe(false);
    }
  });

  it('agrees with Breakpad on every symbolized amd64/x86 frame, inlines included', () => {
    const manifest = JSON.parse(readFileSync(path.join(publicCorpus, 'manifest.json'), 'utf8')) as {
      dumps: { file: string; reference: string; symbol_path?: string }[];
    };
    let frames = 0;
    let inlined = 0;
    for (const dump of manifest.dumps) {
      if (dump.reference !== 'ok' || !dump.symbol_path) continue;
      const human = path.join(publicCorpus, `${dump.file}.breakpad.txt`);
      const machine = path.join(publicCorpus, `${dump.file}.breakpad-m.txt`);
      if (!existsSync(human) || !existsSync(machine)) continue;
      const counts = checkDump(dump.file, readFileSync(human, 'utf8'), readFileSync(machine, 'utf8'), path.join(publicCorpus, dump.symbol_path));
      frames += counts.frames;
      inlined += counts.inlined;
    }
    expect(frames).toBeGreaterThan(100);
    expect(inlined).toBeGreaterThan(0);
  });
});
