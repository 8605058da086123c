/**
 * Urlencoded bodies: the one parser (linear, field cap, no prototype), and the routes that
 * use it answering hostile bodies at once: a body of 80,000 empty fields, and one at the
 * collector's 25 MB limit, to `/login` and to the Reprocessing API, anonymous and with a
 * token. Real HTTP against a Fastify app built as the node builds it (real auth, real
 * SQLite, real queue and stores).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FsRawCrashStore } from '../../../src/adapters/fs-raw-crash-store.js';
import { SqliteCrashIndex } from '../../../src/adapters/sqlite-crash-index.js';
import { SqliteQueue } from '../../../src/adapters/sqlite-queue.js';
import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { requestAuthPlugin } from '../../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { accountPagesPlugin } from '../../../src/roles/web/account-pages.js';
import { queryStringToParams } from '../../../src/roles/web/crash-selection.js';
import { FormBodyError, countFormFields, parseFormBody } from '../../../src/roles/web/form-body.js';
import { reprocessingApiPlugin } from '../../../src/roles/web/reprocessing-api.js';
import { RULESET_NAMES } from '../../../src/schema/rulesets.js';

describe('parseFormBody', () => {
  it('keeps a single value as a string and repeated ones as a list in order, decoding as URLSearchParams does', () => {
    const form = parseFormBody('a=1&b=x+y&a=2&c=%E2%9C%93&d&&a=3&bad=%ZZ&half=%E2%9C&mixed=€%26%');
    expect({ ...form }).toEqual({ a: ['1', '2', '3'], b: 'x y', c: '✓', d: '', bad: '%ZZ', half: '\ufffd', mixed: '€&%' });
  });

  it('agrees with URLSearchParams on any input', () => {
    // Pieces that exercise the decoder: separators, good and bad escapes, split UTF-8, non-ASCII.
    const piece = fc.constantFrom('a', 'b', '=', '&', '&&', '+', '%', '%4', '%41', '%2B', '%26', '%3D', '%E2%82%AC', '%E2%82', '%FF', '%zz', '%%', 'é', '€', '😀', '__proto__', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join('')), (text) => {
        // Node's URLSearchParams mis-decodes non-ASCII text beside a bad escape ("€%" gives
        // U+FFFD); the standard decodes the UTF-8 bytes, so they are escaped first for it.
        const oracle = new URLSearchParams(text.replace(/[^\x00-\x7f]+/gu, (run) => encodeURIComponent(run)));
        const expected = new Map<string, string[]>();
        for (const [k, v] of oracle) expected.set(k, [...(expected.get(k) ?? []), v]);
        const form = parseFormBody(text, { maxFields: Infinity });
        expect(Object.keys(form).sort()).toEqual([...expected.keys()].sort());
        for (const [k, values] of expected) expect([form[k]].flat()).toEqual(values);
        expect(countFormFields(text)).toBe([...new URLSearchParams(text)].length);
      }),
      { numRuns: 1000 },
    );
  });

  it('is only data: `__proto__` and `constructor` are fields like any other', () => {
    const form = parseFormBody('__proto__=x&constructor=y&toString=z');
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(form.__proto__).toBe('x');
    expect(form.constructor).toBe('y');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses more fields than allowed (413) before decoding them', () => {
    expect(() => parseFormBody('a=&'.repeat(1001))).toThrow(FormBodyError);
    try {
      parseFormBody('a=&'.repeat(1001));
    } catch (error) {
      expect((error as FormBodyError).statusCode).toBe(413);
      expect((error as Error).message).toMatch(/1001 fields; at most 1000/);
    }
    expect(Object.keys(parseFormBody('a=&'.repeat(1000)))).toEqual(['a']);
    expect(parseFormBody('k=v&'.repeat(50), { maxFields: 50 }).k).toHaveLength(50);
  });

  it('takes time linear in the number of repeated fields', () => {
    // Repeated names, and nameless fields with one `=` at the very end (a search for `=`
    // must not rescan the rest of the body from each field).
    for (const [field, tail] of [['a=&', ''], ['a&', '=']] as const) {
      const time = (fields: number): number => {
        const text = field.repeat(fields) + tail;
        let best = Infinity;
        for (let i = 0; i < 5; i++) {
          const start = performance.now();
          const form = parseFormBody(text, { maxFields: Infinity });
          best = Math.min(best, performance.now() - start);
          expect(form.a).toHaveLength(fields);
        }
        return best;
      };
      time(10_000); // warm-up
      const small = time(10_000);
      const large = time(300_000);
      // Thirty times the fields: about thirty times the work when linear (a few times more
      // with the garbage collector and caches on a busy machine), nine hundred when
      // quadratic (copying the list per repetition took minutes at 80,000).
      expect(large / Math.max(small, 0.2), `${field}: ${small.toFixed(1)} ms, then ${large.toFixed(1)} ms`).toBeLessThan(300);
    }
  });

  it('parses the Super Search query strings of a reprocessing selection the same way (with the cap)', () => {
    expect(queryStringToParams('?product=Example&version=1.0&version=1.1')).toEqual({ product: 'Example', version: ['1.0', '1.1'] });
    expect(() => queryStringToParams('a=&'.repeat(80_000))).toThrow(/at most/);
  });
});

/** A POST over real HTTP; answers even when the server stops reading the body early. */
function post(url: string, headers: Record<string, string>, body: Buffer | string): Promise<{ status: number; body: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - start }));
      res.on('error', reject);
    });
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

