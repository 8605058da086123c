import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile } from '../../src/configurator/deployment.js';
import { diffDeployments, formatDiff, isEmptyDiff } from '../../src/configurator/diff.js';
import { presetFiles } from '../../src/configurator/presets.js';

/**
 * `config diff`'s findings: what B fixed and what it broke, matched without line numbers.
 * The base is the distributed preset on three hosts, which validates clean.
 */
const BASE = presetFiles('distributed', ['a', 'b', 'c']);

function withFile(files: readonly DeploymentFile[], name: string, change: (text: string) => string): DeploymentFile[] {
  expect(files.some((f) => f.name === name), name).toBe(true);
  return files.map((f) => (f.name === name ? { ...f, text: change(f.text) } : f));
}

const append = (snippet: string) => (text: string) => `${text}\n${snippet}\n`;

function lineOf(files: readonly DeploymentFile[], name: string, line: string): number {
  const index = files.find((f) => f.name === name)!.text.split('\n').indexOf(line);
  expect(index, `${name} has "${line}"`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

/** Moves every line of a file down, as a comment block added at its top does. */
const commentedAtTop = (text: string): string => `; edited by hand\n; to move every line below\n\n${text}`;

describe('diffDeployments: findings', () => {
  it('B fixes a planted error of A and brings a new warning: one resolved, one new', () => {
    const a = withFile(BASE, 'collector.ini', append('[log]\nlevel = loud'));
    const b = withFile(BASE, 'collector.ini', append('[throttle.rules.none]\nsample = 0\naction = reject'));
    const diff = diffDeployments(compileDeployment(a), compileDeployment(b));

    expect(diff.findingsResolved.map(({ layer, code, severity, file, line, message }) => ({ layer, code, severity, file, line, message }))).toEqual([
      { layer: 'schema', code: 'invalid-value', severity: 'error', file: 'collector.ini', line: lineOf(a, 'collector.ini', 'level = loud'), message: 'log.level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"' },
    ]);
    expect(diff.findingsNew.map(({ layer, code, severity, file, line, message }) => ({ layer, code, severity, file, line, message }))).toEqual([
      { layer: 'topology', code: 'throttle-unmatchable', severity: 'warning', file: 'collector.ini', line: lineOf(b, 'collector.ini', '[throttle.rules.none]'), message: 'throttle rule "none" has sample = 0: it never applies' },
    ]);

    const text = formatDiff(diff);
    const findingLines = text.slice(text.indexOf('findings:\n')).split('\n');
    expect(findingLines.slice(0, 3)).toEqual([
      'findings:',
      `+ new collector.ini:${lineOf(b, 'collector.ini', '[throttle.rules.none]')}: warning: throttle rule "none" has sample = 0: it never applies [topology/throttle-unmatchable]`,
      `- resolved collector.ini:${lineOf(a, 'collector.ini', 'level = loud')}: error: log.level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud" [schema/invalid-value]`,
    ]);
    // The hint is for `config validate`; the diff keeps one line per finding.
    expect(text).not.toContain('hint:');
  });

  it('an edit that only moves lines changes no finding, even one whose message names a line', () => {
    const rules = '[throttle.rules.nightly]\nchannel = nightly\naction = defer\n\n[throttle.rules.nightly_windows]\nchannel = nightly\nannotation.OS = ^Windows\naction = reject';
    const a = withFile(withFile(BASE, 'collector.ini', append(rules)), 'web.ini', append('[log]\nlevel = loud'));
    const b = withFile(withFile(a, 'collector.ini', commentedAtTop), 'web.ini', commentedAtTop);
    const [da, db] = [compileDeployment(a), compileDeployment(b)];
    // The same two findings, each on another line, one naming a line that moved.
    expect(da.findings.map((f) => f.code).sort()).toEqual(['invalid-value', 'throttle-shadowed']);
    expect(db.findings.map((f) => f.line)).not.toEqual(da.findings.map((f) => f.line));
    expect(db.findings.find((f) => f.code === 'throttle-shadowed')!.message).not.toBe(da.findings.find((f) => f.code === 'throttle-shadowed')!.message);

    const diff = diffDeployments(da, db);
    expect(diff.findingsNew).toEqual([]);
    expect(diff.findingsResolved).toEqual([]);
    expect(isEmptyDiff(diff)).toBe(true);
    expect(formatDiff(diff)).toBe('no differences\n');
  });

  it('matches findings of two directories by file base name, and names in messages the same way', () => {
    const inDir = (dir: string, files: readonly DeploymentFile[]): DeploymentFile[] => files.map((f) => ({ ...f, name: `${dir}/${f.name}` }));
    // The scheduler moved to web's host and port: the port clash names web's file.
    const planted = withFile(BASE, 'scheduler.ini', (t) => t.replace(/^host = b$/gm, 'host = a').replace(/^port = \d+$/m, 'port = 8100'));
    const a = compileDeployment(inDir('/srv/old', planted));
    const b = compileDeployment(inDir('/srv/new', planted));
    const clash = a.findings.find((f) => f.message.includes('/srv/old/'));
    expect(clash, JSON.stringify(a.findings, null, 2)).toBeDefined();
    const diff = diffDeployments(a, b);
    expect(diff.findingsNew).toEqual([]);
    expect(diff.findingsResolved).toEqual([]);
  });

  it('counts each finding: a mistake made twice and fixed once is one resolved finding', () => {
    const twice = withFile(withFile(BASE, 'web.ini', append('[log]\nlevel = loud')), 'scheduler.ini', append('[log]\nlevel = loud'));
    const once = withFile(BASE, 'web.ini', append('[log]\nlevel = loud'));
    const diff = diffDeployments(compileDeployment(twice), compileDeployment(once));
    expect(diff.findingsResolved.map((f) => f.file)).toEqual(['scheduler.ini']);
    expect(diff.findingsNew).toEqual([]);
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('a file that became readable by others is a difference, although no option changed', () => {
    const a = BASE;
    const b = BASE.map((f) => (f.name === 'common.ini' ? { ...f, mode: 0o644 } : f));
    const diff = diffDeployments(compileDeployment(a), compileDeployment(b));
    expect(diff.options).toEqual([]);
    expect(diff.findingsNew.map((f) => `${f.file} ${f.code}`)).toEqual(['common.ini secret-readable']);
    expect(formatDiff(diff)).toMatch(/^findings:\n\+ new common\.ini:\d+: warning: common\.ini holds a secret .* \[security\/secret-readable\]\n$/);
  });
});
