/**
 * Parse time and memory of the Breakpad symbol parser on a large synthetic `.sym` file
 * (`bench/synthetic-symbols.ts`: shaped like dump_syms's output for Firefox's libxul).
 *
 *   node --expose-gc --import tsx bench/symbols-parse.ts [sizeInMB=200]
 *
 * (`npx tsx bench/symbols-parse.ts` works too; without --expose-gc the memory figures
 * include garbage not yet collected.)
 */

import { parseSymbolFile } from '../src/minidump/symbols/index.js';
import { concatChunks, generateSyntheticSymbols } from './synthetic-symbols.js';

const targetBytes = Number(process.argv[2] ?? 200) * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
const collect = () => {
  gc?.();
  gc?.();
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The file as one buffer; the generator's chunks are garbage once this returns. */
function generate(): { bytes: Uint8Array; size: number; functions: number; lines: number } {
  const generated = generateSyntheticSymbols({ targetBytes });
  return { bytes: concatChunks(generated), size: generated.size, functions: generated.functions, lines: generated.lines };
}

/** Deterministic pseudo-random lookup addresses. */
let seed = 7;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

const generated = generate();
const bytes = generated.bytes;
console.log(`generated ${mb(generated.size)}: ${generated.functions} functions, ${generated.lines} line records`);

collect();
const before = process.memoryUsage();
const peakBefore = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const result = parseSymbolFile(bytes);
const parseMs = performance.now() - t0;
collect();
const after = process.memoryUsage();
if (result.status !== 'parsed') throw new Error(result.error);
const symbols = result.symbols;

const t1 = performance.now();
let found = 0;
const lookups = 200_000;
for (let i = 0; i < lookups; i++) {
  const offset = BigInt(0x1000 + random(generated.functions * 120));
  if (symbols.lookup(offset)) found++;
  symbols.findCfi(offset);
}
const lookupMs = performance.now() - t1;

console.log(`parse: ${parseMs.toFixed(0)} ms (${(generated.size / 1024 / 1024 / (parseMs / 1000)).toFixed(0)} MB/s), errors: ${result.errorCount}`);
console.log(
  `memory added by parsing (${gc ? 'after gc' : 'no --expose-gc: includes garbage'}): ` +
    `rss ${mb(after.rss - before.rss)}, heapUsed ${mb(after.heapUsed - before.heapUsed)}, ` +
    `arrayBuffers ${mb(after.arrayBuffers - before.arrayBuffers)}`,
);
console.log(`peak rss: ${mb(process.resourceUsage().maxRSS * 1024)} (${mb(peakBefore)} before parsing, with the generated file)`);
console.log(
  `retained estimate (cache cost): ${mb(symbols.retainedBytes)} = file ${mb(generated.size)} + tables ${mb(symbols.retainedBytes - generated.size)}`,
);
console.log(`lookup + findCfi: ${((lookupMs * 1000) / lookups).toFixed(2)} µs per address (${found}/${lookups} found)`);
