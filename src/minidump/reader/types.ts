/**
 * The shape of a parsed minidump. Plain data (readonly objects, arrays, maps, bigints)
 * plus a few lookup methods on `Minidump` itself; nothing here refers back to the bytes
 * except the `Uint8Array` views of captured memory.
 *
 * Numbers: 32-bit fields are `number`; 64-bit fields and every address are `bigint`.
 */
import type { CodeModule, Cpu, CpuContext, MemoryReader, MemoryRegion } from '../contracts.js';

export interface MinidumpHeader {
  readonly signature: number;
  readonly version: number;
  readonly streamCount: number;
  readonly streamDirectoryRva: number;
  readonly checksum: number;
  /** Seconds since the epoch, when the dump was written. */
  readonly timestamp: number;
  readonly flags: bigint;
}

export interface StreamDirectoryEntry {
  readonly type: number;
  /** Breakpad's name for the type, e.g. `MD_THREAD_LIST_STREAM`, or `unknown`. */
  readonly typeName: string;
  readonly size: number;
  readonly offset: number;
}

export interface SystemInfo {
  /** The contracts' CPU family; `unknown` for anything the stack walker cannot handle. */
  readonly cpu: Cpu;
  /** Raw `processor_architecture` (`MDCPUArchitecture`). */
  readonly processorArchitecture: number;
  readonly processorLevel: number;
  readonly processorRevision: number;
  readonly cpuCount: number;
  readonly productType: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly buildNumber: number;
  readonly platformId: number;
  readonly suiteMask: number;
  /** OS name as `minidump_stackwalk` prints it: `Windows NT`, `Linux`, `Mac OS X`, `0x00001234`... */
  readonly os: string;
  /** Breakpad's short OS name (`windows`, `linux`, `mac`, `ios`, `android`...; `` when unknown). */
  readonly osShort: string;
  /** `major.minor.build` plus ` ` + CSD version when that string could be read. */
  readonly osVersion: string;
  /** The CSD version string (Windows service pack; Linux `uname` text), if readable. */
  readonly csdVersion: string | undefined;
  /** CPU name as `minidump_stackwalk` prints it: `amd64`, `x86`, `arm64`, `arm`, `ppc`, `0x1234`... */
  readonly cpuName: string;
  /** CPU details as `minidump_stackwalk` prints them (`GenuineIntel family 6 model 23 stepping 10`). */
  readonly cpuInfo: string;
  /** x86 vendor id (`GenuineIntel`), only for x86 architecture as in Breakpad. */
  readonly cpuVendor: string | undefined;
  /** x86: version_information, feature_information, amd_extended_cpu_features. */
  readonly x86CpuInfo?: {
    readonly vendorId: readonly [number, number, number];
    readonly versionInformation: number;
    readonly featureInformation: number;
    readonly amdExtendedCpuFeatures: number;
  };
  /** arm: MIDR (`cpuid`) and ELF hwcaps. */
  readonly armCpuInfo?: { readonly cpuid: number; readonly elfHwcaps: number };
  /** Other CPUs: the two 64-bit processor feature words. */
  readonly processorFeatures?: readonly [bigint, bigint];
}

export interface MiscInfo {
  readonly sizeOfInfo: number;
  readonly flags1: number;
  readonly processId?: number;
  readonly processCreateTime?: number;
  readonly processUserTime?: number;
  readonly processKernelTime?: number;
  readonly processorMaxMhz?: number;
  readonly processorCurrentMhz?: number;
  readonly processorMhzLimit?: number;
  readonly processorMaxIdleState?: number;
  readonly processorCurrentIdleState?: number;
  readonly processIntegrityLevel?: number;
  readonly processExecuteFlags?: number;
  readonly protectedProcess?: number;
  readonly timeZoneId?: number;
  readonly timeZoneBias?: number;
  readonly timeZoneStandardName?: string;
  readonly timeZoneDaylightName?: string;
  readonly buildString?: string;
  readonly debugBuildString?: string;
}

/** Raw CPU flavour of a context, finer than `Cpu` (distinguishes the old Breakpad arm64 layout). */
export type ContextKind =
  | 'amd64'
  | 'x86'
  | 'arm64'
  | 'arm64-old'
  | 'arm'
  | 'ppc'
  | 'ppc64'
  | 'sparc'
  | 'mips'
  | 'riscv'
  | 'riscv64'
  | 'unknown';

/**
 * A thread's register state. `registers` holds the general-purpose registers under the
 * contracts' names; `raw` holds every other integer field of the raw structure that
 * output code may print (segment registers, `eflags`/`cpsr`, debug registers, `fpcr`...).
 */
