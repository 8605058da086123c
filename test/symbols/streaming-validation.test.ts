import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { formatSymbolParseError, parseSymbolFile } from '../../src/minidump/symbols/parse-symbol-file.js';
import { SymbolFileValidator } from '../../src/minidump/symbols/symbol-file-validator.js';
import { CORPUS_SYMBOLS, PROJECT_ROOT } from './support.js';

/**
 * The streaming `.sym` validator that symbol uploads use says what `parseSymbolFile` says
 * (accepted or not, the first bad line and its message, how many bad records), however
 * the bytes are chunked, and holds far less than the file.
 */

function viaParser(bytes: Uint8Array): { corrupt: string } | { module: unknown; first?: string; count: number } {
  const parsed = parseSymbolFile(bytes, { allowMissingModule: false });
  if (parsed.status === 'corrupt') return { corrupt: parsed.error };
  return { module: parsed.module, first: parsed.errors[0] && formatSymbolParseError(parsed.errors[0]), count: parsed.errorCount };
}

function viaValidator(chunks: Uint8Array[]): ReturnType<typeof viaParser> {
  const validator = new SymbolFileValidator();
  for (const chunk of chunks) validator.push(chunk);
  const result = validator.finish();
  if (result.status === 'corrupt') return { corrupt: result.error };
  return { module: result.module, first: result.errors[0] && formatSymbolParseError(result.errors[0]), count: result.errorCount };
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

/** Records both well-formed and broken, in every kind the format has. */
const record = fc.constantFrom(
  'MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A libx.so',
  'MODULE Linux x86_64 nothex libx.so',
  'INFO CODE_ID 0123ABCD libx.so',
  'INFO CODE_ID',
  'FILE 0 a.c',
  'FILE x a.c',
  'FUNC 1000 10 0 main',
  'FUNC m 2000 10 0 other(int, char)',
  'FUNC 1008 10 0 overlapping',
  'FUNC zz 10 0 bad',
  '1000 8 12 0',
  '1008 8 13 0',
  '1000 8 notaline',
  'garbage line',
  'PUBLIC 3000 0 pub',
  'PUBLIC 3000 0 duplicate_of_pub',
  'PUBLIC m 4000 0 pub2',
  'PUBLIC 0 0 zero',
  'PUBLIC xyz 0 bad',
  'STACK CFI INIT 1000 10 .cfa: $rsp 8 + .ra: .cfa -8 + ^',
  'STACK CFI 1004 .cfa: $rsp 16 +',
  'STACK CFI INIT zz',
  'STACK WIN 4 1000 10 0 0 0 0 0 0 1 $eip 4 + ^ =',
  'STACK WIN 4 1000',
  'STACK',
  'STACK FOO 1',
  'INLINE_ORIGIN 0 inlined_fn',
  'INLINE_ORIGIN x',
  'INLINE 0 10 0 0 1000 8',
  'INLINE 0',
  '',
  '\r',
);

const symbolFile = fc
  .tuple(fc.boolean(), fc.array(record, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([header, records, eol, finalEol]) => {
    const lines = header ? ['MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A libx.so', ...records] : records;
    return new TextEncoder().encode(lines.join(eol) + (finalEol ? eol : ''));
  });

describe('streaming .sym validation', () => {
  it('agrees with parseSymbolFile on generated files, however they are chunked', () => {
    fc.assert(
      fc.property(symbolFile, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        expect(viaValidator(splitAt(bytes, cuts))).toEqual(viaParser(bytes));
      }),
      { numRuns: 1500 },
    );
  });

  it('counts lines as the parser does in files without a MODULE record (found by the property above)', () => {
    for (const text of ['', '\r', '\r\r', '\n', '\n\r', '\r\n', '\n\n\r', '   ']) {
      const bytes = new TextEncoder().encode(text);
      for (let cut = 0; cut <= bytes.length; cut++) expect(viaValidator(splitAt(bytes, [cut])), JSON.stringify(text)).toEqual(viaParser(bytes));
    }
  });

  it('agrees with parseSymbolFile on the corpus symbols, fed in small and odd chunks', () => {
    const files = readdirSync(CORPUS_SYMBOLS, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.sym'));
    expect(files.length).toBeGreaterThan(0);
    for (const entry of files) {
      const bytes = readFileSync(path.join(entry.parentPath, entry.name));
      const expected = viaParser(bytes);
      expect('module' in expected, entry.name).toBe(true);
      for (const size of [1 << 16, 4093, 17]) {
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        expect(viaValidator(chunks), `${entry.name} in chunks of ${size}`).toEqual(expected);
      }
    }
  });

  it('every single split point of a small broken file gives the same answer', () => {
    const text = 'MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A libx.so\r\nFUNC 1000 10 0 main\r\n1000 8 12 0\r\nPUBLIC 3000 0 a\r\n1000 8 12 0\r\nPUBLIC 3000 0 b\r\nSTACK FOO';
    const bytes = new TextEncoder().encode(text);
    const expected = viaParser(bytes);
    expect(expected).toMatchObject({ first: 'line 5: line record without a preceding FUNC (or unknown record)', count: 3 });
    for (let i = 0; i <= bytes.length; i++) expect(viaValidator([bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toEqual(expected);
  });

  it('reports a line longer than the limit with its number, without holding it', () => {
    const long = 'x'.repeat(5000);
    const file = `MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A libx.so\nFUNC 1000 10 0 ${long}\n1000 8 12 0\n`;
    for (const size of [100, 7000]) {
      const validator = new SymbolFileValidator({ maxLineBytes: 1000 });
      const bytes = new TextEncoder().encode(file);
      for (let at = 0; at < bytes.length; at += size) validator.push(bytes.subarray(at, at + size));
      const result = validator.finish();
      expect(result.status === 'valid' && result.errors.map(formatSymbolParseError), `chunks of ${size}`).toEqual(['line 2: longer than 1000 bytes', 'line 3: line record without a preceding FUNC (or unknown record)']);
    }
    const header = new SymbolFileValidator({ maxLineBytes: 10 });
    header.push(new TextEncoder().encode(`\nMODULE Linux x86_64 ABCDEF libx.so\n`));
    expect(header.finish()).toEqual({ status: 'corrupt', error: 'line 2: longer than 10 bytes' });
  });

  it('validates a 64 MB file holding a small part of it in memory (peak RSS, in a fresh process)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mayday-sym-rss-'));
    try {
      const file = path.join(dir, 'big.sym');
      const lines = ['MODULE Linux x86_64 ABCDEF0123456789ABCDEF0123456789A libbig.so'];
      for (let f = 0; f < 20_000; f++) lines.push(`FUNC ${(0x1000 + f * 0x80).toString(16)} 80 0 ns::Class::method_${f}(int)`, `${(0x1000 + f * 0x80).toString(16)} 10 1 0`);
      const block = Buffer.from(lines.join('\n') + '\n');
      const copies = Math.ceil((64 * 1024 * 1024) / block.length);
      // The same functions repeated: overlapping FUNCs are dropped silently, so the file stays valid.
      writeFileSync(file, Buffer.concat(Array.from({ length: copies }, (_, i) => (i === 0 ? block : block.subarray(block.indexOf('\n') + 1)))));
      const script = path.join(dir, 'measure.mts');
      writeFileSync(
        script,
        `import { validateSymbolFile } from ${JSON.stringify(path.join(PROJECT_ROOT, 'src/roles/symbols/validate-symbol-file.ts'))};
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const result = await validateSymbolFile(${JSON.stringify(file)}, { kind: 'none' }, 'big.sym');
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ debugFile: result.key.debugFile, rise: peak - before }));
`,
      );
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT });
      const measured = JSON.parse(stdout.trim().split('\n').at(-1)!) as { debugFile: string; rise: number };
      expect(measured.debugFile).toBe('libbig.so');
      // Reading the file whole (and building its tables) costs more than the file's size.
      expect(measured.rise).toBeLessThan(24 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
