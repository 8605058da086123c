/**
 * Processes a read minidump into a `ProcessState`: every thread walked and symbolized,
 * the crashing (or dump-requesting) thread identified, module symbol status collected.
 * Follows Breakpad's `MinidumpProcessor::Process`:
 * - the thread that wrote the dump (Breakpad info `dump_thread_id`) is left out, so thread
 *   indices count the remaining threads;
 * - the requesting thread is the exception's thread, else Breakpad info's
 *   `requesting_thread_id`; when the process crashed, it is walked from the exception's
 *   context (the thread's own context shows the exception handler instead);
 * - a thread without stack memory in its descriptor uses the memory-list region holding
 *   its stack start; without any stack memory only the context frame is produced.
 * Never throws on a bad dump: problems land in `errors`.
 */
import type { CodeModule, MemoryRegion, SymbolSupplier } from '../contracts.js';
import type { Minidump, MinidumpThread, SystemInfo, UnloadedModule } from '../reader/types.js';
import type { SymbolSource } from '../unwind/frame.js';
import { ModuleIndex } from '../unwind/modules.js';
import { regionMemory } from '../unwind/region-memory.js';
import { walkStack, type SymbolizedFrame, type WalkLimits } from '../unwind/walk.js';
import { reportFrames, type ReportFrame } from './frames.js';
import { firstRegionsHolding } from './stack-regions.js';
import { MemoizedSymbols } from './symbol-source.js';

export interface ProcessOptions extends WalkLimits {
  /** Share a memo across dumps; by default each call memoizes `supplier` on its own. */
  readonly symbolSource?: SymbolSource;
}

export interface ProcessedThread {
  readonly threadId: number;
  readonly name: string | undefined;
  /** Physical frames as walked. */
  readonly walked: readonly SymbolizedFrame[];
  /** Frames as reports show them: inline frames expanded, innermost first. */
  readonly frames: readonly ReportFrame[];
  readonly truncated: boolean;
}

export type SymbolStatus = 'loaded' | 'missing' | 'corrupt';

export interface ProcessState {
  readonly systemInfo: SystemInfo | undefined;
  readonly crashed: boolean;
  readonly crashReason: string | undefined;
  readonly crashAddress: bigint | undefined;
  readonly assertion: string | undefined;
  /** Index in `threads` of the crashing or dump-requesting thread, or -1. */
  readonly requestingThread: number;
  readonly threads: readonly ProcessedThread[];
  /** Modules sorted by address (overlapping ones dropped, as Breakpad does). */
  readonly modules: ModuleIndex;
  readonly mainModule: CodeModule | undefined;
  readonly unloadedModules: readonly UnloadedModule[];
  /** Symbol status of every module a frame landed in, in the order first met. */
  readonly symbolStatus: ReadonlyMap<CodeModule, SymbolStatus>;
  readonly timeDateStamp: number | undefined;
  readonly processCreateTime: number | undefined;
  readonly dump: Minidump;
  /** The reader's problems and the processor's: empty for a clean dump. */
  readonly errors: readonly string[];
  /** Breakpad would refuse this dump (e.g. no thread list): the state is best effort. */
  readonly fatal: string | undefined;
}

const THREAD_LIST_STREAM = 3;

function unloadedAsModules(list: readonly UnloadedModule[]): CodeModule[] {
  return list.map((m) => ({ base: m.base, size: m.size, codeFile: m.codeFile, codeId: m.codeId, debugFile: '', debugId: '', version: '' }));
}

/** A thread's own stack bytes, else the first memory list region holding its stack start. */
function stackRegionOf(thread: MinidumpThread, memoryListStacks: ReadonlyMap<bigint, MemoryRegion>): MemoryRegion | undefined {
  if (thread.stack && thread.stack.bytes.length > 0) return thread.stack;
  if (thread.stackStart === 0n) return undefined;
  return memoryListStacks.get(thread.stackStart);
}

