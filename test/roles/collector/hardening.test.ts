import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCollector, type Harness } from './harness.js';
import { crashIdOf, dumpPart, fields, multipartBody, send, submit, type Part } from './http.js';

/**
 * Hostile submissions: many tiny parts, deeply nested JSON, headers that outgrow their
 * limit, and clients that trickle their bodies or crowd the collector. Each must get a
 * clear answer, never a 500, and leave nothing stored.
 */

const BOUNDARY = '----MaydayHardening42';
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const breakpadFields = { ProductName: 'Example', Version: '1.0' };
const refusal = (answer: { status: number; text: string }): [number, string] => [answer.status, answer.text.split('\n')[0]];
const nameless = (n: number): Part[] => Array.from({ length: n }, () => ({ name: '', value: '', rawDisposition: 'form-data' }));

function leftovers(h: Harness): string[] {
  return readdirSync(join(h.dir, 'raw', '.incoming'));
}

async function storageErrors(h: Harness): Promise<number> {
  const match = /mayday_collector_errors_total\{kind="storage"\} (\d+)/.exec(await h.metrics.metrics());
  return match ? Number(match[1]) : 0;
}

describe('parts and notes are bounded like annotations', () => {
  let c: Harness;
  beforeAll(async () => {
    c = await startCollector();
  });
  afterAll(async () => c.close());

  it('refuses more parts than annotations, dumps and extra can use, however small and whatever kind (413 too_many_parts)', async () => {
    // 5,000 empty nameless parts: a few KB gzipped.
    const empty = await submit(c.url, [...fields(breakpadFields), ...nameless(5000)], { gzip: true });
    expect(refusal(empty)).toEqual([413, 'Discarded=too_many_parts']);
    // The same field over and over (duplicates collapse into one annotation, but each is a part).
    const repeated = await submit(c.url, [...fields(breakpadFields), ...Array.from({ length: 5000 }, () => ({ name: 'Theme', value: 'dark' }))], { gzip: true });
    expect(refusal(repeated)).toEqual([413, 'Discarded=too_many_parts']);
    expect(leftovers(c)).toEqual([]);
    expect(await c.queued()).toEqual([]);
  });

  it('notes a run of ignored parts once, with its count', async () => {
    const id = crashIdOf(await submit(c.url, [...fields(breakpadFields), ...nameless(7), dumpPart(Buffer.from('MDMP'))]));
    const notes = (await c.store.get(id))!.metadata.collector_notes;
    expect(notes.filter((n) => /without a name/.test(n))).toEqual(['7 parts without a name were ignored']);
    await c.queued();
  });
});

describe('deeply nested JSON in extra', () => {
  let c: Harness;
  beforeAll(async () => {
    c = await startCollector({ limits: { maxAnnotationSize: 1024 * 1024 } });
  });
  afterAll(async () => c.close());

  const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
  const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it('is refused with 400 malformed_bad_json, in arrays and objects, before or after a dump, and counts as no storage failure', async () => {
    const extras = [
      `{"ProductName":"Example","Deep":${arrays(5000)}}`,
      `{"ProductName":"Example","Deep":${objects(5000)}}`,
      `{"ProductName":"Example","Mixed":[{"a":${arrays(3000)}}]}`,
      `${objects(5000).slice(0, -1)},"ProductName":"Example"}`,
      `{"ProductName":"Example","Deep":${arrays(200)}}`,
    ];
    for (const extra of extras) {
      for (const order of ['before', 'after'] as const) {
        const parts: Part[] = [{ name: 'extra', value: extra, contentType: 'application/json' }];
        const answer = await submit(c.url, order === 'before' ? [...parts, dumpPart(Buffer.from('MDMP'))] : [dumpPart(Buffer.from('MDMP')), ...parts]);
        expect(refusal(answer), `${extra.slice(0, 40)}… ${order} the dump`).toEqual([400, 'Discarded=malformed_bad_json']);
      }
    }
    expect(await storageErrors(c)).toBe(0);
    expect(leftovers(c)).toEqual([]);
    expect(await c.queued()).toEqual([]);
  });

  it('keeps moderately nested values as their JSON text', async () => {
    const value = JSON.parse(objects(20)) as unknown;
    const id = crashIdOf(await submit(c.url, [{ name: 'extra', value: JSON.stringify({ ...breakpadFields, Nested: value, List: [[1, [2, [3]]]] }) }]));
    const raw = (await c.store.get(id))!;
    expect(JSON.parse(raw.annotations.Nested)).toEqual(value);
    expect(raw.annotations.List).toBe('[[1,[2,[3]]]]');
    await c.queued();
  });
});

