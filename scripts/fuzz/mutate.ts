/**
 * libFuzzer's mutations, on bytes: bit and byte flips, small arithmetic, "interesting"
 * integers at aligned offsets (counts, sizes and offsets in binary formats are aligned),
 * inserting, deleting, duplicating and copying chunks, splicing with another input,
 * dictionary tokens, and for text formats whole lines and numbers. Each new input is a
 * parent with a stack of 1 to 8 of them. Deterministic for a given random source.
 */

export type Random = () => number;

export interface MutationContext {
  readonly random: Random;
  /** Tokens of the format (keywords, magic numbers, separators). */
  readonly dictionary: readonly Uint8Array[];
  /** Other inputs to splice with. */
  readonly corpus: readonly Uint8Array[];
  readonly maxLength: number;
  /** Line and number mutations too (for text formats). */
  readonly text: boolean;
  /** The target's own mutations, which know its format; a fifth of the rounds use one. */
  readonly custom?: readonly ((data: Uint8Array, random: Random) => Uint8Array)[];
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x100, 0x200, 0x400, 0x1000, 0xfffe];
const INTERESTING_32 = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0x10000, 0x1000000, 0x7ffffff0, 0x1000, 0x100000, 0x40000000];
/** Numbers in text: bounds of 32- and 64-bit integers, signs, floats that are not. */
const INTERESTING_TEXT = [
  '0',
  '1',
  '-1',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '18446744073709551615',
  '18446744073709551616',
  'ffffffff',
  'ffffffffffffffff',
  '10000000000000000',
  '7fffffff',
  '0x7fffffff',
  '1e309',
  '-0',
  'NaN',
  '',
];

const encoder = new TextEncoder();

function pick(random: Random, n: number): number {
  return Math.floor(random() * n);
}

function choose<T>(random: Random, items: readonly T[]): T {
  return items[pick(random, items.length)];
}