export interface ThreadContext extends CpuContext {
  readonly kind: ContextKind;
  readonly contextFlags: number;
  readonly raw: ReadonlyMap<string, bigint>;
  /** Size of the raw structure as the dump declared it. */
  readonly size: number;
  /** The instruction pointer (`rip`/`eip`/`pc`), if the CPU is known. */
  readonly instructionPointer: bigint | undefined;
  /** The stack pointer (`rsp`/`esp`/`sp`), if the CPU is known. */
  readonly stackPointer: bigint | undefined;
}

export interface MinidumpThread {
  readonly threadId: number;
  readonly suspendCount: number;
  readonly priorityClass: number;
  readonly priority: number;
  readonly teb: bigint;
  /** Start and declared size of the stack memory, even when its bytes are missing. */
  readonly stackStart: bigint;
  readonly stackSize: number;
  readonly stackRva: number;
  /** Captured stack bytes (possibly cut short if the dump is truncated). */
  readonly stack: MemoryRegion | undefined;
  readonly context: ThreadContext | undefined;
  /** From the thread name list stream, when present. */
  readonly name: string | undefined;
}

export type CodeViewFormat = 'pdb70' | 'pdb20' | 'elf' | 'unknown' | 'none';

export interface MinidumpModule extends CodeModule {
  /**
   * Breakpad's `debug_file()` before path stripping: the PDB path as recorded, or the
   * full code file for ELF. `debugFile` is its base name (what symbol stores use).
   */
  readonly rawDebugFile: string;
  readonly checksum: number;
  readonly timeDateStamp: number;
  readonly versionInfo: {
    readonly signature: number;
    readonly structVersion: number;
    readonly fileVersionHi: number;
    readonly fileVersionLo: number;
    readonly productVersionHi: number;
    readonly productVersionLo: number;
    readonly fileFlagsMask: number;
    readonly fileFlags: number;
    readonly fileOs: number;
    readonly fileType: number;
    readonly fileSubtype: number;
    readonly fileDateHi: number;
    readonly fileDateLo: number;
  };
  readonly cvFormat: CodeViewFormat;
  /** The raw CodeView record (empty when absent or unreadable). */
  readonly cvRecord: Uint8Array;
  /** ELF build id bytes from a `BpEL` record. */
  readonly buildId?: Uint8Array;
  /** PDB70: the GUID as Breakpad prints it (`7b7d1968-ff0d-47ae-4366-e9c3a7e1b675`). */
  readonly pdbGuid?: string;
  readonly pdbAge?: number;
  /** PDB20 signature (a timestamp). */
  readonly pdbSignature?: number;
  /** Debug file name carried by a miscellaneous (IMAGE_DEBUG_MISC) record. */
  readonly miscDebugFile?: string;
  /** Index in the module list stream. */
  readonly index: number;
}

export interface UnloadedModule {
  readonly base: bigint;
  readonly size: bigint;
  readonly checksum: number;
  readonly timeDateStamp: number;
  readonly codeFile: string;
  /** Windows code identifier (`%08X%x` of timestamp and size), as Breakpad derives it. */
  readonly codeId: string;
}

export interface ExceptionInfo {
  readonly threadId: number;
  readonly code: number;
  readonly flags: number;
  readonly record: bigint;
  readonly address: bigint;
  readonly numberParameters: number;
  /** The first `min(numberParameters, 15)` parameters. */
  readonly parameters: readonly bigint[];
  readonly context: ThreadContext | undefined;
}

export interface CrashReason {
  /** As `minidump_stackwalk` prints it: `EXCEPTION_ACCESS_VIOLATION_READ`, `SIGSEGV /SEGV_MAPERR`... */
  readonly reason: string;
  /** The crash address after Breakpad's rules (AV parameter, 32-bit masking). */
  readonly address: bigint;
}

export interface MemoryInfo {
  readonly baseAddress: bigint;
  readonly allocationBase: bigint;
  readonly allocationProtection: number;
  readonly regionSize: bigint;
  readonly state: number;
  readonly protection: number;
  readonly type: number;
}

/** One line of `/proc/PID/maps`. */
export interface LinuxMapping {
  readonly start: bigint;
  readonly end: bigint;
  /** `rwxp` / `r--s` as the kernel prints it. */
  readonly permissions: string;
  readonly offset: bigint;
  readonly device: string;
  readonly inode: bigint;
  readonly path: string;
}

export interface LinkMapEntry {
  readonly addr: bigint;
  readonly name: string | undefined;
  readonly ld: bigint;
}

