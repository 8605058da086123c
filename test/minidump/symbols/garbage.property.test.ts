import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseSymbolFile } from '../../../src/minidump/symbols/index.js';
import { HEADER } from './helpers.js';

const keywords = ['FUNC', 'FUNC m', 'PUBLIC', 'PUBLIC m', 'FILE', 'INLINE', 'INLINE_ORIGIN', 'STACK CFI', 'STACK CFI INIT', 'STACK WIN', 'INFO', 'MODULE', ''];
const fieldish = fc.oneof(
  fc.constantFrom('0', '1', '10', 'ff', 'ffffffffffffffff', '-1', 'm', 'x', '', '  ', '.cfa:', '$rsp', '+', '^', '\t', '\r'),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 18 }),
  fc.string({ maxLength: 12 }),
);
const garbageLine = fc
  .tuple(fc.constantFrom(...keywords), fc.array(fieldish, { maxLength: 14 }))
  .map(([keyword, fields]) => [keyword, ...fields].join(' '));

describe('parseSymbolFile on random garbage', () => {
  it('never throws, and every lookup on the result never throws', () => {
    fc.assert(
      fc.property(fc.array(garbageLine, { maxLength: 60 }), fc.array(fc.bigInt({ min: -2n, max: 0x2_0000_0000n }), { maxLength: 8 }), (lines, addresses) => {
        const result = parseSymbolFile(new TextEncoder().encode([HEADER, ...lines].join('\n')));
        expect(result.status).toBe('parsed');
        if (result.status !== 'parsed') return;
        for (const error of result.errors) expect(error.line).toBeGreaterThan(1);
        for (const address of [...addresses, 0n, 1n, 0x10n, 0xffn]) {
          result.symbols.lookup(address);
          result.symbols.findCfi(address);
          result.symbols.findWin(address);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const withHeader = new Uint8Array([...new TextEncoder().encode(`${HEADER}\n`), ...bytes]);
        for (const input of [bytes, withHeader]) {
          const result = parseSymbolFile(input, { allowMissingModule: true });
          if (result.status === 'parsed') result.symbols.lookup(0x10n);
        }
      }),
      { numRuns: 300 },
    );
  });
});
