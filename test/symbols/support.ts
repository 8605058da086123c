/** Helpers for the symbols tests: zip and multipart builders, and an app with the symbols role. */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { crc32, deflateRawSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';

import { FsSymbolStore } from '../../src/adapters/fs-symbol-store.js';
import { SqliteMissingSymbolsLog } from '../../src/adapters/sqlite-missing-symbols.js';
import { SqliteQueue } from '../../src/adapters/sqlite-queue.js';
import { redactTokenRewriteUrl, requestAuthPlugin } from '../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { SqliteAccountStore } from '../../src/auth/account-store.js';
import type { Permission } from '../../src/common/permissions.js';
import type { ProcessingQueue, QueueName } from '../../src/ports/queue.js';
import type { SymbolKey } from '../../src/ports/symbol-store.js';
import { symbolsPlugin } from '../../src/roles/symbols/plugin.js';
import type { UploadLimits } from '../../src/roles/symbols/upload-refused.js';
import { sessionMaker } from '../support/sessions.js';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
export const CORPUS_SYMBOLS = path.join(PROJECT_ROOT, 'fixtures/corpus/symbols');
export const ID = 'ABCDEF0123456789ABCDEF012345678900'.slice(0, 33);

/** A small valid symbol file for `debugFile`/`debugId`. */
export function symText(debugFile: string, debugId = ID, body = 'FUNC 1000 10 0 main\n1000 10 1 0\n'): string {
  return `MODULE Linux x86_64 ${debugId} ${debugFile}\nFILE 0 main.c\n${body}`;
}

export interface ZipEntrySpec {
  name: string;
  data: string | Buffer;
  /** Store without compression (default deflate). */
  stored?: boolean;
  /** Lie about the uncompressed size in both headers. */
  declaredSize?: number;
}

/** A minimal zip writer (local headers, central directory, end record), able to lie. */
export function makeZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const compressed = entry.stored ? data : deflateRawSync(data);
    const name = Buffer.from(entry.name, 'utf8');
    const method = entry.stored ? 0 : 8;
    const size = entry.declaredSize ?? data.length;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export interface MultipartPart {
  name: string;
  value: string | Buffer;
  filename?: string;
}

export function makeMultipart(parts: MultipartPart[]): { body: Buffer; contentType: string } {
  const boundary = `----mayday${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The form `sym_upload` (v1) sends for a symbol file. */
export function symUploadV1Form(text: string, declared?: Partial<Record<'debug_file' | 'debug_identifier' | 'code_file' | 'os' | 'cpu', string>>) {
  const [, os, cpu, id, name] = text.split('\n')[0].split(' ');
  const fields = { os, cpu, debug_file: name, code_file: name, debug_identifier: id, ...declared };
  return makeMultipart([...Object.entries(fields).map(([n, v]) => ({ name: n, value: v })), { name: 'symbol_file', value: text, filename: 'x.sym' }]);
}

/** Takes every waiting item off a real queue: what the role queued, in queue order. */
export async function drainQueue(queue: ProcessingQueue): Promise<{ crashId: string; queue: QueueName }[]> {
  const items: { crashId: string; queue: QueueName }[] = [];
  for (let item = await queue.take(); item; item = await queue.take()) {
    items.push({ crashId: item.crashId, queue: item.queue });
    await queue.ack(item);
  }
  return items;
}

export interface SymbolsApp {
  app: FastifyInstance;
  dir: string;
  storeDir: string;
  store: FsSymbolStore;
  tokens: SqliteTokenStore;
  missing: SqliteMissingSymbolsLog;
  queue: SqliteQueue;
  /** Takes every waiting item off the queue (see `drainQueue`). */
  queued(): Promise<{ crashId: string; queue: QueueName }[]>;
  stored: SymbolKey[];
  logs: string[];
  accounts: SqliteAccountStore;
  /** A new token of user `ci` with these permissions. */
  token(permissions: Permission[]): Promise<string>;
  /** A signed-in user with these permissions: the session cookie and its CSRF token. */
  session(permissions: Permission[]): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

/** A trace-level logger whose lines the test reads (what reaches the log, and what must not). */
export function readableLog(): { logger: pino.Logger; logs: string[] } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), logs };
}

export const TEST_LIMITS: UploadLimits = { maxUploadBytes: 1024 * 1024, maxUncompressedBytes: 4 * 1024 * 1024, maxFiles: 50 };

/** The symbols role and the auth layer on a Fastify app with a log that tests can read. */
export async function startSymbolsApp(limits: UploadLimits = TEST_LIMITS, options: { requestLogging?: boolean; rewriteUrl?: boolean } = {}): Promise<SymbolsApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-symbols-'));
  const storeDir = path.join(dir, 'symbols');
  const { logger, logs } = readableLog();
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: !(options.requestLogging ?? false) }),
    rewriteUrl: options.rewriteUrl === false ? undefined : redactTokenRewriteUrl,
    forceCloseConnections: true,
  });
  const tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  const accounts = SqliteAccountStore.open(path.join(dir, 'mayday.sqlite'));
  const missing = SqliteMissingSymbolsLog.open(path.join(dir, 'mayday.sqlite'));
  const store = new FsSymbolStore(storeDir);
  const queue = SqliteQueue.open(path.join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
  const stored: SymbolKey[] = [];
  await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  await app.register(symbolsPlugin, {
    store,
    missingSymbols: missing,
    queue,
    stagingDir: path.join(dir, 'staging'),
    limits,
    onStored: (key) => stored.push(key),
  });
  await app.ready();
  return {
    // The pino-typed instance is a FastifyInstance with a narrower logger type.
    app: app as unknown as FastifyInstance,
    dir,
    storeDir,
    store,
    tokens,
    missing,
    queue,
    queued: () => drainQueue(queue),
    stored,
    logs,
    accounts,
    token: async (permissions) => (await tokens.create({ user: 'ci', permissions })).token,
    session: sessionMaker(accounts),
    async close() {
      await app.close();
      await tokens.close();
      await accounts.close();
      await missing.close();
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
