import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAYDAY_BIN, PROJECT_ROOT } from '../support/mayday-process.js';

/**
 * The CLI loads a command's code only when that command runs (src/cli/definitions/ hold
 * names, options and help; src/cli/commands/ what they do). Checked on the built CLI, with
 * module hooks that list every module the process loads.
 */
const TRACE = fileURLToPath(new URL('../support/module-trace.mjs', import.meta.url));
const DUMP = 'fixtures/corpus/dumps/example-app-null.dmp';

function runTraced(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const r = spawnSync(process.execPath, ['--import', TRACE, MAYDAY_BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const loaded = [...r.stderr.matchAll(/^LOADED (.+)$/gm)].map((m) => m[1].replace(`file://${PROJECT_ROOT}`, ''));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^LOADED .+\n/gm, ''), loaded };
}

/** The packages (node_modules/NAME) a process loaded. */
const packages = (loaded: readonly string[]) => [...new Set(loaded.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined))].sort();

describe('mayday CLI: lazy loading', () => {
  it('stackwalk loads the walker and its symbol reader, not the node, the web app or any driver', () => {
    const r = runTraced(['stackwalk', DUMP, '--symbols-path', 'fixtures/corpus/symbols', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).crash_info.type).toBe('SIGSEGV /SEGV_MAPERR');
    expect(r.loaded).toContain('dist/cli/commands/stackwalk.js');
    expect(packages(r.loaded)).toEqual(['commander']);
    const otherCommands = r.loaded.filter((u) => u.startsWith('dist/cli/commands/') && u !== 'dist/cli/commands/stackwalk.js');
    expect(otherCommands).toEqual([]);
    // The config definition's --preset choices come from the (small) presets module; nothing else of the Configurator.
    expect(r.loaded.filter((u) => /^dist\/(node|roles|auth|signature)\/|^dist\/adapters\/(?!fs-symbol-supplier\.js)|^dist\/configurator\/(?!presets\.js)/.test(u))).toEqual([]);
  });

  it('--help lists every command without loading any of them', () => {
    const r = runTraced(['--help']);
    expect(r.status).toBe(0);
    for (const command of ['start', 'run', 'stackwalk', 'submit', 'symbols', 'tokens', 'users', 'reprocess', 'signature', 'config']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(r.loaded.filter((u) => u.startsWith('dist/cli/commands/'))).toEqual([]);
    expect(packages(r.loaded)).toEqual(['commander']);
  });

  it("a sub-command's help comes from its definition alone", () => {
    const r = runTraced(['config', 'init', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('choices: "all-in-one", "distributed"');
    expect(r.loaded.filter((u) => u.startsWith('dist/cli/commands/'))).toEqual([]);
  });

  it('a command loads its implementation when it runs (config explain)', () => {
    const r = runTraced(['config', 'explain', 'log.format']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('log.format (enum)');
    expect(r.stdout).toContain('values: auto, json, pretty');
    expect(r.loaded).toContain('dist/cli/commands/config.js');
  });

  it('usage errors are still reported by the definitions (missing argument, unknown option)', () => {
    const missing = runTraced(['stackwalk']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("missing required argument 'dumps'");
    const unknown = runTraced(['tokens', 'list', '--nope']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--nope'");
    expect(unknown.loaded.filter((u) => u.startsWith('dist/cli/commands/'))).toEqual([]);
  });
});
