import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { symbolStorePath as supplierPath } from '../../src/adapters/fs-symbol-supplier.js';
import { FsSymbolStore } from '../../src/adapters/fs-symbol-store.js';
import { HttpSymbolSource } from '../../src/adapters/http-symbol-source.js';
import { S3SymbolStore } from '../../src/adapters/s3-symbol-store.js';
import { symbolStorePath, type SymbolKey, type SymbolStore } from '../../src/ports/symbol-store.js';
import { chainSources } from '../../src/node/symbol-sources.js';
import { ID, symText } from './support.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'mayday-stores-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function staged(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmp, 'stage-')), 'x.sym');
  writeFileSync(file, text);
  return file;
}

describe('symbolStorePath', () => {
  it('lays out Breakpad\'s store paths and refuses unsafe names', () => {
    expect(symbolStorePath({ debugFile: 'libc.so.6', debugId: ID })).toBe(`libc.so.6/${ID}/libc.so.6.sym`);
    expect(symbolStorePath({ debugFile: 'foo.pdb', debugId: ID })).toBe(`foo.pdb/${ID}/foo.sym`);
    expect(symbolStorePath({ debugFile: 'C:\\build\\foo.PDB', debugId: ID })).toBe(`foo.PDB/${ID}/foo.sym`);
    // A path is reduced to its last component, as Breakpad's PathnameStripper does.
    expect(symbolStorePath({ debugFile: '../etc', debugId: ID })).toBe(`etc/${ID}/etc.sym`);
    for (const key of [
      { debugFile: '..', debugId: ID },
      { debugFile: 'a/', debugId: ID },
      { debugFile: 'a', debugId: '../x' },
      { debugFile: '', debugId: ID },
      { debugFile: 'x\u0000y', debugId: ID },
    ] satisfies SymbolKey[]) {
      expect(symbolStorePath(key)).toBeUndefined();
    }
    // The directory loader uses the same rules.
    expect(supplierPath).toBe(symbolStorePath);
  });
});

/** The same contract for every store. */
function storeContract(name: string, make: () => SymbolStore) {
  describe(`${name} store`, () => {
    it('stores, finds and replaces a file; answers undefined for a missing one', async () => {
      const store = make();
      const key = { debugFile: 'libx.so', debugId: ID };
      expect(await store.fetch(key)).toBeUndefined();
      expect(await store.has(key)).toBe(false);
      await store.putFile(key, staged(symText('libx.so')));
      expect(Buffer.from((await store.fetch(key))!).toString()).toBe(symText('libx.so'));
      expect(await store.has(key)).toBe(true);
      await store.putFile(key, staged(symText('libx.so', ID, 'PUBLIC 10 0 v2\n')));
      expect(Buffer.from((await store.fetch(key))!).toString()).toContain('v2');
      await store.check();
    });

    it('refuses unsafe names', async () => {
      const store = make();
      await expect(store.putFile({ debugFile: '..', debugId: ID }, staged('x'))).rejects.toThrow(/unsafe/);
      expect(await store.fetch({ debugFile: 'a', debugId: '../../x' })).toBeUndefined();
    });
  });
}

storeContract('fs', () => new FsSymbolStore(path.join(tmp, 'fs-store')));

// s3rver: a real S3-protocol server on loopback.
let s3: { close(): Promise<void>; endpoint: string } | undefined;
let s3Reason: string | undefined;
beforeAll(async () => {
  try {
    // s3rver ships no types: imported by a computed name and typed here by what we use.
    const moduleName = 's3rver';
    const { default: S3rver } = (await import(moduleName)) as { default: new (options: object) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void> } };
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(tmp, 's3rver'), configureBuckets: [{ name: 'symbols' }] });
    const { port } = await server.run();
    s3 = { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() };
  } catch (error) {
    s3Reason = (error as Error).message;
  }
});
afterAll(async () => s3?.close());

