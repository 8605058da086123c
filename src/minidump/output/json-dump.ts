/**
 * The `json_dump` document: what rust-minidump's `minidump-stackwalk --json` prints and
 * what Socorro's processor stores (schema: rust-minidump `minidump-processor/json-schema.md`;
 * ours is described in `docs/stackwalk-json.md`).
 *
 * Hex values are `"0x..."` strings, all of them (offsets too) zero-padded to the dump's
 * pointer width as rust-minidump pads them, because JSON numbers cannot hold every 64-bit
 * address. Inline frames are listed in their physical frame's `inlines`, innermost first, as
 * rust-minidump does; the physical frame carries the outer function and its call-site line.
 * A frame in a module that was unloaded has no `module`: like rust-minidump, it lists every
 * unloaded module covering its address in `unloaded_modules` (Socorro's signature shows
 * those as `(unloaded name@offset)`).
 */
import type { CodeModule } from '../contracts.js';
import type { ReportFrame } from '../process/frames.js';
import type { ProcessedThread, ProcessState } from '../process/process.js';
import type { UnloadedModule } from '../reader/types.js';
import { baseName } from './format.js';

/** A JSON value; bigints never appear (they are rendered as hex strings). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function hexOf(value: bigint | undefined, width: number): string | null {
  if (value === undefined) return null;
  return `0x${(value & 0xffff_ffff_ffff_ffffn).toString(16).padStart(width, '0')}`;
}

function pointerWidth(state: ProcessState): number {
  const cpu = state.systemInfo?.cpu ?? state.dump.cpu;
  return cpu === 'x86' || cpu === 'arm' ? 8 : 16;
}

function frameJson(
  frame: ReportFrame,
  index: number,
  inlines: readonly ReportFrame[],
  width: number,
  unloaded: readonly UnloadedModule[],
): { [key: string]: Json } {
  const at = frame.instruction;
  const module = frame.moduleIsUnloaded ? undefined : frame.module;
  return {
    frame: index,
    module: module ? baseName(module.codeFile) : null,
    function: frame.functionName ?? null,
    function_offset: frame.functionName && frame.functionBase !== undefined ? hexOf(at - frame.functionBase, width) : null,
    file: frame.sourceFile ?? null,
    line: frame.sourceLine ?? null,
    offset: hexOf(at, width),
    module_offset: module ? hexOf(at - module.base, width) : null,
    // rust-minidump's meaning: no function name for this frame (whatever the reason).
    missing_symbols: frame.functionName === undefined,
    // Mayday's: `function` is only the nearest export below the address (see SymbolLookup).
    function_is_nearest_export: frame.functionIsNearestExport === true,
    trust: frame.trust,
    inlines:
      inlines.length > 0
        ? inlines.map((i) => ({ function: i.functionName ?? null, file: i.sourceFile ?? null, line: i.sourceLine ?? null }))
        : null,
    unloaded_modules: module ? null : unloadedModulesAt(at, unloaded, width),
  };
}

/**
 * The unloaded modules covering `address`, by name (sorted), each with the offsets of the
 * address in every unloaded instance of that name (sorted, distinct): a library unloaded and
 * reloaded at several bases shows up once with several offsets. `null` when none covers it.
 */
function unloadedModulesAt(address: bigint, unloaded: readonly UnloadedModule[], width: number): Json[] | null {
  const byName = new Map<string, Set<bigint>>();
  for (const m of unloaded) {
    if (address < m.base || address - m.base >= m.size) continue;
    const name = baseName(m.codeFile);
    const offsets = byName.get(name) ?? new Set<bigint>();
    offsets.add(address - m.base);
    byName.set(name, offsets);
  }
  if (byName.size === 0) return null;
  return [...byName.keys()].sort().map((name) => ({
    module: name,
    offsets: [...byName.get(name)!].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((o) => hexOf(o, width)),
  }));
}

/** Physical frames with their inline frames folded in (inline frames precede their parent). */
function framesJson(thread: ProcessedThread, width: number, unloaded: readonly UnloadedModule[]): Json[] {
  const out: Json[] = [];
  let pending: ReportFrame[] = [];
  for (const frame of thread.frames) {
    if (frame.trust === 'inline') {
      pending.push(frame);
      continue;
    }
    out.push(frameJson(frame, out.length, pending, width, unloaded));
    pending = [];
  }
  return out;
}

function threadJson(state: ProcessState, thread: ProcessedThread, width: number): { [key: string]: Json } {
  const frames = framesJson(thread, width, state.unloadedModules);
  return { thread_name: thread.name ?? null, thread_id: thread.threadId, last_error_value: null, frame_count: frames.length, frames };
}

