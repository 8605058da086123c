/**
 * `/api/ProcessedCrash/` and `/api/RawCrash/`: redaction of protected data for viewers
 * without `view_protected`, and raw dump downloads for those with `download_dumps`.
 * The auth layer is stood in for by a header naming the permissions (as in
 * search-api.test.ts); `login-and-csrf.test.ts` covers the real one.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCrashId } from '../../../src/common/crash-id.js';
import type { Permission } from '../../../src/common/permissions.js';
import type { ProcessedCrash, ProcessedCrashStore } from '../../../src/ports/processed-crash-store.js';
import type { RawCrash, RawCrashStore } from '../../../src/ports/raw-crash-store.js';
import { crashApiPlugin, rawCrashDocument } from '../../../src/roles/web/crash-api.js';
import { PROCESSED_CRASH_FIELDS, PROTECTED_ANNOTATIONS } from '../../../src/schema/processed-crash.js';

const ID = createCrashId(new Date('2026-11-28T10:00:00Z'));
const PENDING = createCrashId(new Date('2026-11-28T10:00:00Z'));
const UNKNOWN = createCrashId(new Date('2026-11-28T10:00:00Z'));
const DUMP = Buffer.from('MDMP\x93\xa7 fake dump bytes', 'latin1');

/** A distinct secret per protected value, so a leak of any one is caught by its text. */
const secret = (name: string): string => `SECRET-${name}-${name.length * 7}`;
const protectedFields = PROCESSED_CRASH_FIELDS.filter((f) => f.protected).map((f) => f.name);

const processed: ProcessedCrash = {
  uuid: ID,
  product: 'Example',
  version: '1.0',
  signature: 'crash_here',
  ...Object.fromEntries(protectedFields.map((name) => [name, secret(name)])),
};
const raw: RawCrash = {
  uuid: ID,
  submitted_timestamp: '2026-11-28T10:00:00.000Z',
  annotations: {
    ProductName: 'Example',
    Version: '1.0',
    ...Object.fromEntries([...PROTECTED_ANNOTATIONS].map((name) => [name, secret(name)])),
    // Listed as protected by the collector (an alias it knew), though not in today's schema.
    user_email_alias: secret('alias'),
    // A protected name in another case.
    url: secret('lowercase-url'),
  },
  metadata: {
    collector_notes: [],
    dumps: { upload_file_minidump: { size: DUMP.length, sha256: 'x' }, browser: { size: 3, sha256: 'y' } },
    payload: 'multipart',
    payload_compressed: false,
    user_agent: 'test',
    throttle_result: 'accept',
    throttle_rule: 'accept_everything',
    protected_annotations: ['user_email_alias'],
    duplicate_annotations: { Email: [secret('dup1'), secret('dup2')], Version: ['1.0', '1.1'] },
    invalid_utf8_annotations: { Comments: Buffer.from(secret('bytes')).toString('base64'), Vendor: 'AA==' },
  },
};

const rawStore: RawCrashStore = {
  begin: () => Promise.reject(new Error('read only')),
  get: async (id) => (id === ID ? raw : id === PENDING ? { ...raw, uuid: PENDING } : undefined),
  getDump: async (id, name) => (id === ID && name === 'upload_file_minidump' ? DUMP : id === ID && name === 'browser' ? Buffer.from('abc') : undefined),
  listDay: async function* () {},
  days: async () => [],
  delete: () => Promise.reject(new Error('read only')),
  check: async () => {},
};
const processedStore: ProcessedCrashStore = {
  save: () => Promise.reject(new Error('read only')),
  get: async (id) => (id === ID ? processed : undefined),
  exists: async (id) => id === ID,
  delete: () => Promise.reject(new Error('read only')),
  check: async () => {},
};

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify();
  app.addHook('onRequest', async (request) => {
    const granted = request.headers['x-test-permissions'];
    if (typeof granted === 'string') request.permissions = new Set(granted.split(',').filter(Boolean) as Permission[]);
  });
  await app.register(crashApiPlugin, { rawCrashStore: rawStore, processedCrashStore: processedStore });
});
afterAll(() => app.close());

const get = (url: string, permissions?: Permission[]) => app.inject({ method: 'GET', url, headers: permissions ? { 'x-test-permissions': permissions.join(',') } : {} });
const VIEWERS_WITHOUT: (Permission[] | undefined)[] = [undefined, [], ['download_dumps', 'reprocess', 'upload_symbols']];

