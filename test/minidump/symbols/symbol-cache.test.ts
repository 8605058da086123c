import { describe, expect, it } from 'vitest';

import type { CodeModule } from '../../../src/minidump/contracts.js';
import { SymbolCache } from '../../../src/minidump/symbols/index.js';
import type { SymbolLoader } from '../../../src/minidump/symbols/index.js';

function moduleNamed(debugFile: string, debugId = 'ABCDEF0123456789ABCDEF01234567890'): CodeModule {
  return { base: 0x1000n, size: 0x1000n, codeFile: `/lib/${debugFile}`, codeId: '', debugFile, debugId, version: '' };
}

/** A file of about `padding` bytes whose one FUNC is named after the module. */
function symFile(name: string, padding = 0): Uint8Array {
  return new TextEncoder().encode(`MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 ${name}\nFUNC 10 10 0 ${name}_func\n${'#'.repeat(padding)}`);
}

/** A loader over a name -> file table that counts its calls and can be held back. */
function fakeLoader(files: Record<string, Uint8Array | Error>) {
  const calls: string[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const loader: SymbolLoader = async (module) => {
    calls.push(module.debugFile);
    await gate;
    const file = files[module.debugFile];
    if (file instanceof Error) throw file;
    return file;
  };
  return {
    loader,
    calls,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

describe('SymbolCache', () => {
  it('loads, parses and answers lookups; the second request is a hit', async () => {
    const fake = fakeLoader({ 'liba.so': symFile('liba.so') });
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20 });
    const first = await cache.getSymbols(moduleNamed('liba.so'));
    expect(first.status).toBe('loaded');
    if (first.status === 'loaded') expect(first.symbols.lookup(0x12n)?.functionName).toBe('liba.so_func');
    const second = await cache.getSymbols(moduleNamed('liba.so'));
    expect(second).toBe(first);
    expect(fake.calls).toEqual(['liba.so']);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('keys by debug file and debug id', async () => {
    const fake = fakeLoader({ 'liba.so': symFile('liba.so') });
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20 });
    await cache.getSymbols(moduleNamed('liba.so', 'AAAA'));
    await cache.getSymbols(moduleNamed('liba.so', 'BBBB'));
    expect(fake.calls).toHaveLength(2);
  });

  it('shares one load between concurrent requests', async () => {
    const fake = fakeLoader({ 'liba.so': symFile('liba.so') });
    fake.hold();
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20 });
    const requests = [1, 2, 3].map(() => cache.getSymbols(moduleNamed('liba.so')));
    fake.release();
    const results = await Promise.all(requests);
    expect(fake.calls).toEqual(['liba.so']);
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1 });
  });

  it('caches missing and corrupt outcomes', async () => {
    const fake = fakeLoader({ 'bad.so': new TextEncoder().encode('MODULE Linux\n') });
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20 });
    expect(await cache.getSymbols(moduleNamed('none.so'))).toEqual({ status: 'missing' });
    expect(await cache.getSymbols(moduleNamed('bad.so'))).toMatchObject({
      status: 'corrupt',
      error: expect.stringContaining('bad MODULE record'),
    });
    await cache.getSymbols(moduleNamed('none.so'));
    await cache.getSymbols(moduleNamed('bad.so'));
    expect(fake.calls).toEqual(['none.so', 'bad.so']);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 2 });
  });

  it('reads headerless files by default, as Breakpad does, unless told otherwise', async () => {
    const headerless = new TextEncoder().encode('STACK CFI INIT 10 10 .cfa: $rsp 8 +\n');
    const fake = fakeLoader({ 'x.so': headerless });
    const lenient = await new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20 }).getSymbols(moduleNamed('x.so'));
    expect(lenient.status === 'loaded' && lenient.symbols.findCfi(0x10n)?.get('.cfa')).toBe('$rsp 8 +');
    const strict = await new SymbolCache({
      loader: fake.loader,
      budgetBytes: 1 << 20,
      parseOptions: { allowMissingModule: false },
    }).getSymbols(moduleNamed('x.so'));
    expect(strict.status).toBe('corrupt');
  });

  it('reports a loader error, answers missing, and tries again next time', async () => {
    const errors: unknown[] = [];
    const fake = fakeLoader({ 'x.so': new Error('EACCES') });
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 1 << 20, onLoadError: (_m, e) => errors.push(e) });
    expect(await cache.getSymbols(moduleNamed('x.so'))).toEqual({ status: 'missing' });
    expect(await cache.getSymbols(moduleNamed('x.so'))).toEqual({ status: 'missing' });
    expect(fake.calls).toHaveLength(2);
    expect(errors).toHaveLength(2);
    expect(cache.stats).toMatchObject({ loadErrors: 2, entries: 0 });
  });

  it('evicts the least recently used entries to stay within the budget', async () => {
    const files = { 'a.so': symFile('a.so', 10_000), 'b.so': symFile('b.so', 10_000), 'c.so': symFile('c.so', 10_000) };
    const fake = fakeLoader(files);
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 25_000 });
    await cache.getSymbols(moduleNamed('a.so'));
    await cache.getSymbols(moduleNamed('b.so'));
    await cache.getSymbols(moduleNamed('a.so')); // a is now more recent than b
    await cache.getSymbols(moduleNamed('c.so')); // over budget: b goes
    expect(cache.stats.entries).toBe(2);
    expect(cache.stats.evictions).toBe(1);
    expect(cache.stats.bytes).toBeLessThanOrEqual(25_000);
    expect(cache.stats.bytes).toBeGreaterThan(20_000); // the cost counts the retained file bytes
    await cache.getSymbols(moduleNamed('a.so'));
    await cache.getSymbols(moduleNamed('b.so'));
    expect(fake.calls).toEqual(['a.so', 'b.so', 'c.so', 'b.so']);
  });

  it('keeps the entry in use even when it alone exceeds the budget', async () => {
    const fake = fakeLoader({ 'big.so': symFile('big.so', 50_000), 'small.so': symFile('small.so') });
    const cache = new SymbolCache({ loader: fake.loader, budgetBytes: 10_000 });
    await cache.getSymbols(moduleNamed('small.so'));
    const big = await cache.getSymbols(moduleNamed('big.so'));
    expect(big.status).toBe('loaded');
    expect(cache.stats.entries).toBe(1);
    await cache.getSymbols(moduleNamed('big.so'));
    expect(fake.calls).toEqual(['small.so', 'big.so']);
  });

  it('rejects a negative budget', () => {
    expect(() => new SymbolCache({ loader: async () => undefined, budgetBytes: -1 })).toThrow(RangeError);
  });
});