/** A chunk length: mostly small, sometimes large, as libFuzzer's are. */
function chunkLength(random: Random, max: number): number {
  if (max <= 0) return 0;
  const limit = random() < 0.8 ? Math.min(max, 16) : max;
  return 1 + pick(random, limit);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Mutator = (data: Uint8Array, ctx: MutationContext) => Uint8Array;

const flipBit: Mutator = (data, { random }) => {
  if (data.length === 0) return data;
  const out = data.slice();
  out[pick(random, out.length)] ^= 1 << pick(random, 8);
  return out;
};

const setByte: Mutator = (data, { random }) => {
  if (data.length === 0) return data;
  const out = data.slice();
  out[pick(random, out.length)] = random() < 0.5 ? choose(random, INTERESTING_8) : pick(random, 256);
  return out;
};

/** Adds or subtracts up to 35 to an 8, 16 or 32-bit little- or big-endian number. */
const arithmetic: Mutator = (data, { random }) => {
  const width = choose(random, [1, 2, 4]);
  if (data.length < width) return data;
  const out = data.slice();
  const view = new DataView(out.buffer);
  const at = pick(random, out.length - width + 1);
  const delta = (1 + pick(random, 35)) * (random() < 0.5 ? -1 : 1);
  const little = random() < 0.75;
  if (width === 1) out[at] = (out[at] + delta) & 0xff;
  else if (width === 2) view.setUint16(at, (view.getUint16(at, little) + delta) & 0xffff, little);
  else view.setUint32(at, (view.getUint32(at, little) + delta) >>> 0, little);
  return out;
};

/** An interesting 16- or 32-bit value, at an offset aligned to its size most of the time. */
const interestingInteger: Mutator = (data, { random }) => {
  const width = random() < 0.3 ? 2 : 4;
  if (data.length < width) return data;
  const out = data.slice();
  const view = new DataView(out.buffer);
  let at = pick(random, out.length - width + 1);
  if (random() < 0.8) at -= at % width;
  const little = random() < 0.8;
  if (width === 2) view.setUint16(at, choose(random, INTERESTING_16), little);
  else view.setUint32(at, choose(random, INTERESTING_32), little);
  return out;
};

const insertBytes: Mutator = (data, { random }) => {
  const at = pick(random, data.length + 1);
  const n = chunkLength(random, 32);
  const bytes = new Uint8Array(n);
  const same = random() < 0.5 ? pick(random, 256) : -1;
  for (let i = 0; i < n; i++) bytes[i] = same >= 0 ? same : pick(random, 256);
  return concat(data.subarray(0, at), bytes, data.subarray(at));
};

const deleteChunk: Mutator = (data, { random }) => {
  if (data.length <= 1) return data;
  const n = chunkLength(random, data.length - 1);
  const at = pick(random, data.length - n + 1);
  return concat(data.subarray(0, at), data.subarray(at + n));
};

/** Copies a chunk and inserts it elsewhere (repeated records, nested structures). */
const duplicateChunk: Mutator = (data, { random }) => {
  if (data.length === 0) return data;
  const n = chunkLength(random, data.length);
  const from = pick(random, data.length - n + 1);
  const chunk = data.slice(from, from + n);
  const times = random() < 0.8 ? 1 : 1 + pick(random, 16);
  const at = random() < 0.5 ? from + n : pick(random, data.length + 1);
  const repeated = concat(...Array.from({ length: times }, () => chunk));
  return concat(data.subarray(0, at), repeated, data.subarray(at));
};

/** Overwrites a chunk with another chunk of the same input. */
const copyChunk: Mutator = (data, { random }) => {
  if (data.length < 2) return data;
  const n = chunkLength(random, data.length >> 1);
  const from = pick(random, data.length - n + 1);
  const to = pick(random, data.length - n + 1);
  const out = data.slice();
  out.copyWithin(to, from, from + n);
  return out;
};

/** Crossover: the head of this input and the tail of another, or a chunk of it inserted. */
const splice: Mutator = (data, { random, corpus }) => {
  if (corpus.length === 0) return data;
  const other = choose(random, corpus);
  if (other.length === 0) return data;
  if (random() < 0.5) {
    return concat(data.subarray(0, pick(random, data.length + 1)), other.subarray(pick(random, other.length)));
  }
  const n = chunkLength(random, other.length);
  const from = pick(random, other.length - n + 1);
  const at = pick(random, data.length + 1);
  return concat(data.subarray(0, at), other.subarray(from, from + n), data.subarray(at));
};

const dictionaryToken: Mutator = (data, { random, dictionary }) => {
  if (dictionary.length === 0) return data;
  const token = choose(random, dictionary);
  const at = pick(random, data.length + 1);
  if (random() < 0.5) return concat(data.subarray(0, at), token, data.subarray(at));
  const out = data.slice();
  out.set(token.subarray(0, Math.max(0, out.length - at)), at);
  return out;
};

const truncate: Mutator = (data, { random }) => data.slice(0, pick(random, data.length + 1));

/** Splits text into lines, keeping each line's `\n`. */
function lines(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 10) {
      out.push(data.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

/** Deletes, duplicates, swaps or borrows (from another input) whole lines. */
const lineMutation: Mutator = (data, { random, corpus }) => {
  const all = lines(data);
  if (all.length === 0) return data;
  const i = pick(random, all.length);
  switch (pick(random, 4)) {
    case 0:
      all.splice(i, 1);
      break;
    case 1:
      all.splice(i, 0, all[i]);
      break;
    case 2: {
      const j = pick(random, all.length);
      [all[i], all[j]] = [all[j], all[i]];
      break;
    }
    default: {
      const donor = corpus.length > 0 ? lines(choose(random, corpus)) : [];
      if (donor.length > 0) all.splice(i, 0, choose(random, donor));
    }
  }
  return concat(...all);
};

function isHexDigit(byte: number): boolean {
  return (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102);
}

/** Replaces a run of hex digits (a number in text) at or after a random place with an interesting number. */
const textNumber: Mutator = (data, { random }) => {
  let start = pick(random, data.length);
  while (start < data.length && !isHexDigit(data[start])) start++;
  if (start >= data.length) return data;
  while (start > 0 && isHexDigit(data[start - 1])) start--;
  let end = start;
  while (end < data.length && isHexDigit(data[end])) end++;
  return concat(data.subarray(0, start), encoder.encode(choose(random, INTERESTING_TEXT)), data.subarray(end));
};

const BINARY: readonly Mutator[] = [flipBit, setByte, arithmetic, interestingInteger, interestingInteger, insertBytes, deleteChunk, duplicateChunk, copyChunk, splice, dictionaryToken, dictionaryToken, truncate];
const TEXT: readonly Mutator[] = [...BINARY, lineMutation, lineMutation, textNumber, textNumber, dictionaryToken];

/** A parent with a stack of 1 to 8 mutations, kept within `maxLength`. */
export function mutate(parent: Uint8Array, ctx: MutationContext): Uint8Array {
  const mutators = ctx.text ? TEXT : BINARY;
  let data = parent;
  const rounds = 1 << pick(ctx.random, 4);
  for (let r = 0; r < rounds; r++) {
    if (ctx.custom && ctx.custom.length > 0 && ctx.random() < 0.2) data = choose(ctx.random, ctx.custom)(data, ctx.random);
    else data = choose(ctx.random, mutators)(data, ctx);
  }
  return data.length > ctx.maxLength ? data.slice(0, ctx.maxLength) : data;
}

/** Dictionary entries as bytes: strings as UTF-8. */
export function dictionaryBytes(tokens: readonly (string | Uint8Array)[]): Uint8Array[] {
  return tokens.map((t) => (typeof t === 'string' ? encoder.encode(t) : t));
}
