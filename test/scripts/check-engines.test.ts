import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEngines, lowestAccepted, readmeNodeVersion, satisfies } from '../../scripts/check-engines.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/check-engines.mjs', import.meta.url));
const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

describe('engines ranges', () => {
  it.each([
    ['>=22', '20.19.0', false],
    ['>=22', '22.0.0', true],
    ['>= 18', '20.19.0', true],
    ['>=20.19', '20.18.9', false],
    ['>=20.x', '20.0.0', true],
    ['^20.19.0 || >=22.12.0', '20.19.0', true],
    ['^20.19.0 || >=22.12.0', '22.11.0', false],
    ['^20.19.0 || >=22.12.0', '21.0.0', false],
    ['20.x || 22.x || 23.x', '20.19.0', true],
    ['20.x || 22.x || 23.x', '21.7.3', false],
    ['^16 || ^18 || >=20', '19.9.0', false],
    ['>=6 <7 || >=8', '7.1.0', false],
    ['>=6 <7 || >=8', '20.19.0', true],
    ['~20.19', '20.19.5', true],
    ['~20.19', '20.20.0', false],
    ['20', '20.99.1', true],
    ['20', '21.0.0', false],
    ['<=20', '20.19.0', true],
    ['<=20.18', '20.19.0', false],
    ['>20', '20.19.0', false],
    ['>20.18', '20.19.0', true],
    ['<20.19.0', '20.19.0', false],
    ['18 - 20', '20.19.0', true],
    ['18 - 20.18', '20.19.0', false],
    ['^0.2.3', '0.3.0', false],
    ['^0.2.3', '0.2.9', true],
    ['*', '20.19.0', true],
    ['', '20.19.0', true],
  ])('%j accepts %s: %s', (range, version, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('refuses what is not a range', () => {
    expect(() => satisfies('20.19.0', 'node >= banana')).toThrow();
    expect(() => satisfies('20.19.0', '>=1.2.3.4')).toThrow();
  });

  it('finds the oldest version a range accepts: what a project promises', () => {
    expect(lowestAccepted('>=20.19')).toBe('20.19.0');
    expect(lowestAccepted('^20.19.0 || >=22.12.0')).toBe('20.19.0');
    expect(lowestAccepted('>=22 || ^18.4')).toBe('18.4.0');
    expect(lowestAccepted('>20')).toBe('21.0.0');
  });

  it("reads the README's Node.js version", () => {
    expect(readmeNodeVersion('Install and start (Node.js 20.19 or newer):')).toBe('20.19');
    expect(readmeNodeVersion('no version here')).toBeUndefined();
  });
});

describe('scripts/check-engines.mjs', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  /** A project with package.json, README and node_modules/NAME/package.json files. */
  function project(engines: string, readme: string, packages: Record<string, unknown>): string {
    root = mkdtempSync(join(tmpdir(), 'mayday-check-engines-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'p', engines: { node: engines } }));
    writeFileSync(join(root, 'README.md'), readme);
    for (const [path, engine] of Object.entries(packages)) {
      const dir = join(root, 'node_modules', path);
      mkdirSync(dir, { recursive: true });
      const name = path.split('/node_modules/').at(-1)!;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...(engine === undefined ? {} : { engines: { node: engine } }) }));
    }
    // Not a package: skipped.
    mkdirSync(join(root, 'node_modules/.bin'), { recursive: true });
    return root;
  }

  it('lists the installed packages, at any depth and in scopes, that refuse the promised version', () => {
    const dir = project('>=20.19', 'Node.js 20.19 or newer', {
      ok: '>=18',
      'no-engines': undefined,
      '@scope/new': '>=22',
      'ok/node_modules/nested-old': '^18',
      'ok/node_modules/nested-ok': '^20.0.0',
      odd: 'node >= banana',
    });
    const result = checkEngines(dir);
    expect(result.promised).toBe('20.19.0');
    expect([...result.problems].sort()).toEqual([
      '@scope/new@1.0.0 (node_modules/@scope/new) wants Node.js ">=22", which excludes 20.19.0',
      'nested-old@1.0.0 (node_modules/ok/node_modules/nested-old) wants Node.js "^18", which excludes 20.19.0',
    ]);
    expect(result.warnings).toEqual([expect.stringContaining('odd@1.0.0: engines.node "node >= banana" cannot be read')]);
  });

  it('wants the README to name the version package.json promises', () => {
    expect(checkEngines(project('>=20.19', 'Node.js 22 or newer', {})).problems).toEqual(['README.md says Node.js 22 or newer, package.json engines.node ">=20.19" starts at 20.19.0']);
  });

  it('exits 1 with the offenders and what to do, 0 when every package agrees', () => {
    const bad = spawnSync(process.execPath, [SCRIPT, '--root', project('>=20.19', 'Node.js 20.19 or newer', { cookie: '>=22' })], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('cookie@1.0.0 (node_modules/cookie) wants Node.js ">=22", which excludes 20.19.0');
    expect(bad.stderr).toContain('package.json "overrides"');
    const good = spawnSync(process.execPath, [SCRIPT, '--root', project('>=20.19', 'Node.js 20.19 or newer', { cookie: '>=18' })], { encoding: 'utf8' });
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
  });

  it("passes on this project's own install (light-my-request's cookie is pinned to 1.x, which runs on Node 20)", () => {
    const result = spawnSync(process.execPath, [SCRIPT], { cwd: PROJECT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('check-engines: every installed package accepts Node.js 20.19.0\n');
    expect(result.status).toBe(0);
  });
});
