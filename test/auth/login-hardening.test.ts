/**
 * The login under attack, over real HTTP against a Fastify app with the real auth layer,
 * account pages and SQLite accounts: parallel guesses (counted before the slow hash),
 * locking an account out from one address (it must stay open to the others), names no
 * account can have (never logged, never counted), open redirects through `next`, and
 * the session cookie's `Secure` behind a trusted TLS proxy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqliteAccountStore, type SessionIssuer } from '../../src/auth/account-store.js';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import { PasswordCheckLimiter } from '../../src/auth/password-check-limiter.js';
import { requestAuthPlugin } from '../../src/auth/request-auth.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { accountPagesPlugin, safeNext } from '../../src/roles/web/account-pages.js';

const PASSWORD = 'a long enough password';
let dir: string;
let accounts: SqliteAccountStore;
let tokens: SqliteTokenStore;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-login-hardening-'));
  accounts = SqliteAccountStore.open(path.join(dir, 'mayday.sqlite'));
  tokens = SqliteTokenStore.open(path.join(dir, 'mayday.sqlite'));
  await accounts.createUser({ username: 'root', password: PASSWORD, permissions: ['admin'] });
});
afterAll(async () => {
  await accounts.close();
  await tokens.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Node {
  app: FastifyInstance;
  base: string;
  /** Password checks the accounts store was asked for. */
  hashes: () => number;
  /** The most password checks that ran at once. */
  mostAtOnce: () => number;
  /** Every log line written so far. */
  log: () => string;
}

/** A node's login, listening on loopback; `trustProxy` as the node passes `web.trusted_proxies`. */
async function startNode(options: { throttle?: LoginThrottle; passwordChecks?: PasswordCheckLimiter; trustProxy?: string[] | false } = {}): Promise<Node> {
  let log = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString();
      done();
    },
  });
  let hashes = 0;
  let running = 0;
  let mostAtOnce = 0;
  const counting: SessionIssuer = {
    authenticate: async (username, password) => {
      hashes++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      try {
        return await accounts.authenticate(username, password);
      } finally {
        running--;
      }
    },
    createSession: (userId) => accounts.createSession(userId),
    deleteSession: (sessionId) => accounts.deleteSession(sessionId),
    verifySession: (sessionId) => accounts.verifySession(sessionId),
  };
  const app = Fastify({ logger: { level: 'info', stream }, trustProxy: options.trustProxy ?? false, bodyLimit: 25 * 1024 * 1024 });
  await app.register(requestAuthPlugin, { tokens, sessions: counting });
  await app.register(accountPagesPlugin, { accounts: counting, tokens, secureCookies: false, throttle: options.throttle, passwordChecks: options.passwordChecks });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base, hashes: () => hashes, mostAtOnce: () => mostAtOnce, log: () => log };
}

interface Answer {
  status: number;
  location: string | null;
  setCookie: string[];
  body: string;
}

