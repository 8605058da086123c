/**
 * Crash signature generation (Socorro's `socorro/signature`, for native C/C++/Rust
 * applications): pure, no I/O. The caller hands in the lists' text and the crash;
 * `docs/signatures.md` explains the algorithm and the lists.
 */
export { generateSignature, normalizedFrames, MAX_FRAMES_CONSIDERED, EMPTY_NO_CRASHING_THREAD, EMPTY_NO_FRAMES, type SignatureResult } from './generator.js';
export { signatureInputFromCrash, frameFromJson, type SignatureInput } from './input.js';
export {
  compileSignatureLists,
  emptySignatureLists,
  parseSignatureList,
  signatureListFile,
  SignatureList,
  SignatureListError,
  SIGNATURE_LIST_NAMES,
  type SignatureListEntry,
  type SignatureListName,
  type SignatureLists,
  type SignatureListTexts,
} from './lists.js';
export { normalizeFrame, normalizeCppFunction, normalizeRustFunction, expandInlines, type NormalizedFrame, type StackFrameInput, type FrameKind } from './normalize.js';
export { walkFrames, type FrameWalkResult } from './frame-walk.js';
export { abortMessagePart, oomEvidence, stackOverflowEvidence, OOM_FRAME_PATTERNS, OOM_SMALL_LIMIT } from './special-cases.js';
export { SIGNATURE_MAX_LENGTH, fixSignatureWhitespace, truncateSignature } from './text.js';
