import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MultipartMalformed, readMultipart } from '../../../src/common/multipart.js';
import { multipartBody } from './http.js';

/**
 * TCP decides how a body is chunked, not the client: the multipart reader must give the
 * same parts, or the same refusal, for every split of the same bytes. Each body below is
 * read whole, then split at every point (small ones) and at random points.
 */

type Outcome = { parts: { headers: Record<string, string>; data: string }[]; unterminated: boolean } | { refused: string };

async function read(chunks: Buffer[], boundary: string): Promise<Outcome> {
  const parts: { headers: Record<string, string>; data: string }[] = [];
  let unterminated = false;
  let data: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    // Copies: the reader may keep a chunk while the next arrives, as with a real socket.
    for (const chunk of chunks) yield Buffer.from(chunk);
  }
  try {
    for await (const event of readMultipart(source(), boundary)) {
      if (event.kind === 'part') {
        parts.push({ headers: event.part.headers, data: '' });
        data = [];
      } else if (event.kind === 'data') data.push(Buffer.from(event.chunk));
      else if (event.kind === 'end') parts[parts.length - 1].data = Buffer.concat(data).toString('latin1');
      else unterminated = true;
    }
  } catch (error) {
    if (error instanceof MultipartMalformed) return { refused: `malformed_multipart: ${error.message}` };
    throw error;
  }
  return { parts, unterminated };
}

function splitAt(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(body.subarray(last, p));
    last = p;
  }
  out.push(body.subarray(last));
  return out.filter((c) => c.length > 0);
}

const B = 'AaB03x';
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const header = (n: number): string => `Content-Disposition: form-data; name="${'n'.repeat(n)}"`;

const bodies: Record<string, Buffer> = {
  'ordinary parts': multipartBody(
    [
      { name: 'ProductName', value: 'Example' },
      { name: 'b', value: '\r\n--AaB03 not a delimiter\r\n--AaB03xx still data\n' },
      { name: 'upload_file_minidump', value: latin1('MDMP\r\n--A\0\r\n'), filename: 'd.dmp', contentType: 'application/octet-stream' },
    ],
    B,
  ),
  'bare LF, no line break before delimiters, no closing one': multipartBody(
    [
      { name: 'a', value: 'one' },
      { name: 'b', value: 'two' },
    ],
    B,
    { lineEnd: '\n', crlfBeforeDelimiter: false, close: false },
  ),
  'preamble, epilogue and folded headers': latin1(`preamble\r\n--${B}\r\nContent-Disposition: form-data;\r\n name="folded"\r\n\r\nvalue\r\n--${B}--\r\nepilogue`),
  'transport padding after delimiters': latin1(`--${B} \t  \r\nContent-Disposition: form-data; name="a"\r\n\r\none\r\n--${B}   \r\n${header(1)}\r\n\r\ntwo\r\n--${B}--`),
  'padding that never reaches a line end': latin1(`--${B}\r\n${header(1)}\r\n\r\none\r\n--${B}${' '.repeat(3000)}x\r\nmore\r\n--${B}--`),
  'a 60 KB part name': latin1(`--${B}\r\n${header(1)}\r\n\r\none\r\n--${B}\r\n${header(60 * 1024)}\r\n\r\nx\r\n--${B}--\r\n`),
  'headers just under 16 KB': latin1(`--${B}\r\n${header(16 * 1024 - 100)}\r\n\r\nx\r\n--${B}--\r\n`),
  'headers just over 16 KB': latin1(`--${B}\r\n${header(16 * 1024)}\r\n\r\nx\r\n--${B}--\r\n`),
  'a delimiter line of 20 KB of padding': latin1(`--${B}\r\n${header(1)}\r\n\r\none\r\n--${B}${' '.repeat(20 * 1024)}\r\n${header(1)}\r\n\r\ntwo\r\n--${B}--`),
  'no delimiter at all': latin1('just some text, no multipart here\r\n'),
  'headers that never end': latin1(`--${B}\r\n${header(1)}\r\nX-Other: 1\r\n`),
};

describe('multipart reader: the same result for every chunking', () => {
  for (const [label, body] of Object.entries(bodies)) {
    it(label, async () => {
      const whole = await read([body], B);
      if (body.length <= 4096) {
        for (let i = 1; i < body.length; i++) expect(await read([body.subarray(0, i), body.subarray(i)], B), `split at ${i}`).toEqual(whole);
      } else {
        for (let i = 1; i < body.length; i += 61) expect(await read([body.subarray(0, i), body.subarray(i)], B), `split at ${i}`).toEqual(whole);
        for (const size of [1000, 4096, 16 * 1024]) {
          const chunks: Buffer[] = [];
          for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size));
          expect(await read(chunks, B), `chunks of ${size}`).toEqual(whole);
        }
      }
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 24 }), async (cuts) => {
          expect(await read(splitAt(body, cuts), B)).toEqual(whole);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('refuses the part headers over 16 KB and accepts those under, however they arrive', async () => {
    expect(await read([bodies['a 60 KB part name']], B)).toMatchObject({ refused: expect.stringMatching(/^malformed_multipart: a part's headers exceed/) });
    expect(await read([bodies['headers just over 16 KB']], B)).toMatchObject({ refused: expect.stringMatching(/^malformed_multipart/) });
    expect(await read([bodies['headers just under 16 KB']], B)).toMatchObject({ parts: [{ data: 'x' }] });
    expect(await read([bodies['transport padding after delimiters']], B)).toMatchObject({ parts: [{ data: 'one' }, { data: 'two' }] });
  });
});