/** Fetches the login form, then posts it with `fields` (and `headers`, e.g. X-Forwarded-*). */
async function login(node: Node, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const form = await fetch(`${node.base}/login`, { headers });
  const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('mayday_login_csrf='))!;
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!;
  const response = await fetch(`${node.base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie.slice(0, csrfCookie.indexOf(';')), ...headers },
    body: new URLSearchParams({ csrf_token: csrf, ...fields }).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), setCookie: response.headers.getSetCookie(), body: await response.text() };
}

describe('parallel guesses', () => {
  it('are counted before the password is hashed: 30 at once get at most the allowed number of checks', async () => {
    const node = await startNode({ throttle: new LoginThrottle({ maxFailures: 3 }) });
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(node, { username: 'root', password: `guess number ${i}` })));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(27);
      expect(node.hashes()).toBe(3);
    } finally {
      await node.app.close();
    }
  });

  it('from many addresses at once, run one password check at a time and refuse what cannot wait (the thread pool stays free for the collector)', async () => {
    const node = await startNode({ trustProxy: ['127.0.0.1'], passwordChecks: new PasswordCheckLimiter({ concurrency: 1, maxWaiting: 2 }) });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(node, { username: 'root', password: `guess number ${i}` }, { 'x-forwarded-for': `203.0.113.${i}` })));
      const busy = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 401)).toHaveLength(node.hashes());
      expect(busy.length + node.hashes()).toBe(20);
      expect(busy.length).toBeGreaterThan(0);
      for (const answer of busy) expect(answer.body).toContain('Too many logins are being checked');
      expect(node.mostAtOnce()).toBe(1);
      // Refused unchecked, the attempts did not count: those addresses may try again.
      const again = answers.findIndex((a) => a.status === 429);
      expect((await login(node, { username: 'root', password: PASSWORD }, { 'x-forwarded-for': `203.0.113.${again}` })).status).toBe(303);
    } finally {
      await node.app.close();
    }
  });

  it('a right password is not counted against the name', async () => {
    const node = await startNode({ throttle: new LoginThrottle({ maxFailures: 2 }) });
    try {
      for (let i = 0; i < 3; i++) expect((await login(node, { username: 'root', password: PASSWORD })).status).toBe(303);
      expect((await login(node, { username: 'root', password: 'wrong' })).status).toBe(401);
    } finally {
      await node.app.close();
    }
  });
});

describe('locking an account out', () => {
  it('failures from one address do not lock the name for other addresses', async () => {
    const node = await startNode({ trustProxy: ['127.0.0.1'], throttle: new LoginThrottle({ maxFailures: 2, maxFailuresPerAddress: 4 }) });
    try {
      const attacker = { 'x-forwarded-for': '203.0.113.7' };
      for (let i = 0; i < 2; i++) expect((await login(node, { username: 'root', password: `guess ${i}` }, attacker)).status).toBe(401);
      const refused = await login(node, { username: 'root', password: PASSWORD }, attacker);
      expect(refused.status).toBe(429);
      // The administrator, elsewhere, still gets in.
      const admin = await login(node, { username: 'root', password: PASSWORD }, { 'x-forwarded-for': '198.51.100.20' });
      expect(admin.status).toBe(303);
      // One address trying many names is stopped too.
      for (let i = 0; i < 2; i++) expect((await login(node, { username: `user${i}`, password: 'x' }, attacker)).status).toBe(401);
      expect((await login(node, { username: 'someone_else', password: 'x' }, attacker)).status).toBe(429);
      expect((await login(node, { username: 'someone_else', password: 'x' }, { 'x-forwarded-for': '198.51.100.21' })).status).toBe(401);
    } finally {
      await node.app.close();
    }
  });

  it('a guess spread over many addresses is slowed once the name has many failures, but not for an address that has not failed', async () => {
    const node = await startNode({ trustProxy: ['127.0.0.1'], throttle: new LoginThrottle({ maxFailures: 3, maxFailuresPerName: 4 }) });
    try {
      for (let i = 0; i < 4; i++) expect((await login(node, { username: 'root', password: `guess ${i}` }, { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(401);
      // Each guessing address is now refused, new ones get one try each...
      expect((await login(node, { username: 'root', password: 'again' }, { 'x-forwarded-for': '203.0.113.0' })).status).toBe(429);
      expect((await login(node, { username: 'root', password: 'new' }, { 'x-forwarded-for': '203.0.113.100' })).status).toBe(401);
      expect((await login(node, { username: 'root', password: 'new again' }, { 'x-forwarded-for': '203.0.113.100' })).status).toBe(429);
      // ... and the owner, who has not been failing, logs in.
      expect((await login(node, { username: 'root', password: PASSWORD }, { 'x-forwarded-for': '192.0.2.1' })).status).toBe(303);
    } finally {
      await node.app.close();
    }
  });
});

describe('names no account can have', () => {
  it('are refused before they are logged or counted', async () => {
    const node = await startNode({ throttle: new LoginThrottle({ maxFailures: 2, maxFailuresPerAddress: 2 }) });
    try {
      const names = ['x'.repeat(129), `${'n'.repeat(3000)}@`, 'root\nforged log line', ' root', 'root<script>', '-root'];
      for (const username of names) {
        const answer = await login(node, { username, password: 'whatever it is' });
        expect(answer.status).toBe(401);
        expect(answer.body).toContain('Wrong user name or password');
        expect(answer.body).not.toContain('n'.repeat(200));
      }
      expect(node.hashes()).toBe(0);
      // Not counted: the address may still try a real name.
      expect((await login(node, { username: 'root', password: PASSWORD })).status).toBe(303);
      // A 5 MB name does not even get parsed.
      expect((await login(node, { username: 'y'.repeat(5 * 1024 * 1024), password: 'x' })).status).toBe(413);
      const log = node.log();
      expect(log).not.toContain('x'.repeat(129));
      expect(log).not.toContain('n'.repeat(200));
      expect(log).not.toContain('yyyyyyyy');
      expect(log).not.toContain('forged log line');
      expect(log.length).toBeLessThan(20_000);
    } finally {
      await node.app.close();
    }
  });
});

describe('where a login goes next', () => {
  it('never leaves the site, and never fails, whatever `next` is', async () => {
    const node = await startNode();
    try {
      // After the password (once: hashing is slow), then as a logged-in visitor of /login is sent on.
      const first = await login(node, { username: 'root', password: PASSWORD, next: '/\t/evil.example' });
      expect(first.status).toBe(303);
      expect(first.location).toBe('/');
      const session = first.setCookie.find((c) => c.startsWith('mayday_session='))!;
      const cookie = session.slice(0, session.indexOf(';'));
      const nextOf = async (next: string): Promise<Response> => fetch(`${node.base}/login?next=${encodeURIComponent(next)}`, { redirect: 'manual', headers: { cookie } });
      for (const next of ['/\t/evil.example', '/\u000b/x', '/\n/evil.example', '/\\evil.example', '//evil.example', '/\u0000', '/x\r\nSet-Cookie: a=b', 'https://evil.example/', '/\u2028/x', '/日本語?q=é']) {
        const answer = await nextOf(next);
        expect(answer.status, JSON.stringify(next)).toBe(303);
        const location = answer.headers.get('location')!;
        expect(new URL(location, node.base).origin, JSON.stringify(next)).toBe(node.base);
        expect(location).not.toMatch(/^\/[/\\]/);
      }
      expect((await nextOf('/report/index/x?y=1#z')).headers.get('location')).toBe('/report/index/x?y=1#z');
      expect((await nextOf('/日本語?q=é')).headers.get('location')).toBe('/%E6%97%A5%E6%9C%AC%E8%AA%9E?q=%C3%A9');
      // The form page itself, asked with a bad `next`, offers the home page.
      const form = await fetch(`${node.base}/login?next=%2F%09%2Fevil.example`);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('name="next" value="/"');
    } finally {
      await node.app.close();
    }
  });

  it('safeNext gives a same-origin path that is a valid Location header, for any input', () => {
    const piece = fc.oneof(
      fc.constantFrom('/', '//', '\\', '\t', '\n', '\r', '\u000b', '\u0000', '\u007f', '\u0085', ' ', '\u00a0', '\u2028', '\ufeff', '\ud800', 'evil.example', '%09', '%2F', '..', '@', ':', '#', '?', 'é', '😀', 'http:', 'javascript:'),
      fc.string({ maxLength: 3, unit: 'binary' }),
    );
    const bases = ['https://crash-stats.example/login', 'http://127.0.0.1:8000/account/x/'];
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), fc.boolean(), (rest, slash) => {
        const input = slash ? `/${rest}` : rest;
        const next = safeNext(input);
        expect(() => validateHeaderValue('location', next)).not.toThrow();
        expect(next).toMatch(/^\/(?![/\\])[\x21-\x7e]*$|^\/$/);
        for (const base of bases) expect(new URL(next, base).origin).toBe(new URL(base).origin);
        // Plain paths are kept as they are.
        if (/^\/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*$/.test(input) && input.length <= 4096) expect(next).toBe(input);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('the session cookie behind a TLS proxy', () => {
  it('is Secure when a trusted proxy says the request came over https, and only then', async () => {
    const trusted = await startNode({ trustProxy: ['127.0.0.1'] });
    const untrusted = await startNode();
    try {
      const session = (answer: Answer): string => answer.setCookie.find((c) => c.startsWith('mayday_session='))!;
      const viaProxy = await login(trusted, { username: 'root', password: PASSWORD }, { 'x-forwarded-proto': 'https' });
      expect(session(viaProxy)).toMatch(/; Secure/);
      const plain = await login(trusted, { username: 'root', password: PASSWORD });
      expect(session(plain)).not.toMatch(/Secure/);
      // From a client the node does not trust, the header means nothing.
      const forged = await login(untrusted, { username: 'root', password: PASSWORD }, { 'x-forwarded-proto': 'https' });
      expect(session(forged)).not.toMatch(/Secure/);
    } finally {
      await trusted.app.close();
      await untrusted.app.close();
    }
  });
});
