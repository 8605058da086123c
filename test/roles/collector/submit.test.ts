import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { corpusDumps } from '../../support/corpus.js';
import { startCollector, type Harness } from './harness.js';
import { crashIdOf, dumpPart, fields, multipartBody, send, submit, type Part } from './http.js';

/** The collector over HTTP, as clients reach it: what is accepted, stored, queued and answered. */

const dump = readFileSync(corpusDumps()[0].path);
const BOUNDARY = '----MaydayTestBoundary7f3a9c';
const breakpadFields = { ProductName: 'Example', Version: '1.0', ReleaseChannel: 'beta' };

let c: Harness;
beforeAll(async () => {
  c = await startCollector({ limits: { bodyTimeoutMs: 300 } });
});
afterAll(async () => c.close());

function storedDirs(): string[] {
  const raw = join(c.dir, 'raw');
  return readdirSync(raw)
    .filter((d) => /^\d{8}$/.test(d))
    .flatMap((d) => readdirSync(join(raw, d)));
}

describe('POST /submit, Breakpad protocol', () => {
  it('stores annotations and dump, queues the crash, and answers CrashID=bp-<id>', async () => {
    const answer = await submit(c.url, [...fields(breakpadFields), dumpPart(dump)]);
    expect(answer.status).toBe(200);
    const id = crashIdOf(answer);
    const today = new Date().toISOString().slice(2, 10).replace(/-/g, '');
    expect(id.slice(-7)).toBe(`0${today}`);
    const raw = await c.store.get(id);
    expect(raw?.annotations).toMatchObject(breakpadFields);
    expect(raw?.metadata).toMatchObject({ throttle_result: 'accept', throttle_rule: 'accept_everything', payload_compressed: false });
    expect(raw?.metadata.dumps.upload_file_minidump).toEqual({ size: dump.length, sha256: createHash('sha256').update(dump).digest('hex') });
    expect((await c.store.getDump(id, 'upload_file_minidump'))?.equals(dump)).toBe(true);
    expect(existsSync(join(c.dir, 'raw', `20${today}`, `${id}.crash`))).toBe(true);
    expect(await c.queued()).toEqual([id]);
  });

  it('keeps additional dumps under their own names', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), dumpPart(dump), dumpPart(dump.subarray(0, 1000), 'upload_file_minidump_browser')]));
    const raw = await c.store.get(id);
    expect(Object.keys(raw!.metadata.dumps).sort()).toEqual(['upload_file_minidump', 'upload_file_minidump_browser']);
    expect((await c.store.getDump(id, 'upload_file_minidump_browser'))?.length).toBe(1000);
    await c.queued();
  });

  it('accepts multipart/mixed and Content-Type parameters in any order and case', async () => {
    for (const contentType of [`multipart/mixed; boundary=${BOUNDARY}`, `Multipart/Form-Data; charset=UTF-8; BOUNDARY="${BOUNDARY}"`, `multipart/form-data;boundary=${BOUNDARY};charset=utf-8`]) {
      const answer = await submit(c.url, [...fields(breakpadFields), dumpPart(dump)], { contentType });
      expect(answer.status, contentType).toBe(200);
    }
    expect(await c.queued()).toHaveLength(3);
  });

  it('accepts a chunked body without Content-Length, split anywhere', async () => {
    const body = multipartBody([...fields(breakpadFields), dumpPart(dump)], BOUNDARY);
    const chunks = [body.subarray(0, 7), body.subarray(7, 300), body.subarray(300, 301), body.subarray(301)];
    const answer = await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks, chunked: true });
    const id = crashIdOf(answer);
    expect((await c.store.getDump(id, 'upload_file_minidump'))?.equals(dump)).toBe(true);
    await c.queued();
  });

  it('accepts gzip bodies (Crashpad), and refuses corrupt gzip and gzip bombs', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), dumpPart(dump)], { gzip: true }));
    expect((await c.store.get(id))?.metadata.payload_compressed).toBe(true);
    expect((await c.store.getDump(id, 'upload_file_minidump'))?.equals(dump)).toBe(true);

    const corrupt = await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-encoding': 'gzip' }, chunks: [Buffer.from('not gzip at all')] });
    expect([corrupt.status, corrupt.text.split('\n')[0]]).toEqual([400, 'Discarded=malformed_bad_gzip']);

    // 8 MB of zeros inside a dump part compresses to a few KB: over the 4 MB limit once inflated.
    const bomb = multipartBody([...fields(breakpadFields), dumpPart(Buffer.alloc(8 * 1024 * 1024))], BOUNDARY);
    const answer = await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [bomb], gzip: true });
    expect([answer.status, answer.text.split('\n')[0]]).toEqual([413, 'Discarded=too_large']);
    expect(readdirSync(join(c.dir, 'raw', '.incoming'))).toEqual([]);
    await c.queued();
  });

  it('accepts sloppy multipart: unquoted names, bare LF line ends, no CRLF before a delimiter, no closing delimiter', async () => {
    const parts: Part[] = [
      { name: 'ProductName', value: 'Example', rawDisposition: 'form-data; name=ProductName' },
      { name: 'Version', value: '2.0' },
      { ...dumpPart(dump), rawDisposition: 'form-data; name=upload_file_minidump; filename=x.dmp' },
    ];
    const bodies = [
      multipartBody(parts, BOUNDARY, { lineEnd: '\n' }),
      multipartBody(parts, BOUNDARY, { crlfBeforeDelimiter: false }),
      multipartBody(parts, BOUNDARY, { close: false }),
    ];
    for (const body of bodies) {
      const id = crashIdOf(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [body] }));
      const raw = await c.store.get(id);
      expect(raw?.annotations).toMatchObject({ ProductName: 'Example', Version: '2.0' });
      expect((await c.store.getDump(id, 'upload_file_minidump'))?.equals(dump)).toBe(true);
    }
    await c.queued();
  });

  it('accepts many parts', async () => {
    const many = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`Annotation${i}`, `value ${i}`]));
    const id = crashIdOf(await submit(c.url, [...fields({ ...breakpadFields, ...many }), dumpPart(dump), dumpPart(dump, 'upload_file_minidump_gpu'), dumpPart(dump, 'upload_file_minidump_content')]));
    const raw = await c.store.get(id);
    expect(Object.keys(raw!.annotations).filter((k) => k.startsWith('Annotation'))).toHaveLength(45);
    expect(Object.keys(raw!.metadata.dumps)).toHaveLength(3);
    await c.queued();
  });

  it('accepts a crash report without a dump, and notes it', async () => {
    const id = crashIdOf(await submit(c.url, fields(breakpadFields)));
    expect((await c.store.get(id))?.metadata.collector_notes).toContain('no upload_file_minidump in the submission');
    expect(await c.queued()).toEqual([id]);
  });

  it('keeps a main dump that is not a minidump, flagged in the collector notes', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), dumpPart(Buffer.from('PK\u0003\u0004 a zip file'))]));
    expect((await c.store.get(id))?.metadata.collector_notes).toContain('upload_file_minidump is not a minidump (no MDMP signature)');
    await c.queued();
  });

  it('takes annotations from a JSON extra field, form fields beside it', async () => {
    const extra = JSON.stringify({ ProductName: 'FromExtra', Version: '3.1', Uptime: 42, Nested: { a: 1 } });
    const id = crashIdOf(await submit(c.url, [{ name: 'extra', value: extra, contentType: 'application/json' }, { name: 'BuildID', value: '2024' }, dumpPart(dump)]));
    expect((await c.store.get(id))?.annotations).toMatchObject({ ProductName: 'FromExtra', Version: '3.1', Uptime: '42', Nested: '{"a":1}', BuildID: '2024' });
    await c.queued();
  });

  it('marks protected annotations (URL, Email, comments, notes) in the raw crash', async () => {
    const id = crashIdOf(await submit(c.url, fields({ ...breakpadFields, URL: 'https://example.com/secret', Email: 'a@b.c', Comments: 'it broke', email: 'x@y.z', Theme: 'dark' })));
    expect((await c.store.get(id))?.metadata.protected_annotations).toEqual(['Comments', 'Email', 'URL', 'email']);
    await c.queued();
  });
});

