/**
 * The heart of signature generation: walking the normalised frames with the lists, as
 * Socorro's `CSignatureTool.generate` does.
 *
 * 1. The first frame matching the sentinel list, if any, starts the walk; the frames
 *    above it (signal delivery, abort machinery, crash handlers) are dropped.
 * 2. Frames matching the irrelevant list are skipped.
 * 3. A frame matching the prefix list is kept and the walk goes on, so that it is
 *    combined with the next relevant frame (`memcpy | caller`).
 * 4. The first kept frame that is not a prefix ends the signature.
 *
 * A prefix frame without symbols (`libc.so.6@0x8aeec`) is kept as its module name alone,
 * and the module-only frames after it in the same module are collapsed into it: which
 * offsets a crash passes through inside a system library changes with every build of
 * that library, the library does not.
 */
import type { FrameMatchKind, SignatureList, SignatureLists } from './lists.js';
import type { NormalizedFrame } from './normalize.js';

export interface FrameWalkResult {
  /** The signature's frames, in order; empty when every frame was irrelevant. */
  readonly parts: readonly string[];
  /** Index of the first frame walked (the sentinel's, or 0). */
  readonly start: number;
  /** One line per frame looked at, and why it was kept, skipped or combined. */
  readonly debug: readonly string[];
}

/** What a frame is for `function:` and `module:` list entries. */
export function matchKind(frame: NormalizedFrame): FrameMatchKind {
  if (frame.kind === 'function') return 'function';
  return frame.kind === 'module-offset' || frame.kind === 'unloaded' ? 'module' : 'other';
}

function where(list: SignatureList, frame: NormalizedFrame): string | undefined {
  const entry = list.match(frame.text, matchKind(frame));
  return entry ? list.describe(entry) : undefined;
}

function label(index: number, frame: NormalizedFrame): string {
  return `frame ${index}${frame.inline ? ' (inline)' : ''} "${frame.text}"`;
}

export function walkFrames(frames: readonly NormalizedFrame[], lists: SignatureLists): FrameWalkResult {
  const debug: string[] = [];
  let start = frames.findIndex((f) => lists.sentinel.match(f.text, matchKind(f)) !== undefined);
  if (start >= 0) {
    for (let i = 0; i < start; i++) debug.push(`${label(i, frames[i])}: dropped, above the sentinel frame ${start}`);
    debug.push(`${label(start, frames[start])}: sentinel (${where(lists.sentinel, frames[start])}): the signature starts here`);
  } else {
    start = 0;
  }

  const parts: string[] = [];
  /** The module of the last kept frame when it was a module-only prefix frame. */
  let collapsingModule: string | undefined;
  let collapsingIndex = -1;
  let ended = -1;
  for (let i = start; i < frames.length; i++) {
    const frame = frames[i];
    const irrelevant = where(lists.irrelevant, frame);
    if (irrelevant) {
      debug.push(`${label(i, frame)}: skipped, irrelevant (${irrelevant})`);
      continue;
    }
    if (frame.kind === 'module-offset' && collapsingModule !== undefined && frame.module === collapsingModule) {
      debug.push(`${label(i, frame)}: collapsed into frame ${collapsingIndex} (same module, no symbols)`);
      continue;
    }
    const prefix = where(lists.prefix, frame);
    if (!prefix) {
      parts.push(frame.text);
      debug.push(`${label(i, frame)}: kept; not a prefix, so the signature ends here`);
      ended = i;
      break;
    }
    if (frame.kind === 'module-offset' && frame.module !== undefined) {
      parts.push(frame.module);
      collapsingModule = frame.module;
      collapsingIndex = i;
      debug.push(`${label(i, frame)}: prefix (${prefix}): kept as "${frame.module}" and combined with the next frame`);
    } else {
      parts.push(frame.text);
      collapsingModule = undefined;
      debug.push(`${label(i, frame)}: prefix (${prefix}): kept and combined with the next frame`);
    }
  }
  const rest = ended + 1 === frames.length - 1 ? `frame ${ended + 1}` : `frames ${ended + 1}-${frames.length - 1}`;
  if (ended >= 0 && ended + 1 < frames.length) debug.push(`${rest}: not needed, the signature is complete`);
  return { parts, start, debug };
}
