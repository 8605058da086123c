import { describe, expect, it } from 'vitest';
import { reportFrames } from '../../../src/minidump/process/frames.js';
import type { SymbolizedFrame } from '../../../src/minidump/unwind/walk.js';

const module = { base: 0x1000n, size: 0x1000n, codeFile: '/bin/app', codeId: '', debugFile: 'app', debugId: 'X', version: '' };

describe('reportFrames', () => {
  it('expands inline frames innermost first, each with the location inside it', () => {
    const frame: SymbolizedFrame = {
      trust: 'cfi',
      context: { cpu: 'amd64', registers: new Map([['rip', 0x1235n]]) },
      instruction: 0x1234n,
      module,
      symbolStatus: 'loaded',
      lookup: {
        functionName: 'outer',
        functionBase: 0x200n,
        functionSize: 0x100n,
        file: 'outer.c',
        line: 10, // call site of `middle`
        lineBase: 0x230n,
        parameterSize: 0,
        inlines: [
          { functionName: 'middle', callFile: 'outer.c', callLine: 10, file: 'middle.h', line: 20, functionBase: 0x220n },
          { functionName: 'inner', callFile: 'middle.h', callLine: 20, file: 'inner.h', line: 30, functionBase: 0x228n },
        ],
      },
    };
    const frames = reportFrames(frame);
    expect(frames.map((f) => [f.functionName, f.sourceFile, f.sourceLine, f.trust])).toEqual([
      ['inner', 'inner.h', 30, 'inline'],
      ['middle', 'middle.h', 20, 'inline'],
      ['outer', 'outer.c', 10, 'cfi'],
    ]);
    // Inline frames print offsets from the lookup address, the physical one from rip.
    expect(frames[0].returnAddress).toBe(0x1234n);
    expect(frames[0].functionBase).toBe(0x1228n);
    expect(frames[2].returnAddress).toBe(0x1235n);
    expect(frames[2].sourceLineBase).toBe(0x1230n);
  });

  it('marks frames in modules without symbols', () => {
    const frame: SymbolizedFrame = { trust: 'scan', context: { cpu: 'x86', registers: new Map([['eip', 0x1100n]]) }, instruction: 0x10ffn, module, symbolStatus: 'missing' };
    const [only] = reportFrames(frame);
    expect(only.missingSymbols).toBe(true);
    expect(only.functionName).toBeUndefined();
  });
});
