/**
 * Differential tests against Breakpad: every corpus dump is read and compared with
 * `minidump_dump` (`.breakpad-dump.txt`) and `minidump_stackwalk -m` (`.breakpad-m.txt`).
 * The public corpus is read in place from `../shared/corpus/public` and these tests skip
 * when it is absent. Known, explained differences are listed in
 * `docs/minidump-reader-differences.md` and in `KNOWN` below.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readMinidump, type Minidump } from '../../../src/minidump/reader/index.js';
import { baseName } from '../../../src/minidump/reader/modules.js';
import { parseDumpText, parseMachineReadable } from './breakpad-dump-text.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = join(root, 'fixtures/corpus');
const publicCorpus = resolve(root, '../shared/corpus/public');
const hasPublic = existsSync(join(publicCorpus, 'manifest.json'));

interface ManifestDump {
  file: string;
  reference: string;
  expected_m?: string;
  expected_minidump_dump?: string;
  category: string;
}

/**
 * Comparisons that differ from Breakpad on purpose, by dump and aspect; each is
 * explained in docs/minidump-reader-differences.md.
 */
const KNOWN: Record<string, readonly string[]> = {};

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Breakpad's thread index: position among threads once the dump-writing thread is dropped. */
function breakpadThreadIndex(dump: Minidump): number {
  const dumpThread = dump.breakpadInfo?.dumpThreadId;
  const threads = dump.threads.filter((t) => t.threadId !== dumpThread);
  const wanted = dump.exception?.threadId ?? dump.breakpadInfo?.requestingThreadId;
  return threads.findIndex((t) => t.threadId === wanted);
}

