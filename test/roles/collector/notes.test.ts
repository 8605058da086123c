import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { boundedNotes, MAX_COLLECTOR_NOTES } from '../../../src/roles/collector/notes.js';
import { jsonNestsDeeperThan } from '../../../src/roles/collector/json-depth.js';
import { jsonLengthBound } from '../../../src/roles/collector/json-size.js';
import { collectorNotesRule } from '../../../src/roles/processor/rules/annotations.js';
import type { ProcessingContext } from '../../../src/roles/processor/rule.js';
import type { RawCrash } from '../../../src/ports/raw-crash-store.js';

/** Notes cannot grow with what a client sends: not in the raw crash, not in the processed one. */

describe('collector notes', () => {
  it('keeps a repeated note once with its count, and at most a fixed number of notes', () => {
    expect(boundedNotes(['a', 'b', 'a', 'a'])).toEqual(['a (3 times)', 'b']);
    const many = Array.from({ length: 10_000 }, (_, i) => `note ${i}`);
    const kept = boundedNotes(many);
    expect(kept).toHaveLength(MAX_COLLECTOR_NOTES + 1);
    expect(kept.at(-1)).toBe(`${10_000 - MAX_COLLECTOR_NOTES} more collector notes not kept`);
  });

  it('the processor carries a bounded number of them from a raw crash, however many it holds', () => {
    const raw = {
      uuid: 'x',
      submitted_timestamp: new Date().toISOString(),
      annotations: {},
      metadata: { collector_notes: Array.from({ length: 100_000 }, () => 'a part without a name was ignored'), dumps: {}, payload: 'multipart', payload_compressed: true, user_agent: '', throttle_result: 'accept', throttle_rule: 'x' },
    } satisfies RawCrash;
    const notes: string[] = [];
    void collectorNotesRule.act({ raw, notes } as unknown as ProcessingContext);
    expect(notes.length).toBeLessThanOrEqual(51);
    expect(notes.at(-1)).toMatch(/^collector: \d+ more notes not carried over$/);
    // A handful are carried whole.
    const few: string[] = [];
    void collectorNotesRule.act({ raw: { ...raw, metadata: { ...raw.metadata, collector_notes: ['x is empty', 'no upload_file_minidump in the submission'] } }, notes: few } as unknown as ProcessingContext);
    expect(few).toEqual(['collector: x is empty', 'collector: no upload_file_minidump in the submission']);
  });
});

describe('JSON depth', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonNestsDeeperThan('[[[]]]', 3)).toBe(false);
    expect(jsonNestsDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(`{"s":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 1)).toBe(false);
    expect(jsonNestsDeeperThan('[[],[],[[]],[]]', 3)).toBe(false);
    expect(jsonNestsDeeperThan('[[],[],[[]],[]]', 2)).toBe(true);
  });
});

describe('JSON size bound', () => {
  it('is never below the length of the JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }))), (value, record) => {
        expect(jsonLengthBound(value)).toBeGreaterThanOrEqual(JSON.stringify(value).length);
        expect(jsonLengthBound(record)).toBeGreaterThanOrEqual(JSON.stringify(record).length);
      }),
      { numRuns: 500 },
    );
    expect(jsonLengthBound({ a: '\u0001'.repeat(1000) })).toBeGreaterThanOrEqual(JSON.stringify({ a: '\u0001'.repeat(1000) }).length);
  });
});
