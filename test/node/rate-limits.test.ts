/**
 * Per-client rate limits, on a real node (collector and web roles) over real HTTP. Clients
 * with different addresses connect from different loopback addresses (127.0.0.x), so the
 * node sees them as it would see different hosts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { isRateLimitedRoute } from '../../src/node/rate-limits.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { SESSION_COOKIE } from '../../src/auth/cookies.js';
import { breakpadBody } from '../../src/cli/commands/submit.js';
import { CORPUS } from '../support/corpus.js';

const LIMIT = 5;
const HEALTH = ['/__lbheartbeat__', '/__heartbeat__', '/__version__', '/metrics'];

const dirs: string[] = [];
const nodes: RunningNode[] = [];
let node: RunningNode;
let tokenA: string;
let tokenB: string;
let session: string;

async function start(limit: number): Promise<RunningNode> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-rate-limits-'));
  dirs.push(dir);
  const { config, findings } = loadConfig({
    env: {},
    overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, web', 'web.api_rate_limit': String(limit) },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  const started = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
  nodes.push(started);
  return started;
}

beforeAll(async () => {
  node = await start(LIMIT);
  const database = path.join(node.paths.dataDir, 'mayday.sqlite');
  const tokens = SqliteTokenStore.open(database);
  tokenA = (await tokens.create({ user: 'ci-a', permissions: ['reprocess'] })).token;
  tokenB = (await tokens.create({ user: 'ci-b', permissions: ['reprocess'] })).token;
  await tokens.close();
  const accounts = SqliteAccountStore.open(database);
  const user = await accounts.createUser({ username: 'alice' });
  session = (await accounts.createSession(user.id)).sessionId;
  await accounts.close();
});
afterAll(async () => {
  for (const n of nodes) await n.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request from the loopback address `from` (each test uses its own: its own client). */
function send(base: string, method: string, url: string, options: { from: string; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${url}`, { method, localAddress: options.from, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
const get = (url: string, from: string, headers?: Record<string, string>) => send(node.url, 'GET', url, { from, headers });

/** Uses up a client's requests for this minute, on a mix of limited routes. */
async function exhaust(from: string, headers?: Record<string, string>): Promise<void> {
  const mix = ['/api/SuperSearch/', '/search/', '/api/ProcessedCrash/?crash_id=nope', '/topcrashers/', '/'];
  for (let i = 0; i < LIMIT; i++) {
    const answer = await get(mix[i % mix.length], from, headers);
    expect(answer.status, `request ${i + 1} of ${LIMIT}`).not.toBe(429);
  }
}

function expectRefused(answer: Answer, what: string): void {
  expect(answer.status, what).toBe(429);
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(answer.headers['retry-after'])}`).toBe(true);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect((JSON.parse(answer.body) as { error: string }).error).toMatch(/rate limit/);
}

describe('per-client rate limits', () => {
  it('answers 429 with Retry-After and a JSON error to a client over its limit, on every limited route', async () => {
    const from = '127.0.0.2';
    await exhaust(from);
    const limited = node.routes.filter((r) => isRateLimitedRoute(r.url) && r.method !== 'HEAD');
    // The API and the heavy pages, whichever plugin registers them.
    expect(limited.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/SuperSearch/', '/api/Reprocessing/', '/api/MissingSymbols/', '/search/', '/signature/', '/report/index/:id']));
    for (const route of limited) {
      const url = route.url.replace(/:\w+/g, 'x');
      const answer = await send(node.url, route.method, url, { from, headers: route.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, body: route.method === 'POST' ? Buffer.from('a=1') : undefined });
      expectRefused(answer, `${route.method} ${route.url}`);
    }
  });

  it('leaves other clients alone: other addresses, and each API token and signed-in user on its own count', async () => {
    const from = '127.0.0.3';
    await exhaust(from);
    expectRefused(await get('/api/SuperSearch/', from), 'the client over its limit');

    expect((await get('/api/SuperSearch/', '127.0.0.4')).status).toBe(200);
    // Same address, but a token: its own count, which another token does not share.
    await exhaust(from, { 'auth-token': tokenA });
    expectRefused(await get('/api/SuperSearch/', from, { 'auth-token': tokenA }), 'token A over its limit');
    expect((await get('/api/SuperSearch/', from, { 'auth-token': tokenB })).status).toBe(200);
    const cookie = { cookie: `${SESSION_COOKIE}=${session}` };
    expect((await get('/api/SuperSearch/', from, cookie)).status).toBe(200);
    // A signed-in user is counted as themselves wherever they come from.
    for (let i = 1; i < LIMIT; i++) expect((await get('/search/', `127.0.0.${10 + i}`, cookie)).status).toBe(200);
    expectRefused(await get('/search/', '127.0.0.20', cookie), 'the signed-in user over their limit');
  });

  it('never limits the health endpoints, /metrics or /submit, even for a client over its limit', async () => {
    const from = '127.0.0.5';
    await exhaust(from);
    expectRefused(await get('/api/SuperSearch/', from), 'the client over its limit');
    for (let i = 0; i < 3 * LIMIT; i++) {
      for (const url of HEALTH) expect((await get(url, from)).status, url).toBe(200);
    }
    const dump = readFileSync(path.join(CORPUS, 'dumps', 'example-app-abort.dmp'));
    for (let i = 0; i < 2 * LIMIT; i++) {
      const { headers, body } = breakpadBody(dump, 'crash.dmp', [['ProductName', 'Example'], ['Version', '1.0']], false);
      const answer = await send(node.url, 'POST', '/submit', { from, headers, body });
      expect(answer.status, answer.body).toBe(200);
      expect(answer.body).toMatch(/^CrashID=bp-/);
    }
  });

  it('is off with api_rate_limit = 0', async () => {
    const unlimited = await start(0);
    for (let i = 0; i < 4 * LIMIT; i++) expect((await send(unlimited.url, 'GET', '/api/SuperSearch/', { from: '127.0.0.6' })).status).toBe(200);
  });
});
