import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzMinidumpReader } from './reader/fuzz-harness.js';
import { processMinidump } from '../../src/minidump/process/index.js';
import { toJsonDump } from '../../src/minidump/output/index.js';
import { SymbolCache } from '../../src/minidump/symbols/index.js';
import { fsSymbolLoader } from '../../src/adapters/fs-symbol-supplier.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The short in-suite run of `npm run fuzz:minidump`: mutated real dumps through the walker. */
describe('stack walker fuzzing', () => {
  it('walks 1,000 mutated corpus dumps with symbols without throwing or hanging', async () => {
    const dir = join(root, 'fixtures/corpus/dumps');
    const seeds = readdirSync(dir)
      .filter((f) => f.endsWith('.dmp'))
      .map((f) => new Uint8Array(readFileSync(join(dir, f))));
    const symbols = new SymbolCache({ loader: fsSymbolLoader([join(root, 'fixtures/corpus/symbols')]), budgetBytes: 128 * 1024 * 1024 });
    let frames = 0;
    const report = await fuzzMinidumpReader({
      inputs: 1000,
      seed: 20261128,
      seeds,
      maxMillisPerInput: 1000,
      perInput: async (dump) => {
        const state = await processMinidump(dump, symbols);
        const json = toJsonDump(state) as { threads?: { frames?: unknown[] }[] };
        for (const thread of json.threads ?? []) frames += thread.frames?.length ?? 0;
      },
    });
    expect(report.failures.map((f) => `#${f.index}: ${f.reason}`)).toEqual([]);
    // The mutations must leave most stacks walkable, or this test would prove little.
    expect(frames).toBeGreaterThan(10_000);
  });
});
