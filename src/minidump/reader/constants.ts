/**
 * Numeric constants of the minidump format (Microsoft's `minidumpapiset.h` plus the
 * Breakpad and Crashpad extensions), with the names Breakpad's tools print.
 */

export const MINIDUMP_SIGNATURE = 0x504d444d; // "MDMP"
export const MINIDUMP_VERSION = 0xa793;

export const StreamType = {
  UNUSED: 0,
  THREAD_LIST: 3,
  MODULE_LIST: 4,
  MEMORY_LIST: 5,
  EXCEPTION: 6,
  SYSTEM_INFO: 7,
  THREAD_EX_LIST: 8,
  MEMORY_64_LIST: 9,
  COMMENT_A: 10,
  COMMENT_W: 11,
  HANDLE_DATA: 12,
  FUNCTION_TABLE: 13,
  UNLOADED_MODULE_LIST: 14,
  MISC_INFO: 15,
  MEMORY_INFO_LIST: 16,
  THREAD_INFO_LIST: 17,
  HANDLE_OPERATION_LIST: 18,
  TOKEN: 19,
  JAVASCRIPT_DATA: 20,
  SYSTEM_MEMORY_INFO: 21,
  PROCESS_VM_COUNTERS: 22,
  THREAD_NAME_LIST: 24,
  BREAKPAD_INFO: 0x47670001,
  ASSERTION_INFO: 0x47670002,
  LINUX_CPU_INFO: 0x47670003,
  LINUX_PROC_STATUS: 0x47670004,
  LINUX_LSB_RELEASE: 0x47670005,
  LINUX_CMD_LINE: 0x47670006,
  LINUX_ENVIRON: 0x47670007,
  LINUX_AUXV: 0x47670008,
  LINUX_MAPS: 0x47670009,
  LINUX_DSO_DEBUG: 0x4767000a,
  CRASHPAD_INFO: 0x43500001,
} as const;

const STREAM_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'MD_UNUSED_STREAM'],
  [1, 'MD_RESERVED_STREAM_0'],
  [2, 'MD_RESERVED_STREAM_1'],
  [3, 'MD_THREAD_LIST_STREAM'],
  [4, 'MD_MODULE_LIST_STREAM'],
  [5, 'MD_MEMORY_LIST_STREAM'],
  [6, 'MD_EXCEPTION_STREAM'],
  [7, 'MD_SYSTEM_INFO_STREAM'],
  [8, 'MD_THREAD_EX_LIST_STREAM'],
  [9, 'MD_MEMORY_64_LIST_STREAM'],
  [10, 'MD_COMMENT_STREAM_A'],
  [11, 'MD_COMMENT_STREAM_W'],
  [12, 'MD_HANDLE_DATA_STREAM'],
  [13, 'MD_FUNCTION_TABLE_STREAM'],
  [14, 'MD_UNLOADED_MODULE_LIST_STREAM'],
  [15, 'MD_MISC_INFO_STREAM'],
  [16, 'MD_MEMORY_INFO_LIST_STREAM'],
  [17, 'MD_THREAD_INFO_LIST_STREAM'],
  [18, 'MD_HANDLE_OPERATION_LIST_STREAM'],
  [19, 'MD_TOKEN_STREAM'],
  [20, 'MD_JAVASCRIPT_DATA_STREAM'],
  [21, 'MD_SYSTEM_MEMORY_INFO_STREAM'],
  [22, 'MD_PROCESS_VM_COUNTERS_STREAM'],
  [24, 'MD_THREAD_NAME_LIST_STREAM'],
  [0xffff, 'MD_LAST_RESERVED_STREAM'],
  [0x47670001, 'MD_BREAKPAD_INFO_STREAM'],
  [0x47670002, 'MD_ASSERTION_INFO_STREAM'],
  [0x47670003, 'MD_LINUX_CPU_INFO'],
  [0x47670004, 'MD_LINUX_PROC_STATUS'],
  [0x47670005, 'MD_LINUX_LSB_RELEASE'],
  [0x47670006, 'MD_LINUX_CMD_LINE'],
  [0x47670007, 'MD_LINUX_ENVIRON'],
  [0x47670008, 'MD_LINUX_AUXV'],
  [0x47670009, 'MD_LINUX_MAPS'],
  [0x4767000a, 'MD_LINUX_DSO_DEBUG'],
  [0x43500001, 'MD_CRASHPAD_INFO_STREAM'],
]);

