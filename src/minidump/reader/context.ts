import type { Cpu } from '../contracts.js';
import { type Bytes, Fields } from './bytes.js';
import { ContextCpu, ContextSize, CpuArch } from './constants.js';
import type { Problems } from './problems.js';
import type { ContextKind, ThreadContext } from './types.js';

/**
 * CPU context parsing (MINIDUMP_CONTEXT / CONTEXT structures).
 *
 * Which layout a context uses is decided the way Breakpad's `MinidumpContext::Read`
 * decides it: the amd64, ppc64 and old-arm64 structures are recognised by their unique
 * sizes (amd64 also by a system-info CPU of amd64 with a larger, xsave-extended size);
 * every other layout starts with a 32-bit `context_flags` whose CPU bits name it, and
 * when those bits are zero the system info's CPU is assumed. Unlike Breakpad, a context
 * whose flags disagree with its size or the system info is still returned (with a
 * problem reported) rather than dropped, since a stack walk from it is still useful.
 */

/** The context-flags CPU bits implied by a system-info `processor_architecture`. */
export function contextCpuForArch(arch: number | undefined): number {
  switch (arch) {
    case CpuArch.X86:
      return ContextCpu.X86;
    case CpuArch.AMD64:
      return ContextCpu.AMD64;
    case CpuArch.ARM:
      return ContextCpu.ARM;
    case CpuArch.ARM64:
      return ContextCpu.ARM64;
    case CpuArch.ARM64_OLD:
      return ContextCpu.ARM64_OLD;
    case CpuArch.PPC:
      return ContextCpu.PPC;
    case CpuArch.PPC64:
      return ContextCpu.PPC64;
    case CpuArch.SPARC:
      return ContextCpu.SPARC;
    case CpuArch.MIPS:
      return ContextCpu.MIPS;
    case CpuArch.MIPS64:
      return ContextCpu.MIPS64;
    case CpuArch.RISCV:
      return ContextCpu.RISCV;
    case CpuArch.RISCV64:
      return ContextCpu.RISCV64;
    default:
      return 0;
  }
}

/** Contracts CPU of a context kind. */
export function cpuOfKind(kind: ContextKind): Cpu {
  switch (kind) {
    case 'amd64':
    case 'x86':
    case 'arm':
      return kind;
    case 'arm64':
    case 'arm64-old':
      return 'arm64';
    default:
      return 'unknown';
  }
}

interface Location {
  readonly size: number;
  readonly rva: number;
}

/**
 * Reads the context at `location`. `systemArch` is the system info's
 * `processor_architecture` when known. Returns `undefined` (after reporting) when the
 * bytes are missing or too few for the layout.
 */
export function readContext(
  file: Bytes,
  location: Location,
  systemArch: number | undefined,
  where: string,
  problems: Problems,
): ThreadContext | undefined {
  const { size, rva } = location;
  if (size === 0) {
    problems.report(where, 'no context (size 0)');
    return undefined;
  }
  const available = Math.max(0, Math.min(size, file.length - rva));
  if (available < size) {
    problems.report(where, `context of ${size} bytes at 0x${rva.toString(16)} runs past the end of the file`);
  }
  const systemCpu = contextCpuForArch(systemArch);
  const layout = chooseLayout(file, rva, size, systemCpu);
  if (layout.kind !== 'unknown' && layout.minSize > available) {
    problems.report(where, `${layout.kind} context needs ${layout.minSize} bytes, only ${available} available`);
    return undefined;
  }
  if (layout.mismatch) problems.report(where, layout.mismatch);
  if (systemArch !== undefined && layout.kind !== 'unknown' && !agreesWithSystem(layout.kind, systemArch)) {
    problems.report(where, `${layout.kind} context does not match system info CPU architecture ${systemArch}`);
  }
  const f = new Fields(file, rva);
  switch (layout.kind) {
    case 'amd64':
      return amd64Context(f, layout.flags, size);
    case 'x86':
      return x86Context(f, layout.flags, size);
    case 'arm':
      return armContext(f, layout.flags, size);
    case 'arm64':
      return arm64Context(f, layout.flags, size);
    case 'arm64-old':
      return arm64OldContext(f, size);
    default:
      return unknownContext(layout.kind, layout.flags, size);
  }
}

