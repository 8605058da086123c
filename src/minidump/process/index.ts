/** Processing a read minidump: walk every thread, symbolize, collect module status. */
export { processMinidump, type ProcessOptions, type ProcessState, type ProcessedThread, type SymbolStatus } from './process.js';
export { reportFrames, type ReportFrame } from './frames.js';
export { MemoizedSymbols, noSymbols } from './symbol-source.js';
