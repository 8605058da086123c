/**
 * `web.trusted_proxies` on a real node (in process): behind a TLS proxy it trusts, the
 * session cookie is Secure when the proxy says `X-Forwarded-Proto: https`, and clients
 * are told apart by `X-Forwarded-For` (test/auth/login-hardening.test.ts shows one locked
 * out while another logs in); a node that trusts no proxy (the default) ignores
 * both headers. Bad entries are configuration errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { loadConfig } from '../../../src/config/load.js';
import { startNode, type RunningNode } from '../../../src/node/node.js';

const PASSWORD = 'the administrator password';
const dirs: string[] = [];
let log = '';
const nodes: RunningNode[] = [];

async function start(overrides: Record<string, string> = {}): Promise<RunningNode> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-trusted-proxies-'));
  dirs.push(dir);
  const accounts = SqliteAccountStore.open(path.join(dir, 'mayday.sqlite'));
  await accounts.createUser({ username: 'root', password: PASSWORD, permissions: ['admin'] });
  await accounts.close();
  const { config, findings } = loadConfig({ env: {}, overrides: { 'node.data_dir': dir, 'web.port': '0', 'web.host': '127.0.0.1', 'node.roles': 'web', ...overrides } });
  if (!config) throw new Error(JSON.stringify(findings));
  const node = await startNode(config, { cwd: dir, log: pino({ level: 'info' }, { write: (line: string) => void (log += line) }) });
  nodes.push(node);
  return node;
}

let trusting: RunningNode;
let plain: RunningNode;
beforeAll(async () => {
  trusting = await start({ 'web.trusted_proxies': '10.1.0.0/16, 127.0.0.1' });
  plain = await start();
});
afterAll(async () => {
  for (const node of nodes) await node.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Logs in through the form with `password`, sending `headers` with both requests. */
async function login(node: RunningNode, password: string, headers: Record<string, string>): Promise<Response> {
  const form = await fetch(`${node.url}/login`, { headers });
  const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('mayday_login_csrf='))!;
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!;
  return fetch(`${node.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie.slice(0, csrfCookie.indexOf(';')), ...headers },
    body: new URLSearchParams({ csrf_token: csrf, username: 'root', password }).toString(),
  });
}
const sessionCookie = (response: Response): string => response.headers.getSetCookie().find((c) => c.startsWith('mayday_session='))!;

describe('behind a trusted TLS proxy', () => {
  it('marks the session cookie Secure when the proxy says https', async () => {
    const viaTls = await login(trusting, PASSWORD, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' });
    expect(viaTls.status).toBe(303);
    expect(sessionCookie(viaTls)).toMatch(/; Secure/);
    expect(sessionCookie(await login(trusting, PASSWORD, { 'x-forwarded-proto': 'http' }))).not.toMatch(/Secure/);
  });

  it('takes the client address from X-Forwarded-For (for login throttling and logs)', async () => {
    log = '';
    expect((await login(trusting, 'a wrong guess', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(401);
    const failed = log.split('\n').filter((line) => line.includes('"login failed"')).map((line) => JSON.parse(line) as { ip: string });
    expect(failed.map((line) => line.ip)).toEqual(['203.0.113.9']);
  });

  it('is ignored by a node that trusts no proxy', async () => {
    const forged = await login(plain, PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(forged.status).toBe(303);
    expect(sessionCookie(forged)).not.toMatch(/Secure/);
  });

  it('takes addresses and CIDR blocks only', () => {
    const { config, findings } = loadConfig({ env: {}, overrides: { 'web.trusted_proxies': '10.0.0.0/8, ::1, fd00::/8, loopback, 10.0.0.0/33, proxy.example' } });
    expect(config).toBeUndefined();
    expect(findings.map((f) => f.message).join('\n')).toMatch(/not an IP address or CIDR block: "10\.0\.0\.0\/33", "proxy\.example"/);
    expect(loadConfig({ env: {}, overrides: {} }).config?.web.trusted_proxies).toEqual([]);
  });
});
