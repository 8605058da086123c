
/**
 * A streaming multipart reader that accepts what real crash reporters send, not only what
 * RFC 2046 allows. Events are pulled one at a time (an async generator), so a consumer
 * that awaits a disk write between `data` events slows the reader down: memory holds at
 * most one input chunk plus a boundary's length.
 *
 * Leniencies, each seen from real clients:
 * - line ends may be CRLF or a bare LF, in part headers and around delimiters;
 * - a delimiter may follow a part's data without the line break before it ("missing CRLF
 *   after a part"); like any delimiter it must be followed by a line end or `--`, so
 *   `--boundaryX` inside content is content;
 * - text before the first delimiter (preamble) and after the last (epilogue) is ignored;
 * - a body that ends without the closing delimiter ends its last part there (`unterminated`
 *   tells the caller, who notes it).
 *
 * How TCP chunks a body never changes the result: every decision (is this a delimiter, is
 * this header block too long) waits until the bytes that decide it are present, and the
 * limits are on what the bytes are (a header block, a padding run), not on how much
 * happens to be buffered.
 */

/**
 * The request is not a multipart body this reader can take; the message says why, `what`
 * names the class (the collector answers `Discarded=malformed_<what>`).
 */
export class MultipartMalformed extends Error {
  constructor(
    message: string,
    readonly what = 'multipart',
  ) {
    super(message);
    this.name = 'MultipartMalformed';
  }
}

export interface PartHeaders {
  /** Header names lower-cased; the first of a repeated header wins. */
  headers: Record<string, string>;
  /** Content-Disposition type: `form-data`, or `file`/`attachment` in multipart/mixed. */
  disposition?: string;
  name?: string;
  filename?: string;
  /** Lower-cased media type without parameters. */
  contentType?: string;
}

export type MultipartEvent = { kind: 'part'; part: PartHeaders } | { kind: 'data'; chunk: Buffer } | { kind: 'end' } | { kind: 'unterminated' };

const MAX_HEADER_BLOCK = 16 * 1024;
/** Longest transport padding (spaces, tabs) after a delimiter; a longer run makes it content. */
const MAX_PADDING = 256;
/** A header block's end is `\n\n` or `\n\r\n`: seen whole once this many bytes follow its start. */
const LONGEST_BLOCK_END = 3;
const CR = 13;
const LF = 10;
const DASH = 45;
const SPACE = 32;
const TAB = 9;

type State = 'preamble' | 'headers' | 'data' | 'epilogue';

export async function* readMultipart(source: AsyncIterable<Buffer>, boundary: string): AsyncGenerator<MultipartEvent> {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  // Kept back at the end of a data chunk: a delimiter may straddle chunks, with the line
  // break before it and the two bytes after it that say whether it really is one.
  const keep = delimiter.length + 4;
  let state: State = 'preamble';
  let buffer: Buffer = Buffer.alloc(0);
  let inPart = false;

  for await (const chunk of source) {
    if (state === 'epilogue') continue;
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (state === 'preamble' || state === 'data') {
        const found = findDelimiter(buffer, delimiter);
        if ('hold' in found) {
          // Everything before a possible delimiter (and its line break) is data for sure.
          const safe = Math.max(0, Math.min(buffer.length - keep, found.hold - 2));
          if (safe > 0) {
            if (state === 'data') yield { kind: 'data', chunk: buffer.subarray(0, safe) };
            buffer = buffer.subarray(safe);
          }
          break;
        }
        if (state === 'data') {
          if (found.dataEnd > 0) yield { kind: 'data', chunk: buffer.subarray(0, found.dataEnd) };
          yield { kind: 'end' };
          inPart = false;
        }
        buffer = buffer.subarray(found.next);
        if (found.closing) {
          state = 'epilogue';
          break;
        }
        state = 'headers';
        continue;
      }
      if (state === 'headers') {
        const end = headerBlockEnd(buffer);
        // Over the limit whether the block's end arrived in this chunk or is still to come
        // (an end within the limit would be in the buffer by now).
        if (end === undefined ? buffer.length >= MAX_HEADER_BLOCK + LONGEST_BLOCK_END : end.headersEnd > MAX_HEADER_BLOCK) {
          throw new MultipartMalformed(`a part's headers exceed ${MAX_HEADER_BLOCK} bytes`);
        }
        if (end === undefined) break;
        const part = parsePartHeaders(buffer.subarray(0, end.headersEnd).toString('utf8'));
        buffer = buffer.subarray(end.bodyStart);
        yield { kind: 'part', part };
        inPart = true;
        state = 'data';
        continue;
      }
      break;
    }
  }

  if (state === 'epilogue') return;
  if (state === 'preamble') throw new MultipartMalformed('the body holds no multipart delimiter');
  // The body ended inside a part (or its headers): end it there, without a trailing line break.
  if (state === 'data' && inPart) {
    let end = buffer.length;
    if (end >= 1 && buffer[end - 1] === LF) end -= end >= 2 && buffer[end - 2] === CR ? 2 : 1;
    if (end > 0) yield { kind: 'data', chunk: buffer.subarray(0, end) };
    yield { kind: 'end' };
  }
  yield { kind: 'unterminated' };
}

