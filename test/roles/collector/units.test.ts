import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MultipartMalformed, readMultipart, type MultipartEvent } from '../../../src/common/multipart.js';
import { parseMultipartType } from '../../../src/common/multipart-type.js';
import { Throttler, sampleDraws, throttleRulesFromConfig } from '../../../src/roles/collector/throttler.js';
import { normaliseFieldNames } from '../../../src/roles/collector/field-names.js';
import { sanitizeDumpName } from '../../../src/roles/collector/dump-names.js';
import { loadConfig, formatFinding } from '../../../src/config/load.js';
import { multipartBody, type Part } from './http.js';

async function events(chunks: Buffer[], boundary: string): Promise<{ parts: { name?: string; filename?: string; data: string }[]; unterminated: boolean }> {
  const parts: { name?: string; filename?: string; data: string }[] = [];
  let unterminated = false;
  let current: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  for await (const event of readMultipart(source(), boundary) as AsyncGenerator<MultipartEvent>) {
    if (event.kind === 'part') {
      parts.push({ name: event.part.name, filename: event.part.filename, data: '' });
      current = [];
    } else if (event.kind === 'data') current.push(Buffer.from(event.chunk));
    else if (event.kind === 'end') parts[parts.length - 1].data = Buffer.concat(current).toString('latin1');
    else unterminated = true;
  }
  return { parts, unterminated };
}

function splitAt(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(body.subarray(last, p));
    last = p;
  }
  out.push(body.subarray(last));
  return out.filter((c) => c.length > 0);
}

