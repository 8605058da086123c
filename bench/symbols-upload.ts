/**
 * Symbols at scale: upload throughput, cached lookup latency, and symbol cache memory.
 *
 *   node --expose-gc --import tsx bench/symbols-upload.ts [bigFileMB=200] [modules=200]
 *
 * 1. Upload throughput (MB/s) of the corpus symbols (`fixtures/corpus/symbols`, 7 files,
 *    3.6 MB) and of one synthetic `.sym` of `bigFileMB` MB, through the real client
 *    (`mayday symbols upload`'s code, sym-upload-v1 over loopback HTTP) into the symbols
 *    role with an fs store: receive, stage, parse-validate, rename into place.
 * 2. Lookup latency for a module already in the symbol cache (the processor's hot path).
 * 3. Memory held by the symbol cache for `modules` parsed modules of ~1 MB each.
 *
 * Parse speed alone is `bench/symbols-parse.ts`.
 */
import Fastify from 'fastify';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

import { FsSymbolStore } from '../src/adapters/fs-symbol-store.js';
import { SqliteMissingSymbolsLog } from '../src/adapters/sqlite-missing-symbols.js';
import { redactTokenRewriteUrl, requestAuthPlugin } from '../src/auth/request-auth.js';
import { SqliteTokenStore } from '../src/auth/token-store.js';
import { collectUploadItems, uploadSymbolFiles } from '../src/cli/commands/symbols.js';
import type { CodeModule } from '../src/minidump/contracts.js';
import { SymbolCache } from '../src/minidump/symbols/index.js';
import type { ProcessingQueue } from '../src/ports/queue.js';
import { symbolsPlugin } from '../src/roles/symbols/plugin.js';

const bigMB = Number(process.argv[2] ?? 200);
const moduleCount = Number(process.argv[3] ?? 200);
const ROOT = path.resolve(import.meta.dirname, '..');
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const ID = 'ABCDEF0123456789ABCDEF01234567890';

