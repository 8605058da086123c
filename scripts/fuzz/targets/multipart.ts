/**
 * The collector's body handling on hostile submissions: gzip, the streaming multipart
 * reader, annotations and dumps, through `receiveSubmission` itself (over an in-memory raw
 * crash store, so storage never fails and each execution is quick).
 *
 * An input is a small header block, a blank line, then the body:
 *
 *     Content-Type: multipart/form-data; boundary=X
 *     Content-Encoding: gzip          (optional: the harness compresses the body)
 *     X-Fuzz-Gzip-Damage: 17          (optional: then flips a bit of the compressed byte 17)
 *     X-Fuzz-Chunks: 7,1,300          (optional: the body arrives in chunks of these sizes)
 *
 * Contract: a submission is stored, rejected by the throttler, or refused with a
 * `SubmissionRefused` (400, 408, 413), never another exception; the outcome does not
 * depend on how the body was cut into chunks (one chunk against the input's chunking); a
 * stored crash is JSON, its notes are few (repeated events are counted, not listed), and
 * it is not much larger than the body that made it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { DumpInfo, RawCrash, RawCrashStore, RawCrashWriter } from '../../../src/ports/raw-crash-store.js';
import { SubmissionRefused } from '../../../src/roles/collector/refusal.js';
import { receiveSubmission, type SubmissionLimits, type SubmissionOutcome } from '../../../src/roles/collector/submission.js';
import { Throttler } from '../../../src/roles/collector/throttler.js';
import { corpusFiles, readBytes } from '../corpus.js';
import { invariant, type FuzzTarget } from '../target.js';

const LIMITS: SubmissionLimits = { maxRequestSize: 1024 * 1024, maxAnnotations: 50, maxAnnotationSize: 4096, maxDumps: 4, bodyTimeoutMs: 5000 };
/** More notes than this means one note per repeated event (issue 10, finding 5). */
const MAX_NOTES = 64;
const SUBMITTED_AT = new Date('2026-01-02T03:04:05Z');

/** Dumps are hashed as they arrive and dropped: the store only needs to answer for them. */
class MemoryStore implements RawCrashStore {
  private readonly crashes = new Map<string, { crash: RawCrash; dumps: Map<string, Buffer> }>();

  async begin(crashId: string): Promise<RawCrashWriter> {
    const dumps = new Map<string, Buffer>();
    const crashes = this.crashes;
    return {
      async addDump(name: string, data: Readable): Promise<DumpInfo> {
        const chunks: Buffer[] = [];
        for await (const chunk of data) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        dumps.set(name, bytes);
        return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      },
      async commit(crash: RawCrash): Promise<void> {
        crashes.set(crashId, { crash, dumps });
      },
      async abort(): Promise<void> {},
    };
  }

  async get(crashId: string): Promise<RawCrash | undefined> {
    return this.crashes.get(crashId)?.crash;
  }

  async getDump(crashId: string, name: string): Promise<Buffer | undefined> {
    return this.crashes.get(crashId)?.dumps.get(name);
  }

  async *listDay(): AsyncIterable<string> {}

  async days(): Promise<string[]> {
    return [];
  }

  async delete(crashIds: readonly string[]): Promise<void> {
    for (const id of crashIds) this.crashes.delete(id);
  }

  async check(): Promise<void> {}

  clear(): void {
    this.crashes.clear();
  }
}

const store = new MemoryStore();
const throttler = new Throttler({ products: [], honourThrottleable: true, rules: [{ name: 'no_beta', action: 'reject', channels: ['beta'] }] });

interface Request {
  headers: Record<string, string>;
  body: Buffer;
  chunks: number[];
}

