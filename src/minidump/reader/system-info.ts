import type { Cpu } from '../contracts.js';
import { type Bytes, Fields } from './bytes.js';
import { CpuArch, Platform, Size } from './constants.js';
import type { Problems } from './problems.js';
import { cString, readMinidumpString } from './strings.js';
import type { SystemInfo } from './types.js';

const WHERE = 'SystemInfoStream';

/**
 * MINIDUMP_SYSTEM_INFO (56 bytes). The OS and CPU strings are derived here exactly as
 * Breakpad's `MinidumpProcessor::GetOSInfo`/`GetCPUInfo` derive them, because they are
 * printed verbatim in the `OS|` and `CPU|` lines and end up in signatures and search.
 */
export function readSystemInfo(stream: Bytes, file: Bytes, problems: Problems): SystemInfo | undefined {
  if (stream.length < Size.SYSTEM_INFO) {
    problems.report(WHERE, `stream is ${stream.length} bytes, expected ${Size.SYSTEM_INFO}`);
    return undefined;
  }
  const f = new Fields(stream, 0);
  const processorArchitecture = f.u16(0);
  const processorLevel = f.u16(2);
  const processorRevision = f.u16(4);
  const platformId = f.u32(20);
  const csdRva = f.u32(24);
  const csd = readMinidumpString(file, csdRva);
  if ('error' in csd) problems.report(WHERE, `CSD version: ${csd.error}`);
  const csdVersion = 'value' in csd ? csd.value : undefined;
  const majorVersion = f.u32(8);
  const minorVersion = f.u32(12);
  const buildNumber = f.u32(16);

  const isX86Family = processorArchitecture === CpuArch.X86 || processorArchitecture === CpuArch.X86_WIN64;
  const vendorId: [number, number, number] = [f.u32(32), f.u32(36), f.u32(40)];
  const cpuVendor = isX86Family ? x86Vendor(stream.slice(32, 12)!) : undefined;

  let osVersion = `${majorVersion}.${minorVersion}.${buildNumber}`;
  if (csdVersion !== undefined) osVersion += ' ' + csdVersion;

  const info: SystemInfo = {
    cpu: contractCpu(processorArchitecture),
    processorArchitecture,
    processorLevel,
    processorRevision,
    cpuCount: f.u8(6),
    productType: f.u8(7),
    majorVersion,
    minorVersion,
    buildNumber,
    platformId,
    suiteMask: f.u16(28),
    os: osName(platformId),
    osShort: osShortName(platformId),
    osVersion,
    csdVersion,
    cpuName: cpuName(processorArchitecture),
    cpuInfo: cpuInfoString(processorArchitecture, processorLevel, processorRevision, cpuVendor, f.u32(32), f.u32(36)),
    cpuVendor,
    ...(isX86Family || processorArchitecture === CpuArch.AMD64
      ? {
          x86CpuInfo: {
            vendorId,
            versionInformation: f.u32(44),
            featureInformation: f.u32(48),
            amdExtendedCpuFeatures: f.u32(52),
          },
        }
      : processorArchitecture === CpuArch.ARM
        ? { armCpuInfo: { cpuid: f.u32(32), elfHwcaps: f.u32(36) } }
        : { processorFeatures: [f.u64(32), f.u64(40)] as const }),
  };
  return info;
}

/** The contracts' CPU for a `processor_architecture`. */
export function contractCpu(arch: number): Cpu {
  switch (arch) {
    case CpuArch.AMD64:
      return 'amd64';
    case CpuArch.X86:
      return 'x86';
    case CpuArch.ARM64:
    case CpuArch.ARM64_OLD:
      return 'arm64';
    case CpuArch.ARM:
      return 'arm';
    default:
      return 'unknown';
  }
}

/**
 * Breakpad builds the vendor with `%c` twelve times into a C string, so a NUL byte in the
 * vendor id ends it early.
 */
function x86Vendor(bytes: Uint8Array): string {
  return cString(bytes);
}

function osName(platformId: number): string {
  switch (platformId) {
    case Platform.WIN32_NT:
      return 'Windows NT';
    case Platform.WIN32_WINDOWS:
      return 'Windows';
    case Platform.MAC_OS_X:
      return 'Mac OS X';
    case Platform.IOS:
      return 'iOS';
    case Platform.LINUX:
      return 'Linux';
    case Platform.SOLARIS:
      return 'Solaris';
    case Platform.ANDROID:
      return 'Android';
    case Platform.PS3:
      return 'PS3';
    case Platform.NACL:
      return 'NaCl';
    case Platform.FUCHSIA:
      return 'Fuchsia';
    default:
      return '0x' + (platformId >>> 0).toString(16).padStart(8, '0');
  }
}