/** A synthetic symbol file: FILE records, FUNC records with line records, STACK CFI. */
async function writeSynthetic(file: string, targetBytes: number, name: string): Promise<void> {
  const out = createWriteStream(file);
  let written = 0;
  const write = async (text: string) => {
    written += text.length;
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`MODULE Linux x86_64 ${ID} ${name}\n`);
  for (let i = 0; i < 1000; i++) await write(`FILE ${i} /build/src/module/file_${i}.cc\n`);
  let address = 0x1000;
  for (let f = 0; written < targetBytes; f++) {
    let chunk = `FUNC ${address.toString(16)} 80 0 namespace_${f % 97}::Class_${f % 1013}::method_${f}(int, char const*)\n`;
    for (let l = 0; l < 8; l++) chunk += `${(address + l * 16).toString(16)} 10 ${100 + l} ${f % 1000}\n`;
    chunk += `STACK CFI INIT ${address.toString(16)} 80 .cfa: $rsp 8 + .ra: .cfa -8 + ^\nSTACK CFI ${(address + 4).toString(16)} .cfa: $rsp 16 +\n`;
    await write(chunk);
    address += 0x80;
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-bench-symbols-'));
  const app = Fastify({ rewriteUrl: redactTokenRewriteUrl, bodyLimit: 1024 });
  const tokens = SqliteTokenStore.open(path.join(dir, 'db.sqlite'));
  const missing = SqliteMissingSymbolsLog.open(path.join(dir, 'db.sqlite'));
  await app.register(requestAuthPlugin, { tokens });
  await app.register(symbolsPlugin, {
    store: new FsSymbolStore(path.join(dir, 'symbols')),
    missingSymbols: missing,
    queue: { enqueue: async () => {} } as unknown as ProcessingQueue, // not used by uploads
    stagingDir: path.join(dir, 'symbols', '.incoming'),
    limits: { maxUploadBytes: 4 * 1024 ** 3, maxUncompressedBytes: 8 * 1024 ** 3, maxFiles: 1000 },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const token = (await tokens.create({ user: 'bench', permissions: ['upload_symbols'] })).token;
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
  const upload = async (paths: string[]) => uploadSymbolFiles(await collectUploadItems(paths), { url, token, retries: 0, backoffMs: 1, timeoutMs: 3_600_000, progress: quiet });

  console.log('## Symbols\n');
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}; loopback HTTP, fs store on ${tmpdir()}.\n`);
  console.log('| measurement | result |');
  console.log('|---|---|');
  await upload([path.join(ROOT, 'fixtures/corpus/symbols')]); // warm-up
  const corpus = await upload([path.join(ROOT, 'fixtures/corpus/symbols')]);
  console.log(`| upload, corpus symbols (${corpus.uploaded} files, ${mb(corpus.bytes)} MB) | ${(corpus.bytes / 1024 / 1024 / corpus.seconds).toFixed(1)} MB/s (${corpus.seconds.toFixed(2)} s) |`);

  const big = path.join(dir, 'big', 'libbig.so.sym');
  await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(big)));
  await writeSynthetic(big, bigMB * 1024 * 1024, 'libbig.so');
  gc?.();
  // RSS sampled through the upload (client and server share this process; the client
  // streams the file, so a rise is what the server held to receive and validate it).
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 10);
  const bigResult = await upload([big]);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  if (bigResult.failed.length > 0) throw new Error(bigResult.failed[0].error);
  console.log(`| upload, one synthetic .sym of ${mb(bigResult.bytes)} MB | ${(bigResult.bytes / 1024 / 1024 / bigResult.seconds).toFixed(1)} MB/s (${bigResult.seconds.toFixed(2)} s) |`);
  console.log(`| peak RSS while uploading it (client and server in one process) | ${mb(rssPeak)} MB, +${mb(rssPeak - rssBefore)} MB over the ${mb(rssBefore)} MB before |`);
  await app.close();
  await tokens.close();
  await missing.close();
  rmSync(path.join(dir, 'big'), { recursive: true, force: true });

  // Cached lookups: one module, many addresses.
  const small = path.join(dir, 'small.sym');
  await writeSynthetic(small, 1024 * 1024, 'libsmall.so');
  const bytes = await import('node:fs/promises').then((fs) => fs.readFile(small));
  const module = (name: string): CodeModule => ({ base: 0n, size: 0x10000000n, codeFile: name, codeId: '', debugFile: name, debugId: ID, version: '' });
  // Each load gets its own copy of the bytes, as each real module has its own file.
  const cache = new SymbolCache({ loader: async () => Uint8Array.from(bytes), budgetBytes: 8 * 1024 ** 3 });
  await cache.getSymbols(module('libsmall.so'));
  const lookups = 200_000;
  let started = performance.now();
  for (let i = 0; i < lookups; i++) {
    const result = await cache.getSymbols(module('libsmall.so'));
    if (result.status === 'loaded') result.symbols.lookup(BigInt(0x1000 + ((i * 0x80) % 0x40000)));
  }
  console.log(`| lookup in a cached module (getSymbols + address lookup) | ${(((performance.now() - started) * 1000) / lookups).toFixed(2)} µs each (${lookups} lookups) |`);

  // Memory for N modules of ~1 MB each.
  cache.clear();
  gc?.();
  gc?.();
  const before = process.memoryUsage();
  started = performance.now();
  for (let i = 0; i < moduleCount; i++) {
    const result = await cache.getSymbols(module(`lib${i}.so`));
    if (result.status === 'loaded') result.symbols.lookup(0x1100n);
  }
  gc?.();
  gc?.();
  const after = process.memoryUsage();
  const held = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  console.log(
    `| symbol cache, ${moduleCount} modules of ${mb(bytes.length)} MB .sym | ${mb(held)} MB held (${mb(held / moduleCount)} MB per module; cache's own estimate ${mb(cache.stats.bytes)} MB); loaded in ${((performance.now() - started) / 1000).toFixed(1)} s |`,
  );
  if (!gc) console.log('\n(run with --expose-gc for exact memory figures)');
  rmSync(dir, { recursive: true, force: true });
}

await main();