describe('field names as each client family sends them', () => {
  it('normalises Breakpad prod/ver to ProductName/Version and keeps the originals', async () => {
    const id = crashIdOf(await submit(c.url, [...fields({ prod: 'Breakpadded', ver: '0.9', channel: 'nightly' }), dumpPart(dump)]));
    const raw = await c.store.get(id);
    expect(raw?.annotations).toEqual({ prod: 'Breakpadded', ver: '0.9', channel: 'nightly', ProductName: 'Breakpadded', Version: '0.9', ReleaseChannel: 'nightly' });
    expect(raw?.metadata.annotation_sources).toEqual({ ProductName: 'prod', Version: 'ver', ReleaseChannel: 'channel' });
    await c.queued();
  });

  it("prefers Electron's app name and version over prod=Electron, whatever the part order", async () => {
    const electron = { _productName: 'MyApp', _version: '4.2.0', _companyName: 'Acme', prod: 'Electron', ver: '30.0.1', guid: 'f1e2d3', process_type: 'renderer', platform: 'linux' };
    const forward = fields(electron);
    for (const parts of [forward, [...forward].reverse()]) {
      const id = crashIdOf(await submit(c.url, [...parts, dumpPart(dump)]));
      const raw = await c.store.get(id);
      expect(raw?.annotations).toMatchObject({ ...electron, ProductName: 'MyApp', Version: '4.2.0', Vendor: 'Acme', ClientID: 'f1e2d3', ProcessType: 'renderer', Platform: 'linux' });
    }
    await c.queued();
  });
});