/** Compares with `minidump_stackwalk -m` header lines; returns the differences found. */
function compareMachineReadable(dump: Minidump, text: string): string[] {
  const m = parseMachineReadable(text);
  const diffs: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) diffs.push(`${what}: ours ${JSON.stringify(ours)} breakpad ${JSON.stringify(theirs)}`);
  };
  const sys = dump.systemInfo;
  if (m.os) check('OS', [sys?.os ?? '', sys?.osVersion ?? ''], m.os);
  if (m.cpu) check('CPU', [sys?.cpuName ?? '', sys?.cpuInfo ?? '', String(sys?.cpuCount ?? 0)], m.cpu);
  if (m.crash) {
    const ours = dump.crashReason
      ? [dump.crashReason.reason, hex(dump.crashReason.address), String(breakpadThreadIndex(dump))]
      : ['No crash', '', ''];
    check('Crash', ours, m.crash);
  }
  // Breakpad lists modules by address, dropping exact duplicates.
  const seen = new Set<string>();
  const ours = [...dump.modules]
    .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0))
    .filter((mod) => {
      const key = `${mod.base}:${mod.size}:${mod.codeFile}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((mod) => ({
      codeFile: baseName(mod.codeFile),
      version: mod.version,
      debugFile: mod.debugFile,
      debugId: mod.debugId,
      base: hex(mod.base),
      end: hex(mod.base + mod.size - 1n),
      main: mod.index === 0,
    }));
  check(
    'Modules',
    ours,
    m.modules.map((mod) => ({ ...mod, base: hex(mod.base), end: hex(mod.end) })),
  );
  return diffs;
}

/** Compares with `minidump_dump` output; returns the differences found. */
function compareDumpText(dump: Minidump, text: string): string[] {
  const t = parseDumpText(text);
  const diffs: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    const fmt = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? hex(x) : x));
    if (fmt(ours) !== fmt(theirs)) diffs.push(`${what}: ours ${fmt(ours)} breakpad ${fmt(theirs)}`);
  };
  if (t.streamCount !== undefined && t.directory.length > 0) check('stream count', BigInt(dump.header?.streamCount ?? -1), t.streamCount);
  // minidump_dump prints no directory when Breakpad rejected the dump as a whole.
  if (t.directory.length > 0) check(
    'directory',
    dump.directory.map((d) => ({ type: BigInt(d.type), size: BigInt(d.size), rva: BigInt(d.offset) })),
    t.directory,
  );
  if (t.threads.length > 0) {
    check(
      'threads',
      dump.threads.map((th) => ({ id: BigInt(th.threadId), stackStart: th.stackStart, stackSize: BigInt(th.stackSize) })),
      t.threads,
    );
  }
  if (t.modules.length > 0) {
    check(
      'modules',
      dump.modules.map((mod) => ({
        base: mod.base,
        size: mod.size,
        codeFile: mod.codeFile,
        debugFile: mod.rawDebugFile,
        debugId: mod.debugId,
        version: mod.version,
      })),
      t.modules,
    );
  }
  if (t.memory.length > 0) {
    check('memory', dump.memoryList.map((r) => ({ start: r.base, size: BigInt(r.bytes.length) })), t.memory);
  }
  if (t.exception) {
    const e = dump.exception;
    check('exception', e ? { threadId: BigInt(e.threadId), code: BigInt(e.code), address: e.address } : undefined, t.exception);
  }
  if (t.systemInfo) {
    const s = dump.systemInfo;
    check(
      'system info',
      s
        ? {
            arch: BigInt(s.processorArchitecture),
            cpus: BigInt(s.cpuCount),
            platform: BigInt(s.platformId),
            major: BigInt(s.majorVersion),
            minor: BigInt(s.minorVersion),
            build: BigInt(s.buildNumber),
            csd: s.csdVersion,
            vendor: s.cpuVendor,
          }
        : undefined,
      t.systemInfo,
    );
  }
  return diffs;
}

function withoutKnown(name: string, diffs: string[]): string[] {
  const known = KNOWN[name] ?? [];
  return diffs.filter((d) => !known.some((k) => d.startsWith(k)));
}

describe('fixtures/corpus (linux-x86_64) against minidump_stackwalk -m', () => {
  const dumps = readdirSync(join(fixtures, 'dumps')).filter((f) => f.endsWith('.dmp'));
  it.each(dumps)('%s', (file) => {
    const dump = readMinidump(readFileSync(join(fixtures, 'dumps', file)));
    expect(dump.errors).toEqual([]);
    const expected = readFileSync(join(fixtures, 'expected', basename(file, '.dmp') + '.breakpad-m.txt'), 'utf8');
    expect(compareMachineReadable(dump, expected)).toEqual([]);
  });
});

describe.skipIf(!hasPublic)('public corpus (../shared/corpus/public) against Breakpad', () => {
  const manifest: { dumps: ManifestDump[] } = hasPublic ? JSON.parse(readFileSync(join(publicCorpus, 'manifest.json'), 'utf8')) : { dumps: [] };
  const all = manifest.dumps.filter((d) => existsSync(join(publicCorpus, d.file)));

  it.each(all.filter((d) => d.expected_minidump_dump && existsSync(join(publicCorpus, d.expected_minidump_dump))).map((d) => [d.file, d] as const))(
    'minidump_dump: %s',
    (name, d) => {
      const dump = readMinidump(readFileSync(join(publicCorpus, d.file)));
      const text = readFileSync(join(publicCorpus, d.expected_minidump_dump!), 'latin1');
      expect(withoutKnown(name, compareDumpText(dump, text))).toEqual([]);
    },
  );

  it.each(all.filter((d) => d.reference === 'ok' && d.expected_m).map((d) => [d.file, d] as const))('minidump_stackwalk -m: %s', (name, d) => {
    const dump = readMinidump(readFileSync(join(publicCorpus, d.file)));
    const text = readFileSync(join(publicCorpus, d.expected_m!), 'utf8');
    expect(withoutKnown(name, compareMachineReadable(dump, text))).toEqual([]);
  });

  it.each(all.filter((d) => d.reference !== 'ok').map((d) => [d.file, d] as const))(
    'reference failed, reader gives a partial result with errors: %s',
    (_name, d) => {
      const dump = readMinidump(readFileSync(join(publicCorpus, d.file)));
      expect(Array.isArray(dump.errors)).toBe(true);
      expect(dump.errors.join()).not.toMatch(/internal error/);
      // Breakpad could not process these; we must say what we found wrong, or at
      // least notice what is missing (most lack a thread list).
      const missingThreads = !dump.directory.some((e) => e.type === 3);
      expect(dump.errors.length > 0 || missingThreads).toBe(true);
    },
  );
});
