import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Dockerflow's `/__version__` document, also shown by `mayday --version`. */
export interface VersionInfo {
  source: string;
  version: string;
  commit: string;
  build: string;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

let cached: VersionInfo | undefined;

export function versionInfo(): VersionInfo {
  if (cached) return cached;
  const pkg = packageJson();
  const source = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
  cached = { source, version: pkg.version, commit: gitCommit(), build: '' };
  return cached;
}

/** The version alone, without asking git for the commit (what every CLI start needs). */
export function packageVersion(): string {
  return packageJson().version;
}

function packageJson(): { version: string; repository?: string | { url?: string } } {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; repository?: string | { url?: string } };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}
