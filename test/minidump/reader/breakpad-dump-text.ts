/**
 * A parser for the parts of Breakpad's `minidump_dump` output (`.breakpad-dump.txt`)
 * that the reader is compared against, and for the `OS|`, `CPU|`, `Crash|` and
 * `Module|` lines of `minidump_stackwalk -m`.
 *
 * `minidump_dump` prints blocks separated by blank lines: a title line (`MDRawModule`),
 * sometimes preceded by an index line (`module[3]`), then `  key = value` lines.
 */

export interface Block {
  readonly title: string;
  readonly fields: ReadonlyMap<string, string>;
}

export function parseBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let title: string | undefined;
  let fields = new Map<string, string>();
  const flush = (): void => {
    if (title !== undefined) blocks.push({ title, fields });
    title = undefined;
    fields = new Map();
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (!line.startsWith(' ')) {
      // Index lines (`thread[0]`) precede the title; the title is the last unindented line.
      if (/^[a-zA-Z_]+\[\s*\d+\]$/.test(line) || title === undefined || fields.size === 0) {
        title = line.trim();
        continue;
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    fields.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  flush();
  return blocks;
}

/** `"text"` → `text`; `(null)` → undefined. */
export function unquote(value: string | undefined): string | undefined {
  if (value === undefined || value === '(null)') return undefined;
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** `0x1a` / `26` / `0x523a284a 2013-09-18 22:25:14` → bigint. */
export function num(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const token = value.split(/\s+/)[0];
  if (!/^(0x[0-9a-fA-F]+|-?\d+)$/.test(token)) return undefined;
  return BigInt(token);
}

export interface DumpText {
  readonly streamCount?: bigint;
  readonly directory: Array<{ type: bigint; size: bigint; rva: bigint }>;
  readonly threads: Array<{ id: bigint; stackStart: bigint; stackSize: bigint }>;
  readonly modules: Array<{ base: bigint; size: bigint; codeFile?: string; debugFile?: string; debugId?: string; version?: string }>;
  readonly memory: Array<{ start: bigint; size: bigint }>;
  readonly exception?: { threadId: bigint; code: bigint; address: bigint };
  readonly systemInfo?: { arch: bigint; cpus: bigint; platform: bigint; major: bigint; minor: bigint; build: bigint; csd?: string; vendor?: string };
}

export function parseDumpText(text: string): DumpText {
  const blocks = parseBlocks(text);
  const result: {
    -readonly [K in keyof DumpText]: DumpText[K];
  } = { directory: [], threads: [], modules: [], memory: [] };
  for (const { title, fields } of blocks) {
    const f = (k: string): bigint => num(fields.get(k)) ?? -1n;
    switch (title) {
      case 'MDRawHeader':
        result.streamCount = f('stream_count');
        break;
      case 'MDRawDirectory':
        // minidump_dump prints data_size with %d, so sizes of 2 GiB and more show negative.
        result.directory.push({ type: f('stream_type'), size: BigInt.asUintN(32, f('location.data_size')), rva: f('location.rva') });
        break;
      case 'MDRawThread':
        result.threads.push({ id: f('thread_id'), stackStart: f('stack.start_of_memory_range'), stackSize: f('stack.memory.data_size') });
        break;
      case 'MDRawModule':
        result.modules.push({
          base: f('base_of_image'),
          size: f('size_of_image'),
          codeFile: unquote(fields.get('(code_file)')),
          debugFile: unquote(fields.get('(debug_file)')),
          debugId: unquote(fields.get('(debug_identifier)')),
          version: unquote(fields.get('(version)')),
        });
        break;
      case 'MDMemoryDescriptor':
        result.memory.push({ start: f('start_of_memory_range'), size: f('memory.data_size') });
        break;
      case 'MDException':
        result.exception = { threadId: f('thread_id'), code: f('exception_record.exception_code'), address: f('exception_record.exception_address') };
        break;
      case 'MDRawSystemInfo':
        result.systemInfo = {
          arch: f('processor_architecture'),
          cpus: f('number_of_processors'),
          platform: f('platform_id'),
          major: f('major_version'),
          minor: f('minor_version'),
          build: f('build_number'),
          csd: unquote(fields.get('(csd_version)')),
          vendor: unquote(fields.get('(cpu_vendor)')),
        };
        break;
    }
  }
  return result;
}

export interface MachineReadable {
  readonly os?: [string, string];
  readonly cpu?: [string, string, string];
  readonly crash?: [string, string, string];
  readonly modules: Array<{ codeFile: string; version: string; debugFile: string; debugId: string; base: bigint; end: bigint; main: boolean }>;
}

/** The header lines of `minidump_stackwalk -m` output. */
export function parseMachineReadable(text: string): MachineReadable {
  const result: { -readonly [K in keyof MachineReadable]: MachineReadable[K] } = { modules: [] };
  for (const line of text.split('\n')) {
    const parts = line.split('|');
    switch (parts[0]) {
      case 'OS':
        result.os = [parts[1], parts[2]];
        break;
      case 'CPU':
        result.cpu = [parts[1], parts[2], parts[3]];
        break;
      case 'Crash':
        result.crash = [parts[1], parts[2], parts[3]];
        break;
      case 'Module':
        result.modules.push({
          codeFile: parts[1],
          version: parts[2],
          debugFile: parts[3],
          debugId: parts[4],
          base: BigInt(parts[5]),
          end: BigInt(parts[6]),
          main: parts[7] === '1',
        });
        break;
    }
  }
  return result;
}
