/**
 * An upper bound on the length of `JSON.stringify(value)`, without building the text.
 * The raw crash is written as one JSON trailer, and V8 strings stop near 2^29
 * characters: a submission whose trailer could not be written would fail as a storage
 * error (500, retried by clients forever). Annotations are bounded by the body size, but
 * escaping can grow a character sixfold (`\u0001`), and the body limit is configurable; so
 * the bound is checked before storing, and a crash over it refused as too large.
 *
 * Only for the collector's own shallow values (records of strings and lists), so the
 * recursion is a few levels deep.
 */

/** Well under V8's longest string, leaving room for the dumps' part of the trailer. */
export const MAX_STORED_JSON = 256 * 1024 * 1024;

export function jsonLengthBound(value: unknown): number {
  if (typeof value === 'string') return 2 + 6 * value.length;
  if (Array.isArray(value)) return value.reduce((n: number, item: unknown) => n + 1 + jsonLengthBound(item), 2);
  if (typeof value === 'object' && value !== null) {
    let n = 2;
    for (const [key, item] of Object.entries(value)) n += jsonLengthBound(key) + 2 + jsonLengthBound(item);
    return n;
  }
  // Numbers, booleans, null: at most 24 characters (-1.2345678901234567e+308).
  return 24;
}
