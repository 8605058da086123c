import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { fsSymbolLoader, symbolStorePath } from '../../src/adapters/fs-symbol-supplier.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureSymbols = path.join(root, 'fixtures/corpus/symbols');
const publicCorpus = path.resolve(root, '../shared/corpus/public');
const havePublic = existsSync(path.join(publicCorpus, 'manifest.json'));

const ID = '976F2167C7F8BCF5CD91FBC5AEF299110';

describe('symbolStorePath', () => {
  it('uses DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym', () => {
    expect(symbolStorePath({ debugFile: 'libc.so.6', debugId: ID })).toBe(`libc.so.6/${ID}/libc.so.6.sym`);
  });

  it('strips a .pdb extension (any case) from the .sym name only', () => {
    expect(symbolStorePath({ debugFile: 'foo.pdb', debugId: ID })).toBe(`foo.pdb/${ID}/foo.sym`);
    expect(symbolStorePath({ debugFile: 'FOO.PDB', debugId: ID })).toBe(`FOO.PDB/${ID}/FOO.sym`);
    expect(symbolStorePath({ debugFile: '.pdb', debugId: ID })).toBe(`.pdb/${ID}/.pdb.sym`);
  });

  it('keeps only the last component of a debug file given as a path, as Breakpad does', () => {
    expect(symbolStorePath({ debugFile: 'C:\\build\\out\\app.pdb', debugId: ID })).toBe(`app.pdb/${ID}/app.sym`);
    expect(symbolStorePath({ debugFile: '/usr/lib/libm.so.6', debugId: ID })).toBe(`libm.so.6/${ID}/libm.so.6.sym`);
  });

  it.each([
    ['an empty name', ''],
    ['a name ending in a separator', 'lib/'],
    ['a dot-dot name', '..'],
    ['a traversal in a path', '..\\..'],
    ['a name containing ..', 'a..b'],
    ['a dot', '.'],
    ['a NUL', 'lib\u0000.so'],
  ])('refuses %s', (_label, debugFile) => {
    expect(symbolStorePath({ debugFile, debugId: ID })).toBeUndefined();
  });

  it.each(['', '../x', 'AB/CD', 'AB\\CD', 'A B'])('refuses the debug id %j', (debugId) => {
    expect(symbolStorePath({ debugFile: 'libc.so.6', debugId })).toBeUndefined();
  });
});

describe('fsSymbolLoader', () => {
  it('reads a symbol file of the fixtures corpus', async () => {
    const bytes = await fsSymbolLoader([fixtureSymbols])({ debugFile: 'example-app', debugId: ID });
    expect(bytes).toBeDefined();
    expect(new TextDecoder().decode(bytes?.subarray(0, 80))).toMatch(/^MODULE Linux x86_64 976F2167C7F8BCF5CD91FBC5AEF299110 example-app/);
  });

  it('answers undefined for an unknown module and for a refused name', async () => {
    const load = fsSymbolLoader([fixtureSymbols]);
    expect(await load({ debugFile: 'example-app', debugId: 'FFFF' })).toBeUndefined();
    expect(await load({ debugFile: 'nothing', debugId: ID })).toBeUndefined();
    expect(await load({ debugFile: '..', debugId: ID })).toBeUndefined();
  });

  it('searches directories in order: the first that has the file wins', async () => {
    const first = mkdtempSync(path.join(tmpdir(), 'mayday-sym-'));
    const second = mkdtempSync(path.join(tmpdir(), 'mayday-sym-'));
    for (const [dir, text] of [
      [first, 'first'],
      [second, 'second'],
    ]) {
      mkdirSync(path.join(dir, 'app.pdb', 'ABC1'), { recursive: true });
      writeFileSync(path.join(dir, 'app.pdb', 'ABC1', 'app.sym'), text);
    }
    mkdirSync(path.join(second, 'only.so', 'ABC1'), { recursive: true });
    writeFileSync(path.join(second, 'only.so', 'ABC1', 'only.so.sym'), 'only');
    const load = fsSymbolLoader([path.join(first, 'missing-dir'), first, second]);
    const text = async (debugFile: string) => new TextDecoder().decode(await load({ debugFile, debugId: 'ABC1' }));
    expect(await text('app.pdb')).toBe('first');
    expect(await text('only.so')).toBe('only');
  });

  it('rejects on I/O errors other than a missing file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mayday-sym-'));
    // A directory where the file should be: EISDIR, not "missing".
    mkdirSync(path.join(dir, 'x.so', 'ABC1', 'x.so.sym'), { recursive: true });
    await expect(fsSymbolLoader([dir])({ debugFile: 'x.so', debugId: 'ABC1' })).rejects.toThrow();
  });

  it.skipIf(!havePublic)('reads a .pdb module of the public corpus (skipped when ../shared/corpus/public is absent)', async () => {
    const dir = path.join(publicCorpus, 'google-breakpad/symbols');
    const bytes = await fsSymbolLoader([fixtureSymbols, dir])({
      debugFile: 'test_app.pdb',
      debugId: '5A9832E5287241C1838ED98914E9B7FF1',
    });
    expect(bytes).toEqual(readFileSync(path.join(dir, 'test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym')));
  });
});