/** Splits an input into the request it describes. */
function requestOf(input: Uint8Array): Request {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let split = bytes.indexOf('\n\n');
  let bodyStart = split + 2;
  const crlf = bytes.indexOf('\r\n\r\n');
  if (crlf >= 0 && (split < 0 || crlf < split)) {
    split = crlf;
    bodyStart = crlf + 4;
  }
  if (split < 0) {
    split = 0;
    bodyStart = 0;
  }
  const headers: Record<string, string> = {};
  for (const line of bytes.subarray(0, split).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  let body: Buffer = bytes.subarray(bodyStart);
  if (/gzip/i.test(headers['content-encoding'] ?? '')) {
    body = gzipSync(body);
    const damage = Number(headers['x-fuzz-gzip-damage']);
    if (Number.isInteger(damage) && damage >= 0 && body.length > 0) body[damage % body.length] ^= 1 << damage % 8;
    const cut = Number(headers['x-fuzz-gzip-truncate']);
    if (Number.isInteger(cut) && cut >= 0) body = body.subarray(0, cut);
  }
  const chunks = (headers['x-fuzz-chunks'] ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
    .slice(0, 16);
  return { headers, body, chunks };
}

function* chunked(body: Buffer, sizes: readonly number[]): Generator<Buffer> {
  if (sizes.length === 0) {
    yield body;
    return;
  }
  // At most about 512 chunks (each costs a trip through every stage of the reader): tiny
  // chunks of a large body find nothing that tiny chunks of a small body would not.
  const least = Math.ceil(body.length / 512);
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = Math.max(least, sizes[i % sizes.length]);
    yield body.subarray(at, at + n);
    at += n;
  }
}

type Summary = { refused: string } | { rejected: string } | { stored: unknown };

async function submit(request: Request, sizes: readonly number[]): Promise<Summary> {
  const headers: Record<string, string> = { 'content-type': request.headers['content-type'] ?? '', 'user-agent': 'fuzz' };
  if (request.headers['content-encoding'] !== undefined) headers['content-encoding'] = request.headers['content-encoding'];
  headers['content-length'] = request.headers['content-length'] ?? String(request.body.length);
  let outcome: SubmissionOutcome;
  try {
    outcome = await receiveSubmission({ headers, body: Readable.from(chunked(request.body, sizes)), submittedAt: SUBMITTED_AT }, { store, throttler, limits: LIMITS, draw: () => 0 });
  } catch (error) {
    if (error instanceof SubmissionRefused) {
      invariant([400, 408, 413].includes(error.statusCode), () => `refused with status ${error.statusCode}`);
      invariant(/^[a-z0-9_]+$/.test(error.reason), () => `refusal reason ${JSON.stringify(error.reason)} is not a token`);
      return { refused: error.reason };
    }
    throw error;
  } finally {
    store.clear();
  }
  if (outcome.outcome === 'rejected') return { rejected: outcome.decision.rule };
  const { crash } = outcome;
  const text = JSON.stringify(crash);
  const notes = crash.metadata.collector_notes;
  invariant(notes.length <= MAX_NOTES, () => `${notes.length} collector notes for one submission (e.g. ${JSON.stringify(notes[0])})`);
  invariant(text.length <= 4 * request.body.length + 64 * 1024, () => `a ${request.body.length}-byte body became a ${text.length}-byte raw crash`);
  // What must not depend on chunking: everything but the crash id.
  const { uuid: _uuid, ...rest } = crash;
  return { stored: rest };
}

const encoder = new TextEncoder();

function form(boundary: string, parts: { name?: string; filename?: string; type?: string; body: string | Uint8Array }[], closing = true): Uint8Array {
  const out: Uint8Array[] = [];
  for (const part of parts) {
    const disposition = ['form-data', part.name !== undefined ? `name="${part.name}"` : undefined, part.filename !== undefined ? `filename="${part.filename}"` : undefined].filter(Boolean).join('; ');
    out.push(encoder.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    out.push(typeof part.body === 'string' ? encoder.encode(part.body) : part.body);
    out.push(encoder.encode('\r\n'));
  }
  if (closing) out.push(encoder.encode(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

function input(headers: string, body: Uint8Array): Uint8Array {
  return Buffer.concat([encoder.encode(`${headers}\n\n`), body]);
}

function seeds(): Uint8Array[] {
  // A small real dump keeps the seeds small; the fuzzer mutates its head.
  const dump = corpusFiles('.dmp', 64 * 1024).map(readBytes)[0]?.subarray(0, 2048) ?? encoder.encode('MDMP');
  const b = '------------------------a1b2c3';
  const annotations = [
    { name: 'ProductName', body: 'Example' },
    { name: 'Version', body: '1.0' },
    { name: 'ReleaseChannel', body: 'release' },
  ];
  const typical = form(b, [...annotations, { name: 'upload_file_minidump', filename: 'crash.dmp', type: 'application/octet-stream', body: dump }]);
  const type = `Content-Type: multipart/form-data; boundary=${b}`;
  return [
    input(type, typical),
    input(`${type}\nContent-Encoding: gzip`, typical),
    input(`${type}\nContent-Encoding: gzip\nX-Fuzz-Gzip-Damage: 40`, typical),
    input(`${type}\nX-Fuzz-Chunks: 1,7,64`, typical),
    input(`Content-Type: multipart/mixed; boundary="q;b"`, form('q;b', [...annotations, { name: 'extra', body: '{"ProductName":"Example","Nested":{"a":[1,2]},"Empty":null}' }])),
    input(`${type}\nX-Fuzz-Chunks: 3`, form(b, [{ name: 'ProductName', body: 'Example' }, { body: '' }, { body: 'x' }, { name: '', body: 'y' }], false)),
    input(type, form(b, [{ name: 'ProductName', body: 'a' }, { name: 'ProductName', body: 'b' }, { name: 'Bad', body: new Uint8Array([0xff, 0xfe, 0x41]) }])),
    input(type, form(b, [...annotations, { name: 'upload_file_minidump', body: dump }, { name: 'upload_file_minidump_browser', filename: 'b.dmp', body: 'not a dump' }])),
    input(type, encoder.encode(`preamble\n--${b}\ncontent-disposition: form-data; name=ProductName\n\nExample\n--${b}\nContent-Disposition: form-data; name="upload_file_minidump"; filename*=UTF-8''%E2%82%AC.dmp\n\nMDMP\n--${b}--`)),
  ];
}

export const target: FuzzTarget = {
  name: 'multipart',
  maxLength: 64 * 1024,
  text: true,
  dictionary: [
    '\r\n',
    '\n',
    '--',
    '------------------------a1b2c3',
    '--------------------------a1b2c3--\r\n',
    'Content-Disposition: form-data; name="',
    '; filename="',
    "; filename*=UTF-8''",
    'Content-Type: application/octet-stream\r\n',
    'Content-Type: multipart/form-data; boundary=',
    'multipart/mixed',
    'Content-Encoding: gzip\n',
    'X-Fuzz-Chunks: ',
    'X-Fuzz-Gzip-Damage: ',
    'X-Fuzz-Gzip-Truncate: ',
    'Content-Length: ',
    'upload_file_minidump',
    'extra',
    'ProductName',
    'Throttleable',
    'ReleaseChannel',
    'beta',
    'MDMP',
    '{"',
    '":',
    '[[[[[[[[',
    '\\',
    '"',
    '; ',
    ' \t',
  ],
  seeds,
  async execute(bytes) {
    const request = requestOf(bytes);
    const first = await submit(request, request.chunks);
    // The same body in one chunk: a result that depends on where TCP cut the body is a bug.
    if (request.chunks.length > 0) {
      const whole = await submit(request, []);
      invariant(JSON.stringify(first) === JSON.stringify(whole), () => `chunking changed the outcome: ${JSON.stringify(first).slice(0, 200)} vs ${JSON.stringify(whole).slice(0, 200)} in one chunk`);
    }
  },
};
