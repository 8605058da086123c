/**
 * Every route declares who may call it, and the declaration holds: the test enumerates the
 * router of a real all-roles node and calls each route as an anonymous client, with a
 * token that holds no permission, and (for permission routes) with one that does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { routeAccessPlugin, withAccess } from '../../src/auth/route-access.js';
import { PERMISSIONS } from '../../src/common/permissions.js';

const CRASH_ID = '0d3b8c5e-3f4a-4b7e-9c1d-5e2f6a261128';

let dir: string;
let node: RunningNode;
/** A token per permission, and one whose only permission is unrelated to every route (view_protected). */
const tokens = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-route-access-'));
  const { config, findings } = loadConfig({
    env: {},
    overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, processor, web', 'web.api_rate_limit': '0' },
  });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
  const store = SqliteTokenStore.open(path.join(node.paths.dataDir, 'mayday.sqlite'));
  for (const permission of PERMISSIONS) tokens.set(permission, (await store.create({ user: `u-${permission}`, permissions: [permission] })).token);
  await store.close();
}, 60_000);
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

function concrete(url: string): string {
  // `::` is a literal colon in a route (sym_upload v2's `uploads:create`).
  return url.replace(':id', CRASH_ID).replaceAll('::', ':');
}

async function call(method: string, url: string, token?: string): Promise<{ status: number; location: string | null }> {
  const headers: Record<string, string> = {};
  if (token) headers['auth-token'] = token;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = 'x=1';
  }
  const response = await fetch(`${node.url}${concrete(url)}`, { method, headers, body, redirect: 'manual' });
  // An event stream (the Dashboard's) never ends: its status is the answer.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
  else await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}

describe('route access', () => {
  it('every route of an all-roles node declares who may call it', () => {
    expect(node.routes.length).toBeGreaterThan(25);
    const undeclared = node.routes.filter((r) => r.access === 'undeclared');
    expect(undeclared).toEqual([]);
    // The declarations that matter most, named so a change to them is a deliberate one.
    const accessOf = (method: string, url: string) => node.routes.find((r) => r.method === method && r.url === url)?.access;
    expect(accessOf('POST', '/submit')).toBe('public');
    expect(accessOf('POST', '/symbols/upload')).toBe('permission:upload_symbols');
    expect(accessOf('POST', '/api/Reprocessing/')).toBe('permission:reprocess');
    expect(accessOf('GET', '/api/DeadLetters/')).toBe('permission:reprocess');
    expect(accessOf('POST', '/api/BugLinks/')).toBe('permission:link_bugs');
    expect(accessOf('DELETE', '/api/BugLinks/')).toBe('permission:link_bugs');
    expect(accessOf('POST', '/signature/bugs')).toBe('permission:link_bugs');
    expect(accessOf('GET', '/account')).toBe('session');
  });

  it('anonymous callers are refused by every non-public route, and reach every public one', async () => {
    const problems: string[] = [];
    for (const route of node.routes) {
      if (route.method === 'HEAD') continue;
      const { status, location } = await call(route.method, route.url);
      const where = `${route.method} ${route.url} (${route.access}) answered ${status}`;
      if (status >= 500) problems.push(where);
      else if (route.access.startsWith('permission:') && status !== 401) problems.push(`${where}, expected 401`);
      else if (route.access === 'session' && !(status === 303 && location?.startsWith('/'))) problems.push(`${where}, expected a 303 to a page of this site`);
      // A public form may still refuse a post without its own CSRF cookie (the login form does): 403, never 401.
      else if (route.access === 'public' && (status === 401 || (status === 403 && route.method === 'GET'))) problems.push(`${where}, but it is public`);
    }
    expect(problems).toEqual([]);
  });

  it('a token without the permission a route declares gets 403; one with it gets past the check', async () => {
    const problems: string[] = [];
    for (const route of node.routes.filter((r) => r.access.startsWith('permission:') && r.method !== 'HEAD')) {
      const permission = route.access.slice('permission:'.length);
      const other = PERMISSIONS.find((p) => p !== permission && p !== 'admin')!;
      const refused = await call(route.method, route.url, tokens.get(other));
      if (refused.status !== 403) problems.push(`${route.method} ${route.url} with only ${other}: ${refused.status}, expected 403`);
      const allowed = await call(route.method, route.url, tokens.get(permission));
      if (allowed.status === 401 || allowed.status === 403 || allowed.status >= 500) problems.push(`${route.method} ${route.url} with ${permission}: ${allowed.status}`);
    }
    expect(problems).toEqual([]);
  });

  it('an app refuses a route that declares nothing, naming it', async () => {
    const app = Fastify();
    await app.register(routeAccessPlugin);
    app.get('/declared', withAccess('public'), async () => 'ok');
    expect(() => app.get('/forgotten', async () => 'oops')).toThrow(/GET \/forgotten does not declare who may call it/);
    await app.ready();
    await app.close().catch(() => undefined);
  });
});
