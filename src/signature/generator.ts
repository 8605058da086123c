/**
 * Signature generation, start to end: the crashing thread's frames are normalised and
 * walked with the lists (`frame-walk.ts`), then the special cases adjust the result, in
 * Socorro's pipeline order: frames, then stack overflow and hang markers, stackwalker
 * error on empty signatures, OOM, abort message, and last whitespace and length.
 *
 * Never throws on any input: a signature is always produced, if only an `EMPTY: ...` one.
 */
import { walkFrames } from './frame-walk.js';
import type { SignatureInput } from './input.js';
import type { SignatureLists } from './lists.js';
import { expandInlines, normalizeFrame, type NormalizedFrame } from './normalize.js';
import { abortSignature, oomEvidence, oomSignature, stackOverflowEvidence } from './special-cases.js';
import { fixSignatureWhitespace, printableOnly, truncateSignature } from './text.js';

/** Frames looked at, inline frames included (Socorro's `MAXIMUM_FRAMES_TO_CONSIDER`). */
export const MAX_FRAMES_CONSIDERED = 40;

export const EMPTY_NO_CRASHING_THREAD = 'EMPTY: no crashing thread identified';
export const EMPTY_NO_FRAMES = 'EMPTY: no frame data available';

export interface SignatureResult {
  /** At most 255 printable characters. */
  readonly signature: string;
  /** Every considered frame, normalised, joined with ` | ` ('' without frames). */
  readonly protoSignature: string;
  /** How the signature was made: one line per frame and per special case. */
  readonly debug: readonly string[];
  /** What an operator should know (why a signature is empty, that it was truncated). */
  readonly notes: readonly string[];
}

/** The considered frames, normalised, with printable text only. */
export function normalizedFrames(input: SignatureInput, lists: SignatureLists): NormalizedFrame[] {
  return expandInlines(input.frames ?? [])
    .slice(0, MAX_FRAMES_CONSIDERED)
    .map(({ frame, inline }) => {
      const normalized = normalizeFrame(frame, lists.lineNumber, inline);
      const text = printableOnly(normalized.text).replace(/ {2,}/g, ' ').trim();
      return { ...normalized, text: text === '' ? '@?' : text };
    });
}

export function generateSignature(input: SignatureInput, lists: SignatureLists): SignatureResult {
  const debug: string[] = [];
  const notes: string[] = [];
  const frames = normalizedFrames(input, lists);
  const texts = frames.map((f) => f.text);

  let signature: string;
  if (input.crashingThread === null) {
    signature = EMPTY_NO_CRASHING_THREAD;
    notes.push('no signature from frames: the dump does not say which thread crashed');
    debug.push(`no crashing thread: "${signature}"`);
  } else if (frames.length === 0) {
    signature = EMPTY_NO_FRAMES;
    notes.push(`no signature from frames: the crashing thread (${input.crashingThread}) has no frames`);
    debug.push(`crashing thread ${input.crashingThread} has no frames: "${signature}"`);
  } else {
    const walk = walkFrames(frames, lists);
    debug.push(...walk.debug);
    if (walk.parts.length > 0) {
      signature = walk.parts.join(' | ');
    } else {
      signature = frames[walk.start].text;
      notes.push('every frame of the crashing thread is irrelevant; the signature is its first frame');
      debug.push(`every frame is irrelevant: using frame ${walk.start} "${signature}"`);
    }
  }

  const overflow = stackOverflowEvidence(input.reason, input.address, input.stackPointer, input.instructionPointer);
  if (overflow && !signature.startsWith('EMPTY')) {
    signature = `stack overflow | ${signature}`;
    debug.push(`stack overflow (${overflow}): prepended "stack overflow"`);
  }
  if (input.hang) {
    signature = `hang | ${signature}`;
    debug.push('the client reported a hang: prepended "hang"');
  }
  if (signature.startsWith('EMPTY') && input.stackwalkerStatus && input.stackwalkerStatus !== 'OK') {
    signature = `${signature}; ${input.stackwalkerStatus}`;
    debug.push(`empty signature: appended the stackwalker status "${input.stackwalkerStatus}"`);
  }
  const oom = oomEvidence(texts, input.oomAllocationSize, input.lastErrorValue);
  if (oom) {
    signature = oomSignature(oom, signature);
    debug.push(`out of memory (${oom.because}): "${signature}"`);
  }
  if (input.abortMessage) {
    signature = abortSignature(input.abortMessage, signature);
    debug.push(`abort message: "${signature}"`);
  }

  const fixed = fixSignatureWhitespace(signature);
  if (fixed !== signature) debug.push('fixed whitespace and dropped characters that do not print');
  const truncated = truncateSignature(fixed === '' ? EMPTY_NO_FRAMES : fixed);
  if (truncated.truncated) {
    notes.push('signature truncated to 255 characters');
    debug.push('longer than 255 characters: truncated');
  }
  return { signature: truncated.text, protoSignature: texts.join(' | '), debug, notes };
}