interface Layout {
  readonly kind: ContextKind;
  readonly flags: number;
  readonly minSize: number;
  readonly mismatch?: string;
}

function chooseLayout(file: Bytes, rva: number, size: number, systemCpu: number): Layout {
  if (size === ContextSize.AMD64 || (systemCpu === ContextCpu.AMD64 && size >= ContextSize.AMD64)) {
    let flags = file.u32(rva + 48) ?? 0;
    const cpu = (flags & ContextCpu.MASK) >>> 0;
    if (cpu === 0) flags = (flags | systemCpu) >>> 0;
    const mismatch =
      cpu !== 0 && cpu !== ContextCpu.AMD64
        ? `context has the amd64 size but flags 0x${flags.toString(16)} name another CPU`
        : undefined;
    return { kind: 'amd64', flags, minSize: ContextSize.AMD64, mismatch };
  }
  if (size === ContextSize.PPC64) {
    return { kind: 'ppc64', flags: Number((file.u64(rva) ?? 0n) & 0xffffffffn), minSize: ContextSize.PPC64 };
  }
  if (size === ContextSize.ARM64_OLD) {
    const flags = Number((file.u64(rva) ?? 0n) & 0xffffffffn);
    const cpu = (flags & ContextCpu.MASK) >>> 0;
    const mismatch =
      cpu !== 0 && cpu !== ContextCpu.ARM64_OLD
        ? `context has the old arm64 size but flags 0x${flags.toString(16)} name another CPU`
        : undefined;
    return { kind: 'arm64-old', flags, minSize: ContextSize.ARM64_OLD, mismatch };
  }
  let flags = file.u32(rva) ?? 0;
  let cpu = (flags & ContextCpu.MASK) >>> 0;
  if (cpu === 0 && (flags & ContextCpu.ARM_OLD) !== 0) {
    // Windows CE's CONTEXT_ARM value, renumbered later because it collides with XSTATE.
    flags = ((flags | ContextCpu.ARM) & ~ContextCpu.ARM_OLD) >>> 0;
    cpu = ContextCpu.ARM;
  }
  if (cpu === 0) {
    cpu = systemCpu;
    flags = (flags | cpu) >>> 0;
  }
  const expect = (kind: ContextKind, needed: number): Layout => ({
    kind,
    flags,
    minSize: needed,
    mismatch: size !== needed ? `${kind} context is ${size} bytes, expected ${needed}` : undefined,
  });
  switch (cpu) {
    case ContextCpu.X86:
      return expect('x86', ContextSize.X86);
    case ContextCpu.ARM:
      return expect('arm', ContextSize.ARM);
    case ContextCpu.ARM64:
      return expect('arm64', ContextSize.ARM64);
    case ContextCpu.PPC:
      return expect('ppc', ContextSize.PPC);
    case ContextCpu.SPARC:
      return expect('sparc', ContextSize.SPARC);
    case ContextCpu.MIPS:
    case ContextCpu.MIPS64:
      return expect('mips', ContextSize.MIPS);
    case ContextCpu.RISCV:
      return expect('riscv', ContextSize.RISCV);
    case ContextCpu.RISCV64:
      return expect('riscv64', ContextSize.RISCV64);
    default:
      return {
        kind: 'unknown',
        flags,
        minSize: 0,
        mismatch: `context of ${size} bytes with flags 0x${flags.toString(16)} has no recognisable CPU`,
      };
  }
}

/** Breakpad's `CheckAgainstSystemInfo`: an x86 context is acceptable on amd64 systems too. */
function agreesWithSystem(kind: ContextKind, arch: number): boolean {
  switch (kind) {
    case 'x86':
      return arch === CpuArch.X86 || arch === CpuArch.X86_WIN64 || arch === CpuArch.AMD64;
    case 'amd64':
      return arch === CpuArch.AMD64;
    case 'arm':
      return arch === CpuArch.ARM;
    case 'arm64':
      return arch === CpuArch.ARM64 || arch === CpuArch.ARM64_OLD;
    case 'arm64-old':
      return arch === CpuArch.ARM64_OLD || arch === CpuArch.ARM64;
    case 'ppc':
      return arch === CpuArch.PPC;
    case 'ppc64':
      return arch === CpuArch.PPC64;
    case 'sparc':
      return arch === CpuArch.SPARC;
    case 'mips':
      return arch === CpuArch.MIPS || arch === CpuArch.MIPS64;
    case 'riscv':
      return arch === CpuArch.RISCV;
    case 'riscv64':
      return arch === CpuArch.RISCV64;
    default:
      return true;
  }
}

