/**
 * Signatures for crashes whose frames alone mislead: out-of-memory aborts, explicit
 * aborts with a message, stack overflows, hangs. Each answers the text to put in front of
 * (or instead of) the frame signature, after Socorro's `OOMSignature`, `AbortSignature`
 * and hang prefixes; the stack-overflow test is Mayday's own.
 */
import { printableOnly } from './text.js';

/** Allocations up to this size that fail mean the process was out of memory as a whole (Socorro's cut-off). */
export const OOM_SMALL_LIMIT = 256 * 1024;

/**
 * Functions that report a failed allocation: C++ `std::bad_alloc` throwing, Rust's
 * allocation error handlers, Chromium/Electron's `OnNoMemory`. Tested against normalised
 * frames; a crash through one of them is an out-of-memory crash even without an
 * `OOMAllocationSize` annotation.
 */
export const OOM_FRAME_PATTERNS: readonly RegExp[] = [
  /^std::__throw_bad_alloc$/,
  /^std::__throw_bad_array_new_length$/,
  /^alloc::alloc::handle_alloc_error/,
  /^std::alloc::rust_oom/,
  /^(?:std::alloc::_::)?__rg_oom/,
  /^__rust_alloc_error_handler/,
  /^(?:partition_alloc::internal::|base::internal::|base::)?OnNoMemory(?:Internal)?$/,
  /^(?:partition_alloc::internal::)?PartitionOutOfMemory/,
  /^mozalloc_handle_oom$/,
];

export interface OomEvidence {
  readonly size?: number;
  /** Why this is an OOM, for `signature_debug`. */
  readonly because: string;
}

/**
 * Whether the crash is an out-of-memory crash: an allocation size was reported, a frame
 * reports a failed allocation, `operator new` threw (`__cxa_throw` called from it), or
 * Windows said the commit limit was reached.
 */
export function oomEvidence(frames: readonly string[], allocationSize: number | undefined, lastErrorValue: string | undefined): OomEvidence | undefined {
  if (allocationSize !== undefined) return { size: allocationSize, because: `oom_allocation_size is ${allocationSize}` };
  const index = frames.findIndex((f) => OOM_FRAME_PATTERNS.some((p) => p.test(f)));
  if (index >= 0) return { because: `frame ${index} "${frames[index]}" reports a failed allocation` };
  for (let i = 0; i + 1 < frames.length; i++) {
    if (/^__cxa_throw$/.test(frames[i]) && /^operator new(?:\[\])?$/.test(frames[i + 1])) return { because: `frame ${i + 1} "${frames[i + 1]}" threw` };
  }
  if (lastErrorValue === 'ERROR_COMMITMENT_LIMIT') return { because: 'the last error is ERROR_COMMITMENT_LIMIT' };
  return undefined;
}

/**
 * `OOM | small` replaces the signature: a small allocation failing says nothing about the
 * code that asked, the whole process was out of memory. A large one keeps it (that code
 * asked for too much): `OOM | large | sig`; unknown size: `OOM | unknown | sig`.
 */
export function oomSignature(evidence: OomEvidence, signature: string): string {
  if (evidence.size === undefined) return `OOM | unknown | ${signature}`;
  return evidence.size <= OOM_SMALL_LIMIT ? 'OOM | small' : `OOM | large | ${signature}`;
}

/** Longest abort message kept in a signature. */
export const ABORT_MESSAGE_MAX_LENGTH = 80;

/**
 * The part of an abort message that identifies the abort. Source locations change with
 * every build, so they go (`: file foo.cpp, line 12`, `at src/main.rs:10:5`,
 * `(foo.cc:42)`), as do Firefox's `###!!! ABORT:` marker and everything after the first
 * line. Answers '' when nothing identifying is left.
 */
export function abortMessagePart(message: string): string {
  let m = message;
  const marker = m.indexOf('###!!! ABORT:');
  if (marker >= 0) m = m.slice(marker + '###!!! ABORT:'.length);
  m = m.split(/\r?\n/).find((line) => line.trim() !== '') ?? '';
  const fileAt = m.indexOf(': file ');
  if (fileAt >= 0) m = m.slice(0, fileAt);
  if (/^\s*file /.test(m)) m = '';
  m = m
    .replace(/\s*\(\s*[^()\s]+\.[A-Za-z0-9]+:\d+(?::\d+)?\s*\)/g, '')
    .replace(/\s*(?:\b(?:at|in)\s+)?[^\s:]*[\\/][^\s:]*\.[A-Za-z0-9]+:\d+(?::\d+)?/g, '')
    .replace(/\s*(?:\b(?:at|in)\s+)?\b[\w.-]+\.(?:c|cc|cpp|cxx|h|hh|hpp|m|mm|rs|go|swift|java|kt|js|ts):\d+(?::\d+)?/g, '');
  m = printableOnly(m).replace(/ {2,}/g, ' ').trim();
  if ([...m].length > ABORT_MESSAGE_MAX_LENGTH) m = `${[...m].slice(0, ABORT_MESSAGE_MAX_LENGTH - 3).join('')}...`;
  return m;
}

/** `Abort | <message> | sig`, or `Abort | sig` when the message says nothing beyond its location. */
export function abortSignature(message: string, signature: string): string {
  const part = abortMessagePart(message);
  return part === '' ? `Abort | ${signature}` : `Abort | ${part} | ${signature}`;
}

/** How far from the stack pointer a fault still counts as running off the stack. */
const BELOW_STACK_POINTER = 64n * 1024n;
const ABOVE_STACK_POINTER = 4n * 1024n;

function parseAddress(text: string | undefined): bigint | undefined {
  if (!text || !/^0x[0-9a-f]+$/i.test(text.trim())) return undefined;
  return BigInt(text.trim());
}

/**
 * Whether the crash is a stack overflow: the OS said so (`EXCEPTION_STACK_OVERFLOW`), or a
 * memory fault hit an address next to the crashing thread's stack pointer. Memory at the
 * stack pointer is mapped for as long as the stack has room, so a fault there is the
 * guard page below an exhausted stack (POSIX systems report overflows as plain SIGSEGV).
 * A fault at the instruction pointer itself is code run from the stack, not an overflow.
 * Answers why, for `signature_debug`.
 */
export function stackOverflowEvidence(
  reason: string | undefined,
  address: string | undefined,
  stackPointer: string | undefined,
  instructionPointer?: string,
): string | undefined {
  if (!reason) return undefined;
  if (/STACK_OVERFLOW/i.test(reason)) return `the crash reason is ${reason}`;
  if (!/^(?:SIGSEGV|SIGBUS|EXCEPTION_ACCESS_VIOLATION|EXC_BAD_ACCESS)/.test(reason) || /EXEC/.test(reason)) return undefined;
  const fault = parseAddress(address);
  const sp = parseAddress(stackPointer);
  if (fault === undefined || sp === undefined || sp < BELOW_STACK_POINTER) return undefined;
  // Jumping into the (mapped but not executable) stack faults at the instruction pointer.
  if (fault === parseAddress(instructionPointer)) return undefined;
  if (fault < sp - BELOW_STACK_POINTER || fault >= sp + ABOVE_STACK_POINTER) return undefined;
  return `${reason} at ${address}, next to the stack pointer ${stackPointer}`;
}
