/**
 * Crash reason and crash address, decoded exactly as Breakpad's `minidump_stackwalk`
 * prints them (`MinidumpProcessor::GetCrashReason`), because they are shown to users,
 * indexed and used in signatures, and must agree with existing Socorro data.
 *
 * Shape of the rules:
 * - The default, for unknown platforms or codes, is `0x%08x / 0x%08x` (code / flags).
 * - Windows: the code names the exception; access violations and in-page errors take
 *   the kind (read/write/exec) from parameter 0 and the *crash address from parameter 1*;
 *   in-page errors append the NTSTATUS of parameter 2; `STATUS_STACK_BUFFER_OVERRUN`
 *   is named by its `__fastfail` subcode in parameter 0.
 * - Linux/Android: the code is the signal; SIGILL/SIGBUS/SIGFPE/SIGSEGV append the
 *   `si_code` from the flags (note Breakpad prints `SIGSEGV /CODE` without a space after
 *   the slash but `SIGILL / CODE` with one).
 * - macOS/iOS: the code is the Mach exception, the flags its first code, decoded
 *   per CPU (arm, ppc, x86 each have their own subcode names).
 * - The address is then cut to 32 bits for 32-bit CPUs (x86, arm, mips, ppc, shx, and
 *   WOW64's x86-on-win64).
 * Without system info only the numeric default and the raw exception address are known.
 */
import { CpuArch, Platform } from './constants.js';
import { FAST_FAIL_NAMES, NTSTATUS_NAMES } from './windows-codes.js';

export interface ExceptionRecordView {
  readonly code: number;
  readonly flags: number;
  readonly address: bigint;
  readonly numberParameters: number;
  readonly parameters: readonly bigint[];
}

export interface SystemView {
  readonly platformId: number;
  readonly processorArchitecture: number;
}

export interface DecodedCrash {
  readonly reason: string;
  readonly address: bigint;
}

export function decodeCrashReason(exception: ExceptionRecordView, system: SystemView | undefined): DecodedCrash {
  const flagsText = hex8(exception.flags);
  const fallback = `${hex8(exception.code)} / ${flagsText}`;
  if (!system) return { reason: fallback, address: exception.address };

  let reason = fallback;
  let address = exception.address;
  const arch = system.processorArchitecture;
  switch (system.platformId) {
    case Platform.FUCHSIA:
      reason = fuchsiaReason(exception.code, flagsText) ?? fallback;
      break;
    case Platform.MAC_OS_X:
    case Platform.IOS:
      reason = macReason(exception.code, exception.flags, arch) ?? fallback;
      break;
    case Platform.WIN32_NT:
    case Platform.WIN32_WINDOWS: {
      const win = windowsReason(exception);
      if (win) {
        reason = win.reason;
        if (win.address !== undefined) address = win.address;
      }
      break;
    }
    case Platform.ANDROID:
    case Platform.LINUX:
      reason = linuxReason(exception.code, exception.flags) ?? fallback;
      break;
    case Platform.SOLARIS:
      reason = SOLARIS_SIGNALS.get(exception.code) ?? fallback;
      break;
    case Platform.PS3:
      reason = PS3_EXCEPTIONS.get(exception.code) ?? fallback;
      break;
  }
  return { reason, address: is32BitArch(arch) ? address & 0xffffffffn : address };
}

function is32BitArch(arch: number): boolean {
  return (
    arch === CpuArch.X86 ||
    arch === CpuArch.MIPS ||
    arch === CpuArch.PPC ||
    arch === CpuArch.SHX ||
    arch === CpuArch.ARM ||
    arch === CpuArch.X86_WIN64
  );
}