function build(
  kind: ContextKind,
  flags: number,
  size: number,
  registers: Map<string, bigint>,
  raw: Map<string, bigint>,
  ipName: string | undefined,
  spName: string | undefined,
): ThreadContext {
  return {
    cpu: cpuOfKind(kind),
    kind,
    contextFlags: flags,
    registers,
    raw,
    size,
    instructionPointer: ipName ? registers.get(ipName) : undefined,
    stackPointer: spName ? registers.get(spName) : undefined,
  };
}

const AMD64_GPRS: ReadonlyArray<readonly [string, number]> = [
  ['rax', 120],
  ['rcx', 128],
  ['rdx', 136],
  ['rbx', 144],
  ['rsp', 152],
  ['rbp', 160],
  ['rsi', 168],
  ['rdi', 176],
  ['r8', 184],
  ['r9', 192],
  ['r10', 200],
  ['r11', 208],
  ['r12', 216],
  ['r13', 224],
  ['r14', 232],
  ['r15', 240],
  ['rip', 248],
];

function amd64Context(f: Fields, flags: number, size: number): ThreadContext {
  const registers = new Map<string, bigint>();
  for (const [name, at] of AMD64_GPRS) registers.set(name, f.u64(at));
  const raw = new Map<string, bigint>([
    ['p1_home', f.u64(0)],
    ['p2_home', f.u64(8)],
    ['p3_home', f.u64(16)],
    ['p4_home', f.u64(24)],
    ['p5_home', f.u64(32)],
    ['p6_home', f.u64(40)],
    ['context_flags', BigInt(flags)],
    ['mx_csr', BigInt(f.u32(52))],
    ['cs', BigInt(f.u16(56))],
    ['ds', BigInt(f.u16(58))],
    ['es', BigInt(f.u16(60))],
    ['fs', BigInt(f.u16(62))],
    ['gs', BigInt(f.u16(64))],
    ['ss', BigInt(f.u16(66))],
    ['eflags', BigInt(f.u32(68))],
    ['dr0', f.u64(72)],
    ['dr1', f.u64(80)],
    ['dr2', f.u64(88)],
    ['dr3', f.u64(96)],
    ['dr6', f.u64(104)],
    ['dr7', f.u64(112)],
    ['vector_control', f.u64(1184)],
    ['debug_control', f.u64(1192)],
    ['last_branch_to_rip', f.u64(1200)],
    ['last_branch_from_rip', f.u64(1208)],
    ['last_exception_to_rip', f.u64(1216)],
    ['last_exception_from_rip', f.u64(1224)],
  ]);
  return build('amd64', flags, size, registers, raw, 'rip', 'rsp');
}

const X86_GPRS: ReadonlyArray<readonly [string, number]> = [
  ['edi', 156],
  ['esi', 160],
  ['ebx', 164],
  ['edx', 168],
  ['ecx', 172],
  ['eax', 176],
  ['ebp', 180],
  ['eip', 184],
  ['efl', 192],
  ['esp', 196],
];

