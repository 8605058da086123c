/**
 * Repeated query parameters on every route of a real node (issue 10, finding 14):
 * `?crash_id=A&crash_id=B` used to reach code expecting a string and answer 500. Every
 * route the node registers (pages, API, account, symbols, collector, health) gets each
 * parameter it may read twice, as an anonymous caller, with an all-permissions API token
 * and with a web session; no answer may be a 5xx. And a 5xx the node does answer is
 * logged once (src/node/server-errors.ts).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FsProcessedCrashStore } from '../../../src/adapters/fs-processed-crash-store.js';
import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { createCrashId } from '../../../src/common/crash-id.js';
import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';
import { openApiDocument } from '../../../src/roles/web/openapi.js';

const ID = createCrashId(new Date());
const OTHER = createCrashId(new Date());

let dir: string;
let node: RunningNode;
let token: string;
let accounts: SqliteAccountStore;
let userId: number;
const logs: { level: number; msg: string; url?: string; status?: number; err?: { message: string } }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-repeated-params-'));
  const { config, findings } = loadConfig({
    env: {},
    overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, web', 'web.api_rate_limit': '0' },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as (typeof logs)[number]);
      done();
    },
  });
  node = await startNode(config, { cwd: dir, log: pino({ level: 'info' }, sink) });
  const tokens = SqliteTokenStore.open(node.paths.database);
  token = (await tokens.create({ user: 'everything', permissions: ['view_protected', 'download_dumps', 'reprocess', 'upload_symbols', 'admin'] })).token;
  await tokens.close();
  accounts = SqliteAccountStore.open(node.paths.database);
  userId = (await accounts.createUser({ username: 'someone', permissions: ['view_protected', 'reprocess'] })).id;
});
afterAll(async () => {
  await accounts?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two plausible values of each parameter a route may read. */
const VALUES: Record<string, [string, string]> = {
  crash_id: [ID, OTHER],
  crash_ids: [ID, OTHER],
  format: ['raw', 'meta'],
  name: ['upload_file_minidump', 'browser'],
  product: ['Example', 'Other'],
  version: ['1.0', '2.0'],
  platform: ['Linux', 'Windows NT'],
  process_type: ['parent', 'content'],
  signature: ['sig_a', '=sig_b'],
  days: ['7', '14'],
  from: ['2025-01-01', '2025-02-01'],
  to: ['2025-01-31', '2025-02-28'],
  page: ['1', '2'],
  offset: ['0', '50'],
  limit: ['10', '20'],
  next: ['/account', '/'],
  f: ['product', 'signature'],
  op: ['', '='],
  v: ['Example', 'x'],
  date: ['>=2025-01-01', '<2025-03-01'],
  _columns: ['uuid', 'signature'],
  _facets: ['signature', 'product'],
  _sort: ['-date', 'date'],
  _results_number: ['10', '20'],
  _results_offset: ['0', '10'],
  _facets_size: ['5', '10'],
  '_aggs.signature': ['product', 'version'],
  '_histogram.date': ['product', 'version'],
  '_histogram_interval.date': ['1d', '1h'],
  token: ['not-a-token', 'still-not'],
  debug_file: ['a.pdb', 'b.pdb'],
  debug_identifier: ['0123456789ABCDEF0123456789ABCDEF0', 'FEDCBA9876543210FEDCBA98765432100'],
  ruleset: ['default', 'signature'],
  query: ['product=Example', 'product=Other'],
  // Token ids that do not exist: revoking the test's own token would end the test's authority.
  id: ['999998', '999999'],
  username: ['someone', 'nobody'],
  password: ['wrong password 1', 'wrong password 2'],
  description: ['a', 'b'],
  permissions: ['reprocess', 'view_protected'],
  expires_days: ['1', '2'],
  // The header box's quick search: a crash id, then words.
  q: [ID, 'sig_a'],
};

