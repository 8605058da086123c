/**
 * The minidump reader: bytes in, a plain `Minidump` document out.
 *
 * `readMinidump` never throws. Every stream is parsed on its own, bounds-checked against
 * both its directory entry and the file; anything wrong (a truncated stream, a count
 * larger than the bytes present, an RVA outside the file, an unknown CPU) is appended to
 * `errors` with the stream's name, and reading carries on with what is left. No loop or
 * allocation is sized by a count before that count has been capped by the bytes that
 * could hold it, so hostile input costs at most time and memory linear in its size.
 *
 * Streams are read in dependency order: system info first (contexts and module code
 * ids depend on the CPU and OS), then thread names (threads carry their name), and the
 * rest. Where a stream type occurs twice the first is used and the duplicate reported
 * (Breakpad refuses such dumps outright).
 */
import type { Cpu, MemoryRegion } from '../contracts.js';
import { Bytes } from './bytes.js';
import { CpuArch, StreamType, streamTypeName } from './constants.js';
import { readAssertionInfo, readBreakpadInfo } from './breakpad-info.js';
import { cpuOfKind } from './context.js';
import { readCrashpadInfo } from './crashpad-info.js';
import { decodeCrashReason } from './crash-reason.js';
import { readException } from './exception.js';
import { readHandleData } from './handle-data.js';
import { readDirectory, readHeader, streamBytes } from './header.js';
import { readAuxv, readDsoDebug, readLinuxMaps, readNulSeparated, readText } from './linux.js';
import { CapturedMemory, readMemory64List, readMemoryInfoList, readMemoryList } from './memory.js';
import { readMiscInfo } from './misc-info.js';
import { readModuleList, readUnloadedModuleList } from './modules.js';
import { Problems } from './problems.js';
import { readSystemInfo } from './system-info.js';
import { readThreadList, readThreadNames } from './threads.js';
import type {
  AssertionInfo,
  BreakpadInfo,
  CrashReason,
  CrashpadInfo,
  ExceptionInfo,
  HandleDescriptor,
  LinuxStreams,
  MemoryInfo,
  Minidump,
  MinidumpHeader,
  MinidumpModule,
  MinidumpThread,
  MiscInfo,
  StreamDirectoryEntry,
  SystemInfo,
  ThreadContext,
  UnloadedModule,
} from './types.js';

export type * from './types.js';
export { decodeCrashReason } from './crash-reason.js';
export { CapturedMemory } from './memory.js';
export { StreamType, CpuArch, Platform, streamTypeName } from './constants.js';

/** Parses a minidump. Never throws; see `Minidump.errors` for what could not be read. */
export function readMinidump(bytes: Uint8Array): Minidump {
  const problems = new Problems();
  try {
    return parse(new Bytes(bytes), problems);
  } catch (error) {
    // Defence in depth: every parser is bounds-checked, so this means a bug in the reader.
    problems.report('reader', `internal error: ${error instanceof Error ? error.message : String(error)}`);
    return assemble(emptyParts(), problems);
  }
}

/** Everything the reader collects before wrapping it in a `Minidump`. */
interface Parts {
  header: MinidumpHeader | undefined;
  directory: StreamDirectoryEntry[];
  systemInfo: SystemInfo | undefined;
  miscInfo: MiscInfo | undefined;
  threads: MinidumpThread[];
  threadNames: Map<number, string>;
  modules: MinidumpModule[];
  unloadedModules: UnloadedModule[];
  exception: ExceptionInfo | undefined;
  memoryList: MemoryRegion[];
  memory64List: MemoryRegion[];
  memoryInfo: MemoryInfo[];
  linux: { -readonly [K in keyof LinuxStreams]: LinuxStreams[K] };
  breakpadInfo: BreakpadInfo | undefined;
  crashpadInfo: CrashpadInfo | undefined;
  assertion: AssertionInfo | undefined;
  handles: HandleDescriptor[];
}