function x86Context(f: Fields, flags: number, size: number): ThreadContext {
  const registers = new Map<string, bigint>();
  for (const [name, at] of X86_GPRS) registers.set(name, BigInt(f.u32(at)));
  const raw = new Map<string, bigint>([
    ['context_flags', BigInt(flags)],
    ['dr0', BigInt(f.u32(4))],
    ['dr1', BigInt(f.u32(8))],
    ['dr2', BigInt(f.u32(12))],
    ['dr3', BigInt(f.u32(16))],
    ['dr6', BigInt(f.u32(20))],
    ['dr7', BigInt(f.u32(24))],
    ['float_save.control_word', BigInt(f.u32(28))],
    ['float_save.status_word', BigInt(f.u32(32))],
    ['float_save.tag_word', BigInt(f.u32(36))],
    ['float_save.error_offset', BigInt(f.u32(40))],
    ['float_save.error_selector', BigInt(f.u32(44))],
    ['float_save.data_offset', BigInt(f.u32(48))],
    ['float_save.data_selector', BigInt(f.u32(52))],
    ['float_save.cr0_npx_state', BigInt(f.u32(136))],
    ['gs', BigInt(f.u32(140))],
    ['fs', BigInt(f.u32(144))],
    ['es', BigInt(f.u32(148))],
    ['ds', BigInt(f.u32(152))],
    ['cs', BigInt(f.u32(188))],
    ['eflags', BigInt(f.u32(192))],
    ['ss', BigInt(f.u32(200))],
  ]);
  return build('x86', flags, size, registers, raw, 'eip', 'esp');
}

function armContext(f: Fields, flags: number, size: number): ThreadContext {
  const registers = new Map<string, bigint>();
  for (let i = 0; i < 16; i++) registers.set(armRegisterName(i), BigInt(f.u32(4 + i * 4)));
  const raw = new Map<string, bigint>([
    ['context_flags', BigInt(flags)],
    ['cpsr', BigInt(f.u32(68))],
    ['fpscr', f.u64(72)],
  ]);
  return build('arm', flags, size, registers, raw, 'pc', 'sp');
}

function armRegisterName(index: number): string {
  return index === 13 ? 'sp' : index === 14 ? 'lr' : index === 15 ? 'pc' : `r${index}`;
}

function arm64RegisterName(index: number): string {
  return index === 29 ? 'fp' : index === 30 ? 'lr' : index === 31 ? 'sp' : index === 32 ? 'pc' : `x${index}`;
}

function arm64Registers(f: Fields, at: number): Map<string, bigint> {
  const registers = new Map<string, bigint>();
  for (let i = 0; i < 33; i++) registers.set(arm64RegisterName(i), f.u64(at + i * 8));
  return registers;
}

function arm64Context(f: Fields, flags: number, size: number): ThreadContext {
  const raw = new Map<string, bigint>([
    ['context_flags', BigInt(flags)],
    ['cpsr', BigInt(f.u32(4))],
    ['fpcr', BigInt(f.u32(784))],
    ['fpsr', BigInt(f.u32(788))],
  ]);
  return build('arm64', flags, size, arm64Registers(f, 8), raw, 'pc', 'sp');
}

const ARM64_INTEGER = 0x00400002;
const ARM64_CONTROL = 0x00400001;
const ARM64_FLOATING_POINT = 0x00400004;

/**
 * The pre-2017 Breakpad arm64 layout (64-bit flags, cpsr after the registers, packed
 * to 4). Its flags are converted the way Breakpad's `ConvertOldARM64Context` does, which
 * tests the combined `CPU | group` masks and so in practice always sets every group.
 */
function arm64OldContext(f: Fields, size: number): ThreadContext {
  const oldFlags = f.u32(0);
  let flags = ContextCpu.ARM64;
  if ((oldFlags & 0x80000002) !== 0) flags |= ARM64_INTEGER | ARM64_CONTROL;
  if ((oldFlags & 0x80000004) !== 0) flags |= ARM64_FLOATING_POINT;
  const raw = new Map<string, bigint>([
    ['context_flags', BigInt(flags)],
    ['old_context_flags', f.u64(0)],
    ['cpsr', BigInt(f.u32(272))],
    ['fpsr', BigInt(f.u32(276))],
    ['fpcr', BigInt(f.u32(280))],
  ]);
  return build('arm64-old', flags, size, arm64Registers(f, 8), raw, 'pc', 'sp');
}

/** ppc, sparc, mips, riscv and unrecognised contexts: kept for their flags, no registers. */
function unknownContext(kind: ContextKind, flags: number, size: number): ThreadContext {
  return build(kind, flags, size, new Map(), new Map([['context_flags', BigInt(flags)]]), undefined, undefined);
}
