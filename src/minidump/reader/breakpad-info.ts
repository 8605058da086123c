import type { Bytes } from './bytes.js';
import { Size } from './constants.js';
import type { Problems } from './problems.js';
import { cString16 } from './strings.js';
import type { AssertionInfo, BreakpadInfo } from './types.js';

const VALID_DUMP_THREAD_ID = 1;
const VALID_REQUESTING_THREAD_ID = 2;

/**
 * MDRawBreakpadInfo: which thread wrote the dump and which asked for it. Each id counts
 * only when its validity bit is set; the requesting thread is the "crashing" one for
 * dumps written without an exception.
 */
export function readBreakpadInfo(stream: Bytes, problems: Problems): BreakpadInfo | undefined {
  if (stream.length < Size.BREAKPAD_INFO) {
    problems.report('BreakpadInfoStream', `stream is ${stream.length} bytes, expected ${Size.BREAKPAD_INFO}`);
    return undefined;
  }
  const validity = stream.u32(0)!;
  return {
    validity,
    dumpThreadId: validity & VALID_DUMP_THREAD_ID ? stream.u32(4)! : undefined,
    requestingThreadId: validity & VALID_REQUESTING_THREAD_ID ? stream.u32(8)! : undefined,
  };
}

/**
 * MDRawAssertionInfo: three fixed 128-character UTF-16 buffers (expression, function,
 * file), then line and type. Written for invalid-parameter and pure-virtual-call crashes.
 */
export function readAssertionInfo(stream: Bytes, problems: Problems): AssertionInfo | undefined {
  if (stream.length < Size.ASSERTION_INFO) {
    problems.report('AssertionInfoStream', `stream is ${stream.length} bytes, expected ${Size.ASSERTION_INFO}`);
    return undefined;
  }
  return {
    expression: cString16(stream.slice(0, 256)!),
    function: cString16(stream.slice(256, 256)!),
    file: cString16(stream.slice(512, 256)!),
    line: stream.u32(768)!,
    type: stream.u32(772)!,
  };
}
