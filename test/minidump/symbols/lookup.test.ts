import { describe, expect, it } from 'vitest';

import { parse } from './helpers.js';

describe('lookup: FUNC and line records', () => {
  const symbols = parse(
    'FILE 0 /src/a.c',
    'FILE 1 /src/b with space.h',
    'FUNC 1000 30 8 operator new(unsigned long)',
    '1000 10 10 0',
    '1010 10 11 1',
    // a gap 0x1020..0x1030 with no line record
    'FUNC m 2000 10 0 folded',
    '2000 10 20 7',
  ).symbols;

  it('finds the function at its first byte, with the line record there', () => {
    expect(symbols.lookup(0x1000n)).toEqual({
      functionName: 'operator new(unsigned long)',
      functionBase: 0x1000n,
      functionSize: 0x30n,
      file: '/src/a.c',
      line: 10,
      lineBase: 0x1000n,
      parameterSize: 8,
      isMultiple: false,
      inlines: [],
    });
  });

  it('finds the function at its last byte but not one past it', () => {
    expect(symbols.lookup(0x102fn)?.functionName).toBe('operator new(unsigned long)');
    expect(symbols.lookup(0x1030n)).toBeUndefined();
  });

  it('reports the line base and file of the line record holding the address', () => {
    expect(symbols.lookup(0x1017n)).toMatchObject({ file: '/src/b with space.h', line: 11, lineBase: 0x1010n });
  });

  it('gives the function without a line where no line record covers the address', () => {
    const hit = symbols.lookup(0x1025n);
    expect(hit?.functionName).toBe('operator new(unsigned long)');
    expect(hit?.line).toBeUndefined();
    expect(hit?.lineBase).toBeUndefined();
  });

  it('gives a line without a file when the FILE number is unknown', () => {
    expect(symbols.lookup(0x2004n)).toMatchObject({ functionName: 'folded', line: 20, file: undefined, isMultiple: true });
  });

  it('answers nothing below, between and above the functions, and for impossible offsets', () => {
    expect(symbols.lookup(0xfffn)).toBeUndefined();
    expect(symbols.lookup(0x1800n)).toBeUndefined();
    expect(symbols.lookup(0x9000n)).toBeUndefined();
    expect(symbols.lookup(-1n)).toBeUndefined();
    expect(symbols.lookup(1n << 60n)).toBeUndefined();
  });

  it('keeps the first of overlapping FUNC records and drops the later one with its lines', () => {
    const s = parse('FUNC 100 20 0 first', '100 20 1 0', 'FUNC 110 20 0 second', '110 20 2 0', 'FUNC 100 20 0 same').symbols;
    expect(s.lookup(0x115n)).toMatchObject({ functionName: 'first', line: 1 });
    expect(s.lookup(0x125n)).toBeUndefined();
  });

  it('keeps the first of overlapping line records', () => {
    const s = parse('FUNC 100 20 0 f', '100 10 1 0', '108 10 2 0', '110 10 3 0').symbols;
    expect(s.lookup(0x10an)?.line).toBe(1);
    expect(s.lookup(0x112n)?.line).toBe(3);
  });

  it('drops FUNC records of size 0 silently', () => {
    const result = parse('FUNC 100 0 0 empty', '100 4 1 0');
    expect(result.errors).toEqual([]);
    expect(result.symbols.lookup(0x100n)).toBeUndefined();
  });

  it('handles FUNC records out of address order', () => {
    const lines: string[] = [];
    for (let i = 2000; i > 0; i--) lines.push(`FUNC ${(i * 0x100).toString(16)} 80 0 f${i}`);
    lines.push('FUNC 150 80 0 overlaps-f1');
    const s = parse(...lines).symbols;
    expect(s.functionCount).toBe(2000);
    expect(s.lookup(0x150n)?.functionName).toBe('f1');
    for (const i of [1, 7, 1000, 1999, 2000]) {
      expect(s.lookup(BigInt(i * 0x100 + 0x7f))?.functionName).toBe(`f${i}`);
      expect(s.lookup(BigInt(i * 0x100 + 0x80))).toBeUndefined();
    }
  });

  it('keeps leading spaces of a name as Breakpad does, and spaces inside it', () => {
    const s = parse('FUNC 100 10 0  spaced name ').symbols;
    expect(s.lookup(0x100n)?.functionName).toBe(' spaced name ');
  });

  it('attributes line records after STACK or FILE records to the FUNC before them', () => {
    const s = parse('FUNC 100 20 0 f', 'STACK CFI INIT 100 20 .cfa: $rsp 8 +', 'FILE 3 late.c', '100 20 5 3').symbols;
    expect(s.lookup(0x104n)).toMatchObject({ functionName: 'f', file: 'late.c', line: 5 });
  });
});