function emptyParts(): Parts {
  return {
    header: undefined,
    directory: [],
    systemInfo: undefined,
    miscInfo: undefined,
    threads: [],
    threadNames: new Map(),
    modules: [],
    unloadedModules: [],
    exception: undefined,
    memoryList: [],
    memory64List: [],
    memoryInfo: [],
    linux: {},
    breakpadInfo: undefined,
    crashpadInfo: undefined,
    assertion: undefined,
    handles: [],
  };
}

function parse(file: Bytes, problems: Problems): Minidump {
  const parts = emptyParts();
  parts.header = readHeader(file, problems);
  if (!parts.header) return assemble(parts, problems);
  parts.directory = readDirectory(file, parts.header, problems);

  const streams = indexStreams(parts.directory, problems);
  /** Runs `read` on the stream of `type`, if present, isolating any failure to that stream. */
  const withStream = (type: number, read: (stream: Bytes) => void): void => {
    const entry = streams.get(type);
    if (!entry) return;
    const where = streamLabel(type);
    try {
      read(streamBytes(file, entry, where, problems));
    } catch (error) {
      problems.report(where, `internal error: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  withStream(StreamType.SYSTEM_INFO, (s) => (parts.systemInfo = readSystemInfo(s, file, problems)));
  const arch = parts.systemInfo?.processorArchitecture;
  const platform = parts.systemInfo?.platformId;

  withStream(StreamType.THREAD_NAME_LIST, (s) => (parts.threadNames = readThreadNames(s, file, problems)));
  withStream(StreamType.THREAD_LIST, (s) => (parts.threads = readThreadList(s, file, arch, parts.threadNames, problems)));
  withStream(StreamType.MODULE_LIST, (s) => (parts.modules = readModuleList(s, file, platform, problems)));
  withStream(StreamType.UNLOADED_MODULE_LIST, (s) => (parts.unloadedModules = readUnloadedModuleList(s, file, problems)));
  withStream(StreamType.MEMORY_LIST, (s) => (parts.memoryList = readMemoryList(s, file, problems)));
  withStream(StreamType.MEMORY_64_LIST, (s) => (parts.memory64List = readMemory64List(s, file, problems)));
  withStream(StreamType.MEMORY_INFO_LIST, (s) => (parts.memoryInfo = readMemoryInfoList(s, problems)));
  withStream(StreamType.EXCEPTION, (s) => (parts.exception = readException(s, file, arch, problems)));
  withStream(StreamType.MISC_INFO, (s) => (parts.miscInfo = readMiscInfo(s, problems)));
  withStream(StreamType.BREAKPAD_INFO, (s) => (parts.breakpadInfo = readBreakpadInfo(s, problems)));
  withStream(StreamType.ASSERTION_INFO, (s) => (parts.assertion = readAssertionInfo(s, problems)));
  withStream(StreamType.CRASHPAD_INFO, (s) => (parts.crashpadInfo = readCrashpadInfo(s, file, problems)));
  withStream(StreamType.HANDLE_DATA, (s) => (parts.handles = readHandleData(s, file, problems)));

  const wordSize = wordSizeOf(dumpCpu(parts), arch);
  withStream(StreamType.LINUX_CPU_INFO, (s) => (parts.linux.cpuInfo = readText(s)));
  withStream(StreamType.LINUX_PROC_STATUS, (s) => (parts.linux.procStatus = readText(s)));
  withStream(StreamType.LINUX_LSB_RELEASE, (s) => (parts.linux.lsbRelease = readText(s)));
  withStream(StreamType.LINUX_CMD_LINE, (s) => (parts.linux.cmdLine = readNulSeparated(s)));
  withStream(StreamType.LINUX_ENVIRON, (s) => (parts.linux.environ = readNulSeparated(s)));
  withStream(StreamType.LINUX_AUXV, (s) => (parts.linux.auxv = readAuxv(s, wordSize, problems)));
  withStream(StreamType.LINUX_MAPS, (s) => (parts.linux.maps = readLinuxMaps(s, problems)));
  withStream(StreamType.LINUX_DSO_DEBUG, (s) => (parts.linux.dsoDebug = readDsoDebug(s, file, wordSize, problems)));

  return assemble(parts, problems);
}

/** Stream types of which a dump may hold several (Breakpad tolerates duplicates of these). */
function indexStreams(directory: readonly StreamDirectoryEntry[], problems: Problems): Map<number, StreamDirectoryEntry> {
  const byType = new Map<number, StreamDirectoryEntry>();
  directory.forEach((entry, index) => {
    if (entry.type === StreamType.UNUSED) return;
    if (byType.has(entry.type)) {
      problems.report(
        'stream directory',
        `duplicate ${streamTypeName(entry.type)} (0x${entry.type.toString(16)}) at index ${index}; using the first`,
      );
      return;
    }
    byType.set(entry.type, entry);
  });
  return byType;
}

/** `ThreadListStream`-style label for error messages. */
function streamLabel(type: number): string {
  const name = streamTypeName(type);
  if (name === 'unknown') return `stream 0x${type.toString(16)}`;
  return name
    .replace(/^MD_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase())
    .replace(/Stream$/, '') + 'Stream';
}

/** The dump's CPU: system info when it names a supported one, else the first context's. */
function dumpCpu(parts: Parts): Cpu {
  if (parts.systemInfo && parts.systemInfo.cpu !== 'unknown') return parts.systemInfo.cpu;
  const contexts = [parts.exception?.context, ...parts.threads.map((t) => t.context)];
  for (const context of contexts) {
    if (context && cpuOfKind(context.kind) !== 'unknown') return context.cpu;
  }
  return 'unknown';
}

function wordSizeOf(cpu: Cpu, arch: number | undefined): 4 | 8 {
  if (cpu === 'x86' || cpu === 'arm') return 4;
  if (cpu === 'amd64' || cpu === 'arm64') return 8;
  return arch === CpuArch.MIPS || arch === CpuArch.PPC || arch === CpuArch.RISCV ? 4 : 8;
}

function assemble(parts: Parts, problems: Problems): Minidump {
  const stacks = parts.threads.flatMap((t) => (t.stack ? [t.stack] : []));
  const memory = new CapturedMemory([...parts.memoryList, ...parts.memory64List, ...stacks]);
  const crashReason: CrashReason | undefined = parts.exception
    ? decodeCrashReason(parts.exception, parts.systemInfo)
    : undefined;
  const threads = parts.threads;
  const modules = parts.modules;
  const sortedModules = [...modules].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  const crashingThreadId = parts.exception?.threadId ?? parts.breakpadInfo?.requestingThreadId;
  const crashingThreadIndex = (): number =>
    crashingThreadId === undefined ? -1 : threads.findIndex((t) => t.threadId === crashingThreadId);

  const dump: Minidump = {
    header: parts.header,
    directory: parts.directory,
    systemInfo: parts.systemInfo,
    miscInfo: parts.miscInfo,
    threads,
    threadNames: parts.threadNames,
    modules,
    unloadedModules: parts.unloadedModules,
    exception: parts.exception,
    crashReason,
    memoryList: parts.memoryList,
    memory64List: parts.memory64List,
    memory,
    memoryInfo: parts.memoryInfo,
    linux: parts.linux,
    breakpadInfo: parts.breakpadInfo,
    crashpadInfo: parts.crashpadInfo,
    assertion: parts.assertion,
    handles: parts.handles,
    cpu: dumpCpu(parts),
    errors: problems.list,
    crashingThreadIndex,
    crashingThread(): MinidumpThread | undefined {
      const index = crashingThreadIndex();
      return index >= 0 ? threads[index] : undefined;
    },
    crashingContext(): ThreadContext | undefined {
      return parts.exception?.context ?? dump.crashingThread()?.context;
    },
    moduleForAddress(address: bigint): MinidumpModule | undefined {
      // Binary search for the last module starting at or below the address.
      let lo = 0;
      let hi = sortedModules.length - 1;
      let found: MinidumpModule | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (sortedModules[mid].base <= address) {
          found = sortedModules[mid];
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found && address < found.base + found.size ? found : undefined;
    },
    mainModule(): MinidumpModule | undefined {
      return modules.find((m) => m.index === 0);
    },
    threadById(threadId: number): MinidumpThread | undefined {
      return threads.find((t) => t.threadId === threadId);
    },
  };
  return dump;
}
