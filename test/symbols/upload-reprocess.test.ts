/**
 * A symbol upload says how many recent crashes missed the uploaded modules and, asked with
 * `reprocess=1`, queues them; the missing-symbols page (in the site's layout) offers the
 * Reprocess buttons and an upload form to those who may use them. Real Fastify app, real
 * SQLite missing-symbols log, queue, token and account stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ID, makeMultipart, makeZip, startSymbolsApp, symText, symUploadV1Form, type SymbolsApp } from './support.js';

const DAY = 86_400_000;
const mod = (debugFile: string) => ({ debugFile, debugId: ID, codeFile: debugFile, codeId: 'C0DE' });

describe('uploads report and queue the crashes that missed their symbols', () => {
  let s: SymbolsApp;
  beforeEach(async () => {
    s = await startSymbolsApp();
    const now = Date.now();
    await s.missing.record({ crashId: 'c1', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libb.so')]);
    await s.missing.record({ crashId: 'c2', submittedAt: now - 2 * DAY, os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
    await s.missing.record({ crashId: 'old', submittedAt: now - 30 * DAY, os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
    await s.missing.record({ crashId: 'c3', submittedAt: now, os: 'Linux', cpu: 'amd64' }, [mod('libother.so')]);
  });
  afterEach(() => s.close());

  const upload = async (url: string, form: { body: Buffer; contentType: string }, token: string) =>
    s.app.inject({ method: 'POST', url, payload: form.body, headers: { 'content-type': form.contentType, 'auth-token': token } });

  it('sym_upload v1: 200 with the count of the last 7 days, nothing queued without reprocess=1', async () => {
    const response = await upload('/symbols/upload', symUploadV1Form(symText('liba.so')), await s.token(['upload_symbols', 'reprocess']));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ form: 'sym-upload-v1', crashes_missing: 2, crashes_missing_days: 7, queued_for_reprocessing: 0 });
    expect(response.json().crash_ids.sort()).toEqual(['c1', 'c2']);
    expect(await s.queued()).toEqual([]);
  });

  it('queues them with ?reprocess=1 (the sym_upload URL can carry it)', async () => {
    const token = await s.token(['upload_symbols', 'reprocess']);
    const response = await upload(`/symbols/upload?token=${token}&reprocess=1`, symUploadV1Form(symText('liba.so')), token);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ crashes_missing: 2, queued_for_reprocessing: 2 });
    expect((await s.queued()).sort((a, b) => a.crashId.localeCompare(b.crashId))).toEqual([
      { crashId: 'c1', queue: 'reprocessing' },
      { crashId: 'c2', queue: 'reprocessing' },
    ]);
  });

  it('takes reprocess as a form field, counts a crash missing two uploaded modules once (zip)', async () => {
    const zip = makeZip([
      { name: `liba.so/${ID}/liba.so.sym`, data: symText('liba.so') },
      { name: `libb.so/${ID}/libb.so.sym`, data: symText('libb.so') },
    ]);
    const form = makeMultipart([
      { name: 'reprocess', value: '1' },
      { name: 'symbols', value: zip, filename: 'symbols.zip' },
    ]);
    const response = await upload('/symbols/upload', form, await s.token(['upload_symbols', 'reprocess']));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ form: 'zip', crashes_missing: 2, queued_for_reprocessing: 2 });
    expect((await s.queued()).map((q) => q.crashId).sort()).toEqual(['c1', 'c2']);
  });

  it('a bare zip body takes reprocess from the query', async () => {
    const zip = makeZip([{ name: `libb.so/${ID}/libb.so.sym`, data: symText('libb.so') }]);
    const response = await upload('/symbols/upload?reprocess=1', { body: zip, contentType: 'application/zip' }, await s.token(['upload_symbols', 'reprocess']));
    expect(response.json()).toMatchObject({ crashes_missing: 1, queued_for_reprocessing: 1, crash_ids: ['c1'] });
    expect(await s.queued()).toEqual([{ crashId: 'c1', queue: 'reprocessing' }]);
  });

  it('does not queue for a token without reprocess, and says why; the upload still succeeds', async () => {
    const response = await upload('/symbols/upload?reprocess=1', symUploadV1Form(symText('liba.so')), await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ crashes_missing: 2, queued_for_reprocessing: 0, reprocess_refused: expect.stringContaining('reprocess permission') });
    expect(await s.queued()).toEqual([]);
    expect(s.stored).toHaveLength(1);
  });

  it('refuses a reprocess value that is not one, before storing anything', async () => {
    const response = await upload('/symbols/upload?reprocess=maybe', symUploadV1Form(symText('liba.so')), await s.token(['upload_symbols', 'reprocess']));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/reprocess must be 1 or 0/);
    expect(s.stored).toEqual([]);
  });
});

describe('the missing-symbols page', () => {
  let s: SymbolsApp;
  beforeEach(async () => {
    s = await startSymbolsApp();
    await s.missing.record({ crashId: 'c1', submittedAt: Date.now(), os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('<b>evil</b>')]);
  });
  afterEach(() => s.close());

  it('is in the site layout and menu; anonymous viewers get no forms', async () => {
    const response = await s.app.inject('/missing-symbols/');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<header>');
    expect(response.body).toMatch(/<nav>.*href="\/missing-symbols\/"/s);
    expect(response.body).toContain('<title>Missing symbols · Mayday</title>');
    expect(response.body).toContain('&lt;b&gt;evil&lt;/b&gt;');
    expect(response.body).not.toContain('<b>evil');
    expect(response.body).not.toContain('action="/reprocess"');
    expect(response.body).not.toContain('id="upload-form"');
  });

  it('shows a Reprocess button per module and one for all to a session with reprocess, carrying its CSRF token', async () => {
    const { cookie, csrf } = await s.session(['reprocess']);
    const body = (await s.app.inject({ url: '/missing-symbols/?days=3', headers: { cookie } })).body;
    const forms = body.match(/<form method="post" action="\/reprocess"[^]*?<\/form>/g) ?? [];
    expect(forms).toHaveLength(3);
    expect(forms[0]).toContain('name="missing_symbols" value="all"');
    expect(forms.some((f) => f.includes('name="debug_file" value="liba.so"') && f.includes(`name="debug_id" value="${ID}"`))).toBe(true);
    for (const form of forms) {
      expect(form).toContain(`name="csrf_token" value="${csrf}"`);
      expect(form).toContain('name="days" value="3"');
      expect(form).toContain('name="return_to" value="/missing-symbols/?days=3"');
    }
    expect(body).not.toContain('id="upload-form"');
  });

  it('marks the modules whose symbols were uploaded since, and says how many crashes each button queues', async () => {
    await s.missing.record({ crashId: 'c2', submittedAt: Date.now(), os: 'Linux', cpu: 'amd64' }, [mod('liba.so'), mod('libb.so')]);
    const { cookie } = await s.session(['reprocess']);
    const before = (await s.app.inject({ url: '/missing-symbols/', headers: { cookie } })).body;
    expect(before).not.toContain('symbols-uploaded');
    // Uploaded without reprocessing: the crashes still wait, now with their symbols there.
    const form = symUploadV1Form(symText('liba.so'));
    const uploaded = await s.app.inject({ method: 'POST', url: '/symbols/upload', payload: form.body, headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) } });
    expect(uploaded.statusCode).toBe(200);
    const body = (await s.app.inject({ url: '/missing-symbols/', headers: { cookie } })).body;
    const row = (file: string) => new RegExp(`<tr data-module="${file.replace('.', '\\.')}/${ID}">[^]*?</tr>`).exec(body)?.[0] ?? '';
    expect(row('liba.so')).toContain('symbols uploaded');
    expect(row('liba.so')).toContain('Reprocess 2 crashes');
    expect(row('libb.so')).not.toContain('symbols uploaded');
    expect(row('libb.so')).toContain('Reprocess 1 crash<');
  });

  it('shows the upload form, reprocess checked, to a session with upload_symbols; notices after the redirects', async () => {
    const { cookie, csrf } = await s.session(['upload_symbols']);
    const body = (await s.app.inject({ url: '/missing-symbols/', headers: { cookie } })).body;
    expect(body).toContain(`action="/missing-symbols/upload?csrf_token=${encodeURIComponent(csrf)}"`);
    expect(body).toMatch(/<input type="checkbox" name="reprocess" value="1" checked>/);
    const notice = (await s.app.inject('/missing-symbols/?uploaded=2&missed=5&reprocessed=5')).body;
    expect(notice).toContain('Uploaded 2 symbol files; 5 crashes of the last 7 days missed them.');
    expect(notice).toContain('5 crashes queued for reprocessing.');
  });
});

describe('the page upload form route', () => {
  let s: SymbolsApp;
  beforeEach(async () => {
    s = await startSymbolsApp();
    await s.missing.record({ crashId: 'c1', submittedAt: Date.now(), os: 'Linux', cpu: 'amd64' }, [mod('liba.so')]);
  });
  afterEach(() => s.close());

  const form = () =>
    makeMultipart([
      { name: 'symbols', value: symText('liba.so'), filename: 'liba.so.sym' },
      { name: 'reprocess', value: '1' },
    ]);

  it('stores, queues and sends the browser back with the counts', async () => {
    const { cookie, csrf } = await s.session(['upload_symbols', 'reprocess']);
    const f = form();
    const response = await s.app.inject({ method: 'POST', url: `/missing-symbols/upload?csrf_token=${encodeURIComponent(csrf)}`, payload: f.body, headers: { 'content-type': f.contentType, cookie } });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/missing-symbols/?uploaded=1&missed=1&reprocessed=1');
    expect(s.stored).toEqual([{ debugFile: 'liba.so', debugId: ID }]);
    expect(await s.queued()).toEqual([{ crashId: 'c1', queue: 'reprocessing' }]);
  });

  it('refuses a missing or wrong CSRF token (403) and anonymous posts (401), storing nothing', async () => {
    const { cookie } = await s.session(['upload_symbols', 'reprocess']);
    const f = form();
    for (const url of ['/missing-symbols/upload', '/missing-symbols/upload?csrf_token=wrong']) {
      const response = await s.app.inject({ method: 'POST', url, payload: f.body, headers: { 'content-type': f.contentType, cookie } });
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error).toMatch(/CSRF/);
    }
    expect((await s.app.inject({ method: 'POST', url: '/missing-symbols/upload', payload: f.body, headers: { 'content-type': f.contentType } })).statusCode).toBe(401);
    const { cookie: viewer, csrf } = await s.session(['reprocess']);
    expect((await s.app.inject({ method: 'POST', url: `/missing-symbols/upload?csrf_token=${csrf}`, payload: f.body, headers: { 'content-type': f.contentType, cookie: viewer } })).statusCode).toBe(403);
    expect(s.stored).toEqual([]);
    expect(await s.queued()).toEqual([]);
  });

  it('answers a refused file with a page saying why', async () => {
    const { cookie, csrf } = await s.session(['upload_symbols']);
    const bad = makeMultipart([{ name: 'symbols', value: symText('liba.so', ID, 'FUNC nothex 1 0 x\n'), filename: 'bad.sym' }]);
    const response = await s.app.inject({ method: 'POST', url: `/missing-symbols/upload?csrf_token=${csrf}`, payload: bad.body, headers: { 'content-type': bad.contentType, cookie } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('id="upload-error"');
  });
});
