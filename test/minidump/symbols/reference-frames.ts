/**
 * Reads Breakpad `minidump_stackwalk` reference outputs into the symbol lookups they
 * imply, for differential tests of the symbol layer: for every symbolized frame, the
 * module-relative address Breakpad looked up and the function / file / line / inline
 * frames it printed for it.
 */

export interface ReferenceModule {
  readonly name: string;
  readonly debugFile: string;
  readonly debugId: string;
  readonly base: bigint;
}

export interface ReferenceInline {
  readonly functionName: string;
  readonly file?: string;
  readonly line?: number;
}

export interface ReferenceFrame {
  /** Where the frame came from, for messages: `file thread N frame M`. */
  readonly where: string;
  readonly module: ReferenceModule;
  /** The module-relative address Breakpad looked up (the return address - 1 for callers). */
  readonly address: bigint;
  /** Undefined when Breakpad printed `module + 0x...` (no symbol at the address). */
  readonly functionName?: string;
  readonly file?: string;
  readonly line?: number;
  /** The module-relative return address (the pc itself), which the printed offsets count from. */
  readonly returnAddress: bigint;
  /** `return address - line base` (with a file) or `return address - function base`, as printed. */
  readonly offset: bigint;
  /** Inline frames printed before this one, outermost first. */
  readonly inlines: readonly ReferenceInline[];
}

/** Modules from the `-m` output: `Module|name|version|debug_file|debug_id|base|max|main`. */
export function parseModules(machineOutput: string): ReferenceModule[] {
  const modules: ReferenceModule[] = [];
  for (const line of machineOutput.split('\n')) {
    const f = line.split('|');
    if (f[0] !== 'Module' || f.length < 8) continue;
    modules.push({ name: f[1], debugFile: f[3], debugId: f[4], base: BigInt(f[5]) });
  }
  return modules;
}

interface RawFrame {
  index: number;
  text: string;
  registers: Map<string, bigint>;
  foundBy: string;
}

function rawFrames(humanOutput: string): { thread: number; frames: RawFrame[] }[] {
  const threads: { thread: number; frames: RawFrame[] }[] = [];
  let current: RawFrame | undefined;
  for (const line of humanOutput.split('\n')) {
    const thread = /^Thread (\d+)/.exec(line);
    if (thread) {
      threads.push({ thread: Number(thread[1]), frames: [] });
      current = undefined;
      continue;
    }
    if (line.startsWith('Loaded modules:')) break;
    const frame = /^\s*(\d+)  (.*)$/.exec(line);
    if (frame && threads.length > 0) {
      current = { index: Number(frame[1]), text: frame[2], registers: new Map(), foundBy: '' };
      threads[threads.length - 1].frames.push(current);
      continue;
    }
    if (!current) continue;
    const found = /^\s*Found by: (.*)$/.exec(line);
    if (found) current.foundBy = found[1];
    for (const m of line.matchAll(/(\w+) = 0x([0-9a-f]+)/g)) current.registers.set(m[1], BigInt(`0x${m[2]}`));
  }
  return threads;
}

interface Printed {
  functionName?: string;
  file?: string;
  line?: number;
  offset: bigint;
}

function parseFrameText(text: string, module: ReferenceModule): Printed | undefined {
  if (text.startsWith(`${module.name} + 0x`)) return { offset: BigInt(text.slice(module.name.length + 3)) };
  if (!text.startsWith(`${module.name}!`)) return undefined;
  const rest = text.slice(module.name.length + 1);
  const withLine = /^(.*) \[(.*) : (\d+) \+ (0x[0-9a-f]+)\]$/.exec(rest);
  if (withLine) {
    return { functionName: withLine[1], file: withLine[2], line: Number(withLine[3]), offset: BigInt(withLine[4]) };
  }
  const plain = /^(.*) \+ (0x[0-9a-f]+)$/.exec(rest);
  if (plain) return { functionName: plain[1], offset: BigInt(plain[2]) };
  return undefined;
}

const PC_REGISTERS = ['rip', 'eip'];

/**
 * Frames of amd64 and x86 dumps (whose return-address adjustment is simply -1) that
 * fall in a known module. Inline frames (`Found by: inline record`) are attached to the
 * physical frame that follows them.
 */
export function referenceFrames(name: string, humanOutput: string, machineOutput: string): ReferenceFrame[] {
  const modules = parseModules(machineOutput).sort((a, b) => b.name.length - a.name.length);
  const out: ReferenceFrame[] = [];
  for (const { thread, frames } of rawFrames(humanOutput)) {
    let pendingInlines: ReferenceInline[] = [];
    for (const frame of frames) {
      const module = modules.find((m) => frame.text.startsWith(`${m.name}!`) || frame.text.startsWith(`${m.name} + 0x`));
      const printed = module && parseFrameText(frame.text, module);
      if (frame.foundBy === 'inline record') {
        if (printed?.functionName !== undefined) {
          pendingInlines.push({ functionName: printed.functionName, file: printed.file, line: printed.line });
        }
        continue;
      }
      const inlines = pendingInlines.reverse();
      pendingInlines = [];
      const pc = PC_REGISTERS.map((r) => frame.registers.get(r)).find((v) => v !== undefined);
      if (!module || !printed || pc === undefined) continue;
      const isContext = frame.foundBy === 'given as instruction pointer in context';
      out.push({
        where: `${name} thread ${thread} frame ${frame.index}`,
        module,
        address: pc - module.base - (isContext ? 0n : 1n),
        returnAddress: pc - module.base,
        ...printed,
        inlines,
      });
    }
  }
  return out;
}