/** The parameters the API documents for a route (patterns given a field), or every known one for the others. */
function parametersOf(url: string, method: string): string[] {
  const documented = (openApiDocument().paths as Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>)[url]?.[method.toLowerCase()]?.parameters;
  if (!documented) return Object.keys(VALUES);
  const names = documented.filter((p) => p.in === 'query').map((p) => p.name.replace('{field}', 'date'));
  // Super Search documents every field: a few stand for them.
  return [...new Set(names.filter((n) => n in VALUES || !/^[a-z_]+$/.test(n) || ['uptime', 'os_name', 'reason'].includes(n)))];
}

function valuesOf(name: string): [string, string] {
  return VALUES[name] ?? ['1', '2'];
}

type Flavor = 'anonymous' | 'token' | 'session';

async function send(method: string, url: string, params: URLSearchParams, flavor: Flavor): Promise<number> {
  const headers: Record<string, string> = {};
  if (flavor === 'token') headers['auth-token'] = token;
  if (flavor === 'session') {
    // A fresh session each time (a POST /logout ends the one it is sent with).
    const { sessionId } = await accounts.createSession(userId);
    const session = await accounts.verifySession(sessionId);
    headers.cookie = `mayday_session=${sessionId}`;
    headers['x-csrf-token'] = session!.csrfToken;
  }
  const target = `${node.url}${url.replace(/:[a-z]+/gi, ID).replace('*', 'x')}?${params.toString()}`;
  const init: RequestInit = { method, headers, redirect: 'manual' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = params.toString();
  }
  const response = await fetch(target, init);
  // An event stream (the Dashboard's) never ends: its status is the answer.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
  else await response.arrayBuffer();
  return response.status;
}

describe('every route with repeated parameters', () => {
  it('answers without a 5xx, whoever asks', async () => {
    const routes = node.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(25);
    const failures: string[] = [];
    for (const { method, url } of routes) {
      const names = parametersOf(url, method);
      const all = new URLSearchParams();
      for (const name of names) for (const value of valuesOf(name)) all.append(name, value);
      const requests: [string, Promise<number>][] = (['anonymous', 'token', 'session'] as const).map((flavor) => [`all repeated, ${flavor}`, send(method, url, all, flavor)]);
      // Each alone too: a route that refuses the first odd parameter must not hide the next.
      for (const name of names) {
        const one = new URLSearchParams();
        if (name !== 'crash_id' && names.includes('crash_id')) one.append('crash_id', ID);
        for (const value of valuesOf(name)) one.append(name, value);
        requests.push([`${name} repeated`, send(method, url, one, 'token')]);
      }
      for (const [what, answer] of requests) {
        const status = await answer;
        if (status >= 500 && url !== '/__heartbeat__') failures.push(`${status} ${method} ${url} (${what})`);
      }
    }
    expect(failures).toEqual([]);
    expect(logs.filter((l) => l.msg.startsWith('server error') && l.url !== '/__heartbeat__')).toEqual([]);
  }, 60_000);

  it('logs a server error once, with the redacted URL and its cause', async () => {
    // A processed crash whose file is corrupt: reading it fails, the API answers 500.
    const store = await FsProcessedCrashStore.open(node.paths.processed);
    await store.save({ uuid: ID, product: 'Example' });
    const files = readdirSync(node.paths.processed, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && f.name.includes(ID));
    expect(files).toHaveLength(1);
    writeFileSync(path.join(files[0]!.parentPath, files[0]!.name), '{ not json');
    logs.length = 0;
    const response = await fetch(`${node.url}/api/ProcessedCrash/?crash_id=${ID}&token=s3cret-in-url`);
    expect(response.status).toBe(500);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const errors = logs.filter((l) => l.msg.startsWith('server error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 50, status: 500, url: `/api/ProcessedCrash/?crash_id=${ID}&token=REDACTED` });
    expect(errors[0]!.err?.message).toMatch(/JSON/);
    expect(JSON.stringify(logs)).not.toContain('s3cret-in-url');
  });
});