describe('lookup: PUBLIC fallback', () => {
  const symbols = parse(
    'PUBLIC 500 4 before_everything',
    'FUNC 1000 100 0 func',
    'PUBLIC 1050 0 inside_func',
    'PUBLIC 1200 0 after_func',
    'PUBLIC m 1400 0 folded_public',
    'PUBLIC 0 0 at_zero',
  ).symbols;

  it('uses the PUBLIC with the greatest address at or below', () => {
    expect(symbols.lookup(0x500n)).toEqual({
      functionName: 'before_everything',
      functionBase: 0x500n,
      parameterSize: 4,
      isMultiple: false,
      inlines: [],
    });
    expect(symbols.lookup(0x900n)?.functionName).toBe('before_everything');
    expect(symbols.lookup(0x1300n)).toMatchObject({ functionName: 'after_func', functionBase: 0x1200n });
    expect(symbols.lookup(0x1400n)).toMatchObject({ functionName: 'folded_public', isMultiple: true });
  });

  it('prefers the FUNC that holds the address over any PUBLIC', () => {
    expect(symbols.lookup(0x1060n)?.functionName).toBe('func');
  });

  it('does not let a PUBLIC at or below the preceding FUNC reach past that FUNC', () => {
    // After func ends (0x1100), the nearest PUBLIC below is inside_func (0x1050), which is
    // above func's start, so Breakpad uses it; a PUBLIC below func's start would not be.
    expect(symbols.lookup(0x1150n)?.functionName).toBe('inside_func');
    const s = parse('PUBLIC 900 0 low', 'FUNC 1000 100 0 func').symbols;
    expect(s.lookup(0x1150n)).toBeUndefined();
    expect(s.lookup(0x950n)?.functionName).toBe('low');
  });

  it('ignores PUBLIC records at address 0', () => {
    expect(symbols.lookup(0x10n)).toBeUndefined();
  });

  it('sorts PUBLIC records given out of order', () => {
    const s = parse('PUBLIC 300 0 c', 'PUBLIC 100 0 a', 'PUBLIC 200 0 b').symbols;
    expect([0x150n, 0x250n, 0x350n].map((a) => s.lookup(a)?.functionName)).toEqual(['a', 'b', 'c']);
  });
});