describe('multipart reader', () => {
  const boundary = 'xYz';
  const parts: Part[] = [
    { name: 'a', value: 'one' },
    { name: 'b', value: '\r\n--xY not a delimiter\r\n--xYzz? still data\n' },
    { name: 'upload_file_minidump', value: Buffer.from('MDMP\r\n--x\0\r\n', 'latin1'), filename: 'd.dmp' },
  ];
  const expected = [
    { name: 'a', data: 'one' },
    { name: 'b', data: '\r\n--xY not a delimiter\r\n--xYzz? still data\n' },
    { name: 'upload_file_minidump', filename: 'd.dmp', data: 'MDMP\r\n--x\0\r\n' },
  ];

  it('gives the same parts however the body is split into chunks', async () => {
    const body = multipartBody(parts, boundary);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (cuts) => {
        const { parts: got } = await events(splitAt(body, cuts), boundary);
        expect(got.map(({ name, filename, data }) => (filename ? { name, filename, data } : { name, data }))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    // Every single split point, byte by byte.
    for (let i = 1; i < body.length; i++) {
      const { parts: got } = await events([body.subarray(0, i), body.subarray(i)], boundary);
      expect(got.map((p) => p.data)).toEqual(expected.map((p) => p.data));
    }
  });

  it('reads bare-LF bodies, a missing closing delimiter (reported), and a preamble', async () => {
    const lf = await events([multipartBody(parts.slice(0, 1), boundary, { lineEnd: '\n' })], boundary);
    expect(lf.parts).toEqual([{ name: 'a', data: 'one', filename: undefined }]);
    const open = await events([Buffer.from('preamble\r\n'), multipartBody(parts.slice(0, 1), boundary, { close: false })], boundary);
    expect(open).toEqual({ parts: [{ name: 'a', data: 'one', filename: undefined }], unterminated: true });
  });

  it('refuses a body without any delimiter', async () => {
    await expect(events([Buffer.from('hello')], boundary)).rejects.toBeInstanceOf(MultipartMalformed);
  });
});

describe('Content-Type', () => {
  it('reads the boundary whatever the case, order and quoting', () => {
    expect(parseMultipartType('multipart/form-data; boundary=abc')).toEqual({ subtype: 'form-data', boundary: 'abc' });
    expect(parseMultipartType('MULTIPART/MIXED; charset=utf-8; Boundary="a;b c"')).toEqual({ subtype: 'mixed', boundary: 'a;b c' });
    expect(() => parseMultipartType('text/plain')).toThrow(/multipart\/form-data/);
    expect(() => parseMultipartType('multipart/form-data; charset=x')).toThrow(/no boundary/);
    expect(() => parseMultipartType(undefined)).toThrow(/no Content-Type/);
  });
});

describe('throttler', () => {
  it('samples: a rule applies to its percentage of matches, the rest fall through', () => {
    const throttler = new Throttler({ products: [], honourThrottleable: true, rules: [{ name: 'tenth', action: 'accept', sample: 10 }, { name: 'rest', action: 'reject' }] });
    let accepted = 0;
    for (let i = 0; i < 2000; i++) if (throttler.decide({ ProductName: 'A' }, sampleDraws()).rule === 'tenth') accepted++;
    expect(accepted).toBeGreaterThan(120);
    expect(accepted).toBeLessThan(300);
    const fixed = sampleDraws(() => 0.05);
    expect(throttler.decide({}, fixed)).toEqual({ result: 'accept', rule: 'tenth' });
    expect(throttler.decide({}, sampleDraws(() => 0.5))).toEqual({ result: 'reject', rule: 'rest' });
  });

  it('accepts everything by default', () => {
    expect(new Throttler({ products: [], honourThrottleable: true, rules: [] }).decide({}, sampleDraws())).toEqual({ result: 'accept', rule: 'accept_everything' });
  });
});

describe('throttle rules in the INI configuration', () => {
  it('reads [throttle.rules.NAME] sections in file order', () => {
    const text = [
      '[throttle]',
      'products = App, Other',
      '[throttle.rules.old]',
      'version = ^0\\.',
      'action = reject',
      '[throttle.rules.gpu_sample]',
      'annotation.ProcessType = ^gpu$',
      'sample = 10',
      'action = defer',
    ].join('\n');
    const { config, findings } = loadConfig({ file: { name: 'n.ini', text } });
    expect(findings).toEqual([]);
    expect(config!.throttle.products).toEqual(['App', 'Other']);
    const rules = throttleRulesFromConfig(config!.throttle.rules);
    expect(rules.map((r) => [r.name, r.action, r.sample])).toEqual([
      ['old', 'reject', undefined],
      ['gpu_sample', 'defer', 10],
    ]);
    expect(rules[1].annotations?.ProcessType.test('gpu')).toBe(true);
    expect(rules[0].version?.test('0.3')).toBe(true);
  });

  it('reports bad rules with their lines', () => {
    const text = '[throttle.rules.x]\naction = maybe\nversion = (\ncolour = red\n[throttle.rules.y]\nproduct = A\n';
    const { config, findings } = loadConfig({ file: { name: 'n.ini', text } });
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'n.ini:2: error: [throttle.rules.x]: action: expected one of accept, defer, reject, got "maybe"',
      expect.stringMatching(/^n\.ini:3: error: \[throttle\.rules\.x\]: version: expected a regular expression/),
      expect.stringMatching(/^n\.ini:4: error: \[throttle\.rules\.x\]: unknown rule field "colour"/),
      expect.stringMatching(/^n\.ini:5: error: \[throttle\.rules\.y\]: action is required/),
    ]);
  });

  it('takes the rules from the environment as JSON', () => {
    const { config, findings } = loadConfig({ env: { MAYDAY_THROTTLE_RULES: '[{"name":"a","action":"defer","channel":"beta, nightly"}]' } });
    expect(findings).toEqual([]);
    expect(throttleRulesFromConfig(config!.throttle.rules)).toEqual([{ name: 'a', action: 'defer', channels: ['beta', 'nightly'] }]);
  });
});

describe('names', () => {
  it('normalises without overriding a canonical name the client sent', () => {
    expect(normaliseFieldNames({ ProductName: 'Mine', prod: 'Electron' }).annotations.ProductName).toBe('Mine');
    expect(normaliseFieldNames({ prod: 'Electron', _productName: 'App' }).sources).toEqual({ ProductName: '_productName' });
  });

  it('sanitises dump names', () => {
    expect(sanitizeDumpName('upload_file_minidump')).toBe('upload_file_minidump');
    expect(sanitizeDumpName('a/../b')).toBe('ab');
    expect(sanitizeDumpName('..')).toBeUndefined();
    expect(sanitizeDumpName('raw_crash')).toBeUndefined();
    expect(sanitizeDumpName('-x')).toBeUndefined();
  });
});
