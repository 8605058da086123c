import { request } from 'node:http';
import { gzipSync } from 'node:zlib';

/** Test-side builders of what clients send: multipart bodies byte by byte, and raw HTTP requests. */

export type Part = { name: string; value: string | Buffer; filename?: string; contentType?: string; rawDisposition?: string };

export function multipartBody(parts: Part[], boundary: string, options: { lineEnd?: string; close?: boolean; crlfBeforeDelimiter?: boolean } = {}): Buffer {
  const nl = options.lineEnd ?? '\r\n';
  const chunks: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    const before = i === 0 || options.crlfBeforeDelimiter === false ? '' : nl;
    const disposition = part.rawDisposition ?? `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    let head = `${before}--${boundary}${nl}Content-Disposition: ${disposition}${nl}`;
    if (part.contentType) head += `Content-Type: ${part.contentType}${nl}`;
    chunks.push(Buffer.from(head + nl, 'utf8'), typeof part.value === 'string' ? Buffer.from(part.value, 'utf8') : part.value);
  }
  if (options.close !== false) chunks.push(Buffer.from(`${options.crlfBeforeDelimiter === false ? '' : nl}--${boundary}--${nl}`));
  return Buffer.concat(chunks);
}

export function dumpPart(data: Buffer, name = 'upload_file_minidump'): Part {
  return { name, value: data, filename: `${name}.dmp`, contentType: 'application/octet-stream' };
}

export function fields(values: Record<string, string>): Part[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

export interface RawResponse {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Sends one request with exactly these headers and body chunks. `chunked` omits
 * Content-Length (Node then uses Transfer-Encoding: chunked); `stopAfter` sends that many
 * chunks and then neither ends nor closes (a client gone silent); `destroyAfter` cuts the
 * connection after that many chunks.
 */
export function send(
  url: string,
  options: { headers?: Record<string, string>; chunks: Buffer[]; chunked?: boolean; stopAfter?: number; destroyAfter?: number; gzip?: boolean },
): Promise<RawResponse> {
  let chunks = options.chunks;
  const headers: Record<string, string> = { ...options.headers };
  if (options.gzip) {
    chunks = [gzipSync(Buffer.concat(chunks))];
    headers['content-encoding'] = 'gzip';
  }
  if (!options.chunked && headers['content-length'] === undefined) headers['content-length'] = String(chunks.reduce((n, c) => n + c.length, 0));
  return new Promise((resolve, reject) => {
    const req = request(`${url}/submit`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    const count = options.stopAfter ?? options.destroyAfter ?? chunks.length;
    for (const chunk of chunks.slice(0, count)) req.write(chunk);
    if (options.destroyAfter !== undefined) setTimeout(() => req.destroy(), 50);
    else if (options.stopAfter === undefined) req.end();
  });
}

export function submit(url: string, parts: Part[], options: { boundary?: string; contentType?: string; gzip?: boolean; chunked?: boolean; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const boundary = options.boundary ?? '----MaydayTestBoundary7f3a9c';
  return send(url, {
    headers: { 'content-type': options.contentType ?? `multipart/form-data; boundary=${boundary}`, ...options.headers },
    chunks: [multipartBody(parts, boundary)],
    gzip: options.gzip,
    chunked: options.chunked,
  });
}

export function crashIdOf(answer: RawResponse): string {
  const match = /^CrashID=bp-([0-9a-f-]{36})\n$/.exec(answer.text);
  if (!match) throw new Error(`not a CrashID answer: ${answer.status} ${JSON.stringify(answer.text)}`);
  return match[1];
}