function registersJson(thread: ProcessedThread, width: number): { [key: string]: Json } | null {
  const context = thread.walked[0]?.context;
  if (!context) return null;
  const out: { [key: string]: Json } = {};
  for (const [name, value] of context.registers) out[name] = hexOf(value, width);
  return out;
}

function moduleJson(state: ProcessState, m: CodeModule, width: number): { [key: string]: Json } {
  const status = state.symbolStatus.get(m);
  return {
    base_addr: hexOf(m.base, width),
    end_addr: hexOf(m.base + m.size, width),
    code_id: m.codeId,
    debug_file: m.debugFile,
    debug_id: m.debugId,
    filename: baseName(m.codeFile),
    version: m.version || null,
    cert_subject: null,
    missing_symbols: status === 'missing',
    loaded_symbols: status === 'loaded' || status === 'corrupt',
    corrupt_symbols: status === 'corrupt',
    symbol_url: null,
  };
}

/**
 * The top-level `crashing_thread`: a copy of the requesting thread's entry plus
 * `threads_index`, with the context registers on its first frame (where rust-minidump puts
 * them). Two older fields are kept as well, for readers of Socorro's previous stackwalker
 * and of earlier Mayday documents: `total_frames` (= `frame_count`) and the same
 * `registers` on the thread itself.
 */
function crashingThreadJson(thread: { [key: string]: Json }, index: number, registers: { [key: string]: Json } | null): { [key: string]: Json } {
  const frames = (thread.frames as { [key: string]: Json }[]).map((f, i) => (i === 0 && registers ? { ...f, registers } : f));
  return { threads_index: index, ...thread, frames, total_frames: thread.frame_count, registers };
}

/** Parses `/etc/lsb-release` text (`DISTRIB_ID=...`) into rust-minidump's `lsb_release`. */
function lsbRelease(text: string | undefined): { [key: string]: Json } | null {
  if (!text) return null;
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (m) fields.set(m[1], m[2]);
  }
  return {
    id: fields.get('DISTRIB_ID') ?? fields.get('ID') ?? null,
    release: fields.get('DISTRIB_RELEASE') ?? fields.get('VERSION_ID') ?? null,
    codename: fields.get('DISTRIB_CODENAME') ?? fields.get('VERSION_CODENAME') ?? null,
    description: fields.get('DISTRIB_DESCRIPTION') ?? fields.get('PRETTY_NAME') ?? null,
  };
}

export function toJsonDump(state: ProcessState): { [key: string]: Json } {
  const width = pointerWidth(state);
  const si = state.systemInfo;
  const threads = state.threads.map((t) => threadJson(state, t, width));
  const requesting = state.requestingThread;
  const crashingThread = requesting >= 0 ? crashingThreadJson(threads[requesting], requesting, registersJson(state.threads[requesting], width)) : null;
  const modules = state.modules.modules;
  const mainIndex = state.mainModule ? modules.indexOf(state.mainModule) : -1;
  return {
    status: state.fatal ? `ERROR_${state.fatal.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}` : 'OK',
    pid: state.dump.miscInfo?.processId ?? null,
    crash_info: {
      type: state.crashed ? (state.crashReason ?? null) : state.assertion ? 'Assertion' : 'No crash',
      address: state.crashed ? hexOf(state.crashAddress, width) : null,
      crashing_thread: requesting >= 0 ? requesting : null,
      assertion: state.assertion ?? null,
      // rust-minidump's analyses of the faulting instruction; not done here.
      adjusted_address: null,
      instruction: null,
      memory_accesses: null,
      possible_bit_flips: null,
    },
    system_info: {
      os: si?.os ?? null,
      os_ver: si?.osVersion ?? null,
      cpu_arch: si?.cpuName ?? state.dump.cpu,
      cpu_info: si?.cpuInfo ?? null,
      cpu_count: si?.cpuCount ?? null,
      cpu_microcode_version: null,
    },
    crashing_thread: crashingThread,
    thread_count: threads.length,
    threads,
    main_module: mainIndex >= 0 ? mainIndex : null,
    modules_contains_cert_info: false,
    modules: modules.map((m) => moduleJson(state, m, width)),
    unloaded_modules: state.unloadedModules.map((m) => ({
      base_addr: hexOf(m.base, width),
      end_addr: hexOf(m.base + m.size, width),
      code_id: m.codeId,
      filename: baseName(m.codeFile),
      cert_subject: null,
    })),
    lsb_release: lsbRelease(state.dump.linux.lsbRelease),
    mac_crash_info: null,
    mac_boot_args: null,
    errors: [...state.errors],
  };
}
