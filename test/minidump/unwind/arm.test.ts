import { describe, expect, it } from 'vitest';
import { stripPointerAuth } from '../../../src/minidump/unwind/arm64.js';
import { walkStack } from '../../../src/minidump/unwind/walk.js';
import { envFor, fakeSymbols, module, regs, StackBuilder } from './helpers.js';

const app64 = module('app', 0x100000000n, 0x10000n);

describe('arm64 unwinder', () => {
  it('strips pointer-authentication bits only when the result is in a module', () => {
    const env = envFor({ wordSize: 8, stack: new StackBuilder(0n, 8), modules: [app64] });
    expect(stripPointerAuth(env, 0x002d_0001_0000_1234n)).toBe(0x1_0000_1234n);
    expect(stripPointerAuth(env, 0x002d_0001_0002_1234n)).toBe(0x002d_0001_0002_1234n);
  });

  it('follows fp/lr pairs and strips signed return addresses', async () => {
    const stack = new StackBuilder(0x7000n, 8);
    stack.fill(2);
    const fp1 = stack.here;
    stack.push(fp1 + 16n, 0x0045_0001_0000_2004n); // saved fp, signed lr
    stack.push(0n, 0n);
    const env = envFor({ wordSize: 8, stack, modules: [app64] });
    const context = { cpu: 'arm64' as const, registers: regs({ pc: 0x1_0000_3000n, lr: 0x0012_0001_0000_1004n, sp: 0x7000n, fp: fp1 }) };
    const { frames } = await walkStack(context, env);
    expect(frames[0].context.registers.get('lr')).toBe(0x1_0000_1004n);
    expect(frames[1].trust).toBe('frame_pointer');
    expect(frames[1].context.registers.get('pc')).toBe(0x1_0000_1004n);
    expect(frames[1].instruction).toBe(0x1_0000_1000n);
    expect(frames[1].context.registers.get('sp')).toBe(fp1 + 16n);
    expect(frames[2].context.registers.get('pc')).toBe(0x1_0000_2004n);
  });

  it('uses CFI rules written with DWARF names (x29, x30)', async () => {
    const stack = new StackBuilder(0x7000n, 8).push(0x7100n, 0x1_0000_1004n);
    const rules = new Map([['.cfa', 'sp 16 +'], ['.ra', 'x30'], ['x29', '.cfa -16 + ^'], ['x30', '.cfa -8 + ^']]);
    const symbols = new Map([[app64, fakeSymbols([{ name: 'f', base: 0x3000n, size: 0x100n }, { name: 'g', base: 0x1000n, size: 0x100n }], [[0x3000n, 0x3100n, rules]])]]);
    const env = envFor({ wordSize: 8, stack, modules: [app64], symbols });
    const context = { cpu: 'arm64' as const, registers: regs({ pc: 0x1_0000_3000n, lr: 0x1_0000_1104n, sp: 0x7000n, fp: 0x7000n, x19: 5n }) };
    const { frames } = await walkStack(context, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('fp')).toBe(0x7100n);
    expect(frames[1].context.registers.get('lr')).toBe(0x1_0000_1004n);
    expect(frames[1].context.registers.get('pc')).toBe(0x1_0000_1104n); // .ra = callee's x30
    expect(frames[1].context.registers.get('x19')).toBe(5n);
  });
});

describe('arm unwinder', () => {
  const app = module('app', 0x8000n, 0x10000n);

  it('scans on Linux (no frame-pointer ABI) and adjusts the lookup by 2', async () => {
    const stack = new StackBuilder(0x100000n, 4).push(0x77n, 0x9005n, 0n);
    const env = envFor({ wordSize: 4, stack, modules: [app] });
    const { frames } = await walkStack({ cpu: 'arm', registers: regs({ pc: 0xa000n, sp: 0x100000n, lr: 0x9105n, r11: 0x100000n }) }, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('scan');
    expect(frames[1].context.registers.get('sp')).toBe(0x100008n);
    expect(frames[1].instruction).toBe(0x9003n);
  });

  it('follows r7 on iOS', async () => {
    const stack = new StackBuilder(0x100000n, 4);
    const r7 = stack.here;
    stack.push(0n, 0x9201n, 0n);
    const env = envFor({ wordSize: 4, stack, modules: [app], osShort: 'ios' });
    const { frames } = await walkStack({ cpu: 'arm', registers: regs({ pc: 0xa000n, sp: 0x100000n, lr: 0x9105n, r7 }) }, env, { maxFrames: 3 });
    expect(frames[1].trust).toBe('frame_pointer');
    expect(frames[1].context.registers.get('pc')).toBe(0x9105n);
    expect(frames[1].context.registers.get('lr')).toBe(0x9201n);
    expect(frames[1].context.registers.get('sp')).toBe(r7 + 8n);
  });

  it('uses CFI with .ra as the pc when there is no frame-pointer ABI', async () => {
    const stack = new StackBuilder(0x100000n, 4).push(0x4n, 0x9105n, 0n);
    const rules = new Map([['.cfa', 'sp 8 +'], ['.ra', '.cfa -4 + ^'], ['r4', '.cfa -8 + ^']]);
    const symbols = new Map([[app, fakeSymbols([{ name: 'f', base: 0x2000n, size: 0x100n }], [[0x2000n, 0x2100n, rules]])]]);
    const env = envFor({ wordSize: 4, stack, modules: [app], symbols });
    const { frames } = await walkStack({ cpu: 'arm', registers: regs({ pc: 0xa000n, sp: 0x100000n, lr: 0x1n, r5: 3n, r0: 1n }) }, env, { maxFrames: 2 });
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('pc')).toBe(0x9105n);
    expect(frames[1].context.registers.get('r4')).toBe(4n);
    expect(frames[1].context.registers.get('r5')).toBe(3n);
    expect(frames[1].context.registers.has('r0')).toBe(false);
  });
});