function hex8(value: number): string {
  return '0x' + (value >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------- Windows

const WINDOWS_CODES: ReadonlyMap<number, string> = new Map([
  [0x40010005, 'DBG_CONTROL_C'],
  [0x80000001, 'EXCEPTION_GUARD_PAGE'],
  [0x80000002, 'EXCEPTION_DATATYPE_MISALIGNMENT'],
  [0x80000003, 'EXCEPTION_BREAKPOINT'],
  [0x80000004, 'EXCEPTION_SINGLE_STEP'],
  [0xc0000008, 'EXCEPTION_INVALID_HANDLE'],
  [0xc000001d, 'EXCEPTION_ILLEGAL_INSTRUCTION'],
  [0xc0000025, 'EXCEPTION_NONCONTINUABLE_EXCEPTION'],
  [0xc0000026, 'EXCEPTION_INVALID_DISPOSITION'],
  [0xc000008c, 'EXCEPTION_BOUNDS_EXCEEDED'],
  [0xc000008d, 'EXCEPTION_FLT_DENORMAL_OPERAND'],
  [0xc000008e, 'EXCEPTION_FLT_DIVIDE_BY_ZERO'],
  [0xc000008f, 'EXCEPTION_FLT_INEXACT_RESULT'],
  [0xc0000090, 'EXCEPTION_FLT_INVALID_OPERATION'],
  [0xc0000091, 'EXCEPTION_FLT_OVERFLOW'],
  [0xc0000092, 'EXCEPTION_FLT_STACK_CHECK'],
  [0xc0000093, 'EXCEPTION_FLT_UNDERFLOW'],
  [0xc0000094, 'EXCEPTION_INT_DIVIDE_BY_ZERO'],
  [0xc0000095, 'EXCEPTION_INT_OVERFLOW'],
  [0xc0000096, 'EXCEPTION_PRIV_INSTRUCTION'],
  [0xc00000fd, 'EXCEPTION_STACK_OVERFLOW'],
  [0xc00000ff, 'EXCEPTION_BAD_FUNCTION_TABLE'],
  [0xc0000194, 'EXCEPTION_POSSIBLE_DEADLOCK'],
  [0xc0000374, 'EXCEPTION_HEAP_CORRUPTION'],
  [0xe0000008, 'Out of Memory'],
  [0xe06d7363, 'Unhandled C++ Exception'],
  [0x0517a7ed, 'Simulated Exception'],
]);

const ACCESS_VIOLATION = 0xc0000005;
const IN_PAGE_ERROR = 0xc0000006;
const STACK_BUFFER_OVERRUN = 0xc0000409;

/** Parameter 0 of access violations / in-page errors: what kind of access faulted. */
function accessKind(value: bigint): string | undefined {
  return value === 0n ? 'READ' : value === 1n ? 'WRITE' : value === 8n ? 'EXEC' : undefined;
}

function windowsReason(e: ExceptionRecordView): { reason: string; address?: bigint } | undefined {
  const param = (i: number): bigint | undefined => (e.numberParameters > i ? e.parameters[i] : undefined);
  switch (e.code) {
    case ACCESS_VIOLATION:
    case IN_PAGE_ERROR: {
      const base = e.code === ACCESS_VIOLATION ? 'EXCEPTION_ACCESS_VIOLATION' : 'EXCEPTION_IN_PAGE_ERROR';
      // Breakpad casts the parameter to a 32-bit enum before comparing.
      const p0 = param(0);
      const kind = p0 === undefined ? undefined : accessKind(p0 & 0xffffffffn);
      let reason = kind ? `${base}_${kind}` : base;
      if (e.code === IN_PAGE_ERROR) {
        const p2 = param(2);
        if (p2 !== undefined) reason += ' / ' + ntstatusName(Number(p2 & 0xffffffffn));
      }
      return { reason, address: param(1) };
    }
    case STACK_BUFFER_OVERRUN: {
      const p0 = param(0);
      const name = p0 === undefined ? undefined : FAST_FAIL_NAMES.get(Number(p0 & 0xffffffffn));
      return { reason: name ?? 'EXCEPTION_STACK_BUFFER_OVERRUN' };
    }
    default: {
      const name = WINDOWS_CODES.get(e.code);
      return name ? { reason: name } : undefined;
    }
  }
}

/** An NTSTATUS by name (`STATUS_DEVICE_DATA_ERROR`) or as `0x%08x`. */
export function ntstatusName(status: number): string {
  return NTSTATUS_NAMES.get(status >>> 0) ?? hex8(status);
}

// ---------------------------------------------------------------- Linux

const LINUX_SIGNALS: ReadonlyMap<number, string> = new Map([
  [1, 'SIGHUP'],
  [2, 'SIGINT'],
  [3, 'SIGQUIT'],
  [5, 'SIGTRAP'],
  [6, 'SIGABRT'],
  [9, 'SIGKILL'],
  [10, 'SIGUSR1'],
  [12, 'SIGUSR2'],
  [13, 'SIGPIPE'],
  [14, 'SIGALRM'],
  [15, 'SIGTERM'],
  [16, 'SIGSTKFLT'],
  [17, 'SIGCHLD'],
  [18, 'SIGCONT'],
  [19, 'SIGSTOP'],
  [20, 'SIGTSTP'],
  [21, 'SIGTTIN'],
  [22, 'SIGTTOU'],
  [23, 'SIGURG'],
  [24, 'SIGXCPU'],
  [25, 'SIGXFSZ'],
  [26, 'SIGVTALRM'],
  [27, 'SIGPROF'],
  [28, 'SIGWINCH'],
  [29, 'SIGIO'],
  [30, 'SIGPWR'],
  [31, 'SIGSYS'],
  [0xffffffff, 'DUMP_REQUESTED'],
]);

/** Signals whose `si_code` Breakpad appends, with the prefix it prints (spacing included). */
const LINUX_SIGNALS_WITH_CODE: ReadonlyMap<number, { prefix: string; codes: readonly string[] }> = new Map([
  [4, { prefix: 'SIGILL / ', codes: ['ILL_ILLOPC', 'ILL_ILLOPN', 'ILL_ILLADR', 'ILL_ILLTRP', 'ILL_PRVOPC', 'ILL_PRVREG', 'ILL_COPROC', 'ILL_BADSTK'] }],
  [7, { prefix: 'SIGBUS / ', codes: ['BUS_ADRALN', 'BUS_ADRERR', 'BUS_OBJERR', 'BUS_MCEERR_AR', 'BUS_MCEERR_AO'] }],
  [8, { prefix: 'SIGFPE / ', codes: ['FPE_INTDIV', 'FPE_INTOVF', 'FPE_FLTDIV', 'FPE_FLTOVF', 'FPE_FLTUND', 'FPE_FLTRES', 'FPE_FLTINV', 'FPE_FLTSUB'] }],
  [11, { prefix: 'SIGSEGV /', codes: ['SEGV_MAPERR', 'SEGV_ACCERR', 'SEGV_BNDERR', 'SEGV_PKUERR'] }],
]);

function linuxReason(code: number, flags: number): string | undefined {
  const withCode = LINUX_SIGNALS_WITH_CODE.get(code);
  if (withCode) {
    // si_code values start at 1.
    const name = flags >= 1 ? withCode.codes[flags - 1] : undefined;
    return withCode.prefix + (name ?? hex8(flags));
  }
  return LINUX_SIGNALS.get(code);
}

// ---------------------------------------------------------------- macOS / iOS

const EXC_BAD_ACCESS = 1;
const EXC_BAD_INSTRUCTION = 2;
const EXC_ARITHMETIC = 3;
const EXC_EMULATION = 4;
const EXC_SOFTWARE = 5;
const EXC_BREAKPOINT = 6;

const KERN_CODES: ReadonlyMap<number, string> = new Map([
  [1, 'KERN_INVALID_ADDRESS'],
  [2, 'KERN_PROTECTION_FAILURE'],
  [8, 'KERN_NO_ACCESS'],
  [9, 'KERN_MEMORY_FAILURE'],
  [10, 'KERN_MEMORY_ERROR'],
  [50, 'KERN_CODESIGN_ERROR'],
]);

type MacCpu = 'arm' | 'ppc' | 'x86' | 'other';

/**
 * Breakpad's Mach decoding treats only the 32-bit ARM and the *old* arm64 architecture
 * values as ARM; dumps with the newer `ARM64` value get numeric subcodes.
 */
function macCpu(arch: number): MacCpu {
  if (arch === CpuArch.ARM || arch === CpuArch.ARM64_OLD) return 'arm';
  if (arch === CpuArch.PPC) return 'ppc';
  if (arch === CpuArch.X86 || arch === CpuArch.AMD64) return 'x86';
  return 'other';
}

const MAC_SUBCODES: Readonly<Record<number, Partial<Record<MacCpu, ReadonlyMap<number, string>>>>> = {
  [EXC_BAD_ACCESS]: {
    arm: new Map([
      [0x0101, 'EXC_ARM_DA_ALIGN'],
      [0x0102, 'EXC_ARM_DA_DEBUG'],
    ]),
    ppc: new Map([
      [0x0101, 'EXC_PPC_VM_PROT_READ'],
      [0x0102, 'EXC_PPC_BADSPACE'],
      [0x0103, 'EXC_PPC_UNALIGNED'],
    ]),
    x86: new Map([[13, 'EXC_I386_GPFLT']]),
  },
  [EXC_BAD_INSTRUCTION]: {
    arm: new Map([[1, 'EXC_ARM_UNDEFINED']]),
    ppc: new Map([
      [1, 'EXC_PPC_INVALID_SYSCALL'],
      [2, 'EXC_PPC_UNIPL_INST'],
      [3, 'EXC_PPC_PRIVINST'],
      [4, 'EXC_PPC_PRIVREG'],
      [5, 'EXC_PPC_TRACE'],
      [6, 'EXC_PPC_PERFMON'],
    ]),
    x86: new Map([
      [1, 'EXC_I386_INVOP'],
      [10, 'EXC_I386_INVTSSFLT'],
      [11, 'EXC_I386_SEGNPFLT'],
      [12, 'EXC_I386_STKFLT'],
      [13, 'EXC_I386_GPFLT'],
      [17, 'EXC_I386_ALIGNFLT'],
    ]),
  },
  [EXC_ARITHMETIC]: {
    ppc: new Map([
      [1, 'EXC_PPC_OVERFLOW'],
      [2, 'EXC_PPC_ZERO_DIVIDE'],
      [3, 'EXC_FLT_INEXACT'],
      [4, 'EXC_PPC_FLT_ZERO_DIVIDE'],
      [5, 'EXC_PPC_FLT_UNDERFLOW'],
      [6, 'EXC_PPC_FLT_OVERFLOW'],
      [7, 'EXC_PPC_FLT_NOT_A_NUMBER'],
      [8, 'EXC_PPC_NOEMULATION'],
      [9, 'EXC_PPC_ALTIVECASSIST'],
    ]),
    x86: new Map([
      [1, 'EXC_I386_DIV'],
      [2, 'EXC_I386_INTO'],
      [3, 'EXC_I386_NOEXT'],
      [4, 'EXC_I386_EXTOVR'],
      [5, 'EXC_I386_EXTERR'],
      [6, 'EXC_I386_EMERR'],
      [7, 'EXC_I386_BOUND'],
      [8, 'EXC_I386_SSEEXTERR'],
    ]),
  },
  [EXC_BREAKPOINT]: {
    arm: new Map([
      [0x0101, 'EXC_ARM_DA_ALIGN'],
      [0x0102, 'EXC_ARM_DA_DEBUG'],
      [1, 'EXC_ARM_BREAKPOINT'],
    ]),
    ppc: new Map([[1, 'EXC_PPC_BREAKPOINT']]),
    x86: new Map([
      [1, 'EXC_I386_SGL'],
      [2, 'EXC_I386_BPT'],
    ]),
  },
};

const MAC_SOFTWARE_CODES: ReadonlyMap<number, string> = new Map([
  [0x00010002, 'SIGABRT'],
  [0xdeadc0de, 'UNCAUGHT_NS_EXCEPTION'],
  [0x00000001, 'EXC_PPC_TRAP'],
  [0x00010100, 'EXC_PPC_MIGRATE'],
]);

/** Mach exceptions printed as `NAME / 0x%08x` with no subcode decoding. */
const MAC_PLAIN: ReadonlyMap<number, string> = new Map([
  [EXC_EMULATION, 'EXC_EMULATION'],
  [7, 'EXC_SYSCALL'],
  [8, 'EXC_MACH_SYSCALL'],
  [9, 'EXC_RPC_ALERT'],
  [11, 'EXC_RESOURCE'],
  [12, 'EXC_GUARD'],
]);

const MAC_NAMES: ReadonlyMap<number, string> = new Map([
  [EXC_BAD_ACCESS, 'EXC_BAD_ACCESS'],
  [EXC_BAD_INSTRUCTION, 'EXC_BAD_INSTRUCTION'],
  [EXC_ARITHMETIC, 'EXC_ARITHMETIC'],
  [EXC_SOFTWARE, 'EXC_SOFTWARE'],
  [EXC_BREAKPOINT, 'EXC_BREAKPOINT'],
]);

function macReason(code: number, flags: number, arch: number): string | undefined {
  if (code === 0x43507378) return 'Simulated Exception';
  if (code === 0x43506e78) return 'Uncaught NSException';
  const plain = MAC_PLAIN.get(code);
  if (plain) return `${plain} / ${hex8(flags)}`;
  const name = MAC_NAMES.get(code);
  if (!name) return undefined;
  let sub: string | undefined;
  if (code === EXC_SOFTWARE) sub = MAC_SOFTWARE_CODES.get(flags >>> 0);
  else if (code === EXC_BAD_ACCESS) sub = KERN_CODES.get(flags) ?? MAC_SUBCODES[code][macCpu(arch)]?.get(flags);
  else sub = MAC_SUBCODES[code][macCpu(arch)]?.get(flags);
  return `${name} / ${sub ?? hex8(flags)}`;
}

// ---------------------------------------------------------------- Fuchsia, Solaris, PS3

const FUCHSIA_EXCEPTIONS: ReadonlyMap<number, string> = new Map([
  [0x8, 'GENERAL'],
  [0x108, 'FATAL_PAGE_FAULT'],
  [0x208, 'UNDEFINED_INSTRUCTION'],
  [0x308, 'SW_BREAKPOINT'],
  [0x408, 'HW_BREAKPOINT'],
  [0x508, 'UNALIGNED_ACCESS'],
  [0x8008, 'THREAD_STARTING'],
  [0x8108, 'THREAD_EXITING'],
  [0x8208, 'POLICY_ERROR'],
  [0x8308, 'PROCESS_STARTING'],
]);

function fuchsiaReason(code: number, flagsText: string): string | undefined {
  const name = FUCHSIA_EXCEPTIONS.get(code);
  return name ? `${name} / ${flagsText}` : undefined;
}

const SOLARIS_SIGNALS: ReadonlyMap<number, string> = new Map([
  [1, 'SIGHUP'],
  [2, 'SIGINT'],
  [3, 'SIGQUIT'],
  [4, 'SIGILL'],
  [5, 'SIGTRAP'],
  [6, 'SIGIOT | SIGABRT'],
  [7, 'SIGEMT'],
  [8, 'SIGFPE'],
  [9, 'SIGKILL'],
  [10, 'SIGBUS'],
  [11, 'SIGSEGV'],
  [12, 'SIGSYS'],
  [13, 'SIGPIPE'],
  [14, 'SIGALRM'],
  [15, 'SIGTERM'],
  [16, 'SIGUSR1'],
  [17, 'SIGUSR2'],
  [18, 'SIGCLD | SIGCHLD'],
  [19, 'SIGPWR'],
  [20, 'SIGWINCH'],
  [21, 'SIGURG'],
  [22, 'SIGPOLL | SIGIO'],
  [23, 'SIGSTOP'],
  [24, 'SIGTSTP'],
  [25, 'SIGCONT'],
  [26, 'SIGTTIN'],
  [27, 'SIGTTOU'],
  [28, 'SIGVTALRM'],
  [29, 'SIGPROF'],
  [30, 'SIGXCPU'],
  [31, 'SIGXFSZ'],
  [32, 'SIGWAITING'],
  [33, 'SIGLWP'],
  [34, 'SIGFREEZE'],
  [35, 'SIGTHAW'],
  [36, 'SIGCANCEL'],
  [37, 'SIGLOST'],
  [38, 'SIGXRES'],
  [39, 'SIGJVM1'],
  [40, 'SIGJVM2'],
]);

const PS3_EXCEPTIONS: ReadonlyMap<number, string> = new Map([
  [0, 'UNKNOWN'],
  [1, 'TRAP_EXCEP'],
  [2, 'PRIV_INSTR'],
  [3, 'ILLEGAL_INSTR'],
  [4, 'INSTR_STORAGE'],
  [5, 'INSTR_SEGMENT'],
  [6, 'DATA_STORAGE'],
  [7, 'DATA_SEGMENT'],
  [8, 'FLOAT_POINT'],
  [9, 'DABR_MATCH'],
  [10, 'ALIGN_EXCEP'],
  [11, 'MEMORY_ACCESS'],
  [12, 'COPRO_ALIGN'],
  [13, 'COPRO_INVALID_COM'],
  [14, 'COPRO_ERR'],
  [15, 'COPRO_FIR'],
  [16, 'COPRO_DATA_SEGMENT'],
  [17, 'COPRO_DATA_STORAGE'],
  [18, 'COPRO_STOP_INSTR'],
  [19, 'COPRO_HALT_INSTR'],
  [20, 'COPRO_HALTINSTR_UNKNOWN'],
  [21, 'COPRO_MEMORY_ACCESS'],
  [22, 'GRAPHIC'],
]);
