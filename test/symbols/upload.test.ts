import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ID, makeMultipart, makeZip, startSymbolsApp, symText, symUploadV1Form, type SymbolsApp } from './support.js';

let s: SymbolsApp;
beforeEach(async () => {
  s = await startSymbolsApp();
});
afterEach(async () => {
  await s.close();
});

function storedFile(debugFile: string, debugId = ID, name = debugFile): string {
  return path.join(s.storeDir, debugFile, debugId, `${name}.sym`);
}

async function postZip(zip: Buffer, token: string) {
  return s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': 'application/zip', 'auth-token': token }, payload: zip });
}

describe('POST /symbols/upload: sym-upload-v1', () => {
  it('stores the file in the store layout and reports it', async () => {
    const text = symText('libfoo.so');
    const form = symUploadV1Form(text);
    const response = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ form: 'sym-upload-v1', files: [{ debug_file: 'libfoo.so', debug_id: ID, path: `libfoo.so/${ID}/libfoo.so.sym` }] });
    expect(readFileSync(storedFile('libfoo.so'), 'utf8')).toBe(text);
    expect(s.stored).toEqual([{ debugFile: 'libfoo.so', debugId: ID }]);
  });

  it('accepts the token as ?token= and keeps it out of the logs, even with request logging on', async () => {
    await s.close();
    s = await startSymbolsApp(undefined, { requestLogging: true });
    const token = await s.token(['upload_symbols']);
    const form = symUploadV1Form(symText('libfoo.so'));
    const ok = await s.app.inject({ method: 'POST', url: `/symbols/upload?token=${token}`, headers: { 'content-type': form.contentType }, payload: form.body });
    expect(ok.statusCode, ok.body).toBe(200);
    const bad = await s.app.inject({ method: 'POST', url: `/symbols/upload?x=1&token=${token}`, headers: { 'content-type': 'text/plain' }, payload: 'nope' });
    expect(bad.statusCode).toBe(415);
    const logs = s.logs.join('');
    expect(logs).toContain('"incoming request"'); // request logging really ran
    expect(logs).toContain('/symbols/upload?token=REDACTED');
    expect(logs).toContain('/symbols/upload?x=1&token=REDACTED');
    expect(logs).not.toContain(token);
  });

  it('without the rewriteUrl hook still blanks the token for everything after authentication', async () => {
    await s.close();
    s = await startSymbolsApp(undefined, { rewriteUrl: false });
    const token = await s.token(['upload_symbols']);
    const form = symUploadV1Form(symText('libfoo.so'));
    const ok = await s.app.inject({ method: 'POST', url: `/symbols/upload?token=${token}`, headers: { 'content-type': form.contentType }, payload: form.body });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(s.logs.join('')).not.toContain(token);
  });

  it('ignores ?token= on routes that do not accept it', async () => {
    const token = await s.token(['reprocess']);
    const response = await s.app.inject({ method: 'POST', url: `/api/ReprocessMissingSymbols/?token=${token}`, payload: { debug_file: 'a', debug_id: 'B' } });
    expect(response.statusCode).toBe(401);
  });

  it('refuses a file whose MODULE line does not match the declared debug file or id', async () => {
    for (const declared of [{ debug_file: 'libbar.so' }, { debug_identifier: '00000000000000000000000000000000F' }]) {
      const form = symUploadV1Form(symText('libfoo.so'), declared);
      const response = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(/declared as .* but its MODULE line says/);
    }
    expect(existsSync(s.storeDir) ? readdirSync(s.storeDir) : []).toEqual([]);
  });

  it('refuses a corrupt file with the line that failed', async () => {
    const text = symText('libfoo.so', ID, 'FUNC 1000 10 0 main\nFUNC zz 10 0 broken\n');
    const form = symUploadV1Form(text);
    const response = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/line 4: /);
    expect(existsSync(storedFile('libfoo.so'))).toBe(false);
  });

  it('refuses a file without a MODULE line', async () => {
    const form = makeMultipart([{ name: 'symbol_file', value: 'FUNC 1000 10 0 main\n', filename: 'a.sym' }]);
    const response = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/line 1: expected a MODULE record first/);
  });
});