describe('hostile urlencoded bodies over HTTP', () => {
  let dir: string;
  let app: FastifyInstance;
  let base: string;
  let accounts: SqliteAccountStore;
  let tokens: SqliteTokenStore;
  let queue: SqliteQueue;
  let crashIndex: SqliteCrashIndex;
  let reprocessToken: string;
  let viewToken: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mayday-form-body-'));
    const database = path.join(dir, 'mayday.sqlite');
    accounts = SqliteAccountStore.open(database);
    tokens = SqliteTokenStore.open(database);
    queue = SqliteQueue.open(path.join(dir, 'queue.sqlite'), { visibilityTimeoutMs: 60_000 });
    crashIndex = SqliteCrashIndex.open(database);
    reprocessToken = (await tokens.create({ user: 'ops', permissions: ['reprocess'] })).token;
    viewToken = (await tokens.create({ user: 'viewer', permissions: ['view_protected'] })).token;
    // As the node: the collector's 25 MB body limit is the server's default.
    app = Fastify({ bodyLimit: 25 * 1024 * 1024 });
    await app.register(requestAuthPlugin, { tokens, sessions: accounts });
    await app.register(accountPagesPlugin, { accounts, tokens, secureCookies: false });
    await app.register(reprocessingApiPlugin, { rawCrashStore: await FsRawCrashStore.open(path.join(dir, 'raw')), queue, crashIndex, rulesets: RULESET_NAMES });
    app.get('/ping', async () => 'pong');
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await accounts?.close();
    await tokens?.close();
    await queue?.close();
    await crashIndex?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  const EMPTY_FIELDS = 'a=&'.repeat(80_000); // 240 KB
  const HUGE = Buffer.alloc(25 * 1024 * 1024 - 1024, 'a=&');

  it('answers 80,000 empty fields and a 25 MB body to /login at once with 413', async () => {
    for (const body of [EMPTY_FIELDS, HUGE]) {
      const answer = await post(`${base}/login`, FORM, body);
      expect(answer.status).toBe(413);
      expect(answer.body).toMatch(/too large/i);
      expect(answer.ms).toBeLessThan(1000);
    }
    // The node still answers.
    expect(await (await fetch(`${base}/ping`)).text()).toBe('pong');
  });

  it('answers anonymous bodies to the account forms before reading them', async () => {
    for (const url of ['/logout', '/account/tokens', '/account/tokens/revoke']) {
      const answer = await post(`${base}${url}`, FORM, HUGE);
      expect(answer.status, url).toBe(303);
      expect(answer.ms, url).toBeLessThan(1000);
    }
  });

  it('refuses anonymous and unentitled bodies to the Reprocessing API before reading them', async () => {
    for (const body of [EMPTY_FIELDS, HUGE]) {
      const anonymous = await post(`${base}/api/Reprocessing/`, FORM, body);
      expect(anonymous.status).toBe(401);
      expect(anonymous.ms).toBeLessThan(1000);
      const unentitled = await post(`${base}/api/Reprocessing/`, { ...FORM, 'auth-token': viewToken }, body);
      expect(unentitled.status).toBe(403);
      expect(unentitled.ms).toBeLessThan(1000);
      const json = await post(`${base}/api/Reprocessing/`, { 'content-type': 'application/json' }, `{"crash_ids":[${'"x",'.repeat(100_000)}"x"]}`);
      expect(json.status).toBe(401);
    }
  });

  it('caps the fields and the size of an entitled request to the Reprocessing API with clear 413s', async () => {
    const auth = { 'auth-token': reprocessToken };
    const fields = await post(`${base}/api/Reprocessing/`, { ...FORM, ...auth }, EMPTY_FIELDS);
    expect(fields.status).toBe(413);
    expect(fields.body).toMatch(/80000 fields; at most/);
    expect(fields.ms).toBeLessThan(1000);
    const huge = await post(`${base}/api/Reprocessing/`, { ...FORM, ...auth }, HUGE);
    expect(huge.status).toBe(413);
    expect(huge.ms).toBeLessThan(1000);
    // What the route is for still fits: 10,000 crash ids, as a form and as JSON.
    // (The last one is not a crash id: its refusal shows every id before it was read and parsed.)
    const ids = Array.from({ length: 10_000 }, (_, i) => `bp-00000000-0000-0000-0000-${String(i).padStart(6, '0')}260101`);
    ids[9_999] = 'the-last-one';
    const asForm = await post(`${base}/api/Reprocessing/`, { ...FORM, ...auth }, new URLSearchParams(ids.map((id): [string, string] => ['crash_ids', id])).toString());
    const asJson = await post(`${base}/api/Reprocessing/`, { 'content-type': 'application/json', ...auth }, JSON.stringify({ crash_ids: ids }));
    for (const answer of [asForm, asJson]) {
      expect(answer.status, answer.body).toBe(400);
      expect(JSON.parse(answer.body).error).toBe('"the-last-one" is not a crash id');
    }
    // A selection's Super Search query string is capped as well.
    const query = await post(`${base}/api/Reprocessing/`, { 'content-type': 'application/json', ...auth }, JSON.stringify({ query: 'product=x&'.repeat(5000) }));
    expect(query.status).toBe(413);
    expect(JSON.parse(query.body).error).toMatch(/^query: the form has 5000 fields/);
    // One more is refused.
    const tooMany = await post(`${base}/api/Reprocessing/`, { 'content-type': 'application/json', ...auth }, JSON.stringify({ crash_ids: [...ids, ids[0]] }));
    expect(tooMany.status).toBe(413);
  });
});
