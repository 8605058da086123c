/**
 * Signatures ↔ bugs over HTTP, through the real auth layer (tokens and sessions with their
 * CSRF token), the real SQLite store and the form the pages render (`pages/bug-links.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SqliteBugLinks } from '../../../src/adapters/sqlite-bug-links.js';
import { SqliteAccountStore } from '../../../src/auth/account-store.js';
import { requestAuthPlugin } from '../../../src/auth/request-auth.js';
import { routeAccessPlugin } from '../../../src/auth/route-access.js';
import { SqliteTokenStore } from '../../../src/auth/token-store.js';
import { bugApiPlugin, MAX_LOOKUP_VALUES } from '../../../src/roles/web/bug-api.js';
import { bugLinkForm } from '../../../src/roles/web/pages/bug-links.js';
import { html, raw } from '../../../src/roles/web/html.js';

let dir: string;
let app: FastifyInstance;
let bugLinks: SqliteBugLinks;
let tokens: SqliteTokenStore;
let accounts: SqliteAccountStore;
let linker: string;
let reader: string;
let admin: string;
let session: { cookie: string; csrf: string };
let readerSession: { cookie: string; csrf: string };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mayday-bug-api-'));
  const file = path.join(dir, 'mayday.sqlite');
  bugLinks = SqliteBugLinks.open(file);
  tokens = SqliteTokenStore.open(file);
  accounts = SqliteAccountStore.open(file);
  linker = (await tokens.create({ user: 'triager', permissions: ['link_bugs'] })).token;
  reader = (await tokens.create({ user: 'reader', permissions: ['view_protected', 'reprocess'] })).token;
  admin = (await tokens.create({ user: 'boss', permissions: ['admin'] })).token;
  const start = async (username: string, permissions: ('link_bugs' | 'view_protected')[]) => {
    await accounts.createUser({ username, password: 'a long enough password', permissions });
    const userId = (await accounts.authenticate(username, 'a long enough password'))!;
    const { sessionId } = await accounts.createSession(userId);
    return { cookie: `mayday_session=${sessionId}`, csrf: (await accounts.verifySession(sessionId))!.csrfToken };
  };
  session = await start('alice', ['link_bugs']);
  readerSession = await start('bob', ['view_protected']);
  app = Fastify();
  await app.register(routeAccessPlugin);
  await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  await app.register(bugApiPlugin, { bugLinks });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await bugLinks.close();
  await tokens.close();
  await accounts.close();
  rmSync(dir, { recursive: true, force: true });
});

const SIG = 'mozilla::dom::Foo::Bar(int, char) | libxul.so@0x1234';

beforeEach(async () => {
  for (const link of await bugLinks.forBugs(['1234', 'PROJ-9', 'group/project#12', '77'])) await bugLinks.remove(link.signature, link.bugId);
});

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe('GET /api/Bugs/ and /api/SignaturesByBugs/', () => {
  it("answer Socorro's shape: {hits: [{id, signature}], total}, for anyone", async () => {
    await bugLinks.add(SIG, '1234', 'x');
    await bugLinks.add(SIG, 'PROJ-9', 'x');
    await bugLinks.add('other', '1234', 'x');
    const bugs = await app.inject({ method: 'GET', url: `/api/Bugs/?signatures=${encodeURIComponent(SIG)}&signatures=other&signatures=unlinked` });
    expect(bugs.statusCode).toBe(200);
    const body = bugs.json() as { hits: { id: string; signature: string }[]; total: number };
    expect(body.total).toBe(3);
    expect(body.hits).toContainEqual({ id: '1234', signature: SIG });
    expect(body.hits).toContainEqual({ id: 'PROJ-9', signature: SIG });
    // In the order the signatures were asked (the comma inside SIG is part of it).
    expect(body.hits.at(-1)).toEqual({ id: '1234', signature: 'other' });

    const byBugs = await app.inject({ method: 'GET', url: '/api/SignaturesByBugs/?bug_ids=1234,PROJ-9&bug_ids=77' });
    expect(byBugs.statusCode).toBe(200);
    expect(byBugs.json()).toEqual({
      hits: [
        { id: '1234', signature: SIG },
        { id: '1234', signature: 'other' },
        { id: 'PROJ-9', signature: SIG },
      ],
      total: 3,
    });
  });

  it('refuse a lookup without values, with too many, or with a malformed bug id, saying why', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/Bugs/' })).json()).toEqual({ error: 'give at least one signatures' });
    expect((await app.inject({ method: 'GET', url: '/api/SignaturesByBugs/?bug_ids=' })).statusCode).toBe(400);
    const bad = await app.inject({ method: 'GET', url: `/api/SignaturesByBugs/?bug_ids=${encodeURIComponent('<script>')}` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/is not a bug id/);
    const many = Array.from({ length: MAX_LOOKUP_VALUES + 1 }, (_, i) => `signatures=s${i}`).join('&');
    const tooMany = await app.inject({ method: 'GET', url: `/api/Bugs/?${many}` });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatch(/at most 1000/);
  });
});

describe('POST and DELETE /api/BugLinks/', () => {
  it('link and unlink with a link_bugs token, as a form or JSON; the link records who made it', async () => {
    const added = await app.inject({ method: 'POST', url: '/api/BugLinks/', headers: { 'auth-token': linker, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ signature: SIG, bug_id: ' 1234 ' }) });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toEqual({ signature: SIG, bug_id: '1234', added: true });
    const again = await app.inject({ method: 'POST', url: '/api/BugLinks/', headers: { 'auth-token': admin }, payload: { signature: SIG, bug_id: '1234' } });
    expect(again.statusCode).toBe(200);
    expect(again.json().added).toBe(false);
    expect((await bugLinks.forSignatures([SIG])).get(SIG)).toEqual([expect.objectContaining({ bugId: '1234', createdBy: 'triager' })]);

    const removed = await app.inject({ method: 'DELETE', url: '/api/BugLinks/', headers: { 'auth-token': linker }, payload: { signature: SIG, bug_id: '1234' } });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ signature: SIG, bug_id: '1234', removed: true });
    const gone = await app.inject({ method: 'DELETE', url: `/api/BugLinks/?signature=${encodeURIComponent(SIG)}&bug_id=1234`, headers: { 'auth-token': linker } });
    expect(gone.statusCode).toBe(404);
    expect(await bugLinks.forSignatures([SIG])).toEqual(new Map());
  });

  it('refuse anonymous callers (401) and tokens without link_bugs (403) before reading the body', async () => {
    const anonymous = await app.inject({ method: 'POST', url: '/api/BugLinks/', payload: { signature: SIG, bug_id: '1' } });
    expect(anonymous.statusCode).toBe(401);
    const other = await app.inject({ method: 'DELETE', url: '/api/BugLinks/', headers: { 'auth-token': reader }, payload: { signature: SIG, bug_id: '1' } });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toMatch(/link_bugs/);
    expect(await bugLinks.forBugs(['1'])).toEqual([]);
  });

  it('answer 400 on a bad or missing bug id or signature', async () => {
    for (const payload of [{ signature: SIG, bug_id: 'two words' }, { signature: SIG, bug_id: '"><img>' }, { signature: SIG }, { bug_id: '12' }, { signature: 'x'.repeat(1025), bug_id: '12' }, { signature: SIG, bug_id: `a${'1'.repeat(100)}` }]) {
      const response = await app.inject({ method: 'POST', url: '/api/BugLinks/', headers: { 'auth-token': linker }, payload });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(response.json().error).toBeTruthy();
    }
  });

  it('refuse a body past its small limit (413)', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/BugLinks/', headers: { 'auth-token': linker }, payload: { signature: 'x'.repeat(20_000), bug_id: '1' } });
    expect(response.statusCode).toBe(413);
  });
});

describe('POST /signature/bugs (the pages’ form)', () => {
  /** The fields of the first form of `markup` whose action input is `action`, as a browser would submit them. */
  function formFields(markup: string, action: 'add' | 'remove'): Record<string, string> {
    const forms = [...markup.matchAll(/<form[^>]*>([\s\S]*?)<\/form>/g)].map((m) => m[1]!);
    const chosen = forms.find((f) => f.includes(`name="action" value="${action}"`))!;
    const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    return Object.fromEntries([...chosen.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decode(m[2]!)]));
  }

  it('adds and removes from the rendered form with the session’s CSRF token, then sends the browser back', async () => {
    const returnTo = `/signature/?signature=${encodeURIComponent(SIG)}&version=2.1&days=3`;
    const markup = bugLinkForm({ signature: SIG, returnTo, csrf: html`<input type="hidden" name="csrf_token" value="${session.csrf}">` }).text;
    const add = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ ...formFields(markup, 'add'), bug_id: 'group/project#12' }) });
    expect(add.statusCode).toBe(303);
    expect(add.headers.location).toBe(returnTo);
    const links = (await bugLinks.forSignatures([SIG])).get(SIG)!;
    expect(links).toEqual([expect.objectContaining({ bugId: 'group/project#12', createdBy: 'alice' })]);

    const withRemove = bugLinkForm({ signature: SIG, returnTo, csrf: raw(`<input type="hidden" name="csrf_token" value="${session.csrf}">`), links }).text;
    const remove = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form(formFields(withRemove, 'remove')) });
    expect(remove.statusCode).toBe(303);
    expect(await bugLinks.forSignatures([SIG])).toEqual(new Map());
  });

  it('goes back to the signature page when no return_to is given', async () => {
    const response = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { 'auth-token': linker, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ signature: SIG, bug_id: '77' }) });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/signature/?signature=${encodeURIComponent(SIG)}`);
    expect((await bugLinks.forBugs(['77'])).length).toBe(1);
  });

  it('refuses a session without the CSRF token, and a session without link_bugs', async () => {
    const noCsrf = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ signature: SIG, bug_id: '1234' }) });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error).toMatch(/CSRF/);
    const unentitled = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { cookie: readerSession.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ signature: SIG, bug_id: '1234', csrf_token: readerSession.csrf }) });
    expect(unentitled.statusCode).toBe(403);
    expect(await bugLinks.forBugs(['1234'])).toEqual([]);
  });

  it('refuses a return_to that leaves the site, a bad action and a bad bug id, with an HTML page', async () => {
    for (const [fields, message] of [
      [{ return_to: '//evil.example/x' }, 'return_to'],
      [{ return_to: '/\\evil.example' }, 'return_to'],
      [{ return_to: 'https://evil.example/' }, 'return_to'],
      [{ return_to: '/ok\r\nSet-Cookie: a=b' }, 'return_to'],
      [{ action: 'drop' }, 'Unknown action'],
      [{ bug_id: '<b>1</b>' }, 'is not a bug id'],
    ] as const) {
      const response = await app.inject({ method: 'POST', url: '/signature/bugs', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ signature: SIG, bug_id: '1234', csrf_token: session.csrf, ...fields }) });
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.headers['content-type']).toMatch(/text\/html/);
      expect(response.body).toContain(message);
      expect(response.body).not.toContain('<b>1</b>');
    }
    expect(await bugLinks.forBugs(['1234'])).toEqual([]);
  });
});
