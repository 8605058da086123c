import { describe, expect, it } from 'vitest';
import { decodeCrashReason } from '../../../src/minidump/reader/crash-reason.js';

const WIN = 2;
const LINUX = 0x8201;
const MAC = 0x8101;
const X86 = 0;
const AMD64 = 9;
const ARM = 5;
const ARM64 = 12;
const ARM64_OLD = 0x8003;

const decode = (platformId: number, arch: number, code: number, flags = 0, params: bigint[] = [], address = 0x1234n) =>
  decodeCrashReason({ code, flags, address, numberParameters: params.length, parameters: params }, { platformId, processorArchitecture: arch });

describe('decodeCrashReason', () => {
  it.each([
    [WIN, AMD64, 0xc0000005, 0, [0n, 0x10n], 'EXCEPTION_ACCESS_VIOLATION_READ', 0x10n],
    [WIN, AMD64, 0xc0000005, 0, [1n, 0x20n], 'EXCEPTION_ACCESS_VIOLATION_WRITE', 0x20n],
    [WIN, AMD64, 0xc0000005, 0, [8n, 0x30n], 'EXCEPTION_ACCESS_VIOLATION_EXEC', 0x30n],
    [WIN, AMD64, 0xc0000005, 0, [3n, 0x30n], 'EXCEPTION_ACCESS_VIOLATION', 0x30n],
    [WIN, AMD64, 0xc0000005, 0, [], 'EXCEPTION_ACCESS_VIOLATION', 0x1234n],
    [WIN, X86, 0xc0000005, 0, [0n, 0xffffffff41414141n], 'EXCEPTION_ACCESS_VIOLATION_READ', 0x41414141n],
    [WIN, AMD64, 0xc0000006, 0, [1n, 0x40n, 0xc000009cn], 'EXCEPTION_IN_PAGE_ERROR_WRITE / STATUS_DEVICE_DATA_ERROR', 0x40n],
    [WIN, AMD64, 0xc0000006, 0, [0n, 0x40n, 0x12345678n], 'EXCEPTION_IN_PAGE_ERROR_READ / 0x12345678', 0x40n],
    [WIN, AMD64, 0xc00000fd, 0, [], 'EXCEPTION_STACK_OVERFLOW', 0x1234n],
    [WIN, AMD64, 0xc0000409, 0, [7n], 'FAST_FAIL_FATAL_APP_EXIT', 0x1234n],
    [WIN, AMD64, 0xc0000409, 0, [0n], 'EXCEPTION_STACK_BUFFER_OVERRUN', 0x1234n],
    [WIN, AMD64, 0xe06d7363, 0, [], 'Unhandled C++ Exception', 0x1234n],
    [WIN, AMD64, 0xc000000d, 0, [], '0xc000000d / 0x00000000', 0x1234n],
    [LINUX, AMD64, 11, 1, [], 'SIGSEGV /SEGV_MAPERR', 0x1234n],
    [LINUX, AMD64, 11, 0, [], 'SIGSEGV /0x00000000', 0x1234n],
    [LINUX, AMD64, 11, 0x80, [], 'SIGSEGV /0x00000080', 0x1234n],
    [LINUX, AMD64, 4, 2, [], 'SIGILL / ILL_ILLOPN', 0x1234n],
    [LINUX, AMD64, 8, 1, [], 'SIGFPE / FPE_INTDIV', 0x1234n],
    [LINUX, AMD64, 7, 5, [], 'SIGBUS / BUS_MCEERR_AO', 0x1234n],
    [LINUX, AMD64, 6, 0, [], 'SIGABRT', 0x1234n],
    [LINUX, AMD64, 0xffffffff, 0, [], 'DUMP_REQUESTED', 0x1234n],
    [LINUX, AMD64, 99, 3, [], '0x00000063 / 0x00000003', 0x1234n],
    [LINUX, ARM, 11, 2, [], 'SIGSEGV /SEGV_ACCERR', 0x1234n],
    [0x8203, ARM64, 6, 0, [], 'SIGABRT', 0x1234n],
    [MAC, AMD64, 1, 1, [], 'EXC_BAD_ACCESS / KERN_INVALID_ADDRESS', 0x1234n],
    [MAC, AMD64, 1, 13, [], 'EXC_BAD_ACCESS / EXC_I386_GPFLT', 0x1234n],
    [MAC, ARM64_OLD, 1, 0x101, [], 'EXC_BAD_ACCESS / EXC_ARM_DA_ALIGN', 0x1234n],
    [MAC, ARM64, 1, 0x101, [], 'EXC_BAD_ACCESS / 0x00000101', 0x1234n],
    [MAC, AMD64, 2, 1, [], 'EXC_BAD_INSTRUCTION / EXC_I386_INVOP', 0x1234n],
    [MAC, AMD64, 3, 1, [], 'EXC_ARITHMETIC / EXC_I386_DIV', 0x1234n],
    [MAC, AMD64, 5, 0x10002, [], 'EXC_SOFTWARE / SIGABRT', 0x1234n],
    [MAC, AMD64, 6, 2, [], 'EXC_BREAKPOINT / EXC_I386_BPT', 0x1234n],
    [MAC, ARM, 6, 1, [], 'EXC_BREAKPOINT / EXC_ARM_BREAKPOINT', 0x1234n],
    [MAC, AMD64, 12, 5, [], 'EXC_GUARD / 0x00000005', 0x1234n],
    [MAC, AMD64, 0, 0, [], '0x00000000 / 0x00000000', 0x1234n],
    [0x8102, AMD64, 0x43506e78, 0, [], 'Uncaught NSException', 0x1234n],
    [0x8202, AMD64, 6, 0, [], 'SIGIOT | SIGABRT', 0x1234n],
    [0x8206, ARM64, 0x108, 3, [], 'FATAL_PAGE_FAULT / 0x00000003', 0x1234n],
  ] as const)('platform %s arch %s code %s flags %s %o', (platform, arch, code, flags, params, reason, address) => {
    expect(decode(platform, arch, code, flags, [...params])).toEqual({ reason, address });
  });

  it('masks the address to 32 bits on 32-bit CPUs only', () => {
    expect(decode(LINUX, ARM, 11, 1, [], 0x1_0000_0042n).address).toBe(0x42n);
    expect(decode(LINUX, AMD64, 11, 1, [], 0x1_0000_0042n).address).toBe(0x1_0000_0042n);
  });

  it('falls back to numbers and the raw address without system info', () => {
    expect(decodeCrashReason({ code: 0xc0000005, flags: 1, address: 0x1_0000_0000n, numberParameters: 2, parameters: [0n, 5n] }, undefined)).toEqual({
      reason: '0xc0000005 / 0x00000001',
      address: 0x1_0000_0000n,
    });
  });
});
