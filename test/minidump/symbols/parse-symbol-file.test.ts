import { describe, expect, it } from 'vitest';

import { formatSymbolParseError, parseSymbolFile } from '../../../src/minidump/symbols/index.js';
import { HEADER, parse } from './helpers.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('parseSymbolFile: header', () => {
  it('reads MODULE and INFO CODE_ID, with spaces in the debug file name', () => {
    const result = parseSymbolFile(
      encode('MODULE mac x86_64 35D48131F39F30CA8BD9BA5A8CF775300 Electron Framework\nINFO CODE_ID 35D48131F39F30CA Electron Framework\n'),
    );
    expect(result.status).toBe('parsed');
    if (result.status !== 'parsed') return;
    expect(result.module).toEqual({
      os: 'mac',
      cpu: 'x86_64',
      debugId: '35D48131F39F30CA8BD9BA5A8CF775300',
      debugFile: 'Electron Framework',
    });
    expect(result.codeId).toBe('35D48131F39F30CA');
    expect(result.codeFile).toBe('Electron Framework');
    expect(result.errors).toEqual([]);
  });

  it('keeps INFO CODE_ID without a file name, and ignores other INFO records', () => {
    const result = parse('INFO GENERATOR mozilla/dump_syms 2.1.0', 'INFO CODE_ID ABCDEF');
    expect(result.codeId).toBe('ABCDEF');
    expect(result.codeFile).toBeUndefined();
    expect(result.errors).toEqual([]);
  });

  it('skips blank lines and CRLF line ends', () => {
    const result = parseSymbolFile(encode(`\r\n${HEADER}\r\n\r\nFUNC 10 4 0 f\r\n10 4 7 0\r\nFILE 0 a.c\r\n`));
    expect(result.status).toBe('parsed');
    if (result.status !== 'parsed') return;
    expect(result.errors).toEqual([]);
    expect(result.module?.debugFile).toBe('libtest.so');
    expect(result.symbols.lookup(0x12n)).toMatchObject({ functionName: 'f', file: 'a.c', line: 7 });
  });

  it.each([
    ['an empty file', ''],
    ['a file that starts with another record', 'FUNC 10 4 0 f\n'],
  ])('calls %s corrupt', (_label, text) => {
    const result = parseSymbolFile(encode(text));
    expect(result.status).toBe('corrupt');
  });

  it.each([
    ['no debug file', 'MODULE Linux x86_64 0123'],
    ['a debug id that is not hex', 'MODULE Linux x86_64 XYZ libfoo.so'],
    ['no cpu', 'MODULE Linux'],
  ])('calls a MODULE record with %s corrupt, even when headerless files are allowed', (_label, header) => {
    const result = parseSymbolFile(encode(`${header}\nFUNC 10 4 0 f\n`), { allowMissingModule: true });
    expect(result).toMatchObject({ status: 'corrupt', error: expect.stringContaining('line 1: bad MODULE record') });
  });

  it('parses a headerless file when allowed, noting it without calling the symbols corrupt', () => {
    const result = parseSymbolFile(encode('STACK CFI INIT 10 20 .cfa: $rsp 8 +\n'), { allowMissingModule: true });
    expect(result.status).toBe('parsed');
    if (result.status !== 'parsed') return;
    expect(result.module).toBeUndefined();
    expect(result.errors).toEqual([{ line: 1, message: 'expected a MODULE record first' }]);
    expect(result.symbols.corrupt).toBe(false);
    expect(result.symbols.findCfi(0x10n)?.get('.cfa')).toBe('$rsp 8 +');
  });
});

