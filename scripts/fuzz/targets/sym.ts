/**
 * The Breakpad `.sym` parser on hostile files, then every kind of lookup on what it kept.
 * Contract (src/minidump/symbols/parse-symbol-file.ts): never throws; a malformed record
 * is skipped and reported with its (1-based) line number, at most `MAX_REPORTED_ERRORS`
 * of them; lookups never throw, and what they return is where it was asked: a function
 * holds the address, a line record starts at or before it.
 *
 * Seeds are windows of the corpus symbol files (their header plus a run of records from
 * here and there), small enough for thousands of executions a second.
 */
import { readFileSync } from 'node:fs';
import { MAX_REPORTED_ERRORS, parseSymbolFile } from '../../../src/minidump/symbols/index.js';
import { corpusFiles } from '../corpus.js';
import { invariant, type FuzzTarget } from '../target.js';

const WINDOW_LINES = 48;
const WINDOWS_PER_FILE = 6;

function windows(text: string): string[] {
  const lines = text.split('\n');
  const header = lines.filter((l, i) => i < 8 && /^(MODULE|INFO) /.test(l));
  if (lines.length <= WINDOW_LINES * 2) return [text];
  const out: string[] = [];
  for (let w = 0; w < WINDOWS_PER_FILE; w++) {
    // Spread over the file: FILE and FUNC records come first, PUBLIC and STACK records last.
    const start = Math.floor(((lines.length - WINDOW_LINES) * w) / (WINDOWS_PER_FILE - 1));
    out.push([...header, ...lines.slice(Math.max(start, header.length), start + WINDOW_LINES)].join('\n') + '\n');
  }
  return out;
}

/** Addresses worth asking about: each record's start, its last byte, one past it, one before it. */
function addressesOf(text: string): bigint[] {
  const out = new Set<bigint>([0n, 1n, 0xffffffffn, 0xffffffffffffffffn]);
  const record = /^(?:FUNC (?:m )?|PUBLIC (?:m )?|STACK CFI INIT |STACK CFI |STACK WIN [0-9a-f]+ |INLINE \d+ \d+ \d+ |)([0-9a-fA-F]{1,16}) ?([0-9a-fA-F]{0,16})/gm;
  for (const match of text.matchAll(record)) {
    if (out.size >= 40) break;
    const start = BigInt(`0x${match[1]}`);
    const size = match[2] ? BigInt(`0x${match[2]}`) : 1n;
    for (const a of [start, start + size - 1n, start + size, start - 1n]) if (a >= 0n && a < 2n ** 64n) out.add(a);
  }
  return [...out];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const target: FuzzTarget = {
  name: 'sym',
  maxLength: 16 * 1024,
  text: true,
  dictionary: [
    'MODULE Linux x86_64 976F2167C7F8BCF5CD91FBC5AEF299110 example-app\n',
    'MODULE windows x86 5A9832E5287241C1838ED98914E9B7FF1 test_app.pdb\n',
    'MODULE ',
    'INFO CODE_ID ',
    'FILE ',
    'FUNC ',
    'FUNC m ',
    'PUBLIC ',
    'PUBLIC m ',
    'INLINE ',
    'INLINE_ORIGIN ',
    'STACK CFI INIT ',
    'STACK CFI ',
    'STACK WIN 4 ',
    'STACK WIN 0 ',
    '.cfa: $rsp 16 + .ra: .cfa -8 + ^',
    '$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =',
    '.cfa:',
    '.ra:',
    ' ',
    '\t',
    '\r\n',
    '\n',
    'ffffffffffffffff',
    '-1',
    '0x',
  ],
  seeds() {
    const seeds: string[] = [];
    for (const path of corpusFiles('.sym')) seeds.push(...windows(readFileSync(path, 'utf8')));
    return seeds.map((s) => encoder.encode(s));
  },
  execute(input) {
    const result = parseSymbolFile(input, { allowMissingModule: true });
    if (result.status === 'corrupt') {
      invariant(typeof result.error === 'string' && result.error.length > 0, 'a corrupt file without an error message');
      return;
    }
    const text = decoder.decode(input);
    const lineCount = text.split('\n').length;
    invariant(result.errors.length <= MAX_REPORTED_ERRORS && result.errorCount >= result.errors.length, 'error counts disagree');
    for (const e of result.errors) invariant(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount && e.message.length > 0, () => `error at line ${e.line} of ${lineCount}: ${e.message}`);
    for (let i = 1; i < result.errors.length; i++) invariant(result.errors[i].line >= result.errors[i - 1].line, 'errors out of file order');

    const { symbols } = result;
    for (const address of addressesOf(text)) {
      const found = symbols.lookup(address);
      if (found) {
        invariant(typeof found.functionName === 'string', 'a function without a name');
        invariant(found.functionBase <= address, () => `lookup(${address.toString(16)}) gave a function starting after it, at ${found.functionBase.toString(16)}`);
        if (found.functionSize !== undefined) {
          invariant(address < found.functionBase + found.functionSize, () => `lookup(${address.toString(16)}) gave a function ending before it`);
        }
        if (found.lineBase !== undefined) invariant(found.lineBase <= address, () => `lookup(${address.toString(16)}) gave a line starting after it`);
        if (found.line !== undefined) invariant(Number.isInteger(found.line) && found.line >= 0, 'a negative or fractional line number');
        invariant(Number.isFinite(found.parameterSize) && found.parameterSize >= 0, 'a bad parameter size');
        for (const inline of found.inlines) invariant(typeof inline.functionName === 'string', 'an inline frame without a name');
      }
      const cfi = symbols.findCfi(address);
      if (cfi) for (const [register, expression] of cfi) invariant(register.length > 0 && expression.length > 0, 'an empty CFI rule');
      const win = symbols.findWin(address);
      if (win) invariant(win.rva <= address && address < win.rva + BigInt(Math.max(1, win.codeSize)), () => `findWin(${address.toString(16)}) gave a record that does not cover it`);
    }
  },
};
