import { describe, expect, it } from 'vitest';
import type { WinFrameInfo } from '../../../src/minidump/contracts.js';
import { walkStack } from '../../../src/minidump/unwind/walk.js';
import { envFor, fakeSymbols, module, regs, StackBuilder } from './helpers.js';

const app = module('app.exe', 0x400000n, 0x10000n);

function win(partial: Partial<WinFrameInfo>): WinFrameInfo {
  return {
    type: 4, rva: 0n, codeSize: 0x100, prologSize: 0, epilogSize: 0, parameterSize: 0, savedRegisterSize: 0,
    localSize: 0, maxStackSize: 0, hasProgramString: false, allocatesBasePointer: false, ...partial,
  };
}

describe('x86 unwinder', () => {
  it('runs a STACK WIN program string (trust cfi) and recovers the registers it assigns', async () => {
    const stack = new StackBuilder(0x1000n, 4);
    stack.push(0x55n, 0x66n); // locals
    const ebp = stack.here;
    stack.push(0x2000n, 0x401235n, 0x77n); // saved ebp, return address, saved ebx slot
    const program = '$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $ebx $T0 8 + ^ =';
    const symbols = new Map([[app, fakeSymbols(
      [{ name: 'main', base: 0x1200n, size: 0x100n }, { name: 'crash', base: 0x2000n, size: 0x100n }],
      [],
      [[0x2000n, 0x2100n, win({ hasProgramString: true, programString: program })]],
    )]]);
    const env = envFor({ wordSize: 4, stack, modules: [app], symbols, osShort: 'windows' });
    const context = { cpu: 'x86' as const, registers: regs({ eip: 0x402010n, esp: 0x1000n, ebp, ebx: 1n }) };
    const { frames } = await walkStack(context, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('eip')).toBe(0x401235n);
    expect(frames[1].context.registers.get('esp')).toBe(ebp + 8n);
    expect(frames[1].context.registers.get('ebp')).toBe(0x2000n);
    expect(frames[1].context.registers.get('ebx')).toBe(0x77n);
    expect(frames[1].instruction).toBe(0x401234n);
  });

  it('uses the FPO default program: return address after locals and saved registers', async () => {
    const stack = new StackBuilder(0x1000n, 4);
    stack.push(1n, 2n, 3n); // 8 bytes of locals, 4 of saved registers
    stack.push(0x401235n, 0n);
    const symbols = new Map([[app, fakeSymbols(
      [{ name: 'main', base: 0x1200n, size: 0x100n }, { name: 'fpo', base: 0x2000n, size: 0x100n }],
      [],
      [[0x2000n, 0x2100n, win({ type: 0, localSize: 8, savedRegisterSize: 4 })]],
    )]]);
    const env = envFor({ wordSize: 4, stack, modules: [app], symbols, osShort: 'windows' });
    const context = { cpu: 'x86' as const, registers: regs({ eip: 0x402010n, esp: 0x1000n, ebp: 0x1004n }) };
    const { frames } = await walkStack(context, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('eip')).toBe(0x401235n);
    expect(frames[1].context.registers.get('esp')).toBe(0x1010n);
    // No base pointer allocated: %ebp is the callee's, unchanged.
    expect(frames[1].context.registers.get('ebp')).toBe(0x1004n);
  });

  it('falls back to the %ebp chain, then to scanning', async () => {
    const stack = new StackBuilder(0x1000n, 4);
    const ebp = stack.here;
    stack.push(0x1010n, 0x401235n, 0n, 0n, 0n, 0n);
    const env = envFor({ wordSize: 4, stack, modules: [app] });
    const fp = await walkStack({ cpu: 'x86', registers: regs({ eip: 0x402010n, esp: 0x1000n, ebp }) }, env, { maxFrames: 2 });
    expect(fp.frames[1].trust).toBe('frame_pointer');
    expect(fp.frames[1].context.registers.get('esp')).toBe(0x1008n);
    const scan = await walkStack({ cpu: 'x86', registers: regs({ eip: 0x402010n, esp: 0x1000n, ebp: 0x9000n }) }, env, { maxFrames: 2 });
    expect(scan.frames[1].trust).toBe('scan');
    expect(scan.frames[1].context.registers.get('eip')).toBe(0x401235n);
    expect(scan.frames[1].context.registers.get('esp')).toBe(0x1008n);
  });

  it('uses STACK CFI when there is no frame data', async () => {
    const stack = new StackBuilder(0x1000n, 4).push(0x401235n, 0n);
    const rules = new Map([['.cfa', '$esp 4 +'], ['.ra', '.cfa 4 - ^'], ['$ebp', '$ebp']]);
    const symbols = new Map([[app, fakeSymbols([{ name: 'f', base: 0x2000n, size: 0x100n }], [[0x2000n, 0x2100n, rules]])]]);
    const env = envFor({ wordSize: 4, stack, modules: [app], symbols });
    const { frames } = await walkStack({ cpu: 'x86', registers: regs({ eip: 0x402010n, esp: 0x1000n, ebp: 0x5000n, esi: 9n, eax: 3n }) }, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('esp')).toBe(0x1004n);
    expect(frames[1].context.registers.get('esi')).toBe(9n);
    expect(frames[1].context.registers.has('eax')).toBe(false);
  });
});