function osShortName(platformId: number): string {
  switch (platformId) {
    case Platform.WIN32_NT:
    case Platform.WIN32_WINDOWS:
      return 'windows';
    case Platform.MAC_OS_X:
      return 'mac';
    case Platform.IOS:
      return 'ios';
    case Platform.LINUX:
      return 'linux';
    case Platform.SOLARIS:
      return 'solaris';
    case Platform.ANDROID:
      return 'android';
    case Platform.PS3:
      return 'ps3';
    case Platform.NACL:
      return 'nacl';
    case Platform.FUCHSIA:
      return 'fuchsia';
    default:
      return '';
  }
}

function cpuName(arch: number): string {
  switch (arch) {
    case CpuArch.X86:
      return 'x86';
    case CpuArch.AMD64:
      return 'amd64';
    case CpuArch.PPC:
      return 'ppc';
    case CpuArch.PPC64:
      return 'ppc64';
    case CpuArch.SPARC:
      return 'sparc';
    case CpuArch.ARM:
      return 'arm';
    case CpuArch.ARM64:
    case CpuArch.ARM64_OLD:
      return 'arm64';
    case CpuArch.MIPS:
      return 'mips';
    case CpuArch.MIPS64:
      return 'mips64';
    case CpuArch.RISCV:
      return 'riscv';
    case CpuArch.RISCV64:
      return 'riscv64';
    default:
      return '0x' + arch.toString(16).padStart(4, '0');
  }
}

function cpuInfoString(
  arch: number,
  level: number,
  revision: number,
  vendor: string | undefined,
  armCpuid: number,
  armHwcaps: number,
): string {
  if (arch === CpuArch.X86 || arch === CpuArch.AMD64) {
    const prefix = vendor !== undefined ? vendor + ' ' : '';
    return `${prefix}family ${level} model ${revision >> 8} stepping ${revision & 0xff}`;
  }
  if (arch === CpuArch.ARM) return armCpuInfo(level, armCpuid, armHwcaps);
  return '';
}

const ARM_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x41, 'ARM'],
  [0x51, 'Qualcomm'],
  [0x56, 'Marvell'],
  [0x69, 'Intel/Marvell'],
]);

const ARM_PARTS: ReadonlyMap<number, string> = new Map([
  [0x4100c050, 'Cortex-A5'],
  [0x4100c080, 'Cortex-A8'],
  [0x4100c090, 'Cortex-A9'],
  [0x4100c0f0, 'Cortex-A15'],
  [0x4100c140, 'Cortex-R4'],
  [0x4100c150, 'Cortex-R5'],
  [0x4100b360, 'ARM1136'],
  [0x4100b560, 'ARM1156'],
  [0x4100b760, 'ARM1176'],
  [0x4100b020, 'ARM11-MPCore'],
  [0x41009260, 'ARM926'],
  [0x41009460, 'ARM946'],
  [0x41009660, 'ARM966'],
  [0x510006f0, 'Krait'],
  [0x510000f0, 'Scorpion'],
]);

/** Linux `HWCAP_*` bits for 32-bit ARM, in Breakpad's print order. */
const ARM_HWCAPS: ReadonlyArray<readonly [number, string]> = [
  [1 << 0, 'swp'],
  [1 << 1, 'half'],
  [1 << 2, 'thumb'],
  [1 << 3, '26bit'],
  [1 << 4, 'fastmult'],
  [1 << 5, 'fpa'],
  [1 << 6, 'vfpv2'],
  [1 << 7, 'edsp'],
  [1 << 8, 'java'],
  [1 << 9, 'iwmmxt'],
  [1 << 10, 'crunch'],
  [1 << 11, 'thumbee'],
  [1 << 12, 'neon'],
  [1 << 13, 'vfpv3'],
  [1 << 14, 'vfpv3d16'],
  [1 << 15, 'tls'],
  [1 << 16, 'vfpv4'],
  [1 << 17, 'idiva'],
  [1 << 18, 'idivt'],
];

/** `ARMv7 ARM Cortex-A9 features: swp,half,...` (Breakpad's `GetARMCpuInfo`). */
function armCpuInfo(level: number, cpuid: number, hwcaps: number): string {
  let text = `ARMv${level}`;
  if (cpuid !== 0) {
    const vendorId = (cpuid >>> 24) & 0xff;
    text += ' ' + (ARM_VENDORS.get(vendorId) ?? `vendor(0x${vendorId.toString(16)})`);
    const partId = (cpuid & 0xff00fff0) >>> 0;
    text += ' ' + (ARM_PARTS.get(partId) ?? `part(0x${partId.toString(16)})`);
  }
  if (hwcaps !== 0) {
    text += ' features: ' + ARM_HWCAPS.filter(([bit]) => (hwcaps & bit) !== 0).map(([, name]) => name).join(',');
  }
  return text;
}
