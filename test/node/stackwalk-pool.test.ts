/**
 * The processor's stackwalk threads (`StackwalkPool`): the same documents as the engine in
 * process, symbol invalidations that reach every thread, and hard limits that end a
 * thread (and only that walk) when the walker's own deadline check cannot help.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineStackwalker } from '../../src/node/engine-stackwalker.js';
import { StackwalkPool, mainModuleHash, type StackwalkPoolOptions } from '../../src/node/stackwalk-pool.js';
import { CrashLimitError } from '../../src/roles/processor/rule.js';
import { CORPUS } from '../support/corpus.js';
import { APP, APP_DUMP, APP_SYM, OTHER_DUMP, copyCorpusSymbols, hangingSymbolFile, manyModulesDump, writeBigAppSymbols } from './stackwalk-fixtures.js';

const dirs: string[] = [];
const pools: StackwalkPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-stackwalk-pool-'));
  dirs.push(dir);
  return dir;
}

function pool(symbolsDir: string, options: Partial<StackwalkPoolOptions> = {}): StackwalkPool {
  const created = new StackwalkPool({
    symbols: { store: { kind: 'fs', dir: symbolsDir }, directories: [], upstream: [] },
    workers: 1,
    cacheBytes: 64 * 2 ** 20,
    graceMs: 200,
    ...options,
  });
  pools.push(created);
  return created;
}

interface ModuleDoc {
  debug_file?: string;
  missing_symbols?: boolean;
}
const appModule = (jsonDump: Record<string, unknown>): ModuleDoc | undefined => (jsonDump.modules as ModuleDoc[]).find((m) => m.debug_file === APP.debugFile);

/** The `CrashLimitError` a walk failed with. */
async function limitError(run: Promise<unknown>): Promise<CrashLimitError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrashLimitError);
  return error as CrashLimitError;
}

let bigSymbols: string;
let hugeSymbols: string;
beforeAll(() => {
  bigSymbols = tempDir();
  copyCorpusSymbols(bigSymbols, { withApp: false });
  writeBigAppSymbols(bigSymbols, 24);
  // Long enough to parse (seconds) that a main thread slowed by a loaded machine still ends it first.
  hugeSymbols = tempDir();
  copyCorpusSymbols(hugeSymbols, { withApp: false });
  writeBigAppSymbols(hugeSymbols, 96);
});

describe('routing by main module', () => {
  it('gives the dumps of one build one hash, other builds others, and damaged dumps a hash without reading out of bounds', () => {
    const dumps = readdirSync(join(CORPUS, 'dumps')).map((name) => ({ name, bytes: readFileSync(join(CORPUS, 'dumps', name)) }));
    const byBuild = new Map<string, Set<number>>();
    for (const { name, bytes } of dumps) {
      const build = name.startsWith('example-app-debug-') ? 'debug' : 'release';
      byBuild.set(build, (byBuild.get(build) ?? new Set()).add(mainModuleHash(bytes)));
    }
    expect([...byBuild.values()].map((hashes) => hashes.size)).toEqual([1, 1]);
    expect(new Set([...byBuild.values()].flatMap((hashes) => [...hashes])).size).toBe(2);
    const dump = readFileSync(APP_DUMP);
    for (let length = 0; length < dump.length; length += 97) expect(Number.isInteger(mainModuleHash(dump.subarray(0, length)))).toBe(true);
    expect(mainModuleHash(Buffer.from('not a minidump'))).toBe(0);
    expect(mainModuleHash(manyModulesDump(3))).toBe(mainModuleHash(manyModulesDump(5)));
  });
});

