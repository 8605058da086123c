#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
// The collector streams each submission to disk and flushes it before answering: with
// libuv's default of 4 threads, 16 concurrent clients would queue behind 4 fsyncs.
process.env.UV_THREADPOOL_SIZE ??= '16';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const entry = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('mayday: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first.\n');
  process.exit(1);
}
const { main } = await import(entry);
await main(process.argv.slice(2));
