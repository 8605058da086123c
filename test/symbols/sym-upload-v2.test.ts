/**
 * Breakpad's `sym_upload -p sym-upload-v2` protocol on the symbols role: each step (check,
 * create, PUT, complete) and every refusal, on a real Fastify app with the auth layer, real
 * SQLite token, missing-symbols and queue stores, and both symbol store back ends (a
 * directory, and S3 through s3rver on loopback). The answers are read with the very
 * regular expressions Breakpad's client uses (symbol_collector_client.cc).
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { FsSymbolStore } from '../../src/adapters/fs-symbol-store.js';
import { S3SymbolStore } from '../../src/adapters/s3-symbol-store.js';
import { SqliteMissingSymbolsLog } from '../../src/adapters/sqlite-missing-symbols.js';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';
import { redactTokenRewriteUrl, requestAuthPlugin } from '../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import type { Permission } from '../../src/common/permissions.js';
import type { SymbolKey, SymbolStore } from '../../src/ports/symbol-store.js';
import { symbolsPlugin } from '../../src/roles/symbols/plugin.js';
import { acceptSymUploadV2Key, parseCompleteBody, symUploadV2KeyAsToken } from '../../src/roles/symbols/sym-upload-v2.js';
import { drainQueue, ID, readableLog, symText, TEST_LIMITS } from './support.js';

// The client's own patterns (Breakpad src/common/linux/symbol_collector_client.cc).
const STATUS = /"status": "([^"]+)"/;
const UPLOAD_URL = /"uploadUrl": "([^"]+)"/;
const UPLOAD_KEY = /"uploadKey": "([^"]+)"/;
const RESULT = /"result": "([^"]+)"/;

/** The complete call's body exactly as sym_upload writes it (bare keys, no escaping). */
const completeBody = (debugFile: string, debugId: string, type = 'BREAKPAD') =>
  `{ symbol_id: {debug_file: "${debugFile}", debug_id: "${debugId}" }, symbol_upload_type: "${type}" }`;

interface V2App {
  app: FastifyInstance;
  dir: string;
  store: SymbolStore;
  stagingDir: string;
  missing: SqliteMissingSymbolsLog;
  queue: SqliteQueue;
  logs: string[];
  stored: SymbolKey[];
  token(permissions: Permission[]): Promise<string>;
  close(): Promise<void>;
}

