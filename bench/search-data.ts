import type { ProcessedCrash } from '../src/ports/processed-crash-store.js';
import { seededRandom } from '../src/common/seeded-random.js';

/**
 * Synthetic but realistic processed crashes for the search benchmark and the crash index
 * tests: Zipf-distributed signatures (a few head signatures carry most crashes, a long
 * tail crashes once or twice), several products with their own version trains (newer
 * versions more frequent, each appearing at its release day), platforms with their CPUs
 * and OS versions, process types, and a weekly pattern (fewer crashes at weekends).
 * Deterministic for a seed, so a failing test can be replayed.
 */

export interface SyntheticOptions {
  count: number;
  /** Crashes are spread over the `days` days before `end` (ms, exclusive). */
  days: number;
  end: number;
  signatures: number;
  seed: number;
  /** Zipf exponent of the signature distribution. */
  zipf?: number;
}

const DAY_MS = 86_400_000;

/** Picks an index by cumulative weights (binary search). */
function sampler(weights: readonly number[]): (u: number) => number {
  const cdf: number[] = [];
  let sum = 0;
  for (const w of weights) cdf.push((sum += w));
  return (u) => {
    const target = u * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const NAMESPACES = ['mozilla', 'js', 'gfx', 'net', 'dom', 'media', 'ipc', 'layers', 'style', 'wr', 'audio', 'storage'];
const CLASSES = ['Runtime', 'Document', 'Compositor', 'Channel', 'Decoder', 'Parser', 'Allocator', 'Surface', 'Thread', 'Cache', 'Frame', 'Socket'];
const METHODS = ['Run', 'Init', 'Flush', 'Dispatch', 'Read', 'Write', 'Destroy', 'Resolve', 'Paint', 'Close', 'Update', 'Notify'];
const REASONS = ['SIGSEGV /SEGV_MAPERR', 'EXCEPTION_ACCESS_VIOLATION_READ', 'EXCEPTION_ACCESS_VIOLATION_WRITE', 'SIGABRT', 'EXCEPTION_BREAKPOINT', 'SIGBUS /BUS_ADRERR'];
const MODULES = ['xul.dll', 'libxul.so', 'XUL', 'nss3.dll', 'libc.so.6', 'ntdll.dll', 'kernelbase.dll', 'libGL.so.1', 'd3d11.dll', 'mozglue.dll'];

export function signatureName(rank: number): string {
  const a = NAMESPACES[rank % NAMESPACES.length]!;
  const b = CLASSES[Math.floor(rank / NAMESPACES.length) % CLASSES.length]!;
  const c = METHODS[Math.floor(rank / (NAMESPACES.length * CLASSES.length)) % METHODS.length]!;
  const suffix = Math.floor(rank / (NAMESPACES.length * CLASSES.length * METHODS.length));
  return `${a}::${b}::${c}${suffix > 0 ? suffix : ''}`;
}

interface Product {
  name: string;
  weight: number;
  versions: number;
  major: number;
}

const PRODUCTS: Product[] = [
  { name: 'Lumen', weight: 55, versions: 12, major: 120 },
  { name: 'LumenMobile', weight: 25, versions: 8, major: 60 },
  { name: 'Quill', weight: 15, versions: 6, major: 8 },
  { name: 'Harbor', weight: 5, versions: 4, major: 2 },
];

const PLATFORMS = [
  { os: 'Windows NT', weight: 65, versions: ['10.0.19045', '10.0.22631', '6.1.7601'], cpus: ['amd64', 'amd64', 'amd64', 'x86', 'arm64'] },
  { os: 'Mac OS X', weight: 20, versions: ['14.4.1', '13.6.5', '12.7.4'], cpus: ['arm64', 'arm64', 'amd64'] },
  { os: 'Linux', weight: 15, versions: ['6.5.0', '5.15.0', '6.8.0'], cpus: ['amd64', 'amd64', 'arm64'] },
];

const PROCESS_TYPES = [
  { name: 'parent', weight: 50 },
  { name: 'content', weight: 35 },
  { name: 'gpu', weight: 10 },
  { name: 'utility', weight: 5 },
];

const CHANNELS = [
  { name: 'release', weight: 80 },
  { name: 'beta', weight: 15 },
  { name: 'nightly', weight: 5 },
];

function hex(random: () => number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** A crash id shaped like Socorro's (random hex, the submission day at the end). */
function crashId(random: () => number, submitted: number): string {
  const d = new Date(submitted);
  const date = `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${hex(random, 8)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 6)}${date}`;
}

/** Yields `count` processed crashes, newest-agnostic order (as a pipeline would index them). */
export function* syntheticCrashes(options: SyntheticOptions): Generator<ProcessedCrash> {
  const random = seededRandom(options.seed);
  const s = options.zipf ?? 1.1;
  const pickSignature = sampler(Array.from({ length: options.signatures }, (_, i) => 1 / (i + 1) ** s));
  const pickProduct = sampler(PRODUCTS.map((p) => p.weight));
  const pickPlatform = sampler(PLATFORMS.map((p) => p.weight));
  const pickProcess = sampler(PROCESS_TYPES.map((p) => p.weight));
  const pickChannel = sampler(CHANNELS.map((c) => c.weight));
  const startDay = Math.floor(options.end / DAY_MS) - options.days;
  // Weekly pattern and a slow upward trend.
  const pickDay = sampler(
    Array.from({ length: options.days }, (_, i) => {
      const weekday = new Date((startDay + i) * DAY_MS).getUTCDay();
      return (weekday === 0 || weekday === 6 ? 0.7 : 1) * (1 + (0.3 * i) / options.days);
    }),
  );
  // Each signature lives in a few modules and crashes for a reason of its own.
  for (let i = 0; i < options.count; i++) {
    const rank = pickSignature(random());
    const dayIndex = pickDay(random());
    const submitted = Math.min(options.end - 1, (startDay + dayIndex) * DAY_MS + Math.floor(random() * DAY_MS));
    const product = PRODUCTS[pickProduct(random())]!;
    // Version i is released at day (i / versions) of the period; newer ones are more frequent.
    const released = Math.max(1, Math.floor(((dayIndex + 1) / options.days) * product.versions + 0.999));
    const pickVersion = sampler(Array.from({ length: released }, (_, v) => 1.6 ** v));
    const version = `${product.major + pickVersion(random())}.0`;
    const platform = PLATFORMS[pickPlatform(random())]!;
    const cpu = platform.cpus[Math.floor(random() * platform.cpus.length)]!;
    const processType = PROCESS_TYPES[pickProcess(random())]!.name;
    const signature = signatureName(rank);
    const modules = [MODULES[rank % MODULES.length]!, MODULES[(rank * 7 + 3) % MODULES.length]!, ...(random() < 0.5 ? [MODULES[Math.floor(random() * MODULES.length)]!] : [])];
    const withEmail = random() < 0.05;
    yield {
      uuid: crashId(random, submitted),
      submitted_timestamp: new Date(submitted).toISOString(),
      date_processed: new Date(submitted + 2000 + Math.floor(random() * 60_000)).toISOString(),
      product: product.name,
      version,
      release_channel: CHANNELS[pickChannel(random())]!.name,
      build_id: `2024${String(1 + (rank % 12)).padStart(2, '0')}${hex(random, 6)}`,
      process_type: processType,
      os_name: platform.os,
      os_version: platform.versions[Math.floor(random() * platform.versions.length)]!,
      os_pretty_version: `${platform.os} ${platform.versions[0]}`,
      cpu_arch: cpu,
      cpu_count: [2, 4, 8, 16][Math.floor(random() * 4)]!,
      reason: REASONS[rank % REASONS.length]!,
      address: `0x${hex(random, 8)}`,
      signature,
      proto_signature: `${signature} | ${signatureName(rank + 1)} | ${signatureName(rank + 2)}`,
      modules_in_stack: modules,
      uptime: Math.floor(random() * 86_400),
      install_age: Math.floor(random() * 30 * 86_400),
      crashing_thread: 0,
      thread_count: 10 + Math.floor(random() * 80),
      report_type: random() < 0.97 ? 'crash' : 'hang',
      mdsw_status_string: 'OK',
      annotation_keys: ['ProductName', 'Version', ...(withEmail ? ['Email'] : [])],
      success: random() < 0.99,
      processor_notes: random() < 0.02 ? 'some modules had no symbols' : '',
      ...(withEmail ? { email: `user${Math.floor(random() * 1000)}@example.com` } : {}),
      ...(random() < 0.1 ? { url: `https://example.com/page/${Math.floor(random() * 100)}` } : {}),
    };
  }
}
