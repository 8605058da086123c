import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatIni, parseIni } from '../../src/config/ini.js';

describe('INI parser', () => {
  it('reads sections and keys with their line numbers', () => {
    const doc = parseIni('; comment\n[web]\nport = 8000\n\n# another\n[queue]\nvisibility_timeout: 30s\nname = "  spaced  "\n');
    expect(doc.problems).toEqual([]);
    expect(doc.sections).toEqual([{ name: 'web', line: 2 }, { name: 'queue', line: 6 }]);
    expect(doc.entries).toEqual([
      { section: 'web', key: 'port', value: '8000', line: 3 },
      { section: 'queue', key: 'visibility_timeout', value: '30s', line: 7 },
      { section: 'queue', key: 'name', value: '  spaced  ', line: 8 },
    ]);
  });

  it('keeps # and ; inside values (URLs, patterns)', () => {
    const doc = parseIni('[a]\nurl = http://x/#frag;y\n');
    expect(doc.entries[0].value).toBe('http://x/#frag;y');
  });

  it('reports every malformed line with its number', () => {
    const doc = parseIni('orphan = 1\n[ok]\nno separator here\n[bad name!]\nx = 1\n[ok]\n[ok2\nskipped = 1\n[dup]\nk = 1\nk = 2\n');
    expect(doc.problems.map((p) => p.line)).toEqual([1, 3, 4, 6, 7, 11]);
    expect(doc.problems[0].message).toContain('outside any [section]');
    expect(doc.problems[3].message).toContain('appears twice');
    expect(doc.problems[5].message).toContain('set twice (first at line 10)');
  });

  it('handles CRLF and a byte-order mark', () => {
    const doc = parseIni('\uFEFF[web]\r\nport = 1\r\n');
    expect(doc.problems).toEqual([]);
    expect(doc.entries[0]).toMatchObject({ key: 'port', value: '1', line: 2 });
  });

  it('round-trips what formatIni writes', () => {
    const text = formatIni([{ name: 'web', comment: 'the web role', entries: [{ key: 'port', value: '8000' }, { key: 'host', value: ' x ' }] }]);
    const doc = parseIni(text);
    expect(doc.problems).toEqual([]);
    expect(doc.entries.map((e) => [e.key, e.value])).toEqual([['port', '8000'], ['host', ' x ']]);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const doc = parseIni(text);
        for (const p of doc.problems) expect(p.line).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