describe('lookup: inlines', () => {
  // main [0x1000, 0x1100) inlines foo at [0x1010, 0x1080), which inlines bar at
  // [0x1020, 0x1040); foo also has a second range [0x10a0, 0x10b0).
  const symbols = parse(
    'FILE 0 main.c',
    'FILE 1 foo.h',
    'FILE 2 bar.h',
    'INLINE_ORIGIN 0 foo()',
    'INLINE_ORIGIN 1 bar()',
    'FUNC 1000 100 0 main',
    'INLINE 0 42 0 0 1010 70 10a0 10',
    'INLINE 1 7 1 1 1020 20',
    '1000 20 40 0',
    '1020 20 3 2',
    '1040 70 8 1',
  ).symbols;

  it('has no inlines outside the inlined ranges', () => {
    expect(symbols.lookup(0x1005n)).toMatchObject({ functionName: 'main', file: 'main.c', line: 40, inlines: [] });
  });

  it('gives nested inlines outermost first, each with its own location', () => {
    const hit = symbols.lookup(0x1025n);
    // The function itself shows the call site of the outermost inline.
    expect(hit).toMatchObject({ functionName: 'main', file: 'main.c', line: 42, lineBase: 0x1020n });
    expect(hit?.inlines).toEqual([
      { functionName: 'foo()', callFile: 'main.c', callLine: 42, file: 'foo.h', line: 7, functionBase: 0x1010n },
      { functionName: 'bar()', callFile: 'foo.h', callLine: 7, file: 'bar.h', line: 3, functionBase: 0x1020n },
    ]);
  });

  it('uses the range holding the address as the inline base', () => {
    const hit = symbols.lookup(0x10a4n);
    expect(hit?.inlines).toEqual([
      { functionName: 'foo()', callFile: 'main.c', callLine: 42, file: 'foo.h', line: 8, functionBase: 0x10a0n },
    ]);
    expect(hit).toMatchObject({ file: 'main.c', line: 42 });
  });

  it('reads the old INLINE and INLINE_ORIGIN formats (no call file; origin with a file id)', () => {
    const s = parse('FILE 0 a.c', 'INLINE_ORIGIN 3 0 old_style()', 'FUNC 0 100 0 f', 'INLINE 0 9 3 10 10', '0 100 1 0').symbols;
    expect(s.lookup(0x12n)?.inlines).toEqual([
      { functionName: 'old_style()', callFile: undefined, callLine: 9, file: 'a.c', line: 1, functionBase: 0x10n },
    ]);
    expect(s.lookup(0x12n)).toMatchObject({ file: undefined, line: 9 });
  });

  it('names an inline with an unknown origin "<name omitted>"', () => {
    const s = parse('FUNC 0 100 0 f', 'INLINE 0 9 0 77 10 10').symbols;
    expect(s.lookup(0x10n)?.inlines[0]?.functionName).toBe('<name omitted>');
  });

  it('nests an inline with the same range inside the earlier one', () => {
    const s = parse('INLINE_ORIGIN 0 outer', 'INLINE_ORIGIN 1 inner', 'FUNC 0 100 0 f', 'INLINE 0 1 0 0 10 10', 'INLINE 1 2 0 1 10 10').symbols;
    expect(s.lookup(0x15n)?.inlines.map((i) => i.functionName)).toEqual(['outer', 'inner']);
  });

  it('drops an INLINE whose depth skips a level, and partially overlapping ranges', () => {
    const s = parse(
      'INLINE_ORIGIN 0 a',
      'INLINE_ORIGIN 1 b',
      'INLINE_ORIGIN 2 c',
      'FUNC 0 100 0 f',
      'INLINE 0 1 0 0 10 10',
      'INLINE 3 1 0 1 12 2',
      'INLINE 0 1 0 2 18 10',
    ).symbols;
    expect(s.lookup(0x12n)?.inlines.map((i) => i.functionName)).toEqual(['a']);
    expect(s.lookup(0x1an)?.inlines.map((i) => i.functionName)).toEqual(['a']);
    expect(s.lookup(0x22n)?.inlines).toEqual([]);
  });
});