describe('stackwalk pool', () => {
  it('gives the corpus dumps the documents the engine gives in process', async () => {
    const symbols = join(CORPUS, 'symbols');
    const threads = pool(symbols, { workers: 2 });
    const local = createEngineStackwalker({ symbolPaths: [symbols], cacheBytes: 64 * 2 ** 20 });
    // Both executables, with and without frame pointers, on both threads.
    const dumps = readdirSync(join(CORPUS, 'dumps')).filter((name) => /-(null|thread|overflow)\.dmp$/.test(name));
    const results = await Promise.all(dumps.map((name) => threads.stackwalk(readFileSync(join(CORPUS, 'dumps', name)), { deadline: performance.now() + 20_000 })));
    for (const [i, name] of dumps.entries()) expect(results[i], name).toEqual(await local(readFileSync(join(CORPUS, 'dumps', name))));
  });

  it('applies an invalidation in every thread before its next walk', async () => {
    const symbols = tempDir();
    copyCorpusSymbols(symbols, { withApp: false });
    const threads = pool(symbols, { workers: 2 });
    const dump = readFileSync(APP_DUMP);
    // Both threads walk the dump without the app's symbols and remember the miss.
    while (threads.threadsUsed < 2) {
      for (const result of await Promise.all([1, 2, 3, 4].map(() => threads.stackwalk(dump)))) expect(appModule(result.jsonDump)?.missing_symbols).toBe(true);
    }
    mkdirSync(dirname(join(symbols, APP_SYM)), { recursive: true });
    copyFileSync(join(CORPUS, 'symbols', APP_SYM), join(symbols, APP_SYM));
    threads.invalidate(APP);
    // Four walks at once on two threads: each thread takes at least one.
    for (const result of await Promise.all([1, 2, 3, 4].map(() => threads.stackwalk(dump)))) expect(appModule(result.jsonDump)?.missing_symbols).toBe(false);
  });

  it('ends a thread still walking after the deadline and grace, where the walker never checks its deadline, then walks the next dump', async () => {
    const hangingSymbols = tempDir();
    copyCorpusSymbols(hangingSymbols, { withApp: false });
    const hanging = hangingSymbolFile(hangingSymbols, APP_SYM);
    try {
      const cases = [
        { what: 'one long symbol parse (96 MB)', symbols: hugeSymbols },
        { what: 'a symbol read that never ends', symbols: hangingSymbols },
      ];
      for (const { what, symbols } of cases) {
        const threads = pool(symbols, { graceMs: 100 });
        // Warm up: the thread is started, and the small symbols are cached.
        await threads.stackwalk(readFileSync(OTHER_DUMP));
        const started = performance.now();
        const error = await limitError(threads.stackwalk(readFileSync(APP_DUMP), { deadline: performance.now() + 50 }));
        expect(error.limit, what).toBe('time');
        expect(error.message).toMatch(/time limit.*worker thread was ended/);
        // The thread was ended at the deadline and grace (150 ms), in the middle of either: the
        // bound leaves room for a loaded machine, the limit's name says which end it was.
        expect(performance.now() - started, what).toBeLessThan(2000);
        expect(threads.ended.time).toBe(1);
        const next = await threads.stackwalk(readFileSync(OTHER_DUMP), { deadline: performance.now() + 20_000 });
        expect(next.errors).toEqual([]);
        expect(threads.threads).toBe(1);
      }
    } finally {
      hanging.release();
    }
  });

  it('ends a thread whose heap goes over the memory limit, refuses a symbol file too big for it, and walks the next dump', async () => {
    const threads = pool(bigSymbols, { memoryLimitBytes: 32 * 2 ** 20 });
    await threads.stackwalk(readFileSync(OTHER_DUMP));
    const heap = await limitError(threads.stackwalk(manyModulesDump(60_000)));
    expect(heap.limit).toBe('memory');
    expect(heap.message).toMatch(/processor\.worker_memory_limit and was ended/);
    expect(threads.ended.memory).toBe(1);
    expect((await threads.stackwalk(readFileSync(OTHER_DUMP))).errors).toEqual([]);

    const symbols = await limitError(threads.stackwalk(readFileSync(APP_DUMP)));
    expect(symbols.limit).toBe('memory');
    expect(symbols.message).toMatch(/symbols of example-app \(24\.\d MB\) need more than processor\.worker_memory_limit \(32 MB\)/);
    // Refused before parsing: nothing to end.
    expect(threads.ended.memory).toBe(1);
    expect((await threads.stackwalk(readFileSync(OTHER_DUMP))).errors).toEqual([]);
  });
});
