/**
 * A large synthetic Breakpad `.sym` file, shaped like what dump_syms writes for a big C++
 * library (Firefox's libxul): FILE and INLINE_ORIGIN tables, then FUNC records each with
 * line records and some INLINE records, then PUBLIC records, then STACK CFI INIT records
 * with their delta rows. Shared by `bench/symbols-parse.ts` (parse time and memory in
 * process) and `bench/stackwalk.ts` (a real module's symbols padded to ~200 MB, to compare
 * the stackwalkers' memory on the same large file).
 *
 * Deterministic (a fixed-seed generator), so every run measures the same file.
 */

export interface SyntheticSymbolsOptions {
  /** Approximate size of the generated records, in bytes. */
  readonly targetBytes: number;
  /**
   * Lines written first, verbatim (without newlines). Default: a Windows `MODULE` and
   * `INFO CODE_ID` header for `xul.pdb`. Pass a real module's header and records to pad
   * that module's symbols with synthetic bulk.
   */
  readonly headerLines?: readonly string[];
  /**
   * Module offset of the first synthetic FUNC. Past the end of any real records placed
   * in the header, so the synthetic ones never shadow them. Default 0x1000.
   */
  readonly firstAddress?: number;
  /** First FILE and INLINE_ORIGIN id used, to stay clear of ids in the header. Default 0. */
  readonly firstId?: number;
}

export interface SyntheticSymbols {
  /** The file, in chunks of about 1 MB (write them in order, or `concatChunks`). */
  readonly chunks: readonly Uint8Array[];
  readonly size: number;
  readonly functions: number;
  readonly lines: number;
}

const NAMESPACES = ['mozilla', 'mozilla::dom', 'js::jit', 'nsTArray_Impl<nsCOMPtr<nsIRunnable>, nsTArrayInfallibleAllocator>', 'std::__1', 'webrtc'];
const WORDS = ['Process', 'Handle', 'Update', 'Frame', 'Layer', 'Async', 'Observer', 'Buffer', 'Compile', 'Dispatch'];

/** Roughly this many bytes of text per function in all, measured on the record mix below. */
const BYTES_PER_FUNCTION = 390;

export function generateSyntheticSymbols(options: SyntheticSymbolsOptions): SyntheticSymbols {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const name = (i: number) =>
    `${NAMESPACES[i % NAMESPACES.length]}::${WORDS[random(10)]}${WORDS[random(10)]}${i}(${random(2) ? 'unsigned int, ' : ''}mozilla::Span<const char16_t> const&)`;

  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    const chunk = encoder.encode(`${pending.join('\n')}\n`);
    chunks.push(chunk);
    size += chunk.length;
    pending = [];
    pendingLength = 0;
  };
  const emit = (line: string) => {
    pending.push(line);
    pendingLength += line.length + 1;
    if (pendingLength > 1 << 20) flush();
  };

  const functions = Math.max(10, Math.floor(options.targetBytes / BYTES_PER_FUNCTION));
  const files = Math.ceil(functions / 20);
  const origins = Math.ceil(functions / 3);
  const firstId = options.firstId ?? 0;
  for (const line of options.headerLines ?? ['MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 xul.pdb', 'INFO CODE_ID 5F7B0E1A2B3C000 xul.dll']) {
    emit(line);
  }
  for (let f = 0; f < files; f++) emit(`FILE ${firstId + f} /builds/worker/checkouts/gecko/dom/base/module${f}/Source${f}.cpp`);
  for (let o = 0; o < origins; o++) emit(`INLINE_ORIGIN ${firstId + o} ${name(o)}`);
  let address = options.firstAddress ?? 0x1000;
  let lines = 0;
  const starts: number[] = [];
  for (let i = 0; i < functions; i++) {
    const lineCount = 4 + random(16);
    const sizes = Array.from({ length: lineCount }, () => 2 + random(14));
    const total = sizes.reduce((a, b) => a + b, 0);
    emit(`FUNC ${random(40) === 0 ? 'm ' : ''}${address.toString(16)} ${total.toString(16)} 0 ${name(i)}`);
    if (random(3) === 0) {
      emit(`INLINE 0 ${random(900)} ${firstId + random(files)} ${firstId + random(origins)} ${(address + sizes[0]).toString(16)} ${(total - sizes[0]).toString(16)}`);
      emit(`INLINE 1 ${random(900)} ${firstId + random(files)} ${firstId + random(origins)} ${(address + sizes[0]).toString(16)} ${sizes[1].toString(16)}`);
    }
    const file = firstId + random(files);
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
  return { chunks, size, functions, lines };
}

/** The chunks as one buffer (what a loader would hand the parser). */
export function concatChunks(generated: SyntheticSymbols): Uint8Array {
  const bytes = new Uint8Array(generated.size);
  let offset = 0;
  for (const chunk of generated.chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
