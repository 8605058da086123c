import { describe, expect, it } from 'vitest';
import { findCallerRegisters } from '../../../src/minidump/unwind/cfi.js';
import { regionMemory } from '../../../src/minidump/unwind/region-memory.js';
import { StackBuilder } from './helpers.js';

describe('findCallerRegisters', () => {
  const stack = new StackBuilder(0x7000n, 8).push(0x1111n, 0x2222n, 0x401000n, 0x3333n);
  const memory = regionMemory({ base: stack.base, bytes: stack.bytes() });
  const callee = new Map([
    ['$rsp', 0x7000n],
    ['$rbp', 0x9999n],
  ]);

  it('computes .cfa first, then .ra and registers relative to it', () => {
    const rules = new Map([
      ['.cfa', '$rsp 24 +'],
      ['.ra', '.cfa -8 + ^'],
      ['$rbp', '.cfa -16 + ^'],
    ]);
    const caller = findCallerRegisters(rules, callee, memory, 8)!;
    expect(caller.get('.cfa')).toBe(0x7018n);
    expect(caller.get('.ra')).toBe(0x401000n);
    expect(caller.get('rbp')).toBe(0x2222n);
  });

  it('needs both .cfa and .ra rules', () => {
    expect(findCallerRegisters(new Map([['.cfa', '$rsp 8 +']]), callee, memory, 8)).toBeUndefined();
    expect(findCallerRegisters(new Map([['.ra', '$rsp ^']]), callee, memory, 8)).toBeUndefined();
  });

  it('fails when .ra cannot be read, but only drops a register whose rule fails', () => {
    const badRa = new Map([
      ['.cfa', '$rsp 800 +'],
      ['.ra', '.cfa ^'],
    ]);
    expect(findCallerRegisters(badRa, callee, memory, 8)).toBeUndefined();
    const badReg = new Map([
      ['.cfa', '$rsp 8 +'],
      ['.ra', '.cfa ^'],
      ['$rbx', '.cfa 4000 + ^'],
    ]);
    const caller = findCallerRegisters(badReg, callee, memory, 8)!;
    expect(caller.get('.ra')).toBe(0x2222n);
    expect(caller.has('rbx')).toBe(false);
  });
});
