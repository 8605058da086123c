import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIni } from '../../src/config/ini.js';
import {
  applyIniEdits,
  ensureIniSection,
  readIniValue,
  removeIniSection,
  renameIniSection,
  setIniIncludes,
  setIniValue,
} from '../../src/config/ini-edit.js';

const HAND_WRITTEN = [
  '; Mayday collector node',
  '; maintained by ops',
  '',
  'include = common.ini',
  '',
  '; the web role',
  '[web]',
  'port = 8000',
  '  host:   example.org   ',
  'ports = 1,2',
  '; tls = on (disabled)',
  '',
  '; how crashes are queued',
  '[queue]',
  'name = "  spaced  "',
  "kind = 'standard'",
  '',
  '[throttle.rules.a]',
  'rate = 10',
  '',
].join('\n');

function entriesOf(text: string): Array<[string, string]> {
  return parseIni(text)
    .entries.map((e): [string, string] => [`${e.section}.${e.key}`, e.value])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe('readIniValue', () => {
  it('reads what parseIni reads, with its line number', () => {
    expect(readIniValue(HAND_WRITTEN, 'web', 'host')).toEqual({ value: 'example.org', line: 9 });
    expect(readIniValue(HAND_WRITTEN, 'queue', 'name')).toEqual({ value: '  spaced  ', line: 15 });
    expect(readIniValue(HAND_WRITTEN, 'queue', 'kind')).toEqual({ value: 'standard', line: 16 });
    expect(readIniValue(HAND_WRITTEN, 'web', 'tls')).toBeUndefined();
    expect(readIniValue(HAND_WRITTEN, 'nowhere', 'port')).toBeUndefined();
  });

  it('takes the first of a key set twice, as the parser does', () => {
    expect(readIniValue('[a]\nk = 1\nk = 2\n', 'a', 'k')).toEqual({ value: '1', line: 2 });
  });

  it('ignores the entries under an unreadable header', () => {
    expect(readIniValue('[a]\nk = 1\n[bad name!]\nk = 2\n', 'a', 'k')?.value).toBe('1');
    expect(readIniValue('[a\nk = 2\n', 'a', 'k')).toBeUndefined();
  });

  it('counts lines after a BOM and CRLF like the parser', () => {
    expect(readIniValue('\uFEFF; c\r\n[a]\r\nk = v\r\n', 'a', 'k')).toEqual({ value: 'v', line: 3 });
  });
});

describe('setIniValue: replacing', () => {
  it('changes only the value, keeping spacing, spelling and separator', () => {
    const out = setIniValue(HAND_WRITTEN, 'web', 'host', 'mayday.example');
    expect(out).toBe(HAND_WRITTEN.replace('  host:   example.org   ', '  host:   mayday.example   '));
  });

  it('keeps a colon separator without spaces', () => {
    expect(setIniValue('[a]\nk:1\n', 'a', 'k', '2')).toBe('[a]\nk:2\n');
  });

  it('does not confuse port with ports', () => {
    const out = setIniValue(HAND_WRITTEN, 'web', 'port', '9000');
    expect(readIniValue(out, 'web', 'port')?.value).toBe('9000');
    expect(readIniValue(out, 'web', 'ports')?.value).toBe('1,2');
    const both = setIniValue(out, 'web', 'ports', '3');
    expect(both).toContain('\nport = 9000\n');
    expect(both).toContain('\nports = 3\n');
  });

  it('keeps the quote character a value was written with', () => {
    expect(setIniValue(HAND_WRITTEN, 'queue', 'kind', 'priority')).toContain("\nkind = 'priority'\n");
    expect(setIniValue(HAND_WRITTEN, 'queue', 'name', 'plain')).toContain('\nname = "plain"\n');
  });

  it('quotes values the way formatIni does when they need it', () => {
    expect(setIniValue('[a]\nk = 1\n', 'a', 'k', ' x ')).toBe('[a]\nk = " x "\n');
    expect(setIniValue('[a]\nk = 1\n', 'a', 'k', '"quoted"')).toBe('[a]\nk = ""quoted""\n');
    expect(setIniValue('[a]\nk = 1\n', 'a', 'k', "'")).toBe('[a]\nk = "\'"\n');
    for (const value of [' x ', '"quoted"', "'", '"', 'a"', 'x #not a comment; y', '']) {
      expect(readIniValue(setIniValue('[a]\nk = 1\n', 'a', 'k', value), 'a', 'k')?.value).toBe(value);
    }
  });

  it('writes an empty value without trailing spaces, and fills one in with a space', () => {
    expect(setIniValue('[a]\nk = 1\n', 'a', 'k', '')).toBe('[a]\nk =\n');
    expect(setIniValue('[a]\nk =\n', 'a', 'k', '1')).toBe('[a]\nk = 1\n');
    expect(setIniValue('[a]\nk=\n', 'a', 'k', '1')).toBe('[a]\nk=1\n');
    expect(setIniValue('[a]\nk:\n', 'a', 'k', '1')).toBe('[a]\nk: 1\n');
  });

  it('returns the very same text when the value does not change', () => {
    for (const entry of parseIni(HAND_WRITTEN).entries) {
      expect(setIniValue(HAND_WRITTEN, entry.section, entry.key, entry.value)).toBe(HAND_WRITTEN);
    }
    // The value reads the same although formatIni would write it differently.
    expect(setIniValue('[a]\nk = "x"\n', 'a', 'k', 'x')).toBe('[a]\nk = "x"\n');
    expect(setIniValue('[a]\nk = "x\n', 'a', 'k', '"x')).toBe('[a]\nk = "x\n');
  });

  it('edits the first of a key set twice, the one the parser reads', () => {
    expect(setIniValue('[a]\nk = 1\nk = 2\n', 'a', 'k', '3')).toBe('[a]\nk = 3\nk = 2\n');
  });

  it('finds keys in a section whose header has spaces', () => {
    expect(setIniValue(' [ a ] \nk = 1\n', 'a', 'k', '2')).toBe(' [ a ] \nk = 2\n');
  });

  it('handles section names with dots exactly', () => {
    const text = '[throttle.rules]\nk = 1\n[throttle.rules.a]\nk = 2\n';
    expect(setIniValue(text, 'throttle.rules.a', 'k', '3')).toBe('[throttle.rules]\nk = 1\n[throttle.rules.a]\nk = 3\n');
    expect(setIniValue(text, 'throttle.rules', 'k', '3')).toBe('[throttle.rules]\nk = 3\n[throttle.rules.a]\nk = 2\n');
  });

  it('treats include inside a section as an ordinary key', () => {
    expect(setIniValue('include = x.ini\n[a]\ninclude = 1\n', 'a', 'include', '2')).toBe('include = x.ini\n[a]\ninclude = 2\n');
  });
});

describe('setIniValue: removing', () => {
  it('removes the line and nothing else', () => {
    const out = setIniValue(HAND_WRITTEN, 'web', 'port', undefined);
    expect(out).toBe(HAND_WRITTEN.replace('port = 8000\n', ''));
  });

  it('leaves the text alone when the key is not set', () => {
    expect(setIniValue(HAND_WRITTEN, 'web', 'tls', undefined)).toBe(HAND_WRITTEN);
    expect(setIniValue(HAND_WRITTEN, 'nowhere', 'tls', undefined)).toBe(HAND_WRITTEN);
  });

  it('removes every line of a key set twice, so the ignored one does not take over', () => {
    const out = setIniValue('[a]\nk = 1\nj = 0\nk = 2\n', 'a', 'k', undefined);
    expect(out).toBe('[a]\nj = 0\n');
  });

  it('keeps the missing final newline when removing the last line', () => {
    expect(setIniValue('[a]\nj = 0\nk = 1', 'a', 'k', undefined)).toBe('[a]\nj = 0');
  });
});

describe('setIniValue: adding', () => {
  it('adds after the section\'s last entry, before comments introducing the next section', () => {
    const out = setIniValue(HAND_WRITTEN, 'web', 'tls_cert', '/etc/cert.pem');
    expect(out).toBe(HAND_WRITTEN.replace('ports = 1,2\n', 'ports = 1,2\ntls_cert = /etc/cert.pem\n'));
  });

  it('adds to the last section of the file', () => {
    const out = setIniValue(HAND_WRITTEN, 'throttle.rules.a', 'action', 'reject');
    expect(out).toBe(HAND_WRITTEN.replace('rate = 10\n', 'rate = 10\naction = reject\n'));
  });

  it('adds right after the header of an empty section', () => {
    expect(setIniValue('[a]\n; about b\n[b]\n', 'a', 'k', '1')).toBe('[a]\nk = 1\n; about b\n[b]\n');
    expect(setIniValue('[a]', 'a', 'k', '1')).toBe('[a]\nk = 1');
  });

  it('appends a missing section at the end', () => {
    expect(setIniValue('[a]\nk = 1\n', 'b', 'j', '2')).toBe('[a]\nk = 1\n\n[b]\nj = 2\n');
    expect(setIniValue('[a]\nk = 1\n\n', 'b', 'j', '2')).toBe('[a]\nk = 1\n\n[b]\nj = 2\n');
    expect(setIniValue('; only a comment', 'b', 'j', '2')).toBe('; only a comment\n\n[b]\nj = 2');
  });

  it('starts an empty file', () => {
    expect(setIniValue('', 'web', 'port', '8000')).toBe('[web]\nport = 8000\n');
    expect(setIniValue('\uFEFF', 'web', 'port', '8000')).toBe('\uFEFF[web]\nport = 8000\n');
  });

  it('keeps CRLF line endings and the byte-order mark', () => {
    const text = '\uFEFF; c\r\n[a]\r\nk = 1\r\n\r\n[b]\r\nj = 2\r\n';
    expect(setIniValue(text, 'a', 'n', '3')).toBe('\uFEFF; c\r\n[a]\r\nk = 1\r\nn = 3\r\n\r\n[b]\r\nj = 2\r\n');
    expect(setIniValue(text, 'c', 'n', '3')).toBe(`${text}\r\n[c]\r\nn = 3\r\n`);
    expect(setIniValue(text, 'b', 'j', '4')).toBe(text.replace('j = 2', 'j = 4'));
    expect(setIniValue(text, 'a', 'k', undefined)).toBe('\uFEFF; c\r\n[a]\r\n\r\n[b]\r\nj = 2\r\n');
  });

  it('keeps a file without a final newline without one', () => {
    expect(setIniValue('[a]\nk = 1', 'a', 'j', '2')).toBe('[a]\nk = 1\nj = 2');
    expect(setIniValue('[a]\r\nk = 1', 'b', 'j', '2')).toBe('[a]\r\nk = 1\r\n\r\n[b]\r\nj = 2');
  });

  it('adds to the block the parser lists first when a section appears twice', () => {
    expect(setIniValue('[a]\nk = 1\n[b]\n[a]\nj = 2\n', 'a', 'n', '3')).toBe('[a]\nk = 1\nn = 3\n[b]\n[a]\nj = 2\n');
  });

  it('does not add under an unreadable header that looks like the section', () => {
    const out = setIniValue('[a\nk = 1\n', 'a', 'k', '2');
    expect(out).toBe('[a\nk = 1\n\n[a]\nk = 2\n');
    expect(readIniValue(out, 'a', 'k')?.value).toBe('2');
  });

  it('applies several edits in order', () => {
    const out = applyIniEdits('[a]\nk = 1\n', [
      { section: 'a', key: 'k', value: '2' },
      { section: 'b', key: 'j', value: 'x' },
      { section: 'a', key: 'k', value: undefined },
    ]);
    expect(out).toBe('[a]\n\n[b]\nj = x\n');
  });
});

describe('setIniValue: refusals', () => {
  it('throws on names the parser would reject', () => {
    expect(() => setIniValue('', 'bad name', 'k', '1')).toThrow(/invalid section name "bad name"/);
    expect(() => setIniValue('', 'a', '1k', '1')).toThrow(/invalid key name "1k"/);
    expect(() => setIniValue('', 'a]', 'k', '1')).toThrow(/invalid section name/);
    expect(() => setIniValue('', 'a', 'k=v', '1')).toThrow(/invalid key name/);
    expect(() => setIniValue('', '', 'k', '1')).toThrow(/invalid section name/);
    expect(() => readIniValue('', 'a', 'k v')).toThrow(/invalid key name/);
  });

  it('throws on a value with a line break', () => {
    expect(() => setIniValue('[a]\n', 'a', 'k', 'x\ny')).toThrow(/line break/);
    expect(() => setIniValue('[a]\n', 'a', 'k', 'x\r')).toThrow(/line break/);
  });
});

describe('ensureIniSection', () => {
  it('appends an empty section only when it is missing', () => {
    expect(ensureIniSection('[a]\nk = 1\n', 'throttle.rules.x')).toBe('[a]\nk = 1\n\n[throttle.rules.x]\n');
    expect(ensureIniSection('[a]\nk = 1\n', 'a')).toBe('[a]\nk = 1\n');
    expect(ensureIniSection('', 'a')).toBe('[a]\n');
  });
});

describe('removeIniSection', () => {
  it('removes the section with its comments, leaving the next section\'s introduction', () => {
    const out = removeIniSection(HAND_WRITTEN, 'web');
    expect(out).toBe(HAND_WRITTEN.replace('; the web role\n[web]\nport = 8000\n  host:   example.org   \nports = 1,2\n; tls = on (disabled)\n\n', ''));
    expect(entriesOf(out).map(([id]) => id)).toEqual(['queue.kind', 'queue.name', 'throttle.rules.a.rate']);
  });

  it('removes the last section without leaving blank lines behind', () => {
    expect(removeIniSection(HAND_WRITTEN, 'throttle.rules.a')).toBe(HAND_WRITTEN.replace('\n[throttle.rules.a]\nrate = 10\n', ''));
    expect(removeIniSection('[a]\nk = 1\n\n[b]\nj = 2', 'b')).toBe('[a]\nk = 1');
  });

  it('removes a middle section', () => {
    expect(removeIniSection('[a]\nk = 1\n\n[b]\nj = 2\n\n[c]\nn = 3\n', 'b')).toBe('[a]\nk = 1\n\n[c]\nn = 3\n');
  });

  it('keeps a comment that opens the file', () => {
    expect(removeIniSection('; node config\n[a]\nk = 1\n\n[b]\n', 'a')).toBe('; node config\n[b]\n');
  });

  it('removes every block of a section that appears twice', () => {
    expect(removeIniSection('[a]\nk = 1\n[b]\nj = 2\n[a]\nn = 3\n', 'a')).toBe('[b]\nj = 2\n');
  });

  it('does not stop at a similar name, and stops at an unreadable header', () => {
    const text = '[throttle.rules]\nk = 1\n[throttle.rules.a]\nk = 2\n[bad name!]\nk = 3\n';
    expect(removeIniSection(text, 'throttle.rules')).toBe('[throttle.rules.a]\nk = 2\n[bad name!]\nk = 3\n');
    expect(removeIniSection(text, 'throttle.rules.a')).toBe('[throttle.rules]\nk = 1\n[bad name!]\nk = 3\n');
  });

  it('keeps CRLF and BOM, and leaves the text alone when the section is absent', () => {
    const text = '\uFEFF[a]\r\nk = 1\r\n\r\n[b]\r\nj = 2\r\n';
    expect(removeIniSection(text, 'a')).toBe('\uFEFF[b]\r\nj = 2\r\n');
    expect(removeIniSection(text, 'c')).toBe(text);
    expect(removeIniSection('[a]\nk = 1\n', 'a')).toBe('');
  });

  it('throws on an invalid name', () => {
    expect(() => removeIniSection('', 'x y')).toThrow(/invalid section name/);
  });
});

describe('renameIniSection', () => {
  it('renames a throttle rule, keeping everything else', () => {
    const text = '[throttle.rules.a]\nrate = 1\n\n[throttle.rules.ab]\nrate = 2\n';
    expect(renameIniSection(text, 'throttle.rules.a', 'throttle.rules.b')).toBe(
      '[throttle.rules.b]\nrate = 1\n\n[throttle.rules.ab]\nrate = 2\n',
    );
  });

  it('keeps the header line\'s spacing and renames every block', () => {
    expect(renameIniSection(' [ a ]  \r\nk = 1\r\n[a]\r\n', 'a', 'b')).toBe(' [ b ]  \r\nk = 1\r\n[b]\r\n');
  });

  it('refuses to merge into an existing section and rejects invalid names', () => {
    expect(() => renameIniSection('[a]\n[b]\n', 'a', 'b')).toThrow(/\[b\] already exists/);
    expect(() => renameIniSection('[a]\n', 'a', 'b c')).toThrow(/invalid section name/);
  });

  it('leaves the text alone when there is nothing to rename', () => {
    expect(renameIniSection('[a]\n', 'c', 'd')).toBe('[a]\n');
    expect(renameIniSection('[a]\n[b]\n', 'a', 'a')).toBe('[a]\n[b]\n');
  });
});

describe('setIniIncludes', () => {
  it('edits the include line in place', () => {
    const out = setIniIncludes(HAND_WRITTEN, ['common.ini', 'site.ini']);
    expect(out).toBe(HAND_WRITTEN.replace('include = common.ini', 'include = common.ini, site.ini'));
    expect(parseIni(out).includes.map((i) => i.path)).toEqual(['common.ini', 'site.ini']);
  });

  it('returns the same text when the includes read the same', () => {
    expect(setIniIncludes(HAND_WRITTEN, ['common.ini'])).toBe(HAND_WRITTEN);
    const text = 'include=a.ini,b.ini\ninclude: c.ini\n[a]\n';
    expect(setIniIncludes(text, ['a.ini', 'b.ini', 'c.ini'])).toBe(text);
  });

  it('merges several include lines into the first', () => {
    expect(setIniIncludes('include = a.ini\n; note\ninclude: b.ini\n[a]\n', ['x.ini'])).toBe('include = x.ini\n; note\n[a]\n');
  });

  it('adds after the comments that open the file', () => {
    expect(setIniIncludes('; node\n; config\n[web]\nport = 1\n', ['common.ini'])).toBe(
      '; node\n; config\ninclude = common.ini\n\n[web]\nport = 1\n',
    );
    expect(setIniIncludes('; node\n\n[web]\n', ['common.ini'])).toBe('; node\ninclude = common.ini\n\n[web]\n');
    expect(setIniIncludes('[web]\r\n', ['common.ini'])).toBe('include = common.ini\r\n\r\n[web]\r\n');
    expect(setIniIncludes('', ['common.ini'])).toBe('include = common.ini\n');
  });

  it('removes the include lines without leaving a doubled blank line', () => {
    expect(setIniIncludes(HAND_WRITTEN, [])).toBe(HAND_WRITTEN.replace('include = common.ini\n\n', ''));
    expect(setIniIncludes('include = a.ini\ninclude = b.ini\n\n[web]\n', [])).toBe('[web]\n');
    expect(setIniIncludes('[web]\n', [])).toBe('[web]\n');
  });

  it('replaces a broken include line', () => {
    expect(setIniIncludes('include =\n[a]\n', [])).toBe('[a]\n');
    expect(setIniIncludes('include = a.ini,\n[a]\n', ['a.ini'])).toBe('include = a.ini\n[a]\n');
  });

  it('does not treat include inside a section or after a bad header as an include', () => {
    const text = '[a]\ninclude = x\n';
    expect(setIniIncludes(text, ['c.ini'])).toBe('include = c.ini\n\n[a]\ninclude = x\n');
    expect(setIniIncludes('[bad name!]\ninclude = x\n', [])).toBe('[bad name!]\ninclude = x\n');
  });

  it('quotes a path list that starts with a quote and rejects unreadable paths', () => {
    const out = setIniIncludes('', ['"odd.ini']);
    expect(parseIni(out).includes.map((i) => i.path)).toEqual(['"odd.ini']);
    for (const bad of ['', ' a.ini', 'a,b.ini', 'a\nb']) {
      expect(() => setIniIncludes('', [bad])).toThrow(/invalid include path/);
    }
  });
});

// ---- property tests ------------------------------------------------------------------

const SECTION_NAMES = ['web', 'queue', 'throttle.rules', 'throttle.rules.a', 'x-1', 'Web'];
const KEYS = ['port', 'ports', 'host', 'include', 'a.b', 'k_1', 'Port'];
const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', '1', ' ', '\t', '"', "'", '#', ';', '=', ':', '[', ']', 'é', '/'), maxLength: 8 });

const entryArb = fc.record({
  type: fc.constant('entry' as const),
  key: fc.constantFrom(...KEYS),
  value: valueArb,
  indent: fc.constantFrom('', ' ', '\t'),
  before: fc.constantFrom('', ' ', '  '),
  separator: fc.constantFrom('=', ':'),
  after: fc.constantFrom('', ' ', '   '),
  trailing: fc.constantFrom('', ' '),
  quote: fc.constantFrom<'"' | "'" | ''>('', '', '"', "'"),
});
const fillerArb = fc.record({
  type: fc.constant('filler' as const),
  text: fc.constantFrom('', '', '  ', '; comment', '# note = x', '  ; indented', ';', 'not a key value line', '9bad = key'),
});
const sectionArb = fc.record({
  header: fc.constantFrom('[%]', '[ % ]', ' [%]  '),
  items: fc.array(fc.oneof({ arbitrary: entryArb, weight: 3 }, { arbitrary: fillerArb, weight: 2 }), { maxLength: 7 }),
  trailingBadHeader: fc.constantFrom('', '', '', '[bad name!]', '[unclosed'),
});
const docArb = fc.record({
  preamble: fc.array(fc.constantFrom('; Mayday node', '# generated', '', 'include = common.ini, b.ini', 'orphan = 1'), { maxLength: 4 }),
  sections: fc.uniqueArray(fc.tuple(fc.constantFrom(...SECTION_NAMES), sectionArb), { selector: ([name]) => name, maxLength: 5 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
});

type Doc = typeof docArb extends fc.Arbitrary<infer T> ? T : never;
type EntrySpec = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function renderEntry(e: EntrySpec): string {
  const needsQuotes = e.value !== e.value.trim() || /^["']/.test(e.value);
  const quote = e.quote === '' && needsQuotes ? '"' : e.quote;
  return `${e.indent}${e.key}${e.before}${e.separator}${e.after}${quote}${e.value}${quote}${e.trailing}`;
}

/** The document's text and the entries it was generated with (later duplicates of a key become comments). */
function render(doc: Doc): { text: string; expected: Map<string, string> } {
  const lines: string[] = [...doc.preamble];
  const expected = new Map<string, string>();
  for (const [name, section] of doc.sections) {
    lines.push(section.header.replace('%', name));
    for (const item of section.items) {
      if (item.type === 'filler') {
        lines.push(item.text);
        continue;
      }
      const id = `${name}.${item.key}`;
      if (expected.has(id)) {
        lines.push(`; ${item.key} again`);
        continue;
      }
      expected.set(id, item.value);
      lines.push(renderEntry(item));
    }
    if (section.trailingBadHeader !== '') lines.push(section.trailingBadHeader, 'skipped = 1');
  }
  const eol = doc.crlf ? '\r\n' : '\n';
  let text = lines.join(eol);
  if (doc.finalNewline && lines.length > 0) text += eol;
  return { text: (doc.bom ? '\uFEFF' : '') + text, expected };
}

function bodyLines(text: string): string[] {
  // An empty text has no lines (split would give one empty line, absent from any original).
  const body = text.replace(/^\uFEFF/, '');
  return body === '' ? [] : body.split(/\r?\n/);
}

function isSubsequence(needles: string[], haystack: string[]): boolean {
  let at = 0;
  for (const line of haystack) if (at < needles.length && line === needles[at]) at++;
  return at === needles.length;
}

function asMap(text: string): Map<string, string> {
  return new Map(parseIni(text).entries.map((e) => [`${e.section}.${e.key}`, e.value]));
}

/**
 * Line endings, BOM and final newline of `after` are those of `before`. The final newline is
 * not checked after removals: removing the last line after a blank one rightly leaves text
 * that ends in a line break.
 */
function expectSameShape(before: string, after: string, checkFinalNewline: boolean): void {
  expect(after.startsWith('\uFEFF')).toBe(before.startsWith('\uFEFF'));
  if (before.includes('\r\n')) expect(after.replace(/\r\n/g, '')).not.toContain('\n');
  else expect(after).not.toContain('\r\n');
  const body = before.replace(/^\uFEFF/, '');
  const afterBody = after.replace(/^\uFEFF/, '');
  if (checkFinalNewline && body !== '' && afterBody !== '') expect(afterBody.endsWith('\n')).toBe(body.endsWith('\n'));
}

describe('property: edits agree with parseIni', () => {
  it('generated documents read as generated (sanity check of the generator)', () => {
    fc.assert(
      fc.property(docArb, (doc) => {
        const { text, expected } = render(doc);
        expect(asMap(text)).toEqual(expected);
        for (const section of SECTION_NAMES) {
          for (const key of KEYS) {
            const entry = parseIni(text).entries.find((e) => e.section === section && e.key === key);
            expect(readIniValue(text, section, key)).toEqual(entry && { value: entry.value, line: entry.line });
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('setIniValue changes that one value and keeps every other line', () => {
    fc.assert(
      fc.property(
        docArb,
        fc.constantFrom(...SECTION_NAMES),
        fc.constantFrom(...KEYS),
        fc.option(valueArb, { nil: undefined }),
        (doc, section, key, value) => {
          const { text } = render(doc);
          const before = parseIni(text);
          const edited = before.entries.find((e) => e.section === section && e.key === key);
          const out = setIniValue(text, section, key, value);
          const after = parseIni(out);

          // (a) the edited value, every other entry as it was, no new problems
          const expected = asMap(text);
          if (value === undefined) expected.delete(`${section}.${key}`);
          else expected.set(`${section}.${key}`, value);
          expect(asMap(out)).toEqual(expected);
          expect(after.problems.length).toBe(before.problems.length);
          const sections = new Set(before.sections.map((s) => s.name));
          if (value !== undefined) sections.add(section);
          expect(new Set(after.sections.map((s) => s.name))).toEqual(sections);

          // (b) every other original line survives, in order
          const original = bodyLines(text).filter((_, i) => edited === undefined || i !== edited.line - 1);
          expect(isSubsequence(original, bodyLines(out))).toBe(true);
          if (value === undefined) expect(bodyLines(out)).toEqual(original);
          expectSameShape(text, out, value !== undefined);

          // (c) setting the current value changes nothing
          if (edited !== undefined) expect(setIniValue(text, section, key, edited.value)).toBe(text);
          expect(setIniValue(out, section, key, value)).toBe(out);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('setting any existing entry to its own value returns the identical text', () => {
    fc.assert(
      fc.property(docArb, (doc) => {
        const { text } = render(doc);
        for (const entry of parseIni(text).entries) {
          expect(setIniValue(text, entry.section, entry.key, entry.value)).toBe(text);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('removeIniSection drops that section only', () => {
    fc.assert(
      fc.property(docArb, fc.constantFrom(...SECTION_NAMES), (doc, section) => {
        const { text } = render(doc);
        const out = removeIniSection(text, section);
        const kept = parseIni(text).entries.filter((e) => e.section !== section);
        expect(parseIni(out).entries.map((e) => [e.section, e.key, e.value])).toEqual(kept.map((e) => [e.section, e.key, e.value]));
        expect(parseIni(out).sections.map((s) => s.name)).toEqual(parseIni(text).sections.map((s) => s.name).filter((n) => n !== section));
        expect(isSubsequence(bodyLines(out), bodyLines(text))).toBe(true);
        const lines = bodyLines(text);
        const keptLines = kept.map((e) => lines[e.line - 1]);
        expect(isSubsequence(keptLines, bodyLines(out))).toBe(true);
        expectSameShape(text, out, false);
      }),
      { numRuns: 300 },
    );
  });

  it('renameIniSection changes only the header lines', () => {
    fc.assert(
      fc.property(docArb, fc.constantFrom(...SECTION_NAMES), (doc, section) => {
        const { text } = render(doc);
        const out = renameIniSection(text, section, 'renamed.rule');
        const rename = (name: string): string => (name === section ? 'renamed.rule' : name);
        expect(parseIni(out).entries.map((e) => [e.section, e.key, e.value, e.line])).toEqual(
          parseIni(text).entries.map((e) => [rename(e.section), e.key, e.value, e.line]),
        );
        const headers = new Set(parseIni(text).sections.filter((s) => s.name === section).map((s) => s.line - 1));
        const before = bodyLines(text);
        const after = bodyLines(out);
        expect(after.length).toBe(before.length);
        before.forEach((line, i) => {
          if (!headers.has(i)) expect(after[i]).toBe(line);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('setIniIncludes sets the includes and nothing else', () => {
    const pathArb = fc.constantFrom('common.ini', 'site.ini', '../a b.ini', '"q.ini', "x'.ini");
    fc.assert(
      fc.property(docArb, fc.array(pathArb, { maxLength: 3 }), (doc, paths) => {
        const { text } = render(doc);
        const out = setIniIncludes(text, paths);
        const before = parseIni(text);
        const after = parseIni(out);
        expect(after.includes.map((i) => i.path)).toEqual(paths);
        expect(after.entries.map((e) => [e.section, e.key, e.value])).toEqual(before.entries.map((e) => [e.section, e.key, e.value]));
        expect(after.sections.map((s) => s.name)).toEqual(before.sections.map((s) => s.name));
        expect(setIniIncludes(out, paths)).toBe(out);
        const includeLines = new Set(before.includes.map((i) => i.line - 1));
        const others = bodyLines(text).filter((_, i) => !includeLines.has(i) && !(paths.length === 0 && bodyLines(text)[i].trim() === ''));
        expect(isSubsequence(others, bodyLines(out))).toBe(true);
        expectSameShape(text, out, false);
      }),
      { numRuns: 300 },
    );
  });
});
