import { MultipartMalformed } from './multipart.js';

/**
 * The request's Content-Type, read as real clients write it: `multipart/form-data` or
 * `multipart/mixed` (some older Breakpad-derived clients), parameters in any order and
 * case, the boundary quoted or not. Only what the collector and symbol uploads need is kept.
 */
export interface MultipartType {
  subtype: 'form-data' | 'mixed';
  boundary: string;
}

/** RFC 2046 allows 1 to 70 characters; longer ones are refused rather than searched for. */
const MAX_BOUNDARY = 200;

export function parseMultipartType(header: string | undefined): MultipartType {
  if (header === undefined || header.trim() === '') throw new MultipartMalformed('the request has no Content-Type', 'no_content_type');
  const [mediaType, ...rest] = splitParameters(header);
  const match = /^multipart\/(form-data|mixed)$/i.exec(mediaType.trim());
  if (!match) throw new MultipartMalformed(`expected multipart/form-data, got ${mediaType.trim() || 'nothing'}`, 'wrong_content_type');
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!params.has(name)) params.set(name, value);
  }
  const boundary = params.get('boundary');
  if (boundary === undefined || boundary === '') throw new MultipartMalformed('the Content-Type has no boundary', 'no_boundary');
  if (boundary.length > MAX_BOUNDARY) throw new MultipartMalformed(`the boundary is longer than ${MAX_BOUNDARY} characters`, 'bad_boundary');
  return { subtype: match[1].toLowerCase() as MultipartType['subtype'], boundary };
}

/** Splits on `;` outside double quotes (a quoted boundary may contain `;`). */
export function splitParameters(header: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '\\' && quoted && i + 1 < header.length) {
      current += c + header[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}