describe('documented rules: duplicates, non-UTF-8, part order', () => {
  it('keeps the smallest of differing duplicate values and records them all; equal duplicates collapse', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), { name: 'Theme', value: 'light' }, { name: 'Theme', value: 'dark' }, { name: 'Same', value: 'x' }, { name: 'Same', value: 'x' }]));
    const raw = await c.store.get(id);
    expect(raw?.annotations).toMatchObject({ Theme: 'dark', Same: 'x' });
    expect(raw?.metadata.duplicate_annotations).toEqual({ Theme: ['dark', 'light'] });
    await c.queued();
  });

  it('replaces invalid UTF-8 with U+FFFD and keeps the exact bytes in base64', async () => {
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), { name: 'Notes', value: bytes }]));
    const raw = await c.store.get(id);
    expect(raw?.annotations.Notes).toBe('caf\uFFFD');
    expect(raw?.metadata.invalid_utf8_annotations).toEqual({ Notes: bytes.toString('base64') });
    expect(raw?.metadata.collector_notes.join('\n')).toContain('not valid UTF-8: Notes');
    await c.queued();
  });

  it('stores the same crash whatever the order of its parts', async () => {
    const parts = [...fields({ ...breakpadFields, Theme: 'a' }), { name: 'Theme', value: 'b' }, dumpPart(dump), dumpPart(dump.subarray(0, 100), 'upload_file_minidump_gpu')];
    const orders = [parts, [...parts].reverse(), [parts[4], parts[6], parts[0], parts[5], parts[2], parts[3], parts[1]]];
    const stored = [];
    for (const order of orders) {
      const raw = await c.store.get(crashIdOf(await submit(c.url, order)));
      stored.push({ annotations: raw!.annotations, dumps: raw!.metadata.dumps, throttle: raw!.metadata.throttle_result, dup: raw!.metadata.duplicate_annotations });
    }
    expect(stored[1]).toEqual(stored[0]);
    expect(stored[2]).toEqual(stored[0]);
    await c.queued();
  });
});