export interface DsoDebug {
  readonly version: number;
  readonly mapRva: number;
  readonly dsoCount: number;
  readonly brk: bigint;
  readonly ldbase: bigint;
  readonly dynamic: bigint;
  readonly linkMap: readonly LinkMapEntry[];
}

export interface LinuxStreams {
  readonly cpuInfo?: string;
  readonly procStatus?: string;
  readonly lsbRelease?: string;
  /** Command line arguments (NUL-separated in the dump). */
  readonly cmdLine?: readonly string[];
  /** `KEY=VALUE` strings (NUL-separated in the dump). */
  readonly environ?: readonly string[];
  /** Auxiliary vector as (type, value) pairs; word size follows the CPU. */
  readonly auxv?: ReadonlyArray<readonly [bigint, bigint]>;
  readonly maps?: readonly LinuxMapping[];
  readonly dsoDebug?: DsoDebug;
}

export interface BreakpadInfo {
  readonly validity: number;
  readonly dumpThreadId: number | undefined;
  readonly requestingThreadId: number | undefined;
}

export interface AssertionInfo {
  readonly expression: string;
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly type: number;
}

export interface CrashpadAnnotation {
  readonly name: string;
  readonly type: number;
  readonly value: Uint8Array;
}

export interface CrashpadModuleInfo {
  readonly moduleIndex: number;
  readonly version: number;
  readonly listAnnotations: readonly string[];
  readonly simpleAnnotations: ReadonlyMap<string, string>;
  readonly annotationObjects: readonly CrashpadAnnotation[];
}

export interface CrashpadInfo {
  readonly version: number;
  /** GUIDs as lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
  readonly reportId: string;
  readonly clientId: string;
  readonly simpleAnnotations: ReadonlyMap<string, string>;
  readonly moduleList: readonly CrashpadModuleInfo[];
  readonly addressMask: bigint;
}

export interface HandleDescriptor {
  readonly handle: bigint;
  readonly typeName: string | undefined;
  readonly objectName: string | undefined;
  readonly attributes: number;
  readonly grantedAccess: number;
  readonly handleCount: number;
  readonly pointerCount: number;
}

export interface Minidump {
  /** Absent only when the file is too short or not a minidump. */
  readonly header: MinidumpHeader | undefined;
  readonly directory: readonly StreamDirectoryEntry[];
  readonly systemInfo: SystemInfo | undefined;
  readonly miscInfo: MiscInfo | undefined;
  readonly threads: readonly MinidumpThread[];
  /** Thread names by thread id. */
  readonly threadNames: ReadonlyMap<number, string>;
  readonly modules: readonly MinidumpModule[];
  readonly unloadedModules: readonly UnloadedModule[];
  readonly exception: ExceptionInfo | undefined;
  /** Decoded from the exception stream and system info; absent without an exception. */
  readonly crashReason: CrashReason | undefined;
  /** Regions of the MemoryList stream, in stream order. */
  readonly memoryList: readonly MemoryRegion[];
  /** Regions of the Memory64List stream, in stream order. */
  readonly memory64List: readonly MemoryRegion[];
  /** All captured memory (MemoryList, Memory64List, and thread stacks), queryable by address. */
  readonly memory: MemoryReader;
  readonly memoryInfo: readonly MemoryInfo[];
  readonly linux: LinuxStreams;
  readonly breakpadInfo: BreakpadInfo | undefined;
  readonly crashpadInfo: CrashpadInfo | undefined;
  readonly assertion: AssertionInfo | undefined;
  readonly handles: readonly HandleDescriptor[];
  /**
   * The CPU of the dump: from system info, or, when that is missing or unknown, from the
   * first thread context whose size or flags identify one.
   */
  readonly cpu: Cpu;
  /** Every problem met while reading, each naming the stream and what was wrong. */
  readonly errors: readonly string[];

  /** The thread that crashed (exception stream) or asked for the dump (Breakpad info). */
  crashingThread(): MinidumpThread | undefined;
  /** Index of `crashingThread()` in `threads`, or -1. */
  crashingThreadIndex(): number;
  /** Context to start walking the crashing thread from: the exception's, else the thread's. */
  crashingContext(): ThreadContext | undefined;
  /** The module whose `[base, base + size)` holds `address`. */
  moduleForAddress(address: bigint): MinidumpModule | undefined;
  /** The main executable: Breakpad takes the first module of the list. */
  mainModule(): MinidumpModule | undefined;
  threadById(threadId: number): MinidumpThread | undefined;
}
