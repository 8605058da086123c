/**
 * Tokenising one line of a Breakpad symbol file straight from its bytes.
 *
 * Symbol files can be hundreds of megabytes, so the parser never turns a whole line into
 * a string: it walks the bytes with this cursor and only decodes the few fields it keeps
 * (and even those lazily). The tokenising rules copy Breakpad's `Tokenize` (strtok on
 * spaces, with the final field being "the rest of the line"), because they decide what a
 * name with spaces looks like: in `FUNC 1000 10 0 operator new(unsigned long)` the name
 * is everything after the single space that ends the parameter size.
 */

const SPACE = 0x20;

/** Largest integer a double holds exactly; module offsets beyond it are rejected. */
export const MAX_SAFE_ADDRESS = Number.MAX_SAFE_INTEGER;

/** Value of an ASCII hex digit, or -1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

export class RecordCursor {
  bytes: Uint8Array = new Uint8Array(0);
  /** Where the next token search starts. */
  pos = 0;
  /** End of the line (exclusive), line terminator already excluded. */
  end = 0;
  /** The current token, as a byte range [tokenStart, tokenEnd). */
  tokenStart = 0;
  tokenEnd = 0;

  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.tokenStart = start;
    this.tokenEnd = start;
    return this;
  }

  /** Advance to the next space-separated token; false at the end of the line. */
  next(): boolean {
    const { bytes, end } = this;
    let p = this.pos;
    while (p < end && bytes[p] === SPACE) p++;
    if (p >= end) {
      this.pos = end;
      return false;
    }
    const start = p;
    while (p < end && bytes[p] !== SPACE) p++;
    this.tokenStart = start;
    this.tokenEnd = p;
    // Like strtok, consume the one delimiter that ended the token.
    this.pos = p < end ? p + 1 : p;
    return true;
  }

  /**
   * Take the rest of the line, from just after the delimiter that ended the previous
   * token, as the final token (Breakpad keeps leading spaces of a name). False if empty.
   */
  rest(): boolean {
    if (this.pos >= this.end) return false;
    this.tokenStart = this.pos;
    this.tokenEnd = this.end;
    this.pos = this.end;
    return true;
  }

  /** Whether the current token equals the ASCII text `word`. */
  tokenIs(word: string): boolean {
    if (this.tokenEnd - this.tokenStart !== word.length) return false;
    for (let i = 0; i < word.length; i++) {
      if (this.bytes[this.tokenStart + i] !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * The current token as unsigned hex, or NaN when it is not plain hex digits or does
   * not fit a double exactly (real module offsets never come close).
   */
  hex(): number {
    const { bytes, tokenEnd } = this;
    let p = this.tokenStart;
    if (p >= tokenEnd) return NaN;
    let value = 0;
    for (; p < tokenEnd; p++) {
      const digit = hexDigit(bytes[p]);
      if (digit < 0) return NaN;
      value = value * 16 + digit;
    }
    return value <= MAX_SAFE_ADDRESS ? value : NaN;
  }

  /** The current token as a signed decimal (strtol, base 10), or NaN. */
  decimal(): number {
    const { bytes, tokenEnd } = this;
    let p = this.tokenStart;
    let negative = false;
    if (p < tokenEnd && (bytes[p] === 0x2d || bytes[p] === 0x2b)) {
      negative = bytes[p] === 0x2d;
      p++;
    }
    if (p >= tokenEnd) return NaN;
    let value = 0;
    for (; p < tokenEnd; p++) {
      const byte = bytes[p];
      if (byte < 0x30 || byte > 0x39) return NaN;
      value = value * 10 + (byte - 0x30);
    }
    if (value > MAX_SAFE_ADDRESS) return NaN;
    return negative ? -value : value;
  }

  /** The current token's text, for error messages and the rare eagerly kept field. */
  text(decoder: { decode(input: Uint8Array): string }): string {
    return decoder.decode(this.bytes.subarray(this.tokenStart, this.tokenEnd));
  }
}
