import { describe, expect, it } from 'vitest';
import { PostfixEvaluator } from '../../../src/minidump/unwind/postfix.js';
import { regionMemory } from '../../../src/minidump/unwind/region-memory.js';

function memoryWith(base: bigint, words: number[]) {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return regionMemory({ base, bytes });
}

describe('PostfixEvaluator', () => {
  it('evaluates arithmetic with identifiers and decimal literals', () => {
    const e = new PostfixEvaluator(new Map([['$rsp', 1000n]]), { wordSize: 8 });
    expect(e.evaluateForValue('$rsp 8 +')).toBe(1008n);
    expect(e.evaluateForValue('$rsp 24 - 2 / 3 %')).toBe(((1000n - 24n) / 2n) % 3n);
    expect(e.evaluateForValue('7 6 *')).toBe(42n);
  });

  it('wraps at the register width, negative literals included', () => {
    const e32 = new PostfixEvaluator(new Map([['$esp', 4n]]), { wordSize: 4 });
    expect(e32.evaluateForValue('$esp 8 -')).toBe(0xfffffffcn);
    expect(e32.evaluateForValue('$esp -8 +')).toBe(0xfffffffcn);
    const e64 = new PostfixEvaluator(new Map([['.cfa', 16n]]), { wordSize: 8 });
    expect(e64.evaluateForValue('.cfa -24 +')).toBe(0xfffffffffffffff8n);
  });

  it('aligns with @', () => {
    const e = new PostfixEvaluator(new Map([['$ebp', 0x1237n]]), { wordSize: 4 });
    expect(e.evaluateForValue('$ebp 16 @')).toBe(0x1230n);
    expect(e.evaluateForValue('$ebp 8 @')).toBe(0x1230n);
  });

  it('dereferences memory with ^ and fails outside it', () => {
    const mem = memoryWith(0x100n, [0xdeadbeef, 0x12345678]);
    const e = new PostfixEvaluator(new Map([['$esp', 0x100n]]), { wordSize: 4, memory: mem });
    expect(e.evaluateForValue('$esp 4 + ^')).toBe(0x12345678n);
    expect(e.evaluateForValue('$esp ^')).toBe(0xdeadbeefn);
    expect(e.evaluateForValue('$esp 8 + ^')).toBeUndefined();
    expect(new PostfixEvaluator(new Map(), { wordSize: 4 }).evaluateForValue('4 ^')).toBeUndefined();
  });

  it('runs STACK WIN programs with temporaries and records assignments', () => {
    const mem = memoryWith(0x1000n, [0x2000, 0x401234, 0, 0]);
    const dict = new Map([
      ['$ebp', 0x1000n],
      ['$esp', 0xff0n],
    ]);
    const e = new PostfixEvaluator(dict, { wordSize: 4, memory: mem });
    const assigned = new Set<string>();
    const ok = e.evaluate('$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =', assigned);
    expect(ok).toBe(true);
    expect(dict.get('$eip')).toBe(0x401234n);
    expect(dict.get('$ebp')).toBe(0x2000n);
    expect(dict.get('$esp')).toBe(0x1008n);
    expect([...assigned].sort()).toEqual(['$T0', '$ebp', '$eip', '$esp']);
  });

  it('accepts "=X" glued tokens as "= X"', () => {
    const dict = new Map([['$ebp', 8n]]);
    const e = new PostfixEvaluator(dict, { wordSize: 4 });
    expect(e.evaluate('$T0 $ebp 4 + =$T1 $T0 =')).toBe(true);
    expect(dict.get('$T0')).toBe(12n);
    expect(dict.get('$T1')).toBe(12n);
  });

  it('rejects malformed programs', () => {
    const e = new PostfixEvaluator(new Map([['$esp', 1n]]), { wordSize: 4 });
    expect(e.evaluateForValue('$esp +')).toBeUndefined(); // one operand
    expect(e.evaluateForValue('$esp 1 2')).toBeUndefined(); // three results
    expect(e.evaluateForValue('$nope 1 +')).toBeUndefined(); // unknown identifier
    expect(e.evaluateForValue('$esp 0 /')).toBeUndefined(); // division by zero
    expect(e.evaluate('5 $esp =')).toBe(false); // assign to a literal
    expect(e.evaluate('eip $esp =')).toBe(false); // assign to a name without $
    expect(e.evaluate('$eip $esp = 1')).toBe(false); // leftover value
  });

  it('resolves register names with or without the $ prefix', () => {
    const e = new PostfixEvaluator(new Map([['sp', 64n], ['$rsp', 32n]]), { wordSize: 8 });
    expect(e.evaluateForValue('$sp 8 +')).toBe(72n);
    expect(e.evaluateForValue('rsp 8 +')).toBe(40n);
  });
});
