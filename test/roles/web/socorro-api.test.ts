/**
 * `GET /api/SignatureFirstDate/` against a real SQLite crash index, and
 * `POST /api/CrashSignature/` with the processor's own signature lists: the answer must be
 * the one processing (and `mayday signature`) gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { routeAccessPlugin } from '../../../src/auth/route-access.js';
import { runSignature } from '../../../src/cli/commands/signature.js';
import type { ProcessedCrash } from '../../../src/ports/processed-crash-store.js';
import { loadSignatureLists } from '../../../src/roles/processor/signature-rule.js';
import { MAX_FIRST_DATE_SIGNATURES, MAX_SIGNATURE_FRAMES, signatureFirstDate, socorroApiPlugin } from '../../../src/roles/web/socorro-api.js';
import { PgCrashIndex } from '../../../src/adapters/pg-crash-index.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from '../../adapters/pg-support.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 2, 20, 12);
const D1 = Date.UTC(2025, 2, 1);

let n = 0;
function crash(signature: string, at: number, buildId?: string): ProcessedCrash {
  n++;
  const uuid = `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000${new Date(at).toISOString().slice(2, 10).replaceAll('-', '')}`;
  return { uuid, signature, product: 'App', version: '2.1', submitted_timestamp: new Date(at).toISOString(), date_processed: new Date(at + 1000).toISOString(), ...(buildId ? { build_id: buildId } : {}) };
}

const CRASHES = [
  crash('A | b(int, char)', D1 + 10 * 3_600_000 + 15 * 60_000, '20250228000000'),
  crash('A | b(int, char)', D1 + 12 * 3_600_000, '20250301000000'),
  // An older build in the first week counts...
  crash('A | b(int, char)', D1 + 3 * DAY, '20250215000000'),
  // ...one seen after the first week does not (the answer stays bounded).
  crash('A | b(int, char)', D1 + 10 * DAY, '20240101000000'),
  crash('no builds', D1 + 5 * DAY + 60_000),
  crash('no builds', D1 + 6 * DAY),
];

let dir: string;
let index: SqliteCrashIndex;
let app: FastifyInstance;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-socorro-api-'));
  index = SqliteCrashIndex.open(path.join(dir, 'index.sqlite'));
  await index.upsertMany(CRASHES);
  app = Fastify();
    crash('A | b(int, char)', D1 + 12 * 3_600_000, '20250301000000'),
    // An older build in the first week counts...
    crash('A | b(int, char)', D1 + 3 * DAY, '20250215000000'),
    // ...one seen after the first week does not (the answer stays bounded).
    crash('A | b(int, char)', D1 + 10 * DAY, '20240101000000'),
    crash('no builds', D1 + 5 * DAY + 60_000),
  await app.register(routeAccessPlugin);
  await app.register(socorroApiPlugin, { crashIndex: index, signatureLists: loadSignatureLists(), now: () => NOW });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(pgSkip !== false)(`SignatureFirstDate on PostgreSQL${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('answers as on SQLite', async () => {
    const schema = freshSchema();
    const pgIndex = await PgCrashIndex.open({ connectionString: pgUrl, schema });
    try {
      await pgIndex.upsertMany(CRASHES);
      for (const signature of ['A | b(int, char)', 'no builds', 'never seen']) {
        expect(await signatureFirstDate(pgIndex, signature, NOW), signature).toEqual(await signatureFirstDate(index, signature, NOW));
      }
      expect((await signatureFirstDate(pgIndex, 'A | b(int, char)', NOW))?.first_build).toBe('20250215000000');
    } finally {
      await pgIndex.close();
      await dropSchema(schema);
    }
  });
});

describe('GET /api/SignatureFirstDate/', () => {
  it("answers Socorro's shape: first crash time and first build of each known signature", async () => {
    const response = await app.inject({ method: 'GET', url: `/api/SignatureFirstDate/?signatures=${encodeURIComponent('A | b(int, char)')}&signatures=no%20builds&signatures=never%20seen` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      hits: [
        { signature: 'A | b(int, char)', first_date: new Date(D1 + 10 * 3_600_000 + 15 * 60_000).toISOString(), first_build: '20250215000000' },
        { signature: 'no builds', first_date: new Date(D1 + 5 * DAY + 60_000).toISOString(), first_build: null },
      ],
      total: 2,
    });
  });

  it('refuses a request without signatures or with too many', async () => {
    const none = await app.inject({ method: 'GET', url: '/api/SignatureFirstDate/' });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatch(/signatures/);
    const many = Array.from({ length: MAX_FIRST_DATE_SIGNATURES + 1 }, (_, i) => `signatures=s${i}`).join('&');
    expect((await app.inject({ method: 'GET', url: `/api/SignatureFirstDate/?${many}` })).statusCode).toBe(400);
  });
});

async function cli(frames: string[]): Promise<{ signature: string; out: string }> {
  let out = '';
  await runSignature(undefined, { frames, debug: true }, (t) => (out += t), () => undefined);
  return { signature: out.split('\n')[0]!, out };
}

async function post(payload: unknown, contentType = 'application/json') {
  const response = await app.inject({ method: 'POST', url: '/api/CrashSignature/', headers: { 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  return { status: response.statusCode, body: response.json() as { signature: string; proto_signature: string; notes: string[]; debug: string[]; error?: string } };
}

describe('POST /api/CrashSignature/', () => {
  const frames = ['raise', 'abort', 'libc.so.6@0x1234', 'check_state(int)', 'main'];

  it('gives the signature and the explanation `mayday signature --debug` gives, from text frames or frame objects', async () => {
    const expected = await cli(frames);
    const { status, body } = await post({ frames });
    expect(status).toBe(200);
    expect(body.signature).toBe(expected.signature);
    expect(body.signature).toBe('libc.so.6 | check_state');
    for (const line of body.debug) expect(expected.out).toContain(`  ${line}\n`);
    expect(body.debug).toContain('frame 3 "check_state": kept; not a prefix, so the signature ends here');
    expect(body.debug.some((l) => l.startsWith('frame 1 "abort": sentinel'))).toBe(true);
    expect(body.proto_signature).toBe('raise | abort | libc.so.6@0x1234 | check_state | main');

    const objects = await post({ frames: [{ function: 'raise' }, { function: 'abort' }, { module: 'libc.so.6', module_offset: '0x1234' }, { function: 'check_state(int)', file: 'a.cc', line: 3 }, { function: 'main' }] });
    expect(objects.body.signature).toBe('libc.so.6 | check_state');
  });

  it("takes Socorro's signature generation input, a stackwalker document and a processed crash", async () => {
    const threads = [{ frames: [{ function: 'idle' }] }, { frames: [{ function: '__memmove_avx_unaligned_erms', module: 'libc.so.6' }, { function: 'blit(Surface*, int)', file: '/src/blit.cc', line: 40 }, { function: 'main' }] }];
    expect((await post({ crashing_thread: 1, threads, os: 'Linux' })).body.signature).toBe('__memmove_avx_unaligned_erms | blit');
    expect((await post({ crash_info: { crashing_thread: 1, type: 'SIGSEGV' }, threads })).body.signature).toBe('__memmove_avx_unaligned_erms | blit');
    const oom = await post({ json_dump: { crash_info: { crashing_thread: 0 }, threads: [threads[1]] }, crashing_thread: 0, oom_allocation_size: 100 });
    expect(oom.body.signature).toBe('OOM | small');
    expect((await post({ frames: ['work'], hang_type: 1 })).body.signature).toMatch(/^hang \| work/);
    expect((await post({ frames: [] })).body).toMatchObject({ signature: 'EMPTY: no frame data available', notes: [expect.stringContaining('no frames')] });
  });

  it('refuses what is not a stack, too many frames, and bodies that are not JSON, saying why', async () => {
    expect((await post([1, 2])).status).toBe(400);
    expect((await post({ frames: 'main' })).status).toBe(400);
    expect((await post({ frames: [3] })).body.error).toMatch(/frames\[0\]/);
    expect((await post({ something: 'else' })).body.error).toMatch(/no frames/);
    const tooMany = await post({ frames: Array.from({ length: MAX_SIGNATURE_FRAMES + 1 }, () => 'f') });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error).toMatch(/at most 1000/);
    expect((await post('frames=main', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post('{"frames": [', 'application/json')).status).toBe(400);
    const huge = await post({ frames: ['x'], padding: 'p'.repeat(3 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });
});