describe('parseSymbolFile: malformed records', () => {
  // Each bad line sits at line 2; a good FUNC follows to show the rest stays usable.
  it.each([
    ['FILE x a.c', 'bad FILE record'],
    ['FILE 1', 'bad FILE record'],
    ['FILE -1 a.c', 'bad FILE record'],
    ['FUNC 1000 10 0', 'bad FUNC record: missing name'],
    ['FUNC zz 10 0 f', 'bad FUNC record: address is not hex'],
    ['FUNC 1000 -1 0 f', 'bad FUNC record: size is not hex'],
    ['FUNC m 1000 10 0', 'bad FUNC record: missing name'],
    ['FUNC 1000\t10 0 f', 'bad FUNC record'],
    ['FUNC 10000000000000000 10 0 f', 'bad FUNC record: address is not hex'],
    ['PUBLIC 1000 0', 'bad PUBLIC record: missing name'],
    ['PUBLIC m 1000', 'bad PUBLIC record'],
    ['PUBLIC 1000 g name', 'bad PUBLIC record: parameter size is not hex'],
    ['STACK CFI INIT 1000 10', 'bad STACK CFI record: missing rules'],
    ['STACK CFI INIT 1000', 'bad STACK CFI record'],
    ['STACK CFI 1000', 'bad STACK CFI record: missing rules'],
    ['STACK CFI zz .cfa: $rsp', 'bad STACK CFI record: address is not hex'],
    ['STACK WIN 4 1000 10 0 0 0 0 0 0', 'bad STACK WIN record'],
    ['STACK WIN 5 1000 10 0 0 0 0 0 0 1 prog', 'bad STACK WIN record: type is not 0..4'],
    ['STACK WIN 4 1000 10 0 0 0 0 0 0 1', 'bad STACK WIN record: missing program string'],
    ['STACK FOO 1', 'bad STACK record: unknown kind "FOO"'],
    ['STACK ', 'bad STACK record: missing kind'],
    ['INFO CODE_ID', 'bad INFO record'],
    ['1000 10 1 0', 'line record without a preceding FUNC'],
    ['GARBAGE', 'line record without a preceding FUNC'],
  ])('reports %j with its line number and keeps going', (line, message) => {
    const result = parse(line, 'FUNC 2000 10 0 good', 'PUBLIC 3000 0 pub');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].line).toBe(2);
    expect(result.errors[0].message).toContain(message);
    expect(formatSymbolParseError(result.errors[0])).toMatch(/^line 2: bad|^line 2: line record/);
    expect(result.symbols.corrupt).toBe(true);
    expect(result.symbols.lookup(0x2005n)?.functionName).toBe('good');
    expect(result.symbols.lookup(0x3005n)?.functionName).toBe('pub');
  });

  it.each([
    ['1000 zz 1 0', 'size is not hex'],
    ['1000 10 -1 0', 'line number'],
    ['1000 10 1 -2', 'file number'],
    ['1000 10 x 0', 'line number'],
    ['1000 10 1', 'missing file number'],
  ])('reports a bad line record %j inside a function', (line, message) => {
    const result = parse('FILE 0 a.c', 'FUNC 1000 20 0 f', line, '1010 10 9 0');
    expect(result.errors).toEqual([{ line: 4, message: expect.stringContaining(`bad line record: ${message}`) }]);
    expect(result.symbols.lookup(0x1012n)).toMatchObject({ functionName: 'f', file: 'a.c', line: 9 });
  });

  it.each([
    ['INLINE 0 1 0', 'bad INLINE record: too few fields'],
    ['INLINE x 1 0 0 1000 4', 'bad INLINE record: depth'],
    ['INLINE 0 1 0 0 1000 zz', 'bad INLINE record: range size is not hex'],
    ['INLINE_ORIGIN x f', 'bad INLINE_ORIGIN record'],
    ['INLINE_ORIGIN 1', 'bad INLINE_ORIGIN record: missing name'],
  ])('reports inline problem %j without calling the symbols corrupt (as Breakpad)', (line, message) => {
    const result = parse('FUNC 1000 20 0 f', line);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].message).toContain(message);
    expect(result.symbols.corrupt).toBe(false);
  });

  it('reports an INLINE record that follows no FUNC', () => {
    const result = parse('PUBLIC 10 0 p', 'INLINE 0 1 0 0 10 4');
    expect(result.errors).toEqual([{ line: 3, message: 'INLINE record without a preceding FUNC' }]);
  });

  it('reports duplicate PUBLIC addresses and keeps the first', () => {
    const result = parse('PUBLIC 10 0 first', 'PUBLIC 10 0 second');
    expect(result.errors).toEqual([{ line: 3, message: 'bad PUBLIC record: duplicate address 10' }]);
    expect(result.symbols.lookup(0x10n)?.functionName).toBe('first');
  });

  it('caps the stored error list but counts every error', () => {
    const lines = Array.from({ length: 1500 }, () => 'FILE x');
    const result = parse(...lines);
    expect(result.errors).toHaveLength(1000);
    expect(result.errorCount).toBe(1500);
    expect(result.errors[999].line).toBe(1001);
  });

  it('line numbers count blank lines', () => {
    const result = parseSymbolFile(encode(`${HEADER}\n\n\nFILE x\n`));
    expect(result.status === 'parsed' && result.errors).toEqual([{ line: 4, message: expect.stringContaining('FILE') }]);
  });
});
