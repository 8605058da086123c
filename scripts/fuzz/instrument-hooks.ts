/**
 * Node module hooks (registered by `coverage.ts`) that add istanbul's counters to the
 * modules under test as they are loaded. They run after tsx has turned TypeScript into
 * JavaScript (hooks registered later run first and call the earlier ones), so the
 * counters are on the JavaScript that actually runs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInstrumenter } from 'istanbul-lib-instrument';
import { fileURLToPath } from 'node:url';

export interface InstrumentHooksData {
  /** Absolute directory or file paths whose modules get counters. */
  readonly include: readonly string[];
  readonly coverageVariable: string;
  /**
   * Where instrumented modules are kept between runs, by hash of their code: instrumenting
   * (a Babel pass) is most of a short run's start-up.
   */
  readonly cacheDir?: string;
}

/** Changes whenever the instrumented output would (bump it with the options below). */
const CACHE_VERSION = 'istanbul-6-compact-esm-1';

let include: readonly string[] = [];
let cacheDir: string | undefined;
let coverageVariable = '';
let instrumenter: ReturnType<typeof createInstrumenter> | undefined;

export function initialize(data: InstrumentHooksData): void {
  include = data.include;
  cacheDir = data.cacheDir;
  coverageVariable = data.coverageVariable;
  instrumenter = createInstrumenter({ coverageVariable, esModules: true, compact: true, produceSourceMap: false });
}

function instrument(code: string, path: string): string {
  if (!cacheDir) return instrumenter!.instrumentSync(code, path);
  const key = createHash('sha256').update(`${CACHE_VERSION}\0${coverageVariable}\0${path}\0${code}`).digest('hex');
  const file = join(cacheDir, `${key}.js`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    const output = instrumenter!.instrumentSync(code, path);
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: two fuzzers starting at once never read half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, output);
    renameSync(temporary, file);
    return output;
  }
}

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean };
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!url.startsWith('file:') || result.format !== 'module' || result.source == null || !instrumenter) return result;
  const path = fileURLToPath(url);
  if (path.includes('/node_modules/') || !include.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) return result;
  const code = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
  return { ...result, source: instrument(code, path) };
}