describe('GET /api/ProcessedCrash/', () => {
  it('leaves out every protected field for viewers without view_protected', async () => {
    expect(protectedFields.length).toBeGreaterThan(0);
    for (const viewer of VIEWERS_WITHOUT) {
      const response = await get(`/api/ProcessedCrash/?crash_id=${ID}`, viewer);
      expect(response.statusCode).toBe(200);
      const body = response.json() as Record<string, unknown>;
      expect(body.signature).toBe('crash_here');
      for (const name of protectedFields) {
        expect(body).not.toHaveProperty(name);
        expect(response.body).not.toContain(secret(name));
      }
      expect(response.headers.vary).toMatch(/Auth-Token/);
    }
  });

  it('gives them to viewers with view_protected (or admin)', async () => {
    for (const viewer of [['view_protected'], ['admin']] as Permission[][]) {
      const body = (await get(`/api/ProcessedCrash/?crash_id=bp-${ID}`, viewer)).json() as Record<string, unknown>;
      for (const name of protectedFields) expect(body[name]).toBe(secret(name));
    }
  });

  it('answers 400 for a bad id, and 404 saying whether the crash is pending', async () => {
    expect((await get('/api/ProcessedCrash/?crash_id=nope')).statusCode).toBe(400);
    const pending = await get(`/api/ProcessedCrash/?crash_id=${PENDING}`);
    expect(pending.statusCode).toBe(404);
    expect(pending.json()).toMatchObject({ pending: true });
    expect((await get(`/api/ProcessedCrash/?crash_id=${UNKNOWN}`)).json()).toMatchObject({ pending: false });
  });
});

describe('GET /api/RawCrash/ (format=meta)', () => {
  it('leaves out protected annotations, and their values kept in the metadata, for viewers without view_protected', async () => {
    for (const viewer of VIEWERS_WITHOUT) {
      const response = await get(`/api/RawCrash/?crash_id=${ID}`, viewer);
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain('SECRET-');
      const body = response.json() as Record<string, unknown> & { metadata: RawCrash['metadata'] };
      expect(body.ProductName).toBe('Example');
      for (const name of [...PROTECTED_ANNOTATIONS, 'user_email_alias', 'url']) expect(body).not.toHaveProperty(name);
      expect(body.metadata.duplicate_annotations).toEqual({ Version: ['1.0', '1.1'] });
      expect(body.metadata.invalid_utf8_annotations).toEqual({ Vendor: 'AA==' });
      expect(body.metadata.protected_annotations).toEqual(['user_email_alias']);
    }
  });

  it("answers Socorro's shape in full to viewers with view_protected", async () => {
    const body = (await get(`/api/RawCrash/?crash_id=${ID}&format=meta`, ['view_protected'])).json() as Record<string, unknown>;
    expect(body).toEqual(JSON.parse(JSON.stringify({ ...raw.annotations, metadata: raw.metadata, submitted_timestamp: raw.submitted_timestamp, uuid: ID })));
  });

  it('redacts as a pure function too (what other endpoints may reuse)', () => {
    const doc = rawCrashDocument(raw, false);
    expect(JSON.stringify(doc)).not.toContain('SECRET-');
    expect(raw.annotations.Email).toBe(secret('Email'));
  });

  it('refuses unknown formats and ids', async () => {
    expect((await get(`/api/RawCrash/?crash_id=${ID}&format=json`)).statusCode).toBe(400);
    expect((await get('/api/RawCrash/?crash_id=x')).statusCode).toBe(400);
    expect((await get(`/api/RawCrash/?crash_id=${UNKNOWN}`)).statusCode).toBe(404);
  });
});