/** The symbols role behind the auth layer, with the node's rewriteUrl (sym_upload v2's `?key=` renamed, then redacted). */
async function startV2App(options: { store?: (dir: string) => SymbolStore; ttlMs?: number; maxPendingPerToken?: number; maxPending?: number; dir?: string } = {}): Promise<V2App> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'mayday-symv2-'));
  const { logger, logs } = readableLog();
  const app = Fastify({
    loggerInstance: logger,
    // Request logging on: the key must not reach the log even then.
    logController: new LogController({ disableRequestLogging: false }),
    rewriteUrl: (req) => redactTokenRewriteUrl(acceptSymUploadV2Key(req)),
    forceCloseConnections: true,
  });
  const tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  const missing = SqliteMissingSymbolsLog.open(path.join(dir, 'mayday.sqlite'));
  const queue = SqliteQueue.open(path.join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
  const store = options.store ? options.store(dir) : new FsSymbolStore(path.join(dir, 'symbols'));
  const stored: SymbolKey[] = [];
  const stagingDir = path.join(dir, 'staging');
  await app.register(requestAuthPlugin, { tokens });
  await app.register(symbolsPlugin, {
    store,
    missingSymbols: missing,
    queue,
    stagingDir,
    limits: TEST_LIMITS,
    onStored: (key) => stored.push(key),
    symUploadV2: { ttlMs: options.ttlMs, maxPendingPerToken: options.maxPendingPerToken, maxPending: options.maxPending },
  });
  await app.ready();
  return {
    app: app as unknown as FastifyInstance,
    dir,
    store,
    stagingDir,
    missing,
    queue,
    logs,
    stored,
    token: async (permissions) => (await tokens.create({ user: 'ci', permissions })).token,
    async close() {
      await app.close();
      await tokens.close();
      await missing.close();
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Files left in the staging folder (v2's are `sym-upload-v2-KEY.sym`). */
function stagedFiles(stagingDir: string): string[] {
  return existsSync(stagingDir) ? readdirSync(stagingDir) : [];
}

/** The upload path of an upload URL (inject takes paths). */
const pathOf = (url: string) => new URL(url).pathname;

describe('sym_upload v2 helpers', () => {
  it('renames ?key= to ?token= on the protocol\'s paths only', () => {
    expect(symUploadV2KeyAsToken('/symbols/v1/uploads:create?key=abc')).toBe('/symbols/v1/uploads:create?token=abc');
    expect(symUploadV2KeyAsToken('/symbols/reprocess/v1/symbols/a/B:checkStatus?x=1&k%65y=abc')).toBe('/symbols/reprocess/v1/symbols/a/B:checkStatus?x=1&token=abc');
    expect(symUploadV2KeyAsToken('/api/SuperSearch/?key=abc')).toBe('/api/SuperSearch/?key=abc');
    expect(symUploadV2KeyAsToken('/symbols/upload?key=abc')).toBe('/symbols/upload?key=abc');
    expect(symUploadV2KeyAsToken('/symbols/v1/uploads:create')).toBe('/symbols/v1/uploads:create');
  });

  it('reads the complete body as sym_upload writes it, and as JSON', () => {
    expect(parseCompleteBody(completeBody('example-app', ID))).toEqual({ debugFile: 'example-app', debugId: ID, type: 'BREAKPAD' });
    expect(parseCompleteBody(JSON.stringify({ symbol_id: { debug_file: 'a.pdb', debug_id: ID }, symbol_upload_type: 'PDB' }))).toEqual({ debugFile: 'a.pdb', debugId: ID, type: 'PDB' });
    expect(() => parseCompleteBody('garbage')).toThrow(/symbol_id/);
    expect(() => parseCompleteBody('{ symbol_id: {} }')).toThrow(/debug_file and symbol_id.debug_id/);
  });
});

/** The protocol's steps against one store back end. */
function protocolSuite(name: string, makeStore: (() => ((dir: string) => SymbolStore) | undefined) | undefined, skipReason?: () => string | undefined) {
  describe(`sym_upload v2 steps (${name} store)`, () => {
    let s: V2App;
    beforeEach(async (context) => {
      const reason = skipReason?.();
      if (reason) return context.skip(reason);
      s = await startV2App({ store: makeStore?.() });
    });
    afterEach(async () => s?.close());

    it('check MISSING, create, PUT, complete OK, check FOUND; again with the same bytes: DUPLICATE_DATA', async () => {
      const token = await s.token(['upload_symbols']);
      const text = symText('libfoo.so');
      const check = await s.app.inject({ method: 'GET', url: `/symbols/v1/symbols/libfoo.so/${ID}:checkStatus?key=${token}` });
      expect(check.statusCode).toBe(200);
      expect(STATUS.exec(check.body)?.[1]).toBe('MISSING');

      const create = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
      expect(create.statusCode, create.body).toBe(200);
      const uploadUrl = UPLOAD_URL.exec(create.body)![1];
      const uploadKey = UPLOAD_KEY.exec(create.body)![1];
      expect(uploadUrl).toBe(`http://localhost:80/symbols/v1/uploads/${uploadKey}`);
      expect(uploadKey).toMatch(/^[A-Za-z0-9_-]{32}$/);

      const put = await s.app.inject({ method: 'PUT', url: pathOf(uploadUrl), payload: text });
      expect(put.statusCode, put.body).toBe(200);
      expect(stagedFiles(s.stagingDir)).toHaveLength(1);

      const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${uploadKey}:complete?key=${token}`, headers: { 'content-type': 'application/son' }, payload: completeBody('libfoo.so', ID) });
      expect(complete.statusCode, complete.body).toBe(200);
      expect(RESULT.exec(complete.body)?.[1]).toBe('OK');
      expect(complete.json()).toMatchObject({ debug_file: 'libfoo.so', debug_id: ID, path: `libfoo.so/${ID}/libfoo.so.sym`, size: text.length, crashes_missing: 0, queued_for_reprocessing: 0 });
      expect(Buffer.from((await s.store.fetch({ debugFile: 'libfoo.so', debugId: ID }))!).toString()).toBe(text);
      expect(s.stored).toEqual([{ debugFile: 'libfoo.so', debugId: ID }]);
      expect(stagedFiles(s.stagingDir)).toEqual([]);

      const again = await s.app.inject({ method: 'GET', url: `/symbols/v1/symbols/libfoo.so/${ID}:checkStatus?key=${token}` });
      expect(STATUS.exec(again.body)?.[1]).toBe('FOUND');

      // `sym_upload -f` uploads anyway: the same bytes are not stored again.
      const create2 = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}` });
      const key2 = UPLOAD_KEY.exec(create2.body)![1];
      expect(key2).not.toBe(uploadKey);
      expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key2}`, payload: text })).statusCode).toBe(200);
      const duplicate = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key2}:complete?key=${token}`, payload: completeBody('libfoo.so', ID) });
      expect(RESULT.exec(duplicate.body)?.[1]).toBe('DUPLICATE_DATA');
      expect(s.stored).toHaveLength(1);

      // Different bytes replace the file.
      const changed = symText('libfoo.so', ID, 'FUNC 2000 10 0 other\n');
      const create3 = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}` });
      const key3 = UPLOAD_KEY.exec(create3.body)![1];
      await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key3}`, payload: changed });
      const replaced = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key3}:complete?key=${token}`, payload: completeBody('libfoo.so', ID) });
      expect(RESULT.exec(replaced.body)?.[1]).toBe('OK');
      expect(Buffer.from((await s.store.fetch({ debugFile: 'libfoo.so', debugId: ID }))!).toString()).toBe(changed);

      // The token never reaches the log, though every request was logged with its URL.
      const log = s.logs.join('');
      expect(log).toContain('incoming request');
      expect(log).not.toContain(token);
    });

    it('takes a Windows module (foo.pdb) and a lower-case, dashed debug id as the MODULE line says', async () => {
      const token = await s.token(['upload_symbols']);
      const text = `MODULE windows x86_64 ${ID} foo.pdb\nFUNC 1000 10 0 main\n`;
      const create = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}` });
      const key = UPLOAD_KEY.exec(create.body)![1];
      await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: text });
      const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('foo.pdb', ID.toLowerCase()) });
      expect(complete.statusCode, complete.body).toBe(200);
      expect(complete.json()).toMatchObject({ result: 'OK', path: `foo.pdb/${ID}/foo.sym` });
      const check = await s.app.inject({ method: 'GET', url: `/symbols/v1/symbols/foo.pdb/${ID.toLowerCase()}:checkStatus?key=${token}` });
      expect(STATUS.exec(check.body)?.[1]).toBe('FOUND');
    });
  });
}

