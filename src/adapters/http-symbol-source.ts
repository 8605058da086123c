/**
 * An upstream Breakpad symbol server (Mozilla's, Chromium's, a company's own) as a
 * symbol source: `GET BASE/DEBUG_FILE/DEBUG_ID/NAME.sym`, the same layout as the local
 * store, so `symbolStorePath` gives the URL path too.
 *
 * Fetched files are kept in an on-disk cache (same layout), so each is downloaded once
 * per cache directory, not once per process start. Misses (404, and 403, which
 * S3-backed servers answer for a key that does not exist) are remembered on disk as a
 * `.missing` marker holding the time of the miss, and trusted for `negativeTtlMs`: a
 * crash full of system libraries the server has never heard of must not cost one
 * request per module per crash. Anything else (timeouts, 5xx, a body too large) is an
 * error, not a miss: it is thrown and not remembered, so the next lookup tries again.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { symbolStorePath, type SymbolKey, type SymbolSource } from '../ports/symbol-store.js';

export interface HttpSymbolSourceOptions {
  /** The server's base URL; the store path is appended to it. */
  readonly baseUrl: string;
  /** Directory of the on-disk cache (created on demand). */
  readonly cacheDir: string;
  /** How long a miss is trusted, in ms. */
  readonly negativeTtlMs: number;
  /** Limit for one request, connection to last byte, in ms. */
  readonly timeoutMs: number;
  /** Largest file accepted; a larger one is an error. Default 2 GiB. */
  readonly maxBytes?: number;
  /** For tests. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

const MISS_STATUSES = new Set([403, 404]);

export class HttpSymbolSource implements SymbolSource {
  readonly name: string;
  private readonly base: string;
  private readonly cacheDir: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  /** Requests sent upstream since start (for tests and the status page). */
  requests = 0;

  constructor(private readonly options: HttpSymbolSourceOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.name = this.base;
    this.cacheDir = path.resolve(options.cacheDir);
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async fetch(key: SymbolKey): Promise<Uint8Array | undefined> {
    const relative = symbolStorePath(key);
    if (relative === undefined) return undefined;
    const cached = path.join(this.cacheDir, relative);
    const marker = `${cached}.missing`;

    const hit = await readIfExists(cached);
    if (hit) return hit;
    const missedAt = Number((await readIfExists(marker))?.toString());
    if (Number.isFinite(missedAt) && this.now() - missedAt < this.options.negativeTtlMs) return undefined;

    const url = `${this.base}/${relative.split('/').map(encodeURIComponent).join('/')}`;
    this.requests++;
    const response = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.options.timeoutMs), redirect: 'follow' });
    if (MISS_STATUSES.has(response.status)) {
      await response.body?.cancel();
      await writeAtomically(marker, String(this.now()));
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    const bytes = await readBody(response, this.options.maxBytes ?? 2 * 1024 ** 3, url);
    await writeAtomically(cached, bytes);
    await rm(marker, { force: true });
    return bytes;
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Reads a response body, refusing one over `maxBytes` without buffering all of it. */
async function readBody(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`${url}: ${declared} bytes is more than the ${maxBytes} allowed`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`${url}: body is more than the ${maxBytes} bytes allowed`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Cache writes: temp name then rename, so a concurrent reader never sees half a file. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
