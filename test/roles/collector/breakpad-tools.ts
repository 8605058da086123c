import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../support/mayday-process.js';

/**
 * Breakpad's real upload client, `minidump_upload`, built from the Breakpad source in the
 * `minidump` npm package into `.cache/breakpad-tools/` (gitignored) the first time a test
 * needs it (about 30 s), then reused. Never part of `npm install`. Without a compiler or
 * network the build is impossible and the tests that need it are skipped, saying why.
 */
export const TOOLS_DIR = join(PROJECT_ROOT, '.cache', 'breakpad-tools');
const BREAKPAD = join(TOOLS_DIR, 'node_modules', 'minidump', 'deps', 'breakpad');
export const MINIDUMP_UPLOAD = join(BREAKPAD, 'src', 'tools', 'linux', 'symupload', 'minidump_upload');

function have(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds minidump_upload if needed; answers its path, or why it cannot be had. */
export function ensureMinidumpUpload(): { path: string } | { missing: string } {
  if (existsSync(MINIDUMP_UPLOAD)) return { path: MINIDUMP_UPLOAD };
  if (process.platform !== 'linux') return { missing: 'minidump_upload is built for Linux only' };
  for (const tool of ['g++', 'make']) if (!have(tool)) return { missing: `no ${tool} to build Breakpad's minidump_upload` };
  // Test files run in parallel processes: one builds, the others wait for its lock.
  const lock = join(TOOLS_DIR, '.build-lock');
  mkdirSync(TOOLS_DIR, { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(MINIDUMP_UPLOAD)) return { path: MINIDUMP_UPLOAD };
      // A lock older than the build can take is a leftover of a killed run.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) return { missing: 'timed out waiting for another build of minidump_upload' };
      execFileSync('sleep', ['1']);
    }
  }
  try {
    if (!existsSync(join(BREAKPAD, 'configure'))) {
      execFileSync('npm', ['install', '--ignore-scripts', '--no-save', '--prefix', TOOLS_DIR, 'minidump@0.26.0'], { stdio: 'ignore', timeout: 180_000 });
    }
    if (!existsSync(join(BREAKPAD, 'Makefile'))) execFileSync('./configure', [], { cwd: BREAKPAD, stdio: 'ignore', timeout: 180_000 });
    execFileSync('make', ['-j2', 'CXXFLAGS=-g -O2 -Wno-error', 'src/tools/linux/symupload/minidump_upload'], { cwd: BREAKPAD, stdio: 'ignore', timeout: 600_000 });
    return existsSync(MINIDUMP_UPLOAD) ? { path: MINIDUMP_UPLOAD } : { missing: 'the Breakpad build finished without minidump_upload' };
  } catch (error) {
    return { missing: `building Breakpad's minidump_upload failed: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
