/**
 * The one `application/x-www-form-urlencoded` parser of the web role's forms (login,
 * account, Reprocessing API) and of the Super Search query strings they carry.
 *
 * Linear in the size of the body: repeated names append to one list (never a copy per
 * repetition, which made 80,000 `a=` pairs take minutes), and the number of fields is
 * counted before anything is decoded, so a body of many tiny fields is refused cheaply.
 * Decoding is the WHATWG standard's: `+` is a space, `%XX` a byte of UTF-8, bad escapes
 * stay as they are.
 */

import type { FastifyRequest } from 'fastify';

/** A parsed form: a name sent once maps to its value, a repeated name to its values in order. */
export type FormBody = Record<string, string | string[]>;

/** Most fields a form may have unless its route says otherwise. */
export const DEFAULT_MAX_FORM_FIELDS = 1000;

/** A body this parser refuses; `statusCode` is what Fastify answers with it. */
export class FormBodyError extends Error {
  readonly statusCode: number;
  constructor(message: string, statusCode: number) {
    super(message);
    this.name = 'FormBodyError';
    this.statusCode = statusCode;
  }
}

/** How many `name=value` fields `text` holds (empty pieces between `&`s are not fields, as in URLSearchParams). */
export function countFormFields(text: string): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const end = text.indexOf('&', start);
    const stop = end < 0 ? text.length : end;
    if (stop > start) count++;
    if (end < 0) return count;
    start = end + 1;
  }
}

/**
 * Parses a urlencoded body (or a query string without its `?`). Throws `FormBodyError`
 * (413) when it has more than `maxFields` fields. The result has no prototype, so a field
 * named `__proto__` or `constructor` is only a field.
 */
export function parseFormBody(text: string, options: { maxFields?: number } = {}): FormBody {
  const maxFields = options.maxFields ?? DEFAULT_MAX_FORM_FIELDS;
  const fields = countFormFields(text);
  if (fields > maxFields) throw new FormBodyError(`the form has ${fields} fields; at most ${maxFields} are accepted`, 413);
  const lists = new Map<string, string[]>();
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      // Only within this field: a search for `=` past it would rescan the rest of the body.
      const field = text.slice(start, end);
      const eq = field.indexOf('=');
      const name = decodeFormComponent(eq >= 0 ? field.slice(0, eq) : field);
      const value = eq >= 0 ? decodeFormComponent(field.slice(eq + 1)) : '';
      const list = lists.get(name);
      if (list) list.push(value);
      else lists.set(name, [value]);
    }
    start = end + 1;
  }
  const form: FormBody = Object.create(null) as FormBody;
  for (const [name, list] of lists) form[name] = list.length === 1 ? list[0]! : list;
  return form;
}

/**
 * The Fastify content-type parser for urlencoded bodies, with a field cap. The body's
 * size is bounded before this runs, by the route's `bodyLimit`.
 */
export function formBodyParser(options: { maxFields?: number } = {}) {
  return (_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: FormBody) => void): void => {
    try {
      done(null, parseFormBody(typeof body === 'string' ? body : body.toString('utf8'), options));
    } catch (error) {
      done(error as Error);
    }
  };
}

/**
 * One name or value as the WHATWG urlencoded parser decodes it: `+` is a space, `%XX` a
 * byte, the bytes UTF-8 (bad sequences become U+FFFD); a `%` not followed by two hex
 * digits stays as it is.
 */
export function decodeFormComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Malformed escapes or bytes that are not UTF-8: byte by byte, as the standard does.
    const bytes = Buffer.from(spaced, 'utf8');
    const out = Buffer.alloc(bytes.length);
    let length = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]!) && isHex(bytes[i + 2]!)) {
        out[length++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
        i += 2;
      } else out[length++] = bytes[i]!;
    }
    return out.subarray(0, length).toString('utf8');
  }
}

const isHex = (byte: number): boolean => (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);

/** Every value of a form or JSON field that may be sent once or repeated, as text. */
export function fieldValues(field: unknown): string[] {
  if (field === undefined || field === null) return [];
  return (Array.isArray(field) ? field : [field]).map(String);
}

/** The first value of a field that may be sent once or repeated. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

