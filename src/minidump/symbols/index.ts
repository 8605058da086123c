/** Breakpad symbol files: parsing, lookup, and a memory-bounded cache of parsed modules. */
export { parseSymbolFile, formatSymbolParseError, MAX_REPORTED_ERRORS } from './parse-symbol-file.js';
export type { ParseSymbolFileOptions } from './parse-symbol-file.js';
export type {
  ParsedSymbolFile,
  CorruptSymbolFile,
  SymbolFileParseResult,
  SymbolFileModule,
  SymbolParseError,
} from './parse-symbol-file.js';
export { BreakpadModuleSymbols } from './breakpad-symbols.js';
export { applyCfiRules } from './cfi-rules.js';
export { SymbolCache } from './symbol-cache.js';
export type { SymbolCacheOptions, SymbolCacheStats, SymbolLoader } from './symbol-cache.js';
export { SymbolFileValidator, DEFAULT_MAX_LINE_BYTES, type SymbolFileValidation, type SymbolFileValidatorOptions } from './symbol-file-validator.js';
