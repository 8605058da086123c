import { type Bytes, Fields } from './bytes.js';
import type { Problems } from './problems.js';
import { readMinidumpString } from './strings.js';
import type { HandleDescriptor } from './types.js';

/**
 * MINIDUMP_HANDLE_DATA_STREAM: a 16-byte header (header size, descriptor size, count,
 * reserved) and descriptors of 32 bytes (v1) or 40 (v2), each naming the handle's type
 * and object by string RVA (0 when absent).
 */
export function readHandleData(stream: Bytes, file: Bytes, problems: Problems): HandleDescriptor[] {
  const where = 'HandleDataStream';
  const headerSize = stream.u32(0);
  const descriptorSize = stream.u32(4);
  const count = stream.u32(8);
  if (headerSize === undefined || descriptorSize === undefined || count === undefined) {
    problems.report(where, 'stream too short for its header');
    return [];
  }
  if (headerSize < 16 || descriptorSize < 32) {
    problems.report(where, `header size ${headerSize} or descriptor size ${descriptorSize} is too small`);
    return [];
  }
  const fits = Math.floor(Math.max(0, stream.length - headerSize) / descriptorSize);
  if (count > fits) problems.report(where, `declares ${count} handles but the stream holds ${fits}`);
  const handles: HandleDescriptor[] = [];
  const name = (rva: number, what: string): string | undefined => {
    if (rva === 0) return undefined;
    const s = readMinidumpString(file, rva);
    if ('error' in s) {
      problems.report(where, `${what}: ${s.error}`);
      return undefined;
    }
    return s.value;
  };
  for (let i = 0; i < Math.min(count, fits); i++) {
    const f = new Fields(stream, headerSize + i * descriptorSize);
    handles.push({
      handle: f.u64(0),
      typeName: name(f.u32(8), `handle ${i} type name`),
      objectName: name(f.u32(12), `handle ${i} object name`),
      attributes: f.u32(16),
      grantedAccess: f.u32(20),
      handleCount: f.u32(24),
      pointerCount: f.u32(28),
    });
  }
  return handles;
}
