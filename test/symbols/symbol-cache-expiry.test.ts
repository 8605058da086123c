import { describe, expect, it } from 'vitest';

import type { CodeModule } from '../../src/minidump/contracts.js';
import { SymbolCache } from '../../src/minidump/symbols/index.js';
import type { SymbolLoader } from '../../src/minidump/symbols/index.js';

const ID = 'ABCDEF0123456789ABCDEF01234567890';

function moduleNamed(debugFile: string): CodeModule {
  return { base: 0x1000n, size: 0x1000n, codeFile: `/lib/${debugFile}`, codeId: '', debugFile, debugId: ID, version: '' };
}

function symFile(name: string): Uint8Array {
  return new TextEncoder().encode(`MODULE Linux x86_64 ${ID} ${name}\nFUNC 10 10 0 ${name}_func\n`);
}

/** A mutable store the loader reads, so a test can "upload" a file between lookups. */
function store() {
  const files = new Map<string, Uint8Array>();
  let calls = 0;
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  const loader: SymbolLoader = async (module) => {
    calls++;
    const snapshot = files.get(module.debugFile);
    await gate;
    return snapshot;
  };
  return {
    files,
    loader,
    calls: () => calls,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
}

describe('SymbolCache negative entries and invalidation', () => {
  it('remembers a missing module until the negative TTL passes, then loads again', async () => {
    let now = 1_000;
    const s = store();
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20, negativeTtlMs: 60_000, now: () => now });
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('missing');
    s.files.set('liba.so', symFile('liba.so'));
    now += 59_999;
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('missing');
    expect(s.calls()).toBe(1);
    now += 1;
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('loaded');
    expect(s.calls()).toBe(2);
    expect(cache.stats.expired).toBe(1);
  });

  it('never expires loaded symbols', async () => {
    let now = 0;
    const s = store();
    s.files.set('liba.so', symFile('liba.so'));
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20, negativeTtlMs: 10, now: () => now });
    await cache.getSymbols(moduleNamed('liba.so'));
    now += 1_000_000;
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('loaded');
    expect(s.calls()).toBe(1);
  });

  it('expires corrupt entries too', async () => {
    let now = 0;
    const s = store();
    s.files.set('liba.so', new TextEncoder().encode('MODULE broken\n'));
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20, negativeTtlMs: 100, now: () => now });
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('corrupt');
    s.files.set('liba.so', symFile('liba.so'));
    now = 100;
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('loaded');
  });

  it('keeps negative entries for ever without a TTL (the default)', async () => {
    let now = 0;
    const s = store();
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20, now: () => now });
    await cache.getSymbols(moduleNamed('liba.so'));
    s.files.set('liba.so', symFile('liba.so'));
    now = Number.MAX_SAFE_INTEGER;
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('missing');
  });

  it('invalidate makes the next lookup see a newly stored file at once', async () => {
    const s = store();
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20 });
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('missing');
    s.files.set('liba.so', symFile('liba.so'));
    expect(cache.invalidate('liba.so', ID)).toBe(true);
    expect(cache.stats.entries).toBe(0);
    expect(cache.stats.bytes).toBe(0);
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('loaded');
    expect(cache.invalidate('libother.so', ID)).toBe(false);
  });

  it('does not cache a load that was under way when the module was invalidated', async () => {
    const s = store();
    const cache = new SymbolCache({ loader: s.loader, budgetBytes: 1 << 20 });
    s.hold();
    const stale = cache.getSymbols(moduleNamed('liba.so'));
    await Promise.resolve();
    s.files.set('liba.so', symFile('liba.so'));
    cache.invalidate('liba.so', ID);
    s.release();
    expect((await stale).status).toBe('missing');
    expect((await cache.getSymbols(moduleNamed('liba.so'))).status).toBe('loaded');
    expect(s.calls()).toBe(2);
  });

  it('rejects a negative TTL', () => {
    expect(() => new SymbolCache({ loader: async () => undefined, budgetBytes: 1, negativeTtlMs: -1 })).toThrow(RangeError);
  });
});
