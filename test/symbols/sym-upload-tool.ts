/**
 * Breakpad's own `sym_upload`, built from the source in the `minidump` npm package into
 * `.cache/breakpad-symupload/` (gitignored) once and reused. Returns undefined, with the
 * reason, when it cannot be built here (no network, no compiler); tests then skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { PROJECT_ROOT } from './support.js';

const CACHE = path.join(PROJECT_ROOT, '.cache', 'breakpad-symupload');
const BREAKPAD = path.join(CACHE, 'node_modules', 'minidump', 'deps', 'breakpad');
export const SYM_UPLOAD = path.join(BREAKPAD, 'src', 'tools', 'linux', 'symupload', 'sym_upload');

export function buildSymUpload(): { tool?: string; reason?: string } {
  if (existsSync(SYM_UPLOAD)) return { tool: SYM_UPLOAD };
  try {
    mkdirSync(CACHE, { recursive: true });
    if (!existsSync(BREAKPAD)) execFileSync('npm', ['install', '--ignore-scripts', '--prefix', CACHE, 'minidump@0.26.0'], { stdio: 'pipe', timeout: 300_000 });
    if (!existsSync(path.join(BREAKPAD, 'Makefile'))) execFileSync('./configure', [], { cwd: BREAKPAD, stdio: 'pipe', timeout: 300_000 });
    execFileSync('make', ['CXXFLAGS=-g -O2 -Wno-error', 'src/tools/linux/symupload/sym_upload'], { cwd: BREAKPAD, stdio: 'pipe', timeout: 600_000 });
    return existsSync(SYM_UPLOAD) ? { tool: SYM_UPLOAD } : { reason: 'the build finished without producing sym_upload' };
  } catch (error) {
    return { reason: `building Breakpad's sym_upload failed: ${(error as Error).message.split('\n')[0]}` };
  }
}