describe('findCfi', () => {
  const symbols = parse(
    'STACK CFI INIT 1000 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^',
    'STACK CFI 1004 .cfa: $rsp 16 + $rbp: .cfa -16 + ^',
    'STACK CFI 1008 .cfa: $rbp 16 +',
    'STACK CFI 1008 .cfa: $rbp 24 +',
    'STACK CFI INIT 1040 10 .cfa: $rsp 8 + .ra: .cfa -8 + ^',
    'STACK CFI INIT 1020 10 .cfa: overlapping',
    'STACK CFI INIT 2000 10 $rsp 8 +',
    'STACK CFI INIT 3000 10 .cfa: $rsp 8 +',
    'STACK CFI 3004 .cfa: $rsp 16 + bad',
  ).symbols;

  it('answers nothing outside every INIT range', () => {
    expect(symbols.findCfi(0xfffn)).toBeUndefined();
    expect(symbols.findCfi(0x1050n)).toBeUndefined();
  });

  it('gives the INIT rules at the INIT address', () => {
    expect(symbols.findCfi(0x1000n)).toEqual(new Map([['.cfa', '$rsp 8 +'], ['.ra', '.cfa -8 + ^']]));
    expect(symbols.findCfi(0x1003n)?.get('.cfa')).toBe('$rsp 8 +');
  });

  it('applies every delta at or before the address, in order; the last row for an address wins', () => {
    expect(symbols.findCfi(0x1004n)).toEqual(
      new Map([['.cfa', '$rsp 16 +'], ['.ra', '.cfa -8 + ^'], ['$rbp', '.cfa -16 + ^']]),
    );
    expect(symbols.findCfi(0x103fn)).toEqual(
      new Map([['.cfa', '$rbp 24 +'], ['.ra', '.cfa -8 + ^'], ['$rbp', '.cfa -16 + ^']]),
    );
  });

  it('does not apply deltas of an earlier INIT to the next one', () => {
    expect(symbols.findCfi(0x1045n)).toEqual(new Map([['.cfa', '$rsp 8 +'], ['.ra', '.cfa -8 + ^']]));
  });

  it('ignores an INIT that overlaps an earlier one', () => {
    expect(symbols.findCfi(0x1020n)?.get('.cfa')).toBe('$rbp 24 +');
  });

  it('answers nothing when the INIT rules are malformed', () => {
    expect(symbols.findCfi(0x2000n)).toBeUndefined();
  });

  it('keeps the well-formed leading rules of a malformed delta', () => {
    expect(symbols.findCfi(0x3008n)?.get('.cfa')).toBe('$rsp 16 + bad');
  });
});

describe('findWin', () => {
  const symbols = parse(
    'STACK WIN 0 1000 100 4 0 8 0 10 0 0 1',
    'STACK WIN 4 1000 50 4 0 8 4 10 0 1 $T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =',
    'STACK WIN 4 1010 10 1 0 8 4 10 0 1 inner',
    'STACK WIN 4 1010 10 1 0 8 4 10 0 1 duplicate',
    'STACK WIN 4 1048 10 1 0 8 4 10 0 1 partial',
    'STACK WIN 3 3000 10 1 0 8 4 10 0 1 standard',
  ).symbols;

  it('prefers FrameData (type 4) and returns its program string with spaces', () => {
    expect(symbols.findWin(0x1000n)).toEqual({
      type: 4,
      rva: 0x1000n,
      codeSize: 0x50,
      prologSize: 4,
      epilogSize: 0,
      parameterSize: 8,
      savedRegisterSize: 4,
      localSize: 0x10,
      maxStackSize: 0,
      hasProgramString: true,
      programString: '$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =',
      allocatesBasePointer: false,
    });
  });

  it('returns the innermost nested record; an equal range is dropped (first wins)', () => {
    expect(symbols.findWin(0x1015n)?.programString).toBe('inner');
  });

  it('drops a record that partially overlaps an earlier one', () => {
    expect(symbols.findWin(0x1052n)?.type).toBe(0);
  });

  it('falls back to FPO (type 0) outside FrameData ranges, with allocatesBasePointer', () => {
    expect(symbols.findWin(0x1080n)).toMatchObject({
      type: 0,
      rva: 0x1000n,
      codeSize: 0x100,
      hasProgramString: false,
      programString: undefined,
      allocatesBasePointer: true,
    });
  });

  it('ignores the record types Breakpad never consults', () => {
    expect(symbols.findWin(0x3004n)).toBeUndefined();
    expect(symbols.findWin(0x2000n)).toBeUndefined();
  });
});
