import { type Bytes, Fields } from './bytes.js';
import { Size } from './constants.js';
import { readContext } from './context.js';
import { listStart, memoryBytes } from './memory.js';
import type { Problems } from './problems.js';
import { chargeRepeatedString, readMinidumpString } from './strings.js';
import type { MinidumpThread } from './types.js';

/**
 * MINIDUMP_THREAD_LIST: u32 count (optionally padded to 8), then 48-byte threads, each
 * pointing at its stack memory and its CPU context elsewhere in the file. Threads are
 * returned in stream order; a thread whose stack or context is unreadable is kept with
 * that part missing, because its id alone still matters (e.g. to find the crashing one).
 */
export function readThreadList(
  stream: Bytes,
  file: Bytes,
  systemArch: number | undefined,
  names: ReadonlyMap<number, string>,
  problems: Problems,
): MinidumpThread[] {
  const where = 'ThreadListStream';
  const count = stream.u32(0);
  if (count === undefined) {
    problems.report(where, 'stream too short for the thread count');
    return [];
  }
  const start = listStart(stream.length, count, Size.THREAD);
  const fits = Math.floor(Math.max(0, stream.length - start) / Size.THREAD);
  if (count > fits) problems.report(where, `declares ${count} threads but the stream holds ${fits}`);
  const threads: MinidumpThread[] = [];
  let namesDropped = 0;
  for (let i = 0; i < Math.min(count, fits); i++) {
    const f = new Fields(stream, start + i * Size.THREAD);
    const threadId = f.u32(0);
    const label = `${where} thread ${i} (id 0x${threadId.toString(16)})`;
    const stackStart = f.u64(24);
    const stackSize = f.u32(32);
    const stackRva = f.u32(36);
    const contextSize = f.u32(40);
    const contextRva = f.u32(44);
    let name = names.get(threadId);
    if (name !== undefined && !chargeRepeatedString(file, name)) {
      name = undefined;
      namesDropped++;
    }
    threads.push({
      threadId,
      suspendCount: f.u32(4),
      priorityClass: f.u32(8),
      priority: f.u32(12),
      teb: f.u64(16),
      stackStart,
      stackSize,
      stackRva,
      stack: memoryBytes(file, stackStart, stackSize, stackRva, `${label} stack`, problems, true),
      context: readContext(file, { size: contextSize, rva: contextRva }, systemArch, `${label} context`, problems),
      name,
    });
  }
  if (namesDropped > 0) problems.report(where, `${namesDropped} thread names left out: strings exceed the file's size many times over`);
  return threads;
}

/** MINIDUMP_THREAD_NAME_LIST: u32 count then 12-byte (thread id, u64 name RVA) entries. */
export function readThreadNames(stream: Bytes, file: Bytes, problems: Problems): Map<number, string> {
  const where = 'ThreadNameListStream';
  const names = new Map<number, string>();
  const count = stream.u32(0);
  if (count === undefined) {
    problems.report(where, 'stream too short for the name count');
    return names;
  }
  const fits = Math.floor(Math.max(0, stream.length - 4) / 12);
  if (count > fits) problems.report(where, `declares ${count} names but the stream holds ${fits}`);
  for (let i = 0; i < Math.min(count, fits); i++) {
    const threadId = stream.u32(4 + i * 12)!;
    const rva = stream.u64(8 + i * 12)!;
    if (rva > BigInt(file.length)) {
      problems.report(where, `name of thread 0x${threadId.toString(16)} lies past the end of the file`);
      continue;
    }
    const name = readMinidumpString(file, Number(rva));
    if ('error' in name) problems.report(where, `thread 0x${threadId.toString(16)}: ${name.error}`);
    else if (!names.has(threadId)) names.set(threadId, name.value);
  }
  return names;
}
