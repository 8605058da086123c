/**
 * What signature generation reads, and how it is lifted out of a processed crash (with
 * the stackwalker document under `json_dump`) or out of a bare stackwalker document.
 * Both come from JSON that may be old, partial or hand-made, so every field is checked.
 */
import type { StackFrameInput } from './normalize.js';

export interface SignatureInput {
  /** Index of the crashing thread; null when the dump does not say which thread crashed. */
  readonly crashingThread: number | null;
  /** The crashing thread's frames; null when that thread is not in the document. */
  readonly frames: readonly StackFrameInput[] | null;
  /** Crash reason as the stackwalker prints it (`SIGSEGV /SEGV_MAPERR`, `EXCEPTION_STACK_OVERFLOW`). */
  readonly reason?: string;
  /** Crash address (`crash_info.address`). */
  readonly address?: string;
  /** The crashing thread's stack pointer at the crash (`rsp`, `esp`, `sp`). */
  readonly stackPointer?: string;
  /** The crashing thread's instruction pointer at the crash (`rip`, `eip`, `pc`). */
  readonly instructionPointer?: string;
  /** `abort_message` (the `AbortMessage` annotation). */
  readonly abortMessage?: string;
  /** `oom_allocation_size` (the `OOMAllocationSize` annotation), in bytes. */
  readonly oomAllocationSize?: number;
  /** The client reported a hang rather than a crash. */
  readonly hang?: boolean;
  /** `mdsw_status_string`: `OK`, or the stackwalker's first problem. */
  readonly stackwalkerStatus?: string;
  /** The crashing thread's last Windows error (`ERROR_COMMITMENT_LIMIT`...). */
  readonly lastErrorValue?: string;
}

type JsonObject = Record<string, unknown>;

function object(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** One frame with only the fields signature generation reads, each of the right type. */
export function frameFromJson(value: unknown): StackFrameInput {
  const f = object(value) ?? {};
  const inlines = Array.isArray(f.inlines)
    ? f.inlines.map((i) => {
        const o = object(i) ?? {};
        return { function: stringOrNull(o.function), file: stringOrNull(o.file), line: integer(o.line) ?? null };
      })
    : null;
  const unloaded = Array.isArray(f.unloaded_modules)
    ? f.unloaded_modules.map((u) => {
        const o = object(u) ?? {};
        return { module: stringOrNull(o.module), offsets: Array.isArray(o.offsets) ? o.offsets.filter((x): x is string => typeof x === 'string') : null };
      })
    : null;
  return {
    module: stringOrNull(f.module),
    function: stringOrNull(f.function),
    function_is_nearest_export: f.function_is_nearest_export === true,
    unloaded_modules: unloaded,
    file: stringOrNull(f.file),
    line: integer(f.line) ?? null,
    module_offset: stringOrNull(f.module_offset),
    offset: stringOrNull(f.offset),
    trust: stringOrNull(f.trust),
    inlines,
  };
}

const STACK_POINTERS = ['rsp', 'esp', 'sp', 'r13'];
const INSTRUCTION_POINTERS = ['rip', 'eip', 'pc', 'r15'];

/**
 * Signature input from a processed crash (`json_dump` plus processed fields such as
 * `abort_message`) or from a stackwalker document itself. The crashing thread is the
 * processed crash's `crashing_thread`, else the document's `crash_info.crashing_thread`.
 */
export function signatureInputFromCrash(crash: unknown): SignatureInput {
  const root = object(crash) ?? {};
  const dump = object(root.json_dump) ?? (root.threads !== undefined || root.crash_info !== undefined ? root : {});
  const crashInfo = object(dump.crash_info) ?? {};
  const crashingThread = integer(root.crashing_thread) ?? integer(crashInfo.crashing_thread) ?? null;

  let thread: JsonObject | undefined;
  const requesting = object(dump.crashing_thread);
  if (crashingThread !== null) {
    thread = Array.isArray(dump.threads) ? object(dump.threads[crashingThread]) : undefined;
    if (!thread && requesting && integer(requesting.threads_index) === crashingThread) thread = requesting;
  }
  const frames = thread ? (Array.isArray(thread.frames) ? thread.frames.map(frameFromJson) : []) : null;

  // Registers are only in the requesting-thread copy; use them when it is the crashing thread.
  const registers = (requesting && integer(requesting.threads_index) === crashingThread ? object(requesting.registers) : undefined) ?? {};
  const register = (names: readonly string[]) => names.map((r) => text(registers[r])).find((v) => v !== undefined);

  const reportType = text(root.report_type);
  return {
    crashingThread,
    frames,
    reason: text(root.reason) ?? text(crashInfo.type),
    address: text(root.address) ?? text(crashInfo.address),
    stackPointer: register(STACK_POINTERS),
    instructionPointer: register(INSTRUCTION_POINTERS) ?? (frames?.[0]?.offset || undefined),
    abortMessage: text(root.abort_message),
    oomAllocationSize: integer(root.oom_allocation_size),
    hang: reportType === 'hang' || root.hang === true || undefined,
    stackwalkerStatus: text(root.mdsw_status_string),
    lastErrorValue: thread ? text(thread.last_error_value) : undefined,
  };
}