describe('S3 store (s3rver on loopback)', () => {
  const make = () => new S3SymbolStore({ bucket: 'symbols', prefix: 'v1/', endpoint: s3!.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', timeoutMs: 5000 });
  it('keeps the store contract and the store layout as object keys', async (context) => {
    if (!s3) return context.skip(`s3rver did not start: ${s3Reason}`);
    const store = make();
    const key = { debugFile: 'foo.pdb', debugId: ID };
    expect(store.objectKey(key)).toBe(`v1/foo.pdb/${ID}/foo.sym`);
    expect(await store.fetch(key)).toBeUndefined();
    expect(await store.has(key)).toBe(false);
    await store.putFile(key, staged(symText('foo.pdb')));
    expect(Buffer.from((await store.fetch(key))!).toString()).toBe(symText('foo.pdb'));
    expect(await store.has(key)).toBe(true);
    await store.check();
    await expect(new S3SymbolStore({ bucket: 'nope', endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }).check()).rejects.toThrow();
    store.close();
  });
});

describe('HttpSymbolSource', () => {
  function fakeServer(files: Record<string, string>, status?: number) {
    const requests: string[] = [];
    const fetchImpl = (async (url: string | URL) => {
      requests.push(String(url));
      if (status) return new Response('boom', { status });
      const body = files[new URL(String(url)).pathname];
      return body === undefined ? new Response('not found', { status: 404 }) : new Response(body, { status: 200 });
    }) as typeof fetch;
    return { requests, fetchImpl };
  }

  it('fetches from BASE/DEBUG_FILE/DEBUG_ID/NAME.sym once, then serves its disk cache', async () => {
    const server = fakeServer({ [`/base/foo.pdb/${ID}/foo.sym`]: symText('foo.pdb') });
    const make = () => new HttpSymbolSource({ baseUrl: 'https://symbols.example.com/base/', cacheDir: path.join(tmp, 'http-1'), negativeTtlMs: 1000, timeoutMs: 1000, fetch: server.fetchImpl });
    const key = { debugFile: 'foo.pdb', debugId: ID };
    expect(Buffer.from((await make().fetch(key))!).toString()).toBe(symText('foo.pdb'));
    expect(Buffer.from((await make().fetch(key))!).toString()).toBe(symText('foo.pdb'));
    expect(server.requests).toEqual([`https://symbols.example.com/base/foo.pdb/${ID}/foo.sym`]);
  });

  it('remembers a miss on disk until the negative TTL passes', async () => {
    let now = 0;
    const files: Record<string, string> = {};
    const server = fakeServer(files);
    const source = new HttpSymbolSource({ baseUrl: 'https://s.example.com', cacheDir: path.join(tmp, 'http-2'), negativeTtlMs: 1000, timeoutMs: 1000, fetch: server.fetchImpl, now: () => now });
    const key = { debugFile: 'libz.so', debugId: ID };
    expect(await source.fetch(key)).toBeUndefined();
    files[`/libz.so/${ID}/libz.so.sym`] = symText('libz.so');
    now = 999;
    expect(await source.fetch(key)).toBeUndefined();
    expect(server.requests).toHaveLength(1);
    now = 1000;
    expect(await source.fetch(key)).toBeDefined();
    expect(server.requests).toHaveLength(2);
  });

  it('throws (and does not remember) on 5xx and timeouts', async () => {
    const server = fakeServer({}, 503);
    const source = new HttpSymbolSource({ baseUrl: 'https://s.example.com', cacheDir: path.join(tmp, 'http-3'), negativeTtlMs: 1000, timeoutMs: 1000, fetch: server.fetchImpl });
    const key = { debugFile: 'libz.so', debugId: ID };
    await expect(source.fetch(key)).rejects.toThrow(/HTTP 503/);
    await expect(source.fetch(key)).rejects.toThrow(/HTTP 503/);
    expect(server.requests).toHaveLength(2);
    const slow = new HttpSymbolSource({
      baseUrl: 'https://s.example.com',
      cacheDir: path.join(tmp, 'http-4'),
      negativeTtlMs: 1000,
      timeoutMs: 50,
      fetch: ((_url: string, init: RequestInit) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)))) as unknown as typeof fetch,
    });
    await expect(slow.fetch(key)).rejects.toThrow();
  });
});

describe('chainSources', () => {
  const source = (name: string, answer: Uint8Array | undefined | Error) => ({
    name,
    fetch: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  const key = { debugFile: 'a', debugId: ID };
  it('answers from the first source that has the file, in priority order', async () => {
    const found = await chainSources([source('a', undefined), source('b', Buffer.from('B')), source('c', Buffer.from('C'))])(key);
    expect(Buffer.from(found!).toString()).toBe('B');
  });
  it('goes past a failing source, but throws rather than answer missing after a failure', async () => {
    expect(Buffer.from((await chainSources([source('a', new Error('down')), source('b', Buffer.from('B'))])(key))!).toString()).toBe('B');
    await expect(chainSources([source('a', new Error('down')), source('b', undefined)])(key)).rejects.toThrow(/a: down/);
    expect(await chainSources([source('a', undefined)])(key)).toBeUndefined();
  });
});
