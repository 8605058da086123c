import { type Bytes, Fields } from './bytes.js';
import type { Problems } from './problems.js';
import { cString16 } from './strings.js';
import type { MiscInfo } from './types.js';

/** `MINIDUMP_MISC_INFO` `flags1` bits saying which groups of fields are valid. */
export const MiscInfoFlags = {
  PROCESS_ID: 0x1,
  PROCESS_TIMES: 0x2,
  PROCESSOR_POWER_INFO: 0x4,
  PROCESS_INTEGRITY: 0x10,
  PROCESS_EXECUTE_FLAGS: 0x20,
  TIMEZONE: 0x40,
  PROTECTED_PROCESS: 0x80,
  BUILDSTRING: 0x100,
} as const;

/** Sizes of the successive versions of the structure (MISC_INFO .. MISC_INFO_5). */
const VERSION_SIZES = [24, 44, 232, 832, 1364];

/**
 * MINIDUMP_MISC_INFO, versions 1 to 5. A field is reported only when its `flags1` bit
 * is set *and* the structure is large enough to hold it; the structure's own
 * `size_of_info` is checked against the stream size but a mismatch only costs the
 * fields beyond the smaller of the two.
 */
export function readMiscInfo(stream: Bytes, problems: Problems): MiscInfo | undefined {
  const where = 'MiscInfoStream';
  if (stream.length < 24) {
    problems.report(where, `stream is ${stream.length} bytes, shorter than the 24-byte MISC_INFO`);
    return undefined;
  }
  const f = new Fields(stream, 0);
  const sizeOfInfo = f.u32(0);
  if (sizeOfInfo !== stream.length) {
    problems.report(where, `size_of_info ${sizeOfInfo} differs from the stream size ${stream.length}`);
  }
  if (!VERSION_SIZES.includes(stream.length)) {
    problems.report(where, `stream size ${stream.length} matches no MISC_INFO version`);
  }
  const size = Math.min(sizeOfInfo, stream.length);
  const flags1 = f.u32(4);
  const has = (flag: number, end: number): boolean => (flags1 & flag) !== 0 && size >= end;
  const info: { -readonly [K in keyof MiscInfo]: MiscInfo[K] } = { sizeOfInfo, flags1 };
  if (has(MiscInfoFlags.PROCESS_ID, 12)) info.processId = f.u32(8);
  if (has(MiscInfoFlags.PROCESS_TIMES, 24)) {
    info.processCreateTime = f.u32(12);
    info.processUserTime = f.u32(16);
    info.processKernelTime = f.u32(20);
  }
  if (has(MiscInfoFlags.PROCESSOR_POWER_INFO, 44)) {
    info.processorMaxMhz = f.u32(24);
    info.processorCurrentMhz = f.u32(28);
    info.processorMhzLimit = f.u32(32);
    info.processorMaxIdleState = f.u32(36);
    info.processorCurrentIdleState = f.u32(40);
  }
  if (has(MiscInfoFlags.PROCESS_INTEGRITY, 48)) info.processIntegrityLevel = f.u32(44);
  if (has(MiscInfoFlags.PROCESS_EXECUTE_FLAGS, 52)) info.processExecuteFlags = f.u32(48);
  if (has(MiscInfoFlags.PROTECTED_PROCESS, 56)) info.protectedProcess = f.u32(52);
  if (has(MiscInfoFlags.TIMEZONE, 232)) {
    info.timeZoneId = f.u32(56);
    info.timeZoneBias = f.i32(60);
    info.timeZoneStandardName = cString16(stream.slice(64, 64)!);
    info.timeZoneDaylightName = cString16(stream.slice(148, 64)!);
  }
  if (has(MiscInfoFlags.BUILDSTRING, 832)) {
    info.buildString = cString16(stream.slice(232, 520)!);
    info.debugBuildString = cString16(stream.slice(752, 80)!);
  }
  return info;
}
