/**
 * An API token given as a query parameter (`sym_upload`'s `?token=`) never reaches a log,
 * however its name is spelled: Fastify's query parser decodes names, so `?tok%65n=` is
 * read as the token and must be redacted as one. Through a real Fastify app with the
 * node's `rewriteUrl`, its request log, the real auth layer and a real token store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redactTokenInUrl, redactTokenRewriteUrl, requestAuthPlugin, splitTokenFromUrl } from '../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';

let dir: string;
let tokens: SqliteTokenStore;
let app: FastifyInstance;
let token: string;
let log = '';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-token-redaction-'));
  tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  token = (await tokens.create({ user: 'ci', permissions: ['upload_symbols'] })).token;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString();
      done();
    },
  });
  app = Fastify({ logger: { level: 'info', stream }, rewriteUrl: redactTokenRewriteUrl });
  await app.register(requestAuthPlugin, { tokens });
  const seen = async (request: import('fastify').FastifyRequest) => {
    request.log.info({ url: request.url, raw: request.raw.url, original: request.originalUrl, query: request.query }, 'seen');
    return { user: request.principal?.user ?? null };
  };
  app.get('/upload', { config: { allowQueryToken: true } }, seen);
  app.get('/other', seen);
});
afterAll(async () => {
  await app.close();
  await tokens.close();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (c: string): fc.Arbitrary<string> => fc.constantFrom(c.charCodeAt(0).toString(16), c.charCodeAt(0).toString(16).toUpperCase()).map((h) => `%${h}`);
/** `token` spelled any way a decoder reads as `token`, in any case: literal or escaped letter by letter. */
const tokenName = fc.tuple(...[...'token'].map((c) => fc.oneof(fc.constant(c), fc.constant(c.toUpperCase()), hex(c), hex(c.toUpperCase())))).map((parts) => parts.join(''));
const noise = fc.array(fc.constantFrom('a=1', 'b', 'tokens=1', 'x=%ZZ', 'token_type=bearer', 'c=d+e'), { maxLength: 3 });
const decodedName = (raw: string): string => decodeURIComponent(raw);

describe('a token in the query', () => {
  it('is redacted from every log line and URL whatever the spelling of its name, and accepted only where Fastify reads `token`', async () => {
    await fc.assert(
      fc.asyncProperty(tokenName, noise, noise, fc.constantFrom('/upload', '/other'), async (name, before, after, route) => {
        log = '';
        const url = `${route}?${[...before, `${name}=${token}`, ...after].join('&')}`;
        const answer = await app.inject({ method: 'GET', url });
        expect(answer.statusCode).toBe(200);
        const accepted = route === '/upload' && decodedName(name) === 'token';
        expect(answer.json().user).toBe(accepted ? 'ci' : null);
        expect(log).toContain('"seen"');
        expect(log).not.toContain(token);
        expect(log).not.toContain(token.slice(4));
      }),
      { numRuns: 400 },
    );
  });

  it('splits the token out of the query, after `?` or `#` as the router reads it', () => {
    expect(splitTokenFromUrl(`/u?tok%65n=${token}&a=1`)).toEqual({ url: '/u?tok%65n=REDACTED&a=1', token });
    expect(splitTokenFromUrl(`/u#%74oken=${token}`)).toEqual({ url: '/u#%74oken=REDACTED', token });
    expect(splitTokenFromUrl('/u?TOKEN=x&token=y')).toEqual({ url: '/u?TOKEN=REDACTED&token=REDACTED', token: 'y' });
    expect(splitTokenFromUrl('/u?token')).toEqual({ url: '/u?token=REDACTED', token: '' });
    expect(splitTokenFromUrl('/u?tokens=1&to+ken=2&tok%65n%=3')).toEqual({ url: '/u?tokens=1&to+ken=2&tok%65n%=3' });
    expect(redactTokenInUrl('/symbols/upload?token=mdy_abc')).toBe('/symbols/upload?token=REDACTED');
    expect(redactTokenInUrl('/x')).toBe('/x');
  });
});