describe('GET /api/RawCrash/ (format=raw)', () => {
  it('serves the dump bytes as an attachment to viewers with download_dumps', async () => {
    for (const viewer of [['download_dumps'], ['admin']] as Permission[][]) {
      const response = await get(`/api/RawCrash/?crash_id=${ID}&format=raw&name=upload_file_minidump`, viewer);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/octet-stream');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="${ID}.dmp"`);
      expect(response.rawPayload.equals(DUMP)).toBe(true);
    }
    const other = await get(`/api/RawCrash/?crash_id=${ID}&format=raw&name=browser`, ['download_dumps']);
    expect(other.headers['content-disposition']).toBe(`attachment; filename="${ID}.browser.dmp"`);
    expect(other.body).toBe('abc');
    // `name` defaults to the main dump.
    expect((await get(`/api/RawCrash/?crash_id=${ID}&format=raw`, ['download_dumps'])).rawPayload.equals(DUMP)).toBe(true);
  });

  it('answers 401 to anonymous viewers and 403 to others, before saying whether the dump exists', async () => {
    for (const id of [ID, UNKNOWN]) {
      const anonymous = await get(`/api/RawCrash/?crash_id=${id}&format=raw`);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.rawPayload.includes(DUMP)).toBe(false);
      expect((await get(`/api/RawCrash/?crash_id=${id}&format=raw`, ['view_protected', 'reprocess'])).statusCode).toBe(403);
    }
  });

  it('answers 404 for a missing dump and 400 for a bad name', async () => {
    expect((await get(`/api/RawCrash/?crash_id=${ID}&format=raw&name=nothing`, ['download_dumps'])).statusCode).toBe(404);
    expect((await get(`/api/RawCrash/?crash_id=${ID}&format=raw&name=${encodeURIComponent('../x')}`, ['download_dumps'])).statusCode).toBe(400);
  });
});

describe('refused and malformed requests touch no storage', () => {
  /** The stores, counting every call that reads crash data. */
  const reads: string[] = [];
  const counting = <T extends object>(name: string, store: T): T =>
    new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function' || key === 'check') return value;
        return (...args: unknown[]) => {
          reads.push(`${name}.${String(key)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const logs: string[] = [];
  let guarded: FastifyInstance;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    guarded = Fastify({ logger: { level: 'info', stream: sink } });
    guarded.addHook('onRequest', async (request) => {
      const granted = request.headers['x-test-permissions'];
      if (typeof granted === 'string') request.permissions = new Set(granted.split(',').filter(Boolean) as Permission[]);
      // A session whose CSRF check failed (what request-auth.ts sets), for the third kind of refusal.
      if (request.headers['x-test-csrf-rejected']) request.csrfRejected = true;
    });
    await guarded.register(crashApiPlugin, { rawCrashStore: counting('raw', rawStore), processedCrashStore: counting('processed', processedStore) });
  });
  afterAll(() => guarded.close());

  it('refuses a dump download without download_dumps before reading the dump, and answers once', async () => {
    const refusals: [Record<string, string>, number][] = [
      [{}, 401],
      [{ 'x-test-permissions': 'view_protected,reprocess' }, 403],
      [{ 'x-test-csrf-rejected': '1' }, 403],
    ];
    for (const [headers, status] of refusals) {
      for (const id of [ID, UNKNOWN]) {
        reads.length = 0;
        const response = await guarded.inject({ method: 'GET', url: `/api/RawCrash/?crash_id=${id}&format=raw`, headers });
        expect(response.statusCode, JSON.stringify(headers)).toBe(status);
        expect(reads, JSON.stringify(headers)).toEqual([]);
      }
    }
    // The download itself still reads it.
    reads.length = 0;
    expect((await guarded.inject({ method: 'GET', url: `/api/RawCrash/?crash_id=${ID}&format=raw`, headers: { 'x-test-permissions': 'download_dumps' } })).statusCode).toBe(200);
    expect(reads).toEqual(['raw.getDump']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.join('')).not.toMatch(/Reply was already sent/);
  });

  it('answers 400 to a parameter given twice, without reading anything', async () => {
    for (const url of [
      `/api/ProcessedCrash/?crash_id=${ID}&crash_id=${ID}`,
      `/api/ProcessedCrash/?crash_id=${ID}&crash_id=${UNKNOWN}`,
      `/api/RawCrash/?crash_id=${ID}&crash_id=${ID}`,
      `/api/RawCrash/?crash_id=${ID}&format=raw&format=meta`,
      `/api/RawCrash/?crash_id=${ID}&format=raw&name=a&name=b`,
    ]) {
      reads.length = 0;
      const response = await guarded.inject({ method: 'GET', url, headers: { 'x-test-permissions': 'download_dumps,view_protected' } });
      expect(response.statusCode, url).toBe(400);
      expect((response.json() as { error: string }).error, url).toMatch(/may be given only once/);
      expect(reads, url).toEqual([]);
    }
  });
});