protocolSuite('fs', undefined);

// s3rver: a real S3-protocol server on loopback.
let s3: { close(): Promise<void>; endpoint: string } | undefined;
let s3Reason: string | undefined;
const s3Dir = mkdtempSync(path.join(tmpdir(), 'mayday-symv2-s3-'));
beforeAll(async () => {
  try {
    // s3rver ships no types: imported by a computed name and typed here by what we use.
    const moduleName = 's3rver';
    const { default: S3rver } = (await import(moduleName)) as { default: new (options: object) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void> } };
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'symbols' }] });
    const { port } = await server.run();
    s3 = { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() };
  } catch (error) {
    s3Reason = (error as Error).message;
  }
});
afterAll(async () => {
  await s3?.close();
  rmSync(s3Dir, { recursive: true, force: true });
});
protocolSuite(
  'S3',
  () => () => new S3SymbolStore({ bucket: 'symbols', prefix: `v2-${Math.random().toString(16).slice(2)}/`, endpoint: s3!.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', timeoutMs: 5000 }),
  () => (s3 ? undefined : `s3rver did not start: ${s3Reason}`),
);

describe('sym_upload v2 refusals', () => {
  let s: V2App;
  afterEach(async () => s?.close());

  async function created(app: V2App, token: string): Promise<string> {
    const create = await app.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}` });
    expect(create.statusCode, create.body).toBe(200);
    return UPLOAD_KEY.exec(create.body)![1];
  }

  it('refuses a missing key (401), an unknown key (401) and a token without upload_symbols (403) at every authenticated step', async () => {
    s = await startV2App();
    const reader = await s.token(['reprocess']);
    const urls = [
      { method: 'GET' as const, url: `/symbols/v1/symbols/a.so/${ID}:checkStatus` },
      { method: 'POST' as const, url: '/symbols/v1/uploads:create' },
      { method: 'POST' as const, url: '/symbols/v1/uploads/abc:complete' },
      { method: 'POST' as const, url: '/symbols/reprocess/v1/uploads:create' },
    ];
    for (const { method, url } of urls) {
      const none = await s.app.inject({ method, url });
      expect(none.statusCode, url).toBe(401);
      expect(none.json().error).toMatch(/upload_symbols/);
      expect((await s.app.inject({ method, url: `${url}?key=not-a-token` })).statusCode, url).toBe(401);
      const lacking = await s.app.inject({ method, url: `${url}?key=${reader}` });
      expect(lacking.statusCode, url).toBe(403);
      expect(lacking.json().error).toMatch(/lacks the upload_symbols permission/);
      // `key` answers no STATUS/RESULT/uploadUrl that the client could mistake for success.
      expect(STATUS.test(lacking.body) || RESULT.test(lacking.body) || UPLOAD_URL.test(lacking.body)).toBe(false);
    }
  });

  it('refuses unknown upload keys (404), and another token\'s upload is as unknown', async () => {
    s = await startV2App();
    const token = await s.token(['upload_symbols']);
    const other = await s.token(['upload_symbols']);
    const put = await s.app.inject({ method: 'PUT', url: '/symbols/v1/uploads/madeup', payload: symText('a.so') });
    expect(put.statusCode).toBe(404);
    expect(put.json().error).toBe('unknown upload key');
    const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/madeup:complete?key=${token}`, payload: completeBody('a.so', ID) });
    expect(complete.statusCode).toBe(404);

    const key = await created(s, token);
    expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('a.so') })).statusCode).toBe(200);
    const stolen = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${other}`, payload: completeBody('a.so', ID) });
    expect(stolen.statusCode).toBe(404);
    // Still the owner's to complete.
    const own = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) });
    expect(own.statusCode, own.body).toBe(200);
    // Completed once: the key is gone.
    expect((await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) })).statusCode).toBe(404);
    // Malformed action paths.
    expect((await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:finish?key=${token}`, payload: '' })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url: `/symbols/v1/symbols/a.so/${ID}?key=${token}` })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url: `/symbols/v1/symbols/..:checkStatus?key=${token}` })).statusCode).toBe(404);
  });

  it('expires an upload not completed in time (410), removing its staged file', async () => {
    s = await startV2App({ ttlMs: 300 });
    const token = await s.token(['upload_symbols']);
    const key = await created(s, token);
    expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('a.so') })).statusCode).toBe(200);
    expect(stagedFiles(s.stagingDir)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The sweeper removed the file without being asked.
    expect(stagedFiles(s.stagingDir)).toEqual([]);
    const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) });
    expect(complete.statusCode).toBe(410);
    expect(complete.json().error).toMatch(/expired: it was not completed within 0 s/);
    expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('a.so') })).statusCode).toBe(410);
    expect(await s.store.has({ debugFile: 'a.so', debugId: ID })).toBe(false);
  });

  it('refuses a debug file or id that the MODULE line does not say (400) and stores nothing', async () => {
    s = await startV2App();
    const token = await s.token(['upload_symbols']);
    for (const [file, id] of [['a.so', `${ID.slice(0, -1)}F`], ['b.so', ID]]) {
      const key = await created(s, token);
      await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('a.so') });
      const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody(file, id) });
      expect(complete.statusCode).toBe(400);
      expect(complete.json().error).toContain(`declared as "${file}" "${id}" but its MODULE line says "a.so" "${ID}"`);
      expect(RESULT.test(complete.body)).toBe(false);
    }
    expect(s.stored).toEqual([]);
    expect(stagedFiles(s.stagingDir)).toEqual([]);
  });

  it('refuses a file that is not a symbol file, or a corrupt one (400)', async () => {
    s = await startV2App();
    const token = await s.token(['upload_symbols']);
    for (const [payload, message] of [
      ['\u0000\u0001garbage, not a symbol file', /not a valid symbol file/],
      [`${symText('a.so')}FUNC zz 10 0 broken\n`, /corrupt symbol file: line 5/],
    ] as const) {
      const key = await created(s, token);
      expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload })).statusCode).toBe(200);
      const complete = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) });
      expect(complete.statusCode).toBe(400);
      expect(complete.json().error).toMatch(message);
    }
    expect(s.stored).toEqual([]);
  });

  it('refuses an over-size PUT (413) and an over-size complete body (413); the upload can be PUT again', async () => {
    s = await startV2App();
    const token = await s.token(['upload_symbols']);
    const key = await created(s, token);
    const big = Buffer.alloc(TEST_LIMITS.maxUploadBytes + 1, 'x');
    const declared = await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: big });
    expect(declared.statusCode).toBe(413);
    expect(declared.json().error).toMatch(/larger than the limit/);
    expect(stagedFiles(s.stagingDir)).toEqual([]);
    const body = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: `{ symbol_id: {debug_file: "${'x'.repeat(70_000)}" } }` });
    expect(body.statusCode).toBe(413);
    // The slot survives refused bodies.
    expect((await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('a.so') })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) })).statusCode).toBe(200);
  });

  it('refuses completing before the PUT (409), a native upload type (400), a malformed body (400), bodies of other types (415)', async () => {
    s = await startV2App();
    const token = await s.token(['upload_symbols']);
    const key = await created(s, token);
    const early = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID) });
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toMatch(/nothing was PUT/);
    const elf = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: completeBody('a.so', ID, 'ELF') });
    expect(elf.statusCode).toBe(400);
    expect(elf.json().error).toMatch(/only Breakpad symbol files/);
    const garbage = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, payload: 'not json at all' });
    expect(garbage.statusCode).toBe(400);
    const xml = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}`, headers: { 'content-type': 'application/xml' }, payload: '<complete/>' });
    expect(xml.statusCode).toBe(415);
    const xmlFile = await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, headers: { 'content-type': 'application/xml' }, payload: '<symbols/>' });
    expect(xmlFile.statusCode).toBe(415);
    expect(xmlFile.json().error).toMatch(/the symbol file is not "application\/xml"/);
    const badReprocess = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${key}:complete?key=${token}&reprocess=maybe`, payload: completeBody('a.so', ID) });
    expect(badReprocess.statusCode).toBe(400);
    expect(badReprocess.json().error).toMatch(/reprocess must be 1 or 0/);
  });

  it('bounds the uploads one token leaves waiting (429); others are not affected', async () => {
    s = await startV2App({ maxPendingPerToken: 2 });
    const token = await s.token(['upload_symbols']);
    const other = await s.token(['upload_symbols']);
    await created(s, token);
    const second = await created(s, token);
    const third = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${token}` });
    expect(third.statusCode).toBe(429);
    expect(third.json().error).toMatch(/2 uploads waiting to be completed/);
    await created(s, other);
    // Completing one frees its place.
    await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${second}`, payload: symText('a.so') });
    expect((await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads/${second}:complete?key=${token}`, payload: completeBody('a.so', ID) })).statusCode).toBe(200);
    await created(s, token);
  });

  it('bounds the uploads waiting on the node in all (429)', async () => {
    s = await startV2App({ maxPending: 2 });
    await created(s, await s.token(['upload_symbols']));
    await created(s, await s.token(['upload_symbols']));
    const third = await s.app.inject({ method: 'POST', url: `/symbols/v1/uploads:create?key=${await s.token(['upload_symbols'])}` });
    expect(third.statusCode).toBe(429);
    expect(third.json().error).toMatch(/2 uploads are waiting to be completed on this server/);
  });

  it('removes at start the staged files a stopped process left, once older than an upload lives', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mayday-symv2-'));
    const staging = path.join(dir, 'staging');
    mkdirSync(staging);
    for (const name of ['sym-upload-v2-old.sym', 'sym-upload-v2-young.sym', 'upload-v1folder']) writeFileSync(path.join(staging, name), 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(staging, 'sym-upload-v2-old.sym'), hourAgo, hourAgo);
    s = await startV2App({ dir, ttlMs: 60_000 });
    // Another node sharing the folder may still complete the young one; v1's are not v2's to remove.
    expect(stagedFiles(staging).sort()).toEqual(['sym-upload-v2-young.sym', 'upload-v1folder']);
  });
});

describe('sym_upload v2 reports and queues the crashes that missed the symbols', () => {
  let s: V2App;
  const mod = (debugFile: string) => ({ debugFile, debugId: ID, codeFile: debugFile, codeId: 'C0DE' });
  beforeEach(async () => {
    s = await startV2App();
    await s.missing.record({ crashId: 'c1', submittedAt: Date.now(), os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
    await s.missing.record({ crashId: 'c2', submittedAt: Date.now() - 86_400_000, os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
  });
  afterEach(async () => s.close());

  async function upload(base: string, token: string, query = ''): Promise<Record<string, unknown>> {
    const key = UPLOAD_KEY.exec((await s.app.inject({ method: 'POST', url: `${base}/v1/uploads:create?key=${token}` })).body)![1];
    await s.app.inject({ method: 'PUT', url: `/symbols/v1/uploads/${key}`, payload: symText('liba.so') });
    const complete = await s.app.inject({ method: 'POST', url: `${base}/v1/uploads/${key}:complete?key=${token}${query}`, payload: completeBody('liba.so', ID) });
    expect(complete.statusCode, complete.body).toBe(200);
    return complete.json();
  }

  it('under /symbols: counts them, queues nothing', async () => {
    const answer = await upload('/symbols', await s.token(['upload_symbols', 'reprocess']));
    expect(answer).toMatchObject({ crashes_missing: 2, crashes_missing_days: 7, queued_for_reprocessing: 0 });
    expect((answer.crash_ids as string[]).sort()).toEqual(['c1', 'c2']);
    expect(await drainQueue(s.queue)).toEqual([]);
  });

  it('under /symbols/reprocess (or ?reprocess=1): queues them', async () => {
    const answer = await upload('/symbols/reprocess', await s.token(['upload_symbols', 'reprocess']));
    expect(answer).toMatchObject({ crashes_missing: 2, queued_for_reprocessing: 2 });
    expect((await drainQueue(s.queue)).map((q) => `${q.crashId}:${q.queue}`).sort()).toEqual(['c1:reprocessing', 'c2:reprocessing']);
    // Repeated, the first counts.
    const again = await upload('/symbols', await s.token(['upload_symbols', 'reprocess']), '&reprocess=1&reprocess=0');
    expect(again).toMatchObject({ result: 'DUPLICATE_DATA', queued_for_reprocessing: 2 });
  });

  it('says why it did not queue them without the reprocess permission', async () => {
    const answer = await upload('/symbols/reprocess', await s.token(['upload_symbols']));
    expect(answer).toMatchObject({ crashes_missing: 2, queued_for_reprocessing: 0, reprocess_refused: 'queueing them needs the reprocess permission' });
    expect(await drainQueue(s.queue)).toEqual([]);
  });
});

describe('sym_upload v2 over a listening server', () => {
  let s: V2App;
  let url: string;
  beforeAll(async () => {
    s = await startV2App();
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => s.close());

  it('takes a chunked PUT without a Content-Type (as curl sends it) at the URL it handed out', async () => {
    const token = await s.token(['upload_symbols']);
    const create = await fetch(`${url}/symbols/v1/uploads:create?key=${token}`, { method: 'POST' });
    const text = await create.text();
    const uploadUrl = UPLOAD_URL.exec(text)![1];
    expect(uploadUrl.startsWith(`${url}/symbols/v1/uploads/`)).toBe(true);
    const body = readFileSync(path.join(import.meta.dirname, '../../fixtures/corpus/symbols/example-app', readdirSync(path.join(import.meta.dirname, '../../fixtures/corpus/symbols/example-app'))[0], 'example-app.sym'));
    const put = await fetch(uploadUrl, { method: 'PUT', body: Readable.toWeb(Readable.from([body.subarray(0, 1000), body.subarray(1000)])) as ReadableStream, duplex: 'half' } as RequestInit);
    expect(put.status, await put.clone().text()).toBe(200);
    const [, , , id, name] = body.toString('utf8', 0, 200).split('\n')[0].split(' ');
    const complete = await fetch(`${UPLOAD_URL.exec(text)![1].replace(/\/[^/]+$/, '')}/${UPLOAD_KEY.exec(text)![1]}:complete?key=${token}`, { method: 'POST', headers: { 'content-type': 'application/son' }, body: completeBody(name, id) });
    expect(RESULT.exec(await complete.text())?.[1]).toBe('OK');
    expect(await s.store.has({ debugFile: 'example-app', debugId: id })).toBe(true);
  });

  it('stops an over-size chunked PUT (no declared length, as curl sends it) once past the limit (413)', async () => {
    const token = await s.token(['upload_symbols']);
    const uploadUrl = UPLOAD_URL.exec(await (await fetch(`${url}/symbols/v1/uploads:create?key=${token}`, { method: 'POST' })).text())![1];
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(uploadUrl, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      const write = (i: number): void => {
        if (i === 8) return void request.end();
        request.write(chunk, () => write(i + 1));
      };
      request.on('error', () => {}); // the server may cut the connection mid-body
      write(0);
    });
    expect(status).toBe(413);
    expect(stagedFiles(s.stagingDir)).toEqual([]);
  });
});
