/**
 * `POST /reprocess`, the pages' Reprocess buttons: each selection, who may post, the CSRF
 * check, and `return_to` (same-site paths only).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { sameSiteReturnPath } from '../../../src/roles/web/account-pages.js';
import { withNotice } from '../../../src/roles/web/reprocess-page-route.js';
import { startWebNode, type WebNode } from './reprocess-support.js';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let node: WebNode;
let session: { cookie: string; csrf: string };
beforeEach(async () => {
  node = await startWebNode();
  session = await node.session(['reprocess']);
});
afterEach(() => node.close());

async function post(fields: Record<string, string>, as: { cookie: string; csrf?: string } | { token: string } | null = session) {
  const form = new URLSearchParams(as && 'cookie' in as && as.csrf !== undefined ? { csrf_token: as.csrf, ...fields } : fields);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (as && 'cookie' in as) headers.cookie = as.cookie;
  if (as && 'token' in as) headers['auth-token'] = as.token;
  return node.app.inject({ method: 'POST', url: '/reprocess', payload: form.toString(), headers });
}
const ids = async () => (await node.queued()).map((q) => `${q.crashId}@${q.queue}`).sort();

describe('POST /reprocess selections', () => {
  it('one crash: queued for reprocessing, back to its report with the time it was asked', async () => {
    const id = await node.addCrash({});
    const before = Date.now();
    const response = await post({ crash_id: `bp-${id}`, return_to: `/report/index/${id}` });
    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string, 'http://x');
    expect(location.pathname).toBe(`/report/index/${id}`);
    expect(location.searchParams.get('reprocessed')).toBe('1');
    expect(Number(location.searchParams.get('reprocessed_at'))).toBeGreaterThanOrEqual(before);
    expect(await ids()).toEqual([`${id}@reprocessing`]);
  });

  it('one crash: a bad id is 400, an unknown one 404, nothing queued', async () => {
    expect((await post({ crash_id: 'nope' })).statusCode).toBe(400);
    const unknown = await post({ crash_id: '11111111-2222-4333-8444-555555250301' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('No crash');
    expect(await ids()).toEqual([]);
  });

  it('a signature: exactly that signature, of the product, in the from/to range (to inclusive)', async () => {
    const now = Date.now();
    const a = await node.addCrash({ signature: 'foo', submitted: new Date(now - 2 * DAY) });
    const b = await node.addCrash({ signature: 'foo', submitted: new Date(now) });
    await node.addCrash({ signature: 'foo', submitted: new Date(now - 20 * DAY) });
    await node.addCrash({ signature: 'foo', product: 'Other', submitted: new Date(now) });
    await node.addCrash({ signature: 'foo | bar', submitted: new Date(now) });
    const response = await post({ signature: 'foo', product: 'Harbor', from: day(now - 3 * DAY), to: day(now), return_to: '/signature/?signature=foo&days=3' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/signature/?signature=foo&days=3&reprocessed=2');
    // The page it goes back to takes the notice (not read as a Super Search filter).
    expect((await node.app.inject(response.headers.location as string)).statusCode).toBe(200);
    expect(await ids()).toEqual([a, b].map((id) => `${id}@reprocessing`).sort());
    // `to` is inclusive: a range ending the day before today leaves today's crash out.
    expect((await post({ signature: 'foo', product: 'Harbor', from: day(now - 3 * DAY), to: day(now - DAY) })).headers.location).toMatch(/reprocessed=1$/);
  });

  it('a signature without a range: the last 7 days; back to its page without return_to', async () => {
    const now = Date.now();
    const recent = await node.addCrash({ signature: 'foo', submitted: new Date(now - 3 * DAY) });
    await node.addCrash({ signature: 'foo', submitted: new Date(now - 10 * DAY) });
    const response = await post({ signature: 'foo' });
    expect(response.headers.location).toBe('/signature/?signature=foo&reprocessed=1');
    expect(await ids()).toEqual([`${recent}@reprocessing`]);
  });

  it('a signature with a bad date is 400', async () => {
    for (const fields of [{ from: '2026-13-01' }, { to: 'yesterday' }, { from: '2026-02-03', to: '2026-02-01' }] as Record<string, string>[]) {
      const response = await post({ signature: 'foo', ...fields });
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
    }
  });

  it('one module\'s missing symbols, or every module listed', async () => {
    const now = Date.now();
    const mod = (debugFile: string) => ({ debugFile, debugId: 'ABC', codeFile: null, codeId: null });
    await node.missing.record({ crashId: 'c1', submittedAt: now, os: null, cpu: null }, [mod('liba.so'), mod('libb.so')]);
    await node.missing.record({ crashId: 'c2', submittedAt: now - DAY, os: null, cpu: null }, [mod('libb.so')]);
    await node.missing.record({ crashId: 'c3', submittedAt: now - 5 * DAY, os: null, cpu: null }, [mod('libc.so')]);
    const one = await post({ debug_file: 'libb.so', debug_id: 'ABC', days: '3', return_to: '/missing-symbols/?days=3' });
    expect(one.headers.location).toBe('/missing-symbols/?days=3&reprocessed=2');
    expect(await ids()).toEqual(['c1@reprocessing', 'c2@reprocessing']);
    const all = await post({ missing_symbols: 'all', days: '7' });
    expect(all.headers.location).toBe('/missing-symbols/?days=7&reprocessed=3');
    expect(await ids()).toEqual(['c1@reprocessing', 'c2@reprocessing', 'c3@reprocessing']);
    expect((await post({ debug_file: 'libb.so' })).statusCode).toBe(400);
    expect((await post({ missing_symbols: 'some' })).statusCode).toBe(400);
    expect((await post({ missing_symbols: 'all', days: '0' })).statusCode).toBe(400);
  });

  it('exactly one selection per post', async () => {
    const response = await post({ crash_id: '11111111-2222-4333-8444-555555250301', signature: 'foo' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('exactly one');
    expect((await post({})).statusCode).toBe(400);
  });
});

describe('POST /reprocess access', () => {
  it('refuses anonymous posts (401), viewers without reprocess (403), a missing or wrong CSRF token (403)', async () => {
    const id = await node.addCrash({});
    expect((await post({ crash_id: id }, null)).statusCode).toBe(401);
    const viewer = await node.session(['view_protected']);
    expect((await post({ crash_id: id }, viewer)).statusCode).toBe(403);
    const noCsrf = await post({ crash_id: id }, { cookie: session.cookie });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.body).toMatch(/CSRF/);
    expect((await post({ crash_id: id }, { cookie: session.cookie, csrf: 'wrong' })).statusCode).toBe(403);
    expect(await ids()).toEqual([]);
  });

  it('takes a token with reprocess (no CSRF needed without a cookie)', async () => {
    const id = await node.addCrash({});
    expect((await post({ crash_id: id }, { token: await node.token(['reprocess']) })).statusCode).toBe(303);
    expect((await post({ crash_id: id }, { token: await node.token(['upload_symbols']) })).statusCode).toBe(403);
    expect(await ids()).toEqual([`${id}@reprocessing`]);
  });
});

describe('return_to', () => {
  it('refuses what could leave the site (400), queueing nothing', async () => {
    const id = await node.addCrash({});
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)', 'report/index/x']) {
      const response = await post({ crash_id: id, return_to: target });
      expect(response.statusCode, target).toBe(400);
      expect(response.headers.location, target).toBeUndefined();
    }
    expect(await ids()).toEqual([]);
  });

  it('keeps a same-site path with its query and fragment, replacing an earlier notice', () => {
    expect(sameSiteReturnPath('/signature/?signature=a%20b&days=3')).toBe('/signature/?signature=a%20b&days=3');
    expect(sameSiteReturnPath('//evil.example')).toBeUndefined();
    expect(sameSiteReturnPath('/')).toBe('/');
    expect(withNotice('/signature/?signature=a&reprocessed=9#reports', { reprocessed: '2' })).toBe('/signature/?signature=a&reprocessed=2#reports');
  });
});
