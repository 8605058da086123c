import type { Bytes } from './bytes.js';

/** Outcome of reading one string that the dump refers to by RVA. */
export type StringResult = { readonly value: string } | { readonly error: string };

/**
 * Longest string we decode: Windows paths are at most 32767 UTF-16 units; anything
 * longer is damage, not a name.
 */
const MAX_STRING_BYTES = 65536;

/** Checks a string's length against the cap and the file's decoding budget. */
function admit(bytes: Bytes, rva: number, length: number): string | undefined {
  if (length > MAX_STRING_BYTES) return `string at 0x${rva.toString(16)} is ${length} bytes, longer than ${MAX_STRING_BYTES}`;
  if (length > bytes.stringBudget) return `string at 0x${rva.toString(16)} not decoded: strings exceed the file's size many times over`;
  bytes.stringBudget -= length;
  return undefined;
}

/**
 * Charges one more use of an already decoded string (a name the dump maps to several
 * records, such as one thread id shared by thousands of threads) to the file's decoding
 * budget: each use is copied into the output, so a name decoded once must not be repeated
 * without limit. False when the budget is spent.
 */
export function chargeRepeatedString(bytes: Bytes, value: string): boolean {
  const length = 2 * value.length;
  if (length > bytes.stringBudget) return false;
  bytes.stringBudget -= length;
  return true;
}

const utf16 = new TextDecoder('utf-16le', { fatal: false });
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A `MINIDUMP_STRING` at `rva`: a u32 byte length, then that many bytes of UTF-16LE (the
 * terminating NUL is not counted). Breakpad rejects odd lengths and unpaired surrogates;
 * we reject odd lengths too but decode unpaired surrogates as U+FFFD, since a module
 * path with one bad character is still worth showing.
 */
export function readMinidumpString(bytes: Bytes, rva: number): StringResult {
  const length = bytes.u32(rva);
  if (length === undefined) return { error: `string length at 0x${rva.toString(16)} is outside the file` };
  if (length % 2 !== 0) return { error: `string at 0x${rva.toString(16)} has odd byte length ${length}` };
  const refused = admit(bytes, rva, length);
  if (refused) return { error: refused };
  const data = bytes.slice(rva + 4, length);
  if (data === undefined) {
    return { error: `string at 0x${rva.toString(16)} (${length} bytes) runs past the end of the file` };
  }
  return { value: utf16.decode(data) };
}

/**
 * A Breakpad/Crashpad UTF-8 string at `rva`: a u32 byte length then the bytes (a NUL
 * follows in the file but is not counted). Invalid UTF-8 becomes U+FFFD.
 */
export function readUtf8String(bytes: Bytes, rva: number): StringResult {
  const length = bytes.u32(rva);
  if (length === undefined) return { error: `UTF-8 string length at 0x${rva.toString(16)} is outside the file` };
  const refused = admit(bytes, rva, length);
  if (refused) return { error: refused };
  const data = bytes.slice(rva + 4, length);
  if (data === undefined) {
    return { error: `UTF-8 string at 0x${rva.toString(16)} (${length} bytes) runs past the end of the file` };
  }
  return { value: utf8.decode(data) };
}

/** Bytes decoded as UTF-8, cut at the first NUL (C string semantics). */
export function cString(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return utf8.decode(nul === -1 ? data : data.subarray(0, nul));
}

/** Bytes decoded as UTF-8 verbatim (NULs kept). */
export function utf8Text(data: Uint8Array): string {
  return utf8.decode(data);
}

/** UTF-16LE bytes decoded, cut at the first NUL code unit. */
export function cString16(data: Uint8Array): string {
  let end = data.length - (data.length % 2);
  for (let i = 0; i + 1 < end; i += 2) {
    if (data[i] === 0 && data[i + 1] === 0) {
      end = i;
      break;
    }
  }
  return utf16.decode(data.subarray(0, end));
}