describe('refusals, in Antenna style', () => {
  const refusal = (answer: { status: number; text: string }): [number, string] => [answer.status, answer.text.split('\n')[0]];
  const body = multipartBody([...fields(breakpadFields), dumpPart(dump)], BOUNDARY);

  it('refuses missing or wrong content types, a missing boundary, and empty bodies', async () => {
    expect(refusal(await send(c.url, { chunks: [body] }))).toEqual([400, 'Discarded=malformed_no_content_type']);
    expect(refusal(await send(c.url, { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{}')] }))).toEqual([400, 'Discarded=malformed_wrong_content_type']);
    expect(refusal(await send(c.url, { headers: { 'content-type': 'multipart/form-data' }, chunks: [body] }))).toEqual([400, 'Discarded=malformed_no_boundary']);
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [] }))).toEqual([400, 'Discarded=malformed_empty_body']);
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [], chunked: true }))).toEqual([400, 'Discarded=malformed_empty_body']);
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-encoding': 'br' }, chunks: [body] }))).toEqual([400, 'Discarded=malformed_bad_encoding']);
  });

  it('refuses a body that is not multipart at all, or has no annotations', async () => {
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [Buffer.from('just some text')] }))).toEqual([400, 'Discarded=malformed_multipart']);
    expect(refusal(await submit(c.url, [dumpPart(dump)]))).toEqual([400, 'Discarded=malformed_no_annotations']);
  });

  it('refuses invalid extra JSON and extra that is not an object', async () => {
    expect(refusal(await submit(c.url, [{ name: 'extra', value: '{"ProductName": ' }]))).toEqual([400, 'Discarded=malformed_bad_json']);
    expect(refusal(await submit(c.url, [{ name: 'extra', value: '["a"]' }]))).toEqual([400, 'Discarded=malformed_bad_json']);
  });

  it('refuses dump names with nothing safe left, reserved names and a dump sent twice', async () => {
    expect(refusal(await submit(c.url, [...fields(breakpadFields), dumpPart(dump, '../../..')]))).toEqual([400, 'Discarded=malformed_bad_dump_name']);
    expect(refusal(await submit(c.url, [...fields(breakpadFields), dumpPart(dump, 'raw_crash')]))).toEqual([400, 'Discarded=malformed_bad_dump_name']);
    expect(refusal(await submit(c.url, [...fields(breakpadFields), dumpPart(dump), dumpPart(dump)]))).toEqual([400, 'Discarded=malformed_duplicate_dump']);
  });

  it('sanitises dump names to a safe alphabet', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), dumpPart(dump, 'upload_file_minidump_plug/in.x')]));
    expect(Object.keys((await c.store.get(id))!.metadata.dumps)).toEqual(['upload_file_minidump_pluginx']);
    await c.queued();
  });

  it('enforces the size, annotation and dump limits with 413', async () => {
    const big = multipartBody([...fields(breakpadFields), dumpPart(Buffer.alloc(5 * 1024 * 1024, 1))], BOUNDARY);
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [big] }))).toEqual([413, 'Discarded=too_large']);
    expect(refusal(await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, chunks: [big], chunked: true }))).toEqual([413, 'Discarded=too_large']);
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`A${i}`, 'x']));
    expect(refusal(await submit(c.url, fields(tooMany)))).toEqual([413, 'Discarded=too_many_annotations']);
    expect(refusal(await submit(c.url, fields({ ...breakpadFields, Big: 'x'.repeat(5000) })))).toEqual([413, 'Discarded=annotation_too_large']);
    const dumps = ['a', 'b', 'c', 'd', 'e'].map((n) => dumpPart(dump.subarray(0, 10), `upload_file_minidump_${n}`));
    expect(refusal(await submit(c.url, [...fields(breakpadFields), ...dumps]))).toEqual([413, 'Discarded=too_many_dumps']);
    expect(readdirSync(join(c.dir, 'raw', '.incoming'))).toEqual([]);
  });

  it('answers a client that stops sending mid-body with 408, and keeps nothing of it', async () => {
    const before = storedDirs().length;
    const answer = await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(body.length) }, chunks: [body.subarray(0, body.length - 500)], stopAfter: 1 });
    expect(refusal(answer)).toEqual([408, 'Discarded=timeout']);
    expect(readdirSync(join(c.dir, 'raw', '.incoming'))).toEqual([]);
    expect(storedDirs().length).toBe(before);
  });

  it('keeps nothing of a client that disconnects mid-body', async () => {
    const before = storedDirs().length;
    await send(c.url, { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(body.length) }, chunks: [body.subarray(0, body.length - 500)], destroyAfter: 1 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(join(c.dir, 'raw', '.incoming'))).toEqual([]);
    expect(storedDirs().length).toBe(before);
  });

  it('counts what it received in the metrics', async () => {
    const text = await c.metrics.metrics();
    expect(text).toMatch(/mayday_collector_submissions_received_total \d+/);
    expect(text).toMatch(/mayday_collector_submissions_total\{outcome="accepted",reason=""\} \d+/);
    expect(text).toMatch(/mayday_collector_submissions_total\{outcome="refused",reason="malformed_bad_gzip"\} 1/);
    expect(text).toMatch(/mayday_collector_received_bytes_total [1-9]\d*/);
    expect(text).toMatch(/mayday_collector_save_seconds_count [1-9]/);
  });
});
