import { type Bytes, Fields } from './bytes.js';
import { Size } from './constants.js';
import { readContext } from './context.js';
import type { Problems } from './problems.js';
import type { ExceptionInfo } from './types.js';

/** The exception record has room for 15 parameters (`EXCEPTION_MAXIMUM_PARAMETERS`). */
const MAX_PARAMETERS = 15;

/**
 * MINIDUMP_EXCEPTION_STREAM (168 bytes): the crashing thread's id, the exception record
 * (code, flags, address, up to 15 parameters) and the thread's context at the fault.
 */
export function readException(
  stream: Bytes,
  file: Bytes,
  systemArch: number | undefined,
  problems: Problems,
): ExceptionInfo | undefined {
  const where = 'ExceptionStream';
  if (stream.length < Size.EXCEPTION_STREAM) {
    problems.report(where, `stream is ${stream.length} bytes, expected ${Size.EXCEPTION_STREAM}`);
    if (stream.length < 32) return undefined;
  }
  const f = new Fields(stream, 0);
  const numberParameters = f.u32(32);
  if (numberParameters > MAX_PARAMETERS) {
    problems.report(where, `declares ${numberParameters} parameters; only ${MAX_PARAMETERS} fit in the record`);
  }
  const parameters: bigint[] = [];
  for (let i = 0; i < Math.min(numberParameters, MAX_PARAMETERS); i++) parameters.push(f.u64(40 + i * 8));
  const contextSize = f.u32(160);
  const contextRva = f.u32(164);
  return {
    threadId: f.u32(0),
    code: f.u32(8),
    flags: f.u32(12),
    record: f.u64(16),
    address: f.u64(24),
    numberParameters,
    parameters,
    context:
      stream.length >= Size.EXCEPTION_STREAM
        ? readContext(file, { size: contextSize, rva: contextRva }, systemArch, `${where} context`, problems)
        : undefined,
  };
}