describe('what is stored can always be written', () => {
  let c: Harness;
  beforeAll(async () => {
    // A small cap on the raw crash's JSON text stands in for V8's longest string.
    c = await startCollector({ limits: { maxStoredJson: 40_000 } });
  });
  afterAll(async () => c.close());

  it('refuses annotations whose stored JSON would be over the cap (413 too_large), whatever escaping does to them', async () => {
    // 3,000 control characters: 3 KB sent, 18 KB once escaped, twice (value and duplicate list).
    const control = '\u0001'.repeat(3000);
    const answer = await submit(c.url, [...fields(breakpadFields), { name: 'A', value: control }, { name: 'A', value: `${control}x` }, { name: 'B', value: control }]);
    expect(refusal(answer)).toEqual([413, 'Discarded=too_large']);
    expect(leftovers(c)).toEqual([]);
    crashIdOf(await submit(c.url, [...fields(breakpadFields), { name: 'A', value: control }]));
    expect(await storageErrors(c)).toBe(0);
    await c.queued();
  });
});

describe('part headers are limited whatever the chunking', () => {
  let c: Harness;
  beforeAll(async () => {
    c = await startCollector();
  });
  afterAll(async () => c.close());

  it('refuses a part whose headers exceed 16 KB even when they arrive in one chunk', async () => {
    const longName: Part = { name: 'n'.repeat(60 * 1024), value: 'x' };
    const body = multipartBody([...fields(breakpadFields), longName], BOUNDARY);
    for (const chunks of [[body], [body.subarray(0, 100), body.subarray(100)]]) {
      expect(refusal(await send(c.url, { headers: { 'content-type': TYPE }, chunks }))).toEqual([400, 'Discarded=malformed_multipart']);
    }
    expect(await c.queued()).toEqual([]);
  });
});

/**
 * A client on a raw socket: the request head, then the body a few bytes at a time.
 * Resolves with what the server answered once it closes the connection.
 */
function trickle(url: string, body: Buffer, options: { first: number; bytesPerTick: number; tickMs: number }): Promise<{ response: string; sent: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (response += text));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, sent });
    });
    socket.write(`POST /submit HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: ${TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, options.first));
    sent = options.first;
    timer = setInterval(() => {
      if (sent >= body.length || socket.destroyed) return clearInterval(timer);
      socket.write(body.subarray(sent, sent + options.bytesPerTick));
      sent += options.bytesPerTick;
    }, options.tickMs);
  });
}

describe('slow and crowding clients', () => {
  let c: Harness;
  beforeAll(async () => {
    // Small limits for the test: 2 KB/s after 300 ms, 1.5 s in all, 2 submissions at a time.
    c = await startCollector({ limits: { bodyTimeoutMs: 1000, minRateBytesPerSecond: 2048, minRateGraceMs: 300, deadlineMs: 1500 }, maxInFlight: 2 });
  });
  afterAll(async () => c.close());

  const body = multipartBody([...fields(breakpadFields), dumpPart(Buffer.alloc(200_000, 7))], BOUNDARY);

  it('cuts off a client that trickles its body, however regularly, with 408 too_slow, and keeps nothing', async () => {
    // One byte every 100 ms is never silent for the 1 s idle timeout, and would take 5 hours.
    const { response, sent } = await trickle(c.url, body, { first: 200, bytesPerTick: 1, tickMs: 100 });
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toContain('Discarded=too_slow');
    expect(sent).toBeLessThan(body.length);
    expect(leftovers(c)).toEqual([]);
  });

  it('cuts off a client that sends fast enough but for longer than the deadline, with 408 deadline', async () => {
    // 1 KB every 20 ms (50 KB/s) is over the minimum rate; the whole body would take 4 s.
    const { response, sent } = await trickle(c.url, body, { first: 200, bytesPerTick: 1024, tickMs: 20 });
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toContain('Discarded=deadline');
    expect(sent).toBeLessThan(body.length);
    expect(leftovers(c)).toEqual([]);
  });

  it('answers 503 with Retry-After while its submissions in flight are at the limit, and accepts again after', async () => {
    const head = { 'content-type': TYPE, 'content-length': String(body.length) };
    const held = [0, 1].map(() => send(c.url, { headers: head, chunks: [body.subarray(0, 500)], stopAfter: 1 }));
    for (let waited = 0; !/mayday_collector_requests_in_flight 2/.test(await c.metrics.metrics()); waited += 10) {
      if (waited > 5000) throw new Error('the held submissions never reached the collector');
      await new Promise((r) => setTimeout(r, 10));
    }
    const busy = await submit(c.url, fields(breakpadFields));
    expect(busy.status).toBe(503);
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    expect(busy.text).toBe('Error=too_busy\n');
    // The held ones are cut off (idle, rate or deadline); then there is room again.
    for (const answer of await Promise.all(held)) expect(answer.status).toBe(408);
    crashIdOf(await submit(c.url, fields(breakpadFields)));
    await c.queued();
  });
});
