import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../../src/common/seeded-random.js';
import { CoverageMap } from '../../scripts/fuzz/coverage.js';
import { dictionaryBytes, mutate, type MutationContext } from '../../scripts/fuzz/mutate.js';
import { runFuzzer } from './support.js';

const encoder = new TextEncoder();

function context(seed: number, overrides: Partial<MutationContext> = {}): MutationContext {
  return { random: rng(seed), dictionary: dictionaryBytes(['MDMP', 'FUNC ']), corpus: [encoder.encode('another input\nwith lines\n')], maxLength: 64, text: true, ...overrides };
}

describe('mutations', () => {
  const parent = encoder.encode('MODULE Linux x86_64 0123 app\nFUNC 1000 10 0 main\n1000 10 1 0\n');

  it('are deterministic for a seed', () => {
    const a = Array.from({ length: 50 }, (_, i) => mutate(parent, context(i)));
    const b = Array.from({ length: 50 }, (_, i) => mutate(parent, context(i)));
    expect(a).toEqual(b);
  });

  it('change the input, keep within the length limit, and leave the parent alone', () => {
    const copy = parent.slice();
    const ctx = context(7);
    const children = Array.from({ length: 500 }, () => mutate(parent, ctx));
    expect(parent).toEqual(copy);
    expect(children.every((c) => c.length <= 64)).toBe(true);
    const changed = children.filter((c) => c.length !== parent.length || c.some((v, i) => v !== parent[i]));
    expect(changed.length).toBeGreaterThan(450);
    // Dictionary tokens and splices from the corpus show up.
    const text = children.map((c) => new TextDecoder().decode(c));
    expect(text.some((t) => t.includes('MDMP'))).toBe(true);
    expect(text.some((t) => t.includes('another') || t.includes('with lines'))).toBe(true);
  });

  it('use the target mutators when there are some', () => {
    const marker = encoder.encode('CUSTOM');
    const ctx = context(3, { custom: [() => marker] });
    const children = Array.from({ length: 200 }, () => mutate(parent, ctx));
    expect(children.some((c) => new TextDecoder().decode(c).includes('CUSTOM'))).toBe(true);
  });
});

describe('the coverage map', () => {
  it('adopts istanbul counters, clears them, and reports a counter reaching a new hit-count bucket', () => {
    const variable = '__fuzzCoverageTest__';
    const file = { s: { 0: 0, 1: 0 }, f: { 0: 0 }, b: { 0: [0, 0], 1: [0, 0, 0] } };
    (globalThis as Record<string, unknown>)[variable] = { '/x.js': file };
    const map = new CoverageMap(variable);
    map.adoptNewFiles();
    expect(map.summary()).toMatchObject({ branchesTotal: 5, branchesCovered: 0, statementsTotal: 2, files: 1 });
    const counters = file as unknown as { s: Uint32Array; b: Record<string, Uint32Array> };

    map.reset();
    counters.s[0]++;
    counters.b[0][1]++;
    expect(map.collect()).toBe(2);
    expect(map.summary()).toMatchObject({ branchesCovered: 1, statementsCovered: 1 });

    map.reset();
    counters.b[0][1]++;
    expect(map.collect()).toBe(0); // the same as before: nothing new

    map.reset();
    counters.b[0][1] += 5; // 5 hits: the 4-7 bucket is new
    expect(map.collect()).toBe(1);
    expect(map.summary().branchesCovered).toBe(1);
    delete (globalThis as Record<string, unknown>)[variable];
  });
});

describe('the fuzzer finds planted bugs behind a four-byte word (coverage feedback at work)', () => {
  it.concurrent.each([
    ['exception', 'exception'],
    ['hang', 'hang'],
    ['never-settles', 'hang'],
  ])('PLANTED_BUG=%s is reported as a %s finding, with its input saved', async (bug, kind) => {
    const run = await runFuzzer('planted', 500_000, 1, ['--hang-seconds', '1', '--max-findings', '1'], { PLANTED_BUG: bug });
    expect(run.exitCode, run.output).toBe(1);
    expect(run.summary.findings, run.output).toHaveLength(1);
    expect(run.summary.findings[0]).toMatch(new RegExp(`^${kind}`));
    expect(run.findingFiles).toEqual([expect.stringMatching(new RegExp(`^${kind}-[0-9a-f]{12}\\.bin$`))]);
    // Far fewer executions than blind guessing would need (2^32 tries for a 4-byte word).
    if (run.summary.status) expect(run.summary.status.runs).toBeLessThan(500_000);
  }, 60_000);
});