export async function processMinidump(dump: Minidump, supplier: SymbolSupplier, options: ProcessOptions = {}): Promise<ProcessState> {
  const errors = [...dump.errors];
  let fatal: string | undefined;
  const symbols = options.symbolSource ?? new MemoizedSymbols(supplier);
  const modules = new ModuleIndex(dump.modules);
  const unloaded = new ModuleIndex(unloadedAsModules(dump.unloadedModules));
  const osShort = dump.systemInfo?.osShort ?? '';

  if (!dump.header) fatal = 'not a minidump (no valid header)';
  else if (!dump.directory.some((d) => d.type === THREAD_LIST_STREAM)) fatal = 'no thread list stream';

  const dumpThreadId = dump.breakpadInfo?.dumpThreadId;
  let requestingThreadId = dump.breakpadInfo?.requestingThreadId;
  const crashed = dump.exception !== undefined;
  if (dump.exception) requestingThreadId = dump.exception.threadId;

  const threads: ProcessedThread[] = [];
  const symbolStatus = new Map<CodeModule, SymbolStatus>();
  const withoutStack = dump.threads.filter((t) => !(t.stack && t.stack.bytes.length > 0) && t.stackStart !== 0n);
  const memoryListStacks = firstRegionsHolding(dump.memoryList, withoutStack.map((t) => t.stackStart));
  let requestingThread = -1;
  for (const thread of dump.threads) {
    if (dumpThreadId !== undefined && thread.threadId === dumpThreadId) continue;
    let context = thread.context;
    if (requestingThreadId !== undefined && thread.threadId === requestingThreadId) {
      if (requestingThread !== -1) {
        errors.push(`duplicate requesting thread ${thread.threadId}`);
        fatal ??= 'duplicate requesting thread';
      } else {
        requestingThread = threads.length;
        if (crashed) context = dump.exception?.context ?? thread.context;
      }
    }
    const region = stackRegionOf(thread, memoryListStacks);
    if (!region) errors.push(`thread ${thread.threadId}: no stack memory`);
    let walked: SymbolizedFrame[] = [];
    let truncated = false;
    if (context && context.cpu !== 'unknown') {
      const env = { wordSize: context.cpu === 'amd64' || context.cpu === 'arm64' ? 8 : 4, stack: regionMemory(region), modules, unloadedModules: unloaded, symbols, osShort } as const;
      // Without stack memory Breakpad produces the context frame only.
      const limits = region ? options : { ...options, maxFrames: 1 };
      const result = await walkStack(context, env, limits);
      if (result.timedOut) {
        errors.push(`time limit exceeded while walking thread ${thread.threadId}`);
        fatal ??= 'time limit exceeded';
      }
      walked = result.frames;
      truncated = region ? result.truncated : false;
    } else if (!context) {
      errors.push(`thread ${thread.threadId}: no context`);
    }
    for (const frame of walked) {
      if (!frame.module || frame.moduleIsUnloaded || symbolStatus.has(frame.module)) continue;
      const result = await symbols.get(frame.module);
      symbolStatus.set(frame.module, result.status === 'loaded' && result.symbols.corrupt ? 'corrupt' : result.status);
    }
    threads.push({ threadId: thread.threadId, name: thread.name, walked, frames: walked.flatMap(reportFrames), truncated });
  }
  if (requestingThreadId !== undefined && requestingThread === -1 && dump.threads.length > 0) {
    errors.push(`requesting thread ${requestingThreadId} not found`);
  }
  if (symbols instanceof MemoizedSymbols) errors.push(...symbols.errors);

  return {
    systemInfo: dump.systemInfo,
    crashed,
    crashReason: dump.crashReason?.reason,
    crashAddress: dump.crashReason?.address,
    assertion: assertionText(dump),
    requestingThread,
    threads,
    modules,
    mainModule: modules.main,
    unloadedModules: dump.unloadedModules,
    symbolStatus,
    timeDateStamp: dump.header?.timestamp,
    processCreateTime: dump.miscInfo?.processCreateTime,
    dump,
    errors,
    fatal,
  };
}

/** Breakpad `GetAssertion`: a sentence for the assertion stream, if any. */
function assertionText(dump: Minidump): string | undefined {
  const a = dump.assertion;
  if (!a) return undefined;
  const kinds: Record<number, string> = {
    1: 'Invalid parameter passed to library function',
    2: 'Pure virtual function called',
  };
  let text = kinds[a.type] ?? `Unknown assertion type 0x${a.type.toString(16).padStart(8, '0')}`;
  if (a.function || a.file || a.expression) {
    text += ` ${a.expression} in function ${a.function}, in file ${a.file} at line ${a.line}`;
  }
  return text;
}
