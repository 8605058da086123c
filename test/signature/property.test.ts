import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSignature } from '../../src/signature/generator.js';
import { frameFromJson, signatureInputFromCrash } from '../../src/signature/input.js';
import { loadSignatureLists } from '../../src/roles/processor/signature-rule.js';

const lists = loadSignatureLists();

/** Names built from the characters symbol names are made of, plus anything at all. */
const symbolish = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ab:_<>()[]{}`\'&*, .#$~-0123456789'.split('')), maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('abort', 'raise', 'memcpy', 'operator<<', 'main.cold', '`anonymous namespace\'', 'a::h0123456789abcdef', '{closure#1}'),
);
const hex = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => `0x${n.toString(16)}`);
const frame = fc.record(
  {
    function: fc.option(symbolish),
    module: fc.option(symbolish),
    file: fc.option(symbolish),
    line: fc.option(fc.integer()),
    module_offset: fc.option(fc.oneof(hex, symbolish)),
    offset: fc.option(fc.oneof(hex, symbolish)),
    inlines: fc.option(fc.array(fc.record({ function: fc.option(symbolish), file: fc.option(symbolish), line: fc.option(fc.integer()) }, { requiredKeys: [] }), { maxLength: 3 })),
  },
  { requiredKeys: [] },
);

function isPrintable(text: string): boolean {
  return !/[\p{C}\p{Zl}\p{Zp}]/u.test(text) && !/\s{2}|^\s|\s$/.test(text) && !/[\t\n\r]/.test(text);
}

describe('signature generation on any input', () => {
  it('never throws and gives at most 255 printable characters', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 60 }),
        fc.option(fc.nat({ max: 3 })),
        fc.record({ abortMessage: fc.option(symbolish), oomAllocationSize: fc.option(fc.nat()), hang: fc.boolean(), reason: fc.option(symbolish), address: fc.option(hex), stackPointer: fc.option(hex) }, { requiredKeys: [] }),
        (frames, crashingThread, extra) => {
          const result = generateSignature(
            {
              crashingThread: crashingThread ?? null,
              frames: frames.map(frameFromJson),
              abortMessage: extra.abortMessage ?? undefined,
              oomAllocationSize: extra.oomAllocationSize ?? undefined,
              hang: extra.hang,
              reason: extra.reason ?? undefined,
              address: extra.address ?? undefined,
              stackPointer: extra.stackPointer ?? undefined,
            },
            lists,
          );
          expect([...result.signature].length).toBeLessThanOrEqual(255);
          expect(result.signature.length).toBeGreaterThan(0);
          expect(isPrintable(result.signature)).toBe(true);
          expect(isPrintable(result.protoSignature.replace(/ \| /g, '|'))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = generateSignature(signatureInputFromCrash(value), lists);
        expect([...result.signature].length).toBeLessThanOrEqual(255);
      }),
      { numRuns: 300 },
    );
  });
});