/** Breakpad's name for a stream type (`MD_THREAD_LIST_STREAM`), or `unknown`. */
export function streamTypeName(type: number): string {
  return STREAM_NAMES.get(type) ?? 'unknown';
}

/** `MDCPUArchitecture`: `processor_architecture` of the system info stream. */
export const CpuArch = {
  X86: 0,
  MIPS: 1,
  ALPHA: 2,
  PPC: 3,
  SHX: 4,
  ARM: 5,
  IA64: 6,
  ALPHA64: 7,
  MSIL: 8,
  AMD64: 9,
  X86_WIN64: 10,
  ARM64: 12,
  SPARC: 0x8001,
  PPC64: 0x8002,
  ARM64_OLD: 0x8003,
  MIPS64: 0x8004,
  RISCV: 0x8005,
  RISCV64: 0x8006,
  UNKNOWN: 0xffff,
} as const;

/** `MDOSPlatform`: `platform_id` of the system info stream. */
export const Platform = {
  WIN32S: 0,
  WIN32_WINDOWS: 1,
  WIN32_NT: 2,
  WIN32_CE: 3,
  UNIX: 0x8000,
  MAC_OS_X: 0x8101,
  IOS: 0x8102,
  LINUX: 0x8201,
  SOLARIS: 0x8202,
  ANDROID: 0x8203,
  PS3: 0x8204,
  NACL: 0x8205,
  FUCHSIA: 0x8206,
} as const;

/**
 * CPU type bits of a context's `context_flags` (`MD_CONTEXT_CPU_MASK` part). The low
 * byte says which register groups are present.
 */
export const ContextCpu = {
  MASK: 0xffffff00,
  X86: 0x00010000,
  AMD64: 0x00100000,
  ARM: 0x40000000,
  /** Windows CE's CONTEXT_ARM value, which collides with CONTEXT_XSTATE; still seen in old dumps. */
  ARM_OLD: 0x00000040,
  ARM64: 0x00400000,
  ARM64_OLD: 0x80000000,
  PPC: 0x20000000,
  PPC64: 0x01000000,
  SPARC: 0x10000000,
  MIPS: 0x00040000,
  MIPS64: 0x00080000,
  IA64: 0x00080000,
  SHX: 0x000000c0,
  ALPHA: 0x00020000,
  RISCV: 0x00800000,
  RISCV64: 0x08000000,
} as const;

/** Sizes of the raw context structures; the reader tells CPUs apart by them. */
export const ContextSize = {
  X86: 716,
  AMD64: 1232,
  ARM: 368,
  ARM64: 912,
  ARM64_OLD: 796,
  PPC: 1004,
  PPC64: 1160,
  SPARC: 584,
  MIPS: 600,
  RISCV: 268,
  RISCV64: 528,
} as const;

/** Fixed structure sizes used by several streams. */
export const Size = {
  HEADER: 32,
  DIRECTORY_ENTRY: 12,
  THREAD: 48,
  MODULE: 108,
  MEMORY_DESCRIPTOR: 16,
  MEMORY_DESCRIPTOR_64: 16,
  MEMORY_INFO: 48,
  SYSTEM_INFO: 56,
  EXCEPTION_STREAM: 168,
  BREAKPAD_INFO: 12,
  ASSERTION_INFO: 776,
  CRASHPAD_INFO: 64,
  UNLOADED_MODULE: 24,
} as const;

/** `MD_VSFIXEDFILEINFO_SIGNATURE`: a module's version info is valid only with this. */
export const VS_FIXEDFILEINFO_SIGNATURE = 0xfeef04bd;
/** `MD_VSFIXEDFILEINFO_VERSION`: the bit Breakpad requires in `struct_version`. */
export const VS_FIXEDFILEINFO_VERSION = 0x00010000;

/** CodeView record signatures. */
export const CvSignature = {
  PDB70: 0x53445352, // "RSDS"
  PDB20: 0x3031424e, // "NB10"
  ELF: 0x4270454c, // "LEpB" in memory, Breakpad's ELF build-id record
  CV50: 0x3131424e, // "NB11"
} as const;
