import type { Rule, Stackwalker } from '../rule.js';
import { MAIN_DUMP } from './annotations.js';

interface FrameDoc {
  module?: string | null;
  function?: string | null;
  file?: string | null;
}
interface ThreadDoc {
  thread_name?: string | null;
  frames?: FrameDoc[];
  frame_count?: number;
  truncated?: boolean;
}
interface ModuleDoc {
  filename?: string;
  debug_file?: string | null;
  debug_id?: string | null;
}
interface JsonDumpDoc {
  threads?: ThreadDoc[];
  modules?: ModuleDoc[];
  thread_count?: number;
  system_info?: { os?: string; os_ver?: string; cpu_arch?: string; cpu_info?: string; cpu_count?: number };
  crash_info?: { type?: string | null; address?: string | null; crashing_thread?: number | null };
  crashing_thread?: ThreadDoc | null;
  lsb_release?: { description?: string | null } | null;
}

/** Stackwalks the main dump and lifts system and crash fields out of the document. */
export function stackwalkRule(stackwalk: Stackwalker): Rule {
  return {
    name: 'stackwalk',
    applies({ dumps, notes }) {
      if (dumps.has(MAIN_DUMP)) return true;
      notes.push('no minidump in the submission');
      return false;
    },
    async act({ dumps, processed, notes, deadline }) {
      const result = await stackwalk(dumps.get(MAIN_DUMP)!, { deadline });
      processed.json_dump = result.jsonDump;
      processed.mdsw_status_string = result.errors.length === 0 ? 'OK' : result.errors[0];
      for (const error of result.errors) notes.push(`stackwalk: ${error}`);
      const { system_info: system, crash_info: crash } = result.jsonDump as JsonDumpDoc;
      Object.assign(processed, {
        os_name: system?.os ?? null,
        os_version: system?.os_ver ?? null,
        cpu_arch: system?.cpu_arch ?? null,
        cpu_info: system?.cpu_info ?? null,
        cpu_count: system?.cpu_count ?? null,
        reason: crash?.type ?? null,
        address: crash?.address ?? null,
        crashing_thread: crash?.crashing_thread ?? null,
      });
    },
  };
}

function jsonDumpOf(processed: Record<string, unknown>): JsonDumpDoc | undefined {
  return processed.json_dump as JsonDumpDoc | undefined;
}

function crashingThreadOf(processed: Record<string, unknown>): ThreadDoc | undefined {
  const index = processed.crashing_thread;
  return typeof index === 'number' ? jsonDumpOf(processed)?.threads?.[index] : undefined;
}

/** The crashing thread's name and the thread count, as search fields. */
export const crashingThreadInfoRule: Rule = {
  name: 'crashing thread info',
  applies: ({ processed }) => jsonDumpOf(processed) !== undefined,
  act({ processed }) {
    const dump = jsonDumpOf(processed)!;
    processed.thread_count = dump.thread_count ?? dump.threads?.length ?? 0;
    processed.crashing_thread_name = crashingThreadOf(processed)?.thread_name ?? null;
  },
};

/** Frames kept per thread; the top and bottom halves are kept when a stack is longer. */
export const MAX_FRAMES_PER_THREAD = 500;

/**
 * Very long stacks (unbounded recursion) make processed crashes huge and pages slow;
 * as Socorro does, keep the top and the bottom of each stack and mark it truncated.
 */
export const truncateStacksRule: Rule = {
  name: 'truncate stacks',
  applies: ({ processed }) => jsonDumpOf(processed) !== undefined,
  act({ processed, notes }) {
    let truncated = 0;
    for (const thread of jsonDumpOf(processed)!.threads ?? []) {
      const frames = thread.frames ?? [];
      if (frames.length <= MAX_FRAMES_PER_THREAD) continue;
      const half = MAX_FRAMES_PER_THREAD / 2;
      thread.frames = [...frames.slice(0, half), ...frames.slice(-half)];
      thread.truncated = true;
      truncated++;
    }
    processed.stackwalk_truncated = truncated > 0;
    if (truncated > 0) notes.push(`truncated ${truncated} stack${truncated > 1 ? 's' : ''} to ${MAX_FRAMES_PER_THREAD} frames`);
  },
};

/** `debug_file/debug_id` of each module the crashing thread passes through, in stack order. */
export const modulesInStackRule: Rule = {
  name: 'modules in stack',
  applies: ({ processed }) => crashingThreadOf(processed) !== undefined,
  act({ processed }) {
    const modules = jsonDumpOf(processed)!.modules ?? [];
    const byName = new Map(modules.map((m) => [m.filename, m]));
    const seen = new Set<string>();
    for (const frame of crashingThreadOf(processed)!.frames ?? []) {
      const module = frame.module ? byName.get(frame.module) : undefined;
      if (module) seen.add(`${module.debug_file ?? module.filename}/${module.debug_id ?? ''}`);
    }
    processed.modules_in_stack = [...seen];
  },
};

/** How many of the topmost frames' source files are kept (Socorro keeps a handful). */
const TOPMOST_FRAMES = 10;

/** Source files of the topmost frames of the crashing thread, for search by file. */
export const topmostFilenamesRule: Rule = {
  name: 'topmost filenames',
  applies: ({ processed }) => crashingThreadOf(processed) !== undefined,
  act({ processed }) {
    const files = (crashingThreadOf(processed)!.frames ?? [])
      .slice(0, TOPMOST_FRAMES)
      .map((f) => f.file)
      .filter((f): f is string => typeof f === 'string' && f !== '');
    processed.topmost_filenames = [...new Set(files)];
  },
};