describe('POST /symbols/upload: forms that are cut, crowded or padded', () => {
  const post = async (form: { body: Buffer; contentType: string }) =>
    s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });

  it('refuses a form cut before its closing delimiter, and stores nothing: a cut upload would store a cut file', async () => {
    const form = symUploadV1Form(symText('libcut.so'));
    // Cut at a line end inside the file: what is left is still a valid .sym on its own.
    const cut = form.body.subarray(0, form.body.lastIndexOf('\nFUNC') + 1);
    const response = await post({ body: cut, contentType: form.contentType });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/ended before the closing delimiter/);
    expect(s.stored).toEqual([]);
  });

  it('ignores what follows the closing delimiter', async () => {
    const form = symUploadV1Form(symText('libtail.so'));
    const boundary = /boundary=(.+)$/.exec(form.contentType)![1];
    const tail = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="x"; filename="y.sym"\r\n\r\nnot read`);
    const response = await post({ body: Buffer.concat([form.body, tail]), contentType: form.contentType });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().files).toHaveLength(1);
  });

  it('refuses more than 100 form fields, and a field longer than 64 KB, with 413', async () => {
    const text = symText('libmany.so');
    const crowded = makeMultipart([...Array.from({ length: 101 }, (_, i) => ({ name: `f${i}`, value: 'v' })), { name: 'symbol_file', value: text, filename: 'x.sym' }]);
    const many = await post(crowded);
    expect(many.statusCode, many.body).toBe(413);
    expect(many.json().error).toMatch(/more than 100 form fields/);
    const long = await post(makeMultipart([{ name: 'os', value: 'L'.repeat(65 * 1024) }, { name: 'symbol_file', value: text, filename: 'x.sym' }]));
    expect(long.statusCode, long.body).toBe(413);
    expect(long.json().error).toMatch(/form field "os" is longer than 65536 bytes/);
    expect(s.stored).toEqual([]);
  });

  it('refuses a form whose Content-Type has no boundary, or whose body has no delimiter, with 400', async () => {
    const noBoundary = await post({ body: Buffer.from('x'), contentType: 'multipart/form-data' });
    expect(noBoundary.statusCode).toBe(400);
    expect(noBoundary.json().error).toMatch(/no boundary/);
    const noDelimiter = await post({ body: Buffer.from('just text'), contentType: 'multipart/form-data; boundary=b' });
    expect(noDelimiter.statusCode).toBe(400);
    expect(noDelimiter.json().error).toMatch(/no multipart delimiter/);
  });
});

describe('POST /symbols/upload: authentication', () => {
  it('needs a token, a valid one, with upload_symbols (admin implies it)', async () => {
    const form = symUploadV1Form(symText('libfoo.so'));
    const post = (headers: Record<string, string>) => s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, ...headers }, payload: form.body });
    expect((await post({})).statusCode).toBe(401);
    expect((await post({ 'auth-token': 'mdy_' + 'A'.repeat(43) })).statusCode).toBe(401);
    expect((await post({ 'auth-token': await s.token(['reprocess']) })).statusCode).toBe(403);
    expect((await post({ 'auth-token': await s.token(['admin']) })).statusCode).toBe(200);
  });

  it('refuses a revoked token', async () => {
    const { token, info } = await s.tokens.create({ user: 'ci', permissions: ['upload_symbols'] });
    expect(await s.tokens.revoke(info.id)).toBe(true);
    const form = symUploadV1Form(symText('libfoo.so'));
    const response = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': token }, payload: form.body });
    expect(response.statusCode).toBe(401);
  });
});

describe('POST /symbols/upload: zips', () => {
  it('stores every file of a zip in the store layout (raw body or multipart part)', async () => {
    const zip = makeZip([
      { name: `liba.so/${ID}/liba.so.sym`, data: symText('liba.so') },
      { name: `b.pdb/${ID}/b.sym`, data: symText('b.pdb'), stored: true },
      { name: 'liba.so/', data: '' },
    ]);
    const response = await postZip(zip, await s.token(['upload_symbols']));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().files).toHaveLength(2);
    expect(readFileSync(storedFile('liba.so'), 'utf8')).toBe(symText('liba.so'));
    expect(readFileSync(storedFile('b.pdb', ID, 'b'), 'utf8')).toBe(symText('b.pdb'));

    const form = makeMultipart([{ name: 'file', value: makeZip([{ name: `libc2.so/${ID}/libc2.so.sym`, data: symText('libc2.so') }]), filename: 'symbols.zip' }]);
    const viaForm = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': form.contentType, 'auth-token': await s.token(['upload_symbols']) }, payload: form.body });
    expect(viaForm.statusCode, viaForm.body).toBe(200);
    expect(existsSync(storedFile('libc2.so'))).toBe(true);
  });

  it('is all or nothing: one bad file and nothing is stored', async () => {
    const zip = makeZip([
      { name: `liba.so/${ID}/liba.so.sym`, data: symText('liba.so') },
      { name: `libb.so/${ID}/libb.so.sym`, data: symText('libb.so', ID, 'PUBLIC xyz 0 broken\n') },
    ]);
    const response = await postZip(zip, await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/libb\.so.*line 3/);
    expect(existsSync(storedFile('liba.so'))).toBe(false);
    expect(s.stored).toEqual([]);
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
  });

  it('refuses an entry whose path does not match its MODULE line', async () => {
    const zip = makeZip([{ name: `liba.so/${ID}/liba.so.sym`, data: symText('libevil.so') }]);
    const response = await postZip(zip, await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/belongs at "libevil\.so\//);
  });

  it.each([
    ['a parent-directory component', `../../etc/${ID}/passwd.sym`],
    ['an absolute path', `/etc/${ID}/x.sym`],
    ['a drive letter', `C:/x/${ID}/x.sym`],
    ['a backslash', `liba.so\\..\\x.sym`],
    ['a NUL byte', `liba.so\u0000/${ID}/liba.so.sym`],
    ['a bidi override', `liba\u202Eos.so/${ID}/liba.so.sym`],
    ['a zero-width space', `liba\u200B.so/${ID}/liba.so.sym`],
    ['non-NFC text', `cafe\u0301.so/${ID}/cafe\u0301.so.sym`],
    ['a control character', `liba\u0007.so/${ID}/liba.so.sym`],
  ])('refuses an entry name with %s, storing nothing', async (_what, name) => {
    const zip = makeZip([
      { name: `ok.so/${ID}/ok.so.sym`, data: symText('ok.so') },
      { name, data: symText('x.so') },
    ]);
    const response = await postZip(zip, await s.token(['upload_symbols']));
    expect(response.statusCode, response.body).toBe(400);
    expect(existsSync(storedFile('ok.so'))).toBe(false);
    expect(existsSync(path.join(s.dir, 'etc'))).toBe(false);
  });

  it('refuses entries that are not .sym files', async () => {
    const response = await postZip(makeZip([{ name: 'README.txt', data: 'hi' }]), await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/not a \.sym file/);
  });

  it('refuses a zip bomb by its declared size with 413 before extracting', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20); // compresses to a few KB
    const response = await postZip(makeZip([{ name: `liba.so/${ID}/liba.so.sym`, data: huge }]), await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toMatch(/expands to 5242880 bytes/);
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
  });

  it('refuses a zip bomb that lies about its size with 413 while extracting', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const response = await postZip(makeZip([{ name: `liba.so/${ID}/liba.so.sym`, data: huge, declaredSize: 100 }]), await s.token(['upload_symbols']));
    // yauzl notices the lie or our counter hits the budget; either way nothing is kept.
    expect([400, 413]).toContain(response.statusCode);
    expect(existsSync(storedFile('liba.so'))).toBe(false);
  });

  it('refuses many entries that together exceed the uncompressed budget', async () => {
    const chunk = symText('x.so', ID, `PUBLIC 1000 0 f\n${'#'.repeat(1024 * 1024)}\n`);
    const entries = Array.from({ length: 5 }, (_, i) => ({ name: `lib${i}.so/${ID}/lib${i}.so.sym`, data: chunk }));
    const response = await postZip(makeZip(entries), await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(413);
  });

  it('refuses an over-size body with 413 from its Content-Length, and while streaming without one', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x41);
    const token = await s.token(['upload_symbols']);
    const declared = await s.app.inject({ method: 'POST', url: '/symbols/upload', headers: { 'content-type': 'application/zip', 'auth-token': token }, payload: big });
    expect(declared.statusCode).toBe(413);
    // Without a Content-Length the limit is met while streaming, over a real connection.
    const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${url}/symbols/upload`, { method: 'POST', headers: { 'content-type': 'application/zip', 'auth-token': token, 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      const write = (i: number): void => {
        if (i === 8) return void request.end();
        request.write(big.subarray(0, 512 * 1024), () => write(i + 1));
      };
      request.on('error', () => {}); // the server may cut the connection mid-body
      write(0);
    });
    expect(status).toBe(413);
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
  });

  // Fuzz finding 10: offsets the zip declares reached fs.read unchecked; above 2^53 it
  // threw outside any callback (the node would end) and the upload hung.
  it.each([
    ['a zip64 end record beyond 2^53', (zip: Buffer) => withZip64Locator(zip, 3_904_180_467_466_986_000n)],
    ['a zip64 end record past the end of the file', (zip: Buffer) => withZip64Locator(zip, 1_000_000n)],
    ['an entry whose local header is past the end of the file', (zip: Buffer) => withEntryOffset(zip, 0x7fff_0000)],
  ])('refuses %s with 400', async (_label, corrupt) => {
    const zip = corrupt(makeZip([{ name: `liba.so/${ID}/liba.so.sym`, data: symText('liba.so') }]));
    const response = await postZip(zip, await s.token(['upload_symbols']));
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toMatch(/zip/);
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
  });

  it('refuses a body that is not a zip', async () => {
    const response = await postZip(Buffer.from('this is not a zip file at all'), await s.token(['upload_symbols']));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/zip/);
  });
});

