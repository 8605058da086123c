/**
 * Stackwalk benchmark: every corpus dump that has symbols, Mayday in one process (cold
 * symbol cache, then warm) against Breakpad's `minidump_stackwalk`, one process per dump
 * as it is normally run. Reports dumps/s and peak memory for both, and their ratio.
 *
 * Run: `npx tsx bench/stackwalk.ts` (installs the reference into .cache/minidump on
 * first use; without network the reference half is skipped).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsSymbolLoader } from '../src/adapters/fs-symbol-supplier.js';
import { toMachineReadable } from '../src/minidump/output/index.js';
import { MemoizedSymbols, processMinidump } from '../src/minidump/process/index.js';
import { readMinidump } from '../src/minidump/reader/index.js';
import { SymbolCache } from '../src/minidump/symbols/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache/minidump');
const stackwalkBin = join(cacheDir, 'node_modules/minidump/bin/linux-x64/minidump_stackwalk');

interface Job {
  readonly dump: string;
  readonly symbols: string;
}

function jobs(): Job[] {
  const list: Job[] = [];
  const corpus = join(root, 'fixtures/corpus');
  for (const f of readdirSync(join(corpus, 'dumps'))) list.push({ dump: join(corpus, 'dumps', f), symbols: join(corpus, 'symbols') });
  const pub = resolve(root, '../shared/corpus/public');
  if (existsSync(join(pub, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(join(pub, 'manifest.json'), 'utf8')) as { dumps: { file: string; reference: string; symbol_path: string | null }[] };
    for (const d of manifest.dumps) {
      if (d.reference === 'ok' && d.symbol_path) list.push({ dump: join(pub, d.file), symbols: join(pub, d.symbol_path) });
    }
  }
  return list;
}

async function mayday(list: readonly Job[], rounds: number): Promise<{ cold: number; warm: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const cache = new SymbolCache({ loader: fsSymbolLoader([...new Set(list.map((j) => j.symbols))]), budgetBytes: 2 ** 30 });
  const symbolSource = new MemoizedSymbols(cache);
  const once = async (): Promise<number> => {
    const start = performance.now();
    for (const job of list) {
      const state = await processMinidump(readMinidump(new Uint8Array(readFileSync(job.dump))), cache, { symbolSource });
      toMachineReadable(state);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    return (performance.now() - start) / 1000;
  };
  const cold = await once();
  let warm = Infinity;
  for (let i = 0; i < rounds; i++) warm = Math.min(warm, await once());
  return { cold: list.length / cold, warm: list.length / warm, peakRssMb: peak / 2 ** 20 };
}

function ensureReference(): boolean {
  if (existsSync(stackwalkBin)) return true;
  try {
    execFileSync('npm', ['install', '--ignore-scripts', '--prefix', cacheDir, 'minidump@0.26.0'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return existsSync(stackwalkBin);
}

/** Peak RSS of a child, from `/usr/bin/time -v` when available. */
function reference(list: readonly Job[]): { rate: number; peakRssMb: number } | undefined {
  if (!ensureReference()) return undefined;
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  let peakKb = 0;
  const start = performance.now();
  for (const job of list) {
    const r = timeBin
      ? spawnSync(timeBin, ['-v', stackwalkBin, '-m', job.dump, job.symbols], { encoding: 'utf8', maxBuffer: 1 << 28 })
      : spawnSync(stackwalkBin, ['-m', job.dump, job.symbols], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  }
  const seconds = (performance.now() - start) / 1000;
  return { rate: list.length / seconds, peakRssMb: peakKb / 1024 };
}

const list = jobs();
console.log(`${list.length} dumps with symbols`);
const ours = await mayday(list, 3);
console.log(`mayday   cold ${ours.cold.toFixed(1)} dumps/s, warm ${ours.warm.toFixed(1)} dumps/s, peak RSS ${ours.peakRssMb.toFixed(0)} MB (one process)`);
const ref = reference(list);
if (!ref) {
  console.log('breakpad minidump_stackwalk unavailable (install failed): reference skipped');
} else {
  console.log(`breakpad ${ref.rate.toFixed(1)} dumps/s, peak RSS ${ref.peakRssMb ? `${ref.peakRssMb.toFixed(0)} MB per process` : 'n/a (no /usr/bin/time)'}`);
  console.log(`ratio (mayday/breakpad): cold ${(ours.cold / ref.rate).toFixed(2)}x, warm ${(ours.warm / ref.rate).toFixed(2)}x`);
}
