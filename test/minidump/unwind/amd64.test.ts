import { describe, expect, it } from 'vitest';
import { walkStack } from '../../../src/minidump/unwind/walk.js';
import { envFor, fakeSymbols, module, regs, StackBuilder } from './helpers.js';

const app = module('app', 0x400000n, 0x10000n);
const lib = module('lib.so', 0x7f0000000000n, 0x10000n);

describe('amd64 unwinder', () => {
  it('unwinds by CFI, keeping callee-saved registers and adjusting the lookup address', async () => {
    const stack = new StackBuilder(0x7ffe0000n, 8).push(0xaaaan, 0x401235n, 0n, 0n);
    const symbols = new Map([
      [app, fakeSymbols([{ name: 'main', base: 0x1200n, size: 0x100n }, { name: 'leaf', base: 0x2000n, size: 0x100n }], [
        [0x2000n, 0x2100n, new Map([['.cfa', '$rsp 16 +'], ['.ra', '.cfa -8 + ^'], ['$r12', '.cfa -16 + ^']])],
      ])],
    ]);
    const env = envFor({ wordSize: 8, stack, modules: [app], symbols });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x402010n, rsp: 0x7ffe0000n, rbp: 0x7ffe0100n, rbx: 7n, rax: 1n }) };
    const { frames } = await walkStack(context, env);
    expect(frames[0].trust).toBe('context');
    expect(frames[0].lookup?.functionName).toBe('leaf');
    expect(frames[1].trust).toBe('cfi');
    expect(frames[1].context.registers.get('rip')).toBe(0x401235n);
    expect(frames[1].context.registers.get('rsp')).toBe(0x7ffe0010n);
    expect(frames[1].context.registers.get('r12')).toBe(0xaaaan);
    expect(frames[1].context.registers.get('rbx')).toBe(7n); // callee-saved, not mentioned
    expect(frames[1].context.registers.has('rax')).toBe(false); // volatile: unknown
    expect(frames[1].instruction).toBe(0x401234n);
    expect(frames[1].lookup?.functionName).toBe('main');
  });

  it('follows the frame-pointer chain when there is no CFI', async () => {
    const stack = new StackBuilder(0x7ffe0000n, 8);
    stack.fill(4); // callee's locals
    const fp1 = stack.here;
    stack.push(fp1 + 32n, 0x401100n); // saved rbp, return address
    stack.fill(2);
    stack.push(0n, 0n); // caller's frame: saved rbp = 0 (end), ra 0
    const env = envFor({ wordSize: 8, stack, modules: [app] });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x402000n, rsp: 0x7ffe0000n, rbp: fp1 }) };
    const { frames } = await walkStack(context, env);
    expect(frames[1].trust).toBe('frame_pointer');
    expect(frames[1].context.registers.get('rip')).toBe(0x401100n);
    expect(frames[1].context.registers.get('rsp')).toBe(fp1 + 16n);
    expect(frames[1].context.registers.get('rbp')).toBe(fp1 + 32n);
    expect(frames[1].module).toBe(app);
    expect([...frames[1].context.registers.keys()].sort()).toEqual(['rbp', 'rip', 'rsp']);
  });

  it('scans for a return address inside a known function, skipping other pointers', async () => {
    const stack = new StackBuilder(0x7ffe0000n, 8);
    stack.push(0x12n, 0x7f0000000050n /* lib, no function there */, 0x999n, 0x401235n, 0n, 0n);
    const symbols = new Map([[lib, fakeSymbols([{ name: 'f', base: 0x1000n, size: 0x10n }])], [app, fakeSymbols([{ name: 'main', base: 0x1200n, size: 0x100n }])]]);
    const env = envFor({ wordSize: 8, stack, modules: [app, lib], symbols });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x401000n, rsp: 0x7ffe0000n, rbp: 3n }) };
    const { frames } = await walkStack(context, env);
    expect(frames[1].trust).toBe('scan');
    expect(frames[1].context.registers.get('rip')).toBe(0x401235n);
    expect(frames[1].context.registers.get('rsp')).toBe(0x7ffe0020n);
  });

  it('accepts a return address into a module without symbols', async () => {
    const stack = new StackBuilder(0x7ffe0000n, 8).push(0x7f0000000050n, 0n);
    const env = envFor({ wordSize: 8, stack, modules: [lib] });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x7f0000000010n, rsp: 0x7ffe0000n, rbp: 1n }) };
    const { frames } = await walkStack(context, env);
    expect(frames.map((f) => f.trust)).toEqual(['context', 'scan']);
  });

  it('stops when the stack pointer does not grow or the return address is tiny', async () => {
    // CFI claiming the caller's rsp is below the callee's.
    const stack = new StackBuilder(0x7ffe0000n, 8).push(0x401235n, 0x10n);
    const rules = new Map([['.cfa', '$rsp 8 -'], ['.ra', '$rsp ^']]);
    const symbols = new Map([[app, fakeSymbols([{ name: 'main', base: 0n, size: 0x10000n }], [[0n, 0x10000n, rules]])]]);
    const env = envFor({ wordSize: 8, stack, modules: [app], symbols });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x401000n, rsp: 0x7ffe0000n, rbp: 0n }) };
    expect((await walkStack(context, env)).frames).toHaveLength(1);
    const tiny = new Map([['.cfa', '$rsp 16 +'], ['.ra', '$rsp 8 + ^']]);
    const env2 = envFor({ wordSize: 8, stack, modules: [app], symbols: new Map([[app, fakeSymbols([], [[0n, 0x10000n, tiny]])]]) });
    expect((await walkStack(context, env2)).frames).toHaveLength(1);
  });

  it('on Windows simulates a return for a leaf context frame and never follows rbp', async () => {
    const stack = new StackBuilder(0x7ffe0000n, 8).push(0x401235n, 0n, 0n);
    const env = envFor({ wordSize: 8, stack, modules: [app], osShort: 'windows' });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x402000n, rsp: 0x7ffe0000n, rbp: 0x7ffe0008n }) };
    const { frames } = await walkStack(context, env);
    expect(frames[1].trust).toBe('leaf');
    expect(frames[1].context.registers.get('rsp')).toBe(0x7ffe0008n);
  });

  it('honours the frame limit', async () => {
    // A frame-pointer chain that loops forward forever would be cut by the sp rule; use a long one.
    const stack = new StackBuilder(0x10000n, 8);
    for (let i = 0; i < 50; i++) stack.push(stack.here + 16n, 0x401000n);
    stack.push(0n, 0n);
    const env = envFor({ wordSize: 8, stack, modules: [app] });
    const context = { cpu: 'amd64' as const, registers: regs({ rip: 0x402000n, rsp: 0x10000n, rbp: 0x10000n }) };
    const result = await walkStack(context, env, { maxFrames: 10 });
    expect(result.frames).toHaveLength(10);
    expect(result.truncated).toBe(true);
    const full = await walkStack(context, env);
    expect(full.truncated).toBe(false);
    expect(full.frames.length).toBeGreaterThan(40);
  });
});
