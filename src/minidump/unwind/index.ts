/** Stack unwinding: one unwinder per CPU, CFI and `STACK WIN` evaluation, scanning. */
export { PostfixEvaluator, lookupIdentifier, type Dictionary, type WordSize } from './postfix.js';
export { findCallerRegisters, type RecoveredRegisters } from './cfi.js';
export { ModuleIndex } from './modules.js';
export { regionMemory } from './region-memory.js';
export {
  instructionSeemsValid,
  scanForReturnAddress,
  shouldTerminate,
  RA_SEARCH_WORDS,
  type FrameTrust,
  type SymbolSource,
  type WalkEnv,
  type WalkedFrame,
} from './frame.js';
export type { Unwinder } from './unwinder.js';
export { amd64Unwinder } from './amd64.js';
export { x86Unwinder } from './x86.js';
export { arm64Unwinder, stripPointerAuth } from './arm64.js';
export { armUnwinder } from './arm.js';
export { walkStack, symbolizeFrame, unwinderFor, DEFAULT_MAX_FRAMES, type SymbolizedFrame, type WalkLimits, type WalkResult } from './walk.js';
