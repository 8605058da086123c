import { describe, expect, it } from 'vitest';
import { processMinidump } from '../../src/minidump/process/index.js';
import { readMinidump, type Minidump } from '../../src/minidump/reader/index.js';
import type { MemoryRegion, SymbolSupplier } from '../../src/minidump/contracts.js';
import { DumpBuilder, Writer, amd64Context, memoryList, systemInfo, threadList } from '../minidump/reader/builder.js';
import { target } from '../../scripts/fuzz/targets/minidump.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing the minidump reader and stack walker', () => {
  it('runs 1,500 executions of npm run fuzz:minidump without a finding', async () => {
    const run = await runFuzzer('minidump', 1500, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(1500);
    // The mutations reach deep into the code, or this run would prove little.
    const { branchesCovered, branchesTotal } = run.summary.status!.coverage;
    expect(branchesCovered / branchesTotal).toBeGreaterThan(0.5);
  }, 60_000);

  for (const { name, input } of savedFindings('minidump')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }

  // Found by the fuzzer (a 258 KB dump that took 2 s): each thread without stack bytes of
  // its own looked its stack up in the memory list region by region, threads × regions.
  it('finds the stacks of many threads in a long memory list without reading the list once per thread', async () => {
    const count = 1500;
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform: 0x8201 }));
    const base = (i: number) => 0x10000000n + BigInt(i) * 0x1000n;
    // Regions listed from the highest address down, threads from the lowest up: no order helps.
    b.stream(5, memoryList(b, Array.from({ length: count }, (_, i) => ({ base: base(count - 1 - i), bytes: new Uint8Array(32).fill(i & 0xff) }))));
    b.stream(3, threadList(b, Array.from({ length: count }, (_, i) => ({ id: i + 1, stackBase: base(i) + 8n, stack: new Uint8Array(0), context: amd64Context({ rip: 0x1000n, rsp: base(i) + 8n }) }))));
    const dump = readMinidump(b.build());
    expect(dump.memoryList).toHaveLength(count);
    let reads = 0;
    const counted = new Proxy(dump.memoryList as MemoryRegion[], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const noSymbols: SymbolSupplier = { getSymbols: async () => ({ status: 'missing' }) };
    const state = await processMinidump(Object.assign(Object.create(Object.getPrototypeOf(dump)), dump, { memoryList: counted }) as Minidump, noSymbols, { maxFrames: 2 });
    // Each thread found the region its stack pointer is in (no "no stack memory" error).
    expect(state.errors.filter((e) => e.includes('no stack memory'))).toEqual([]);
    expect(state.threads).toHaveLength(count);
    // count × log2(count) is about 16,000; thread by thread it was count² / 2, over 1,000,000.
    expect(reads).toBeLessThan(40 * count);
  });

  // Found by the fuzzer (a 268 KB dump whose json_dump was 406 MB): one long thread name,
  // decoded once, given to each of thousands of threads that share its thread id.
  it('charges each thread that shares a name to the decoding budget, so a name is not repeated without limit', () => {
    const b = new DumpBuilder();
    b.stream(7, systemInfo(b, { arch: 9, platform: 0x8201 }));
    const nameRva = b.string('n'.repeat(30_000));
    b.stream(24, new Writer().u32(1).u32(7).u64(BigInt(nameRva)));
    const context = amd64Context({ rip: 0x1000n, rsp: 0x2000n });
    b.stream(3, threadList(b, Array.from({ length: 3000 }, () => ({ id: 7, stackBase: 0n, stack: new Uint8Array(0), context }))));
    const bytes = b.build();
    const dump = readMinidump(bytes);
    expect(dump.threads).toHaveLength(3000);
    const named = dump.threads.filter((t) => t.name !== undefined);
    // The budget is 2 bytes per byte of the file plus 64 KB, of UTF-16: a few copies.
    expect(named.length).toBeGreaterThan(1);
    expect(named.length * 60_000).toBeLessThanOrEqual(2 * bytes.length + 2 ** 16);
    expect(dump.errors.some((e) => /thread names left out/.test(e))).toBe(true);
  });
});
