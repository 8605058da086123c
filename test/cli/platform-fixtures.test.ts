import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writePlatformFixtures } from '../../scripts/build-platform-fixtures.js';
import { runSignature } from '../../src/cli/commands/signature.js';
import { runStackwalk } from '../../src/cli/commands/stackwalk.js';

const committed = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/platforms');
const scratch = mkdtempSync(join(tmpdir(), 'mayday-platform-fixtures-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => relative(dir, join(dir, path)))
    .sort();
}

async function stackwalk(dump: string, options: { json?: boolean; machineReadable?: boolean } = {}): Promise<string> {
  let out = '';
  let err = '';
  const code = await runStackwalk([join(committed, 'dumps', dump)], { symbolsPath: [join(committed, 'symbols')], ...options }, (t) => (out += t), (t) => (err += t));
  expect(err).toBe('');
  expect(code).toBe(0);
  return out;
}

interface Frame {
  module?: string;
  function?: string;
  trust: string;
}

const SAMPLES = [
  {
    dump: 'windows-demo-app.dmp',
    os: 'Windows NT',
    reason: 'EXCEPTION_ACCESS_VIOLATION_READ',
    signature: 'DemoApp::Renderer::DrawFrame',
    modules: ['demo_app.exe', 'kernel32.dll', 'ntdll.dll'],
    bottom: '_RtlUserThreadStart',
    idle: undefined,
    frames: 8,
  },
  {
    dump: 'macos-demo-app.dmp',
    os: 'Mac OS X',
    reason: 'EXC_BAD_ACCESS / KERN_INVALID_ADDRESS',
    signature: 'DemoApp::Storage::Flush',
    modules: ['DemoApp', 'libdyld.dylib'],
    bottom: 'start',
    /** A second thread waits in a system call. */
    idle: 'libsystem_kernel.dylib',
    frames: 5,
  },
] as const;

describe('fixtures/platforms (the demo\'s synthetic Windows and macOS crashes)', () => {
  it('is exactly what scripts/build-platform-fixtures.ts writes (the generator is deterministic)', () => {
    const written = writePlatformFixtures(scratch).sort();
    expect(filesUnder(scratch)).toEqual(written);
    // Nothing in the committed dumps/ and symbols/ that the script does not write.
    const ours = filesUnder(committed).filter((path) => path.startsWith('dumps/') || path.startsWith('symbols/'));
    expect(ours).toEqual(written);
    for (const path of written) expect(readFileSync(join(scratch, path)).equals(readFileSync(join(committed, path))), path).toBe(true);
    // Only the generated files, the README and the reference outputs: nothing copied in from elsewhere.
    expect(filesUnder(committed).filter((path) => !ours.includes(path))).toEqual([
      'README.md',
      'expected/macos-demo-app.breakpad-m.txt',
      'expected/macos-demo-app.breakpad.txt',
      'expected/windows-demo-app.breakpad-m.txt',
      'expected/windows-demo-app.breakpad.txt',
    ]);
  });

  it('detects a changed byte (the comparison above can fail)', () => {
    const path = join(scratch, 'dumps', 'windows-demo-app.dmp');
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(path, bytes);
    expect(readFileSync(path).equals(readFileSync(join(committed, 'dumps', 'windows-demo-app.dmp')))).toBe(false);
  });

  it.each(SAMPLES)('$dump walks like Breakpad\'s minidump_stackwalk, byte for byte', async ({ dump }) => {
    const name = dump.replace(/\.dmp$/, '');
    expect(await stackwalk(dump)).toBe(readFileSync(join(committed, 'expected', `${name}.breakpad.txt`), 'utf8'));
    expect(await stackwalk(dump, { machineReadable: true })).toBe(readFileSync(join(committed, 'expected', `${name}.breakpad-m.txt`), 'utf8'));
  });

  it.each(SAMPLES)('$dump walks through app and system modules by frame data to the signature $signature', async (sample) => {
    const json = await stackwalk(sample.dump, { json: true });
    const document = JSON.parse(json) as { system_info: { os: string }; crash_info: { type: string }; crashing_thread: { frames: Frame[] }; threads: { frames: Frame[] }[] };
    expect(document.system_info.os).toBe(sample.os);
    expect(document.crash_info.type).toBe(sample.reason);
    const frames = document.crashing_thread.frames;
    expect(frames).toHaveLength(sample.frames);
    expect(frames[0].trust).toBe('context');
    // Every caller found by CFI / STACK WIN, none by scanning; every frame named.
    expect(frames.slice(1).every((f) => f.trust === 'cfi')).toBe(true);
    expect(frames.every((f) => typeof f.function === 'string' && f.function.length > 0)).toBe(true);
    expect([...new Set(frames.map((f) => f.module))]).toEqual(sample.modules);
    expect(frames.at(-1)?.function).toBe(sample.bottom);
    if (sample.idle) expect(document.threads[1].frames.map((f) => f.module)).toContain(sample.idle);

    const file = join(scratch, `${sample.dump}.json`);
    writeFileSync(file, json);
    let out = '';
    expect(await runSignature(file, {}, (t) => (out += t), () => undefined)).toBe(0);
    expect(out.trim()).toBe(sample.signature);
  });
});