/**
 * Finds the next delimiter in `buffer`: `--boundary` followed by `--` (the closing one) or
 * by optional padding and a line end, whether or not a line break precedes it (sloppy
 * clients omit it; when present it belongs to the delimiter, not to the data). Returns
 * where the data before it ends (its line break excluded), where the next part's headers
 * begin, and whether it is the closing delimiter; or, when the buffer ends before that
 * can be told, where to hold the bytes until more arrive.
 */
function findDelimiter(buffer: Buffer, delimiter: Buffer): { dataEnd: number; next: number; closing: boolean } | { hold: number } {
  let from = 0;
  for (;;) {
    const at = buffer.indexOf(delimiter, from);
    if (at < 0) return { hold: buffer.length };
    const after = at + delimiter.length;
    // Two bytes after the delimiter tell `--` (closing) from the rest.
    if (buffer.length < after + 2) return { hold: at };
    const closing = buffer[after] === DASH && buffer[after + 1] === DASH;
    const lineEnd = closing ? undefined : delimiterLineEnd(buffer, after);
    if (lineEnd === 'more') return { hold: at };
    if (closing || lineEnd !== undefined) {
      let dataEnd = at;
      if (dataEnd >= 1 && buffer[dataEnd - 1] === LF) dataEnd -= dataEnd >= 2 && buffer[dataEnd - 2] === CR ? 2 : 1;
      if (closing) return { dataEnd, next: after + 2, closing: true };
      return { dataEnd, next: lineEnd! + 1, closing: false };
    }
    from = at + 1;
  }
}

/**
 * After a delimiter: the `\n` ending its line, through optional transport padding (RFC
 * 2046: spaces and tabs, here at most `MAX_PADDING`) and an optional `\r`; undefined when
 * something else follows (the delimiter is content); 'more' when the buffer ends first.
 */
function delimiterLineEnd(buffer: Buffer, from: number): number | 'more' | undefined {
  for (let i = from; ; i++) {
    if (i >= buffer.length) return 'more';
    const byte = buffer[i];
    if (byte === LF) return i;
    if (byte === CR) {
      if (i + 1 >= buffer.length) return 'more';
      return buffer[i + 1] === LF ? i + 1 : undefined;
    }
    if ((byte !== SPACE && byte !== TAB) || i - from >= MAX_PADDING) return undefined;
  }
}

/** The end of a header block: a blank line, CRLF or LF style; or an immediate blank line (no headers). */
function headerBlockEnd(buffer: Buffer): { headersEnd: number; bodyStart: number } | undefined {
  if (buffer.length >= 2 && buffer[0] === CR && buffer[1] === LF) return { headersEnd: 0, bodyStart: 2 };
  if (buffer.length >= 1 && buffer[0] === LF) return { headersEnd: 0, bodyStart: 1 };
  for (let i = buffer.indexOf(LF); i >= 0 && i < buffer.length; i = buffer.indexOf(LF, i + 1)) {
    const next = buffer[i + 1];
    if (next === LF) return { headersEnd: i, bodyStart: i + 2 };
    if (next === CR && buffer[i + 2] === LF) return { headersEnd: i, bodyStart: i + 3 };
    if (next === undefined || (next === CR && buffer.length < i + 3)) return undefined;
  }
  return undefined;
}

export function parsePartHeaders(block: string): PartHeaders {
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    // Folded continuation lines (obsolete, but harmless to accept).
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (headers[name] === undefined) headers[name] = line.slice(colon + 1).trim();
    last = name;
  }
  const part: PartHeaders = { headers };
  const disposition = headers['content-disposition'];
  if (disposition !== undefined) {
    const params = dispositionParameters(disposition);
    part.disposition = params.type;
    if (params.name !== undefined) part.name = params.name;
    if (params.filename !== undefined) part.filename = params.filename;
  }
  const contentType = headers['content-type'];
  if (contentType !== undefined) part.contentType = contentType.split(';')[0].trim().toLowerCase();
  return part;
}

/**
 * `form-data; name="upload_file_minidump"; filename="x.dmp"`, with names quoted or not
 * (older Android clients write `name=upload_file_minidump`), and RFC 5987 `filename*`.
 */
function dispositionParameters(value: string): { type: string; name?: string; filename?: string } {
  const re = /;\s*([A-Za-z0-9_*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  const type = value.split(';')[0].trim().toLowerCase();
  const out: { type: string; name?: string; filename?: string } = { type };
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const key = m[1].toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (key === 'name' && out.name === undefined) out.name = raw;
    else if (key === 'filename' && out.filename === undefined) out.filename = raw;
    else if (key === 'filename*') out.filename = decodeExtended(raw);
  }
  return out;
}

function decodeExtended(value: string): string {
  const match = /^[^']*'[^']*'(.*)$/.exec(value);
  try {
    return decodeURIComponent(match ? match[1] : value);
  } catch {
    return value;
  }
}