describe('concurrent uploads of the same file', () => {
  it('leave one whole file, never a mix', async () => {
    const token = await s.token(['upload_symbols']);
    const versions = Array.from({ length: 8 }, (_, i) =>
      symText('libfoo.so', ID, Array.from({ length: 20_000 }, (_, n) => `PUBLIC ${(n * 16 + 0x1000).toString(16)} 0 version_${i}_${n}\n`).join('')),
    );
    const responses = await Promise.all(versions.map((text) => postZip(makeZip([{ name: `libfoo.so/${ID}/libfoo.so.sym`, data: text }]), token)));
    for (const r of responses) expect(r.statusCode, r.body).toBe(200);
    const final = readFileSync(storedFile('libfoo.so'), 'utf8');
    expect(versions).toContain(final);
    expect(readdirSync(path.dirname(storedFile('libfoo.so')))).toEqual(['libfoo.so.sym']);
  });
});

/** Inserts a zip64 end-of-central-directory locator naming `offset` before the end record. */
function withZip64Locator(zip: Buffer, offset: bigint): Buffer {
  const end = zip.subarray(zip.length - 22);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(offset, 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([zip.subarray(0, zip.length - 22), locator, end]);
}

/** Points the first central directory entry's local header at `offset`. */
function withEntryOffset(zip: Buffer, offset: number): Buffer {
  const copy = Buffer.from(zip);
  const central = copy.readUInt32LE(copy.length - 22 + 16);
  copy.writeUInt32LE(offset, central + 42);
  return copy;
}
