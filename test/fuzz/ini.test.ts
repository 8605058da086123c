import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { target } from '../../scripts/fuzz/targets/ini.js';
import { replay, runFuzzer, savedFindings } from './support.js';

describe('fuzzing the configuration loader', () => {
  it('runs 3,000 executions of npm run fuzz:ini without a finding', async () => {
    const run = await runFuzzer('ini', 3000, 20261201);
    expect(run.summary.findings, run.output).toEqual([]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.summary.status?.runs).toBe(3000);
    // The mutations reach most of the loader, or this run would prove little.
    expect(run.summary.status!.coverage.branchesCovered / run.summary.status!.coverage.branchesTotal).toBeGreaterThan(0.7);
  }, 60_000);

  for (const { name, input } of savedFindings('ini')) {
    it(`replays finding ${name} cleanly`, async () => {
      await replay(target, input);
    });
  }

  // Found by the fuzzer: "-0" loaded as negative zero, which prints as "0" and is not 0 to Object.is.
  it.each(['-0', '+0', '-00', '0'])('reads the integer %s as plain 0', (raw) => {
    const result = loadConfig({ file: { name: 'n.ini', text: `[web]\napi_rate_limit = ${raw}\n` }, env: { MAYDAY_WEB_PORT: raw } });
    expect(result.findings).toEqual([]);
    expect(Object.is(result.config!.web.api_rate_limit, 0)).toBe(true);
    expect(Object.is(result.config!.web.port, 0)).toBe(true);
  });

  // Found by the fuzzer: numbers too large to be exact (even Infinity) were accepted for
  // options without a maximum, and printed back as "2.09e+55GB", which reads as nothing.
  it.each([
    ['a size of 60 digits of MB', 'collector', 'max_request_size', `${'9'.repeat(60)}MB`],
    ['a size that is Infinity as a number', 'collector', 'max_request_size', `${'9'.repeat(400)}`],
    ['a duration of 30 digits of days', 'collector', 'body_timeout', `${'9'.repeat(30)}d`],
    ['a duration that is Infinity as a number', 'collector', 'body_timeout', `${'9'.repeat(400)}ms`],
    ['an integer that is Infinity as a number', 'web', 'max_connections', '9'.repeat(400)],
    ['an integer just past 2^53', 'web', 'max_connections', '9007199254740993'],
  ])('refuses %s with its line, as too large', (_label, section, key, raw) => {
    const result = loadConfig({ file: { name: 'n.ini', text: `[${section}]\n${key} = ${raw}\n` } });
    expect(result.config).toBeUndefined();
    expect(result.findings).toEqual([expect.objectContaining({ line: 2, severity: 'error', message: expect.stringMatching(new RegExp(`^${section}\\.${key}: .*too large`)) })]);
  });

  it.each([
    ['collector', 'max_request_size', '8GB'],
    ['web', 'max_connections', '9007199254740991'],
  ])('still accepts a large exact %s.%s = %s', (section, key, raw) => {
    const result = loadConfig({ file: { name: 'n.ini', text: `[${section}]\n${key} = ${raw}\n` } });
    expect(result.findings).toEqual([]);
  });

  // Same class, found reading the code the fuzzer pointed at: `annotation.__proto__` set
  // the prototype of the rule's annotation patterns, so the condition silently vanished
  // and the rule matched more crashes than written.
  it('refuses a rule condition on an annotation named __proto__, in a file and in the environment', () => {
    const file = loadConfig({ file: { name: 'n.ini', text: '[throttle.rules.r]\naction = reject\nannotation.__proto__ = ^a$\nannotation.ProcessType = ^gpu$\n' } });
    expect(file.config).toBeUndefined();
    expect(file.findings).toEqual([expect.objectContaining({ line: 3, severity: 'error', message: expect.stringContaining('annotation.__proto__') })]);
    const env = loadConfig({ env: { MAYDAY_THROTTLE_RULES: '[{"name":"r","action":"reject","annotation.__proto__":"^a$"}]' } });
    expect(env.config).toBeUndefined();
    expect(env.findings).toEqual([expect.objectContaining({ severity: 'error', message: expect.stringContaining('annotation.__proto__') })]);
  });

  // Found by the fuzzer: names inherited from Object.prototype were taken for options.
  describe.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'])('the inherited name %s', (name) => {
    it('is an unknown option of a section, with its line', () => {
      const result = loadConfig({ file: { name: 'n.ini', text: `[web]\nport = 1\n${name} = 5\n` } });
      expect(result.config).toBeUndefined();
      expect(result.findings).toEqual([expect.objectContaining({ line: 3, severity: 'error', message: expect.stringMatching(new RegExp(`^unknown option web\\.${name}`)) })]);
    });

    it('is an unknown section, with its line', () => {
      const result = loadConfig({ file: { name: 'n.ini', text: `[web]\nport = 1\n[${name}]\nname = x\n` } });
      expect(result.config).toBeUndefined();
      expect(result.findings).toContainEqual(expect.objectContaining({ line: 3, severity: 'error', message: expect.stringMatching(/^unknown section/) }));
    });

    it('is an unknown field of a rule, in a file and in the environment', () => {
      const file = loadConfig({ file: { name: 'n.ini', text: `[throttle.rules.r]\naction = reject\n${name} = 1\n${name}.x = 2\n` } });
      expect(file.findings.map((f) => [f.line, f.message.replace(/ \(allowed.*$/, '')])).toEqual([
        [3, `[throttle.rules.r]: unknown rule field "${name}"`],
        [4, `[throttle.rules.r]: unknown rule field "${name}.x"`],
      ]);
      const env = loadConfig({ env: { MAYDAY_THROTTLE_RULES: JSON.stringify([{ name: 'r', action: 'reject', [name]: '1' }]) } });
      expect(env.findings.map((f) => f.message.replace(/ \(allowed.*$/, ''))).toEqual([`throttle.rules: rule r: unknown rule field "${name}"`]);
    });

    it('names no option in the environment', () => {
      const result = loadConfig({ env: { [`MAYDAY_WEB_${name.toUpperCase()}`]: '1', [`MAYDAY_${name.toUpperCase()}_NAME`]: '1' } });
      expect(result.findings.map((f) => f.severity)).toEqual(['warning', 'warning']);
      expect(result.config).toBeDefined();
    });
  });
});
