/**
 * PUBLIC symbols that only name the nearest export below an address: stripped system
 * libraries have no FUNC records, so Breakpad names every address after the export below
 * it, even inside an unexported function that starts later. The `STACK CFI INIT` records
 * (one per function) tell those apart; the name stays (Breakpad's fidelity) and the lookup
 * says it is only the nearest export, so signatures can use `module@offset` instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toJsonDump } from '../../../src/minidump/output/index.js';
import { processMinidump } from '../../../src/minidump/process/index.js';
import { readMinidump } from '../../../src/minidump/reader/index.js';
import { CORPUS } from '../../support/corpus.js';
import { directorySupplier } from '../process/dir-supplier.js';
import { parse } from './helpers.js';

describe('PUBLIC lookups and the unwind records after them', () => {
  const { symbols } = parse(
    'PUBLIC 1000 0 exported',
    'PUBLIC 2000 0 lonely',
    'STACK CFI INIT 1000 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^',
    'STACK CFI INIT 1080 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^',
  );

  it('does not mark an address in the function the symbol starts', () => {
    const hit = symbols.lookup(0x1010n);
    expect(hit?.functionName).toBe('exported');
    expect(hit?.nearestExportOnly).toBeUndefined();
  });

  it('marks an address in a later function, keeping the name Breakpad gives it', () => {
    const hit = symbols.lookup(0x1090n);
    expect(hit?.functionName).toBe('exported');
    expect(hit?.functionBase).toBe(0x1000n);
    expect(hit?.nearestExportOnly).toBe(true);
  });

  it('does not mark an address no unwind record covers', () => {
    expect(symbols.lookup(0x1050n)?.nearestExportOnly).toBeUndefined();
    expect(symbols.lookup(0x2010n)?.nearestExportOnly).toBeUndefined();
  });

  it('never marks FUNC records', () => {
    const { symbols: withFunc } = parse('FUNC 1000 100 0 real_function', 'STACK CFI INIT 1080 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^');
    expect(withFunc.lookup(0x1090n)?.nearestExportOnly).toBeUndefined();
  });
});

describe('json_dump of the corpus abort dump (stripped libc: PUBLIC and STACK CFI only)', () => {
  it('marks exactly the frames whose export is not their function, and keeps Breakpad\'s names', async () => {
    const state = await processMinidump(readMinidump(new Uint8Array(readFileSync(join(CORPUS, 'dumps', 'example-app-abort.dmp')))), directorySupplier(join(CORPUS, 'symbols')));
    const doc = toJsonDump(state) as { threads: { frames: { function: string | null; function_is_nearest_export: boolean }[] }[] };
    const crashing = doc.threads[0].frames.map((f) => [f.function, f.function_is_nearest_export]);
    // Breakpad's reference (expected/example-app-abort.breakpad.txt) names these frames the same.
    expect(crashing.slice(0, 7)).toEqual([
      ['pthread_key_delete', true], // in __pthread_kill_implementation, which libc does not export
      ['gsignal', false],
      ['abort', false],
      ['do_abort()', false],
      ['main.cold', false],
      ['__libc_init_first', true], // in __libc_start_call_main
      ['__libc_start_main', false],
    ]);
  });
});
