/**
 * Security headers on every answer of a real node (collector and web roles, in process):
 * pages, API, collector, health, redirects, 404s, and answers sent early by hooks and body
 * limits. And the pages themselves keep to the policy: no inline script, no event handler
 * attributes (the browser check is in test/e2e/accounts-browser.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';

let dir: string;
let node: RunningNode;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-security-headers-'));
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'collector, web' } });
  if (!config) throw new Error(JSON.stringify(findings));
  node = await startNode(config, { cwd: dir, log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The directives of a Content-Security-Policy header, by name. */
function directives(policy: string | null): Map<string, string[]> {
  return new Map(
    (policy ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

function expectSecurityHeaders(response: Response, what: string): void {
  const csp = directives(response.headers.get('content-security-policy'));
  expect(csp.get('default-src'), what).toEqual(["'self'"]);
  expect(csp.get('script-src'), what).toEqual(["'self'"]);
  expect(csp.get('script-src-attr'), what).toEqual(["'none'"]);
  expect(csp.get('object-src'), what).toEqual(["'none'"]);
  expect(csp.get('base-uri'), what).toEqual(["'none'"]);
  expect(csp.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(csp.get('form-action'), what).toEqual(["'self'"]);
  expect(csp.has('upgrade-insecure-requests'), what).toBe(false);
  expect(response.headers.get('x-frame-options'), what).toBe('DENY');
  expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(response.headers.get('referrer-policy'), what).toBe('same-origin');
  expect(response.headers.get('strict-transport-security'), what).toBeNull();
}

describe('security headers', () => {
  it('are on every kind of answer', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const requests: [number, string, RequestInit?][] = [
      [200, '/'],
      [200, '/login'],
      [303, '/account'], // to the login page
      [200, '/search/?product=Example'],
      [200, '/status'],
      [200, '/api/'],
      [200, '/api/SuperSearch/?product=Example'],
      [400, '/api/ProcessedCrash/?crash_id=nope'],
      [404, '/no/such/page'],
      [200, '/__lbheartbeat__'],
      [200, '/__version__'],
      [401, '/api/Reprocessing/', { method: 'POST', headers: form, body: 'crash_ids=x' }], // before the body is read
      [401, '/api/SuperSearch/', { headers: { 'auth-token': 'mdy_not_a_token' } }], // from the auth hook
      [413, '/login', { method: 'POST', headers: form, body: 'a=&'.repeat(20_000) }], // the body limit
      [400, '/submit', { method: 'POST', headers: form, body: 'ProductName=Example' }], // the collector
    ];
    for (const [status, url, init] of requests) {
      const response = await fetch(`${node.url}${url}`, { redirect: 'manual', ...init });
      await response.arrayBuffer();
      const what = `${init?.method ?? 'GET'} ${url}`;
      expect(response.status, what).toBe(status);
      expectSecurityHeaders(response, what);
    }
  });

  it('the pages need nothing the policy forbids: no inline script, no event handler attributes', async () => {
    for (const url of ['/', '/login', '/search/', '/topcrashers/', '/status', '/api/', '/no/such/page']) {
      const response = await fetch(`${node.url}${url}`);
      const html = await response.text();
      for (const script of html.match(/<script\b[^>]*>/gi) ?? []) expect(script, url).toMatch(/\bsrc=/i);
      expect(html, url).not.toMatch(/<[^>]+\son[a-z]+\s*=/i);
      expect(html, url).not.toMatch(/javascript:/i);
    }
  });
});
