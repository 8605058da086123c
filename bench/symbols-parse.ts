/**
 * Parse time and memory of the Breakpad symbol parser on a large synthetic `.sym` file,
 * shaped like what dump_syms writes for a big C++ library (Firefox's libxul): FILE and
 * INLINE_ORIGIN tables, then FUNC records each with line records and some INLINE records,
 * then PUBLIC records, then STACK CFI INIT records with their delta rows.
 *
 *   node --expose-gc --import tsx bench/symbols-parse.ts [sizeInMB=200]
 *
 * (`npx tsx bench/symbols-parse.ts` works too; without --expose-gc the memory figures
 * include garbage not yet collected.)
 */

import { parseSymbolFile } from '../src/minidump/symbols/index.js';

const targetBytes = Number(process.argv[2] ?? 200) * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
const collect = () => {
  gc?.();
  gc?.();
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Deterministic pseudo-random numbers, so every run measures the same file. */
let seed = 42;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

const NAMESPACES = ['mozilla', 'mozilla::dom', 'js::jit', 'nsTArray_Impl<nsCOMPtr<nsIRunnable>, nsTArrayInfallibleAllocator>', 'std::__1', 'webrtc'];
const WORDS = ['Process', 'Handle', 'Update', 'Frame', 'Layer', 'Async', 'Observer', 'Buffer', 'Compile', 'Dispatch'];
const name = (i: number) =>
  `${NAMESPACES[i % NAMESPACES.length]}::${WORDS[random(10)]}${WORDS[random(10)]}${i}(${random(2) ? 'unsigned int, ' : ''}mozilla::Span<const char16_t> const&)`;

function generate(): { bytes: Uint8Array; functions: number; lines: number } {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const emit = (line: string) => {
    pending.push(line);
    pendingLength += line.length + 1;
    if (pendingLength > 1 << 20) flush();
  };
  const flush = () => {
    const chunk = encoder.encode(`${pending.join('\n')}\n`);
    chunks.push(chunk);
    size += chunk.length;
    pending = [];
    pendingLength = 0;
  };

  // Roughly 390 bytes of text per function in all, measured on the mix below.
  const functions = Math.max(10, Math.floor(targetBytes / 390));
  const files = Math.ceil(functions / 20);
  const origins = Math.ceil(functions / 3);
  emit('MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 xul.pdb');
  emit('INFO CODE_ID 5F7B0E1A2B3C000 xul.dll');
  for (let f = 0; f < files; f++) emit(`FILE ${f} /builds/worker/checkouts/gecko/dom/base/module${f}/Source${f}.cpp`);
  for (let o = 0; o < origins; o++) emit(`INLINE_ORIGIN ${o} ${name(o)}`);
  let address = 0x1000;
  let lines = 0;
  const starts: number[] = [];
  for (let i = 0; i < functions; i++) {
    const lineCount = 4 + random(16);
    const sizes = Array.from({ length: lineCount }, () => 2 + random(14));
    const total = sizes.reduce((a, b) => a + b, 0);
    emit(`FUNC ${random(40) === 0 ? 'm ' : ''}${address.toString(16)} ${total.toString(16)} 0 ${name(i)}`);
    if (random(3) === 0) {
      emit(`INLINE 0 ${random(900)} ${random(files)} ${random(origins)} ${(address + sizes[0]).toString(16)} ${(total - sizes[0]).toString(16)}`);
      emit(`INLINE 1 ${random(900)} ${random(files)} ${random(origins)} ${(address + sizes[0]).toString(16)} ${sizes[1].toString(16)}`);
    }
    const file = random(files);
    let a = address;
    for (const s of sizes) {
      emit(`${a.toString(16)} ${s.toString(16)} ${1 + random(3000)} ${file}`);
      a += s;
      lines++;
    }
    starts.push(address, total);
    address += total + random(16);
  }
  for (let i = 0; i < functions; i += 10) emit(`PUBLIC ${(address + i * 16).toString(16)} 0 ?Public${i}@@YAXXZ`);
  for (let i = 0; i < starts.length; i += 2) {
    const [start, total] = [starts[i], starts[i + 1]];
    emit(`STACK CFI INIT ${start.toString(16)} ${total.toString(16)} .cfa: $rsp 8 + .ra: .cfa -8 + ^`);
    const deltas = random(6);
    for (let d = 1; d <= deltas && d < total; d++) {
      emit(`STACK CFI ${(start + d).toString(16)} .cfa: $rsp ${(16 + 8 * d).toString(10)} + $rbp: .cfa -16 + ^`);
    }
  }
  flush();
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, functions, lines };
}

const generated = generate();
console.log(`generated ${mb(generated.bytes.length)}: ${generated.functions} functions, ${generated.lines} line records`);

collect();
const before = process.memoryUsage();
const peakBefore = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const result = parseSymbolFile(generated.bytes);
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

console.log(`parse: ${parseMs.toFixed(0)} ms (${(generated.bytes.length / 1024 / 1024 / (parseMs / 1000)).toFixed(0)} MB/s), errors: ${result.errorCount}`);
console.log(
  `memory added by parsing (${gc ? 'after gc' : 'no --expose-gc: includes garbage'}): ` +
    `rss ${mb(after.rss - before.rss)}, heapUsed ${mb(after.heapUsed - before.heapUsed)}, ` +
    `arrayBuffers ${mb(after.arrayBuffers - before.arrayBuffers)}`,
);
console.log(`peak rss: ${mb(process.resourceUsage().maxRSS * 1024)} (${mb(peakBefore)} before parsing, with the generated file)`);
console.log(
  `retained estimate (cache cost): ${mb(symbols.retainedBytes)} = file ${mb(generated.bytes.length)} + tables ${mb(symbols.retainedBytes - generated.bytes.length)}`,
);
console.log(`lookup + findCfi: ${((lookupMs * 1000) / lookups).toFixed(2)} µs per address (${found}/${lookups} found)`);
