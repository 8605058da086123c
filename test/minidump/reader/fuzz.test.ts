import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzMinidumpReader, mutate, rng } from './fuzz-harness.js';
import { sampleLinuxDump, sampleWindowsDump } from './samples.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function seeds(): Uint8Array[] {
  const dir = join(root, 'fixtures/corpus/dumps');
  const real = readdirSync(dir)
    .filter((f) => f.endsWith('.dmp'))
    .slice(0, 2)
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
  return [sampleLinuxDump(), sampleWindowsDump(), sampleLinuxDump(true), ...real];
}

describe('reader fuzzing', () => {
  it('mutations are deterministic for a seed and do change the input', () => {
    const s = seeds();
    const a = mutate(s, rng(7));
    const b = mutate(s, rng(7));
    expect(a).toEqual(b);
    const changed = Array.from({ length: 50 }, (_, i) => mutate(s, rng(i))).filter((m) => !s.some((x) => x.length === m.length && x.every((v, j) => v === m[j])));
    expect(changed.length).toBeGreaterThan(40);
  });

  it('survives 2,000 mutated dumps without throwing, hanging or internal errors', async () => {
    let extraCalls = 0;
    const report = await fuzzMinidumpReader({
      inputs: 2000,
      seed: 20240601,
      seeds: seeds(),
      maxMillisPerInput: 200,
      perInput: (dump) => {
        // Exercise the accessors a stack walker would use.
        extraCalls++;
        const ctx = dump.crashingContext();
        if (ctx?.stackPointer !== undefined) dump.memory.readU64(ctx.stackPointer);
        for (const t of dump.threads.slice(0, 4)) if (t.context?.instructionPointer !== undefined) dump.moduleForAddress(t.context.instructionPointer);
      },
    });
    expect(report.failures.map((f) => `#${f.index}: ${f.reason}`)).toEqual([]);
    expect(extraCalls).toBe(2000);
    expect(report.withErrors).toBeGreaterThan(1000);
  });

  it('reports a throwing per-input function as a failure', async () => {
    const report = await fuzzMinidumpReader({
      inputs: 3,
      seeds: [sampleLinuxDump()],
      perInput: () => {
        throw new Error('walker bug');
      },
    });
    expect(report.failures).toHaveLength(3);
    expect(report.failures[0].reason).toMatch(/walker bug/);
  });
});
