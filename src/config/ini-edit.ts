/**
 * In-place editing of node INI files, for the Configurator.
 *
 * The Configurator keeps each INI file's text as the source of truth: a file written by
 * hand must come back out with its comments, blank lines, ordering, spacing, separator
 * style (`=` or `:`), quoting, line endings (LF or CRLF) and byte-order mark intact,
 * except on the lines whose value the user actually changed. So instead of parsing into a
 * model and re-serialising with `formatIni`, these functions edit the text line by line.
 *
 * Every line is classified exactly as `parseIni` (./ini.ts) reads it, so an edit lands on
 * the line the parser takes the value from: `[section]` headers (name trimmed, case
 * sensitive), `key = value` / `key: value` (the first `=` or `:` separates), full-line `;`
 * and `#` comments, values wrapped in matching quotes, lines after an unreadable header
 * ignored, and for a key set twice the first line wins.
 *
 * Pure string functions with no I/O and no `node:` imports: the web form runs them in the
 * browser. Names that `parseIni` would reject, and values it could not read back (a line
 * break), throw instead of producing a broken file.
 */

import { NAME, SECTION_LINE, encodeValue, firstSeparator, quoteOf, unquote } from './ini.js';

/** One physical line and the terminator it had, so that mixed or CRLF files stay as they were. */
interface Line {
  text: string;
  /** `\n`, `\r\n`, or '' for the last line of a file without a final newline and for new lines. */
  eol: string;
}

interface Lines {
  bom: boolean;
  lines: Line[];
  /** The terminator for lines this module adds: the file's prevailing one. */
  eol: string;
  finalNewline: boolean;
}

type Scanned =
  | { kind: 'blank' | 'comment' | 'badHeader' | 'other' }
  | { kind: 'header'; name: string }
  | { kind: 'entry'; section: string; key: string; value: string; separator: number }
  | { kind: 'include'; separator: number };

/** A value read from the text, with its 1-based line number as `parseIni` counts lines. */
export interface IniValue {
  value: string;
  line: number;
}

/** One change for `applyIniEdits`; `value: undefined` removes the key. */
export interface IniEdit {
  section: string;
  key: string;
  value: string | undefined;
}

/** The value `parseIni` would report for `section.key`, or undefined when the key is not set. */
export function readIniValue(text: string, section: string, key: string): IniValue | undefined {
  checkName('section', section);
  checkName('key', key);
  const doc = split(text);
  const scanned = scan(doc.lines);
  const index = scanned.findIndex((s) => s.kind === 'entry' && s.section === section && s.key === key);
  if (index < 0) return undefined;
  const found = scanned[index];
  return found.kind === 'entry' ? { value: found.value, line: index + 1 } : undefined;
}

/**
 * Sets `section.key` to `value`, or removes it when `value` is undefined.
 *
 * - Present: only the value part of its line changes; the key's spelling, indentation,
 *   separator and spacing stay, and a value that was quoted keeps its quote character.
 *   Setting the value it already has returns `text` itself.
 * - Removing: the key's line goes and nothing else. A key set twice (a problem the parser
 *   reports) loses every one of its lines, because removing only the first would let the
 *   ignored duplicate take effect.
 * - Absent: `key = value` goes after the last non-comment line of the section's first
 *   block, so comments and blank lines introducing the next section stay with it.
 * - Section absent: a blank line, `[section]` and `key = value` are appended at the end.
 */
export function setIniValue(text: string, section: string, key: string, value: string | undefined): string {
  checkName('section', section);
  checkName('key', key);
  if (value !== undefined) checkValue(value);
  const doc = split(text);
  const scanned = scan(doc.lines);
  const matches: number[] = [];
  scanned.forEach((s, i) => {
    if (s.kind === 'entry' && s.section === section && s.key === key) matches.push(i);
  });

  if (value === undefined) {
    if (matches.length === 0) return text;
    removeLines(doc, matches);
    return join(doc);
  }

  if (matches.length > 0) {
    const first = scanned[matches[0]];
    if (first.kind !== 'entry') return text;
    if (first.value === value) return text;
    doc.lines[matches[0]].text = replaceValue(doc.lines[matches[0]].text, first.separator, value);
    return join(doc);
  }

  const newLine = entryLine(key, value);
  const header = scanned.findIndex((s) => s.kind === 'header' && s.name === section);
  if (header < 0) {
    appendSection(doc, section, [newLine]);
    return join(doc);
  }
  insertLines(doc, lastContentLine(scanned, header) + 1, [newLine]);
  return join(doc);
}

/** Applies several `setIniValue` edits in order (one form submission). */
export function applyIniEdits(text: string, edits: ReadonlyArray<IniEdit>): string {
  return edits.reduce((current, edit) => setIniValue(current, edit.section, edit.key, edit.value), text);
}

/** Appends an empty `[section]` unless the section already has a header. */
export function ensureIniSection(text: string, section: string): string {
  checkName('section', section);
  const doc = split(text);
  if (scan(doc.lines).some((s) => s.kind === 'header' && s.name === section)) return text;
  appendSection(doc, section, []);
  return join(doc);
}

/**
 * Removes `[section]` with its entries and the comments and blank lines up to the next
 * header, except the comment lines directly above that header (they introduce it). The
 * comment lines directly above the removed header go too, unless they open the file (then
 * they are more likely the file's own description). Every block of a section that appears
 * twice is removed. A section that is not there leaves the text as it is.
 */
export function removeIniSection(text: string, section: string): string {
  checkName('section', section);
  const doc = split(text);
  const scanned = scan(doc.lines);
  const count = scanned.length;
  const remove = new Set<number>();
  scanned.forEach((s, header) => {
    if (s.kind !== 'header' || s.name !== section) return;
    let end = nextHeader(scanned, header);
    if (end < count) {
      while (end > header + 1 && scanned[end - 1].kind === 'comment') end--;
    }
    let start = header;
    while (start > 0 && scanned[start - 1].kind === 'comment') start--;
    if (start === 0) start = header;
    // The separating blank lines before a section removed from the end of the file would
    // otherwise become trailing blank lines.
    if (nextHeader(scanned, header) >= count) {
      while (start > 0 && scanned[start - 1].kind === 'blank') start--;
    }
    for (let i = start; i < end; i++) remove.add(i);
  });
  if (remove.size === 0) return text;
  removeLines(doc, [...remove]);
  return join(doc);
}

/**
 * Renames `[from]` to `[to]` (every header of `from`), keeping the header line's spacing.
 * Throws when `[to]` already exists, since the two sections' keys would then collide. A
 * missing `[from]` leaves the text as it is.
 */
export function renameIniSection(text: string, from: string, to: string): string {
  checkName('section', from);
  checkName('section', to);
  if (from === to) return text;
  const doc = split(text);
  const scanned = scan(doc.lines);
  if (scanned.some((s) => s.kind === 'header' && s.name === to)) {
    throw new Error(`cannot rename [${from}] to [${to}]: section [${to}] already exists`);
  }
  let changed = false;
  scanned.forEach((s, i) => {
    if (s.kind !== 'header' || s.name !== from) return;
    const line = doc.lines[i];
    const open = line.text.indexOf('[');
    const close = line.text.indexOf(']', open);
    const inner = line.text.slice(open + 1, close);
    const lead = inner.length - inner.trimStart().length;
    const renamed = inner.slice(0, lead) + to + inner.slice(lead + from.length);
    line.text = line.text.slice(0, open + 1) + renamed + line.text.slice(close);
    changed = true;
  });
  return changed ? join(doc) : text;
}

/**
 * Sets the top-level `include = a.ini, b.ini` line to `paths`, or removes every include
 * line when `paths` is empty. The first existing include line is edited in place and any
 * further ones removed; without one, the line goes after the comment lines that open the
 * file, before the first section. Text whose includes already read as `paths` is returned
 * as it is. A path must be non-empty, without surrounding spaces, commas or line breaks
 * (the parser splits the list on commas and trims each name).
 */
export function setIniIncludes(text: string, paths: ReadonlyArray<string>): string {
  for (const path of paths) {
    if (path === '' || path !== path.trim() || path.includes(',') || /[\r\n]/.test(path)) {
      throw new Error(`invalid include path ${JSON.stringify(path)}: it must be non-empty, without surrounding spaces, commas or line breaks`);
    }
  }
  const doc = split(text);
  const scanned = scan(doc.lines);
  const includeLines: number[] = [];
  scanned.forEach((s, i) => {
    if (s.kind === 'include') includeLines.push(i);
  });
  const current: string[] = [];
  let wellFormed = true;
  for (const i of includeLines) {
    const s = scanned[i];
    if (s.kind !== 'include') continue;
    const listed = unquote(doc.lines[i].text.slice(s.separator + 1).trim()).split(',').map((p) => p.trim());
    if (listed.some((p) => p === '')) wellFormed = false;
    current.push(...listed);
  }
  if (wellFormed && current.length === paths.length && current.every((p, i) => p === paths[i])) return text;

  if (paths.length === 0) {
    // From the last line up, so that a blank line left doubled (or leading the file) by one
    // removal is seen by the check and goes with it.
    for (const i of [...includeLines].reverse()) {
      doc.lines.splice(i, 1);
      const orphanedBlank = (i === 0 || isBlank(doc.lines[i - 1])) && i < doc.lines.length && isBlank(doc.lines[i]);
      if (orphanedBlank) doc.lines.splice(i, 1);
    }
    return join(doc);
  }

  const value = paths.join(', ');
  if (includeLines.length > 0) {
    const first = scanned[includeLines[0]];
    if (first.kind === 'include') {
      doc.lines[includeLines[0]].text = replaceValue(doc.lines[includeLines[0]].text, first.separator, value);
    }
    removeLines(doc, includeLines.slice(1));
    return join(doc);
  }

  let at = 0;
  while (at < scanned.length && scanned[at].kind === 'comment') at++;
  const added = [entryLine('include', value)];
  // Keeps the include visually apart from a section header or its introducing comment.
  if (at < doc.lines.length && !isBlank(doc.lines[at])) added.push('');
  insertLines(doc, at, added);
  return join(doc);
}

function checkName(what: 'section' | 'key', name: string): void {
  if (!NAME.test(name)) {
    throw new Error(
      `invalid ${what} name ${JSON.stringify(name)}: it must start with a letter and contain only letters, digits, "_", "." and "-"`,
    );
  }
}

function checkValue(value: string): void {
  // The file has one entry per line and no escapes, so a line break cannot be written.
  if (/[\r\n]/.test(value)) throw new Error(`a value cannot contain a line break: ${JSON.stringify(value)}`);
}

function split(text: string): Lines {
  const bom = text.startsWith('\uFEFF');
  const body = bom ? text.slice(1) : text;
  const lines: Line[] = [];
  const terminator = /\r?\n/g;
  let start = 0;
  let crlf = 0;
  let lf = 0;
  for (let m = terminator.exec(body); m !== null; m = terminator.exec(body)) {
    lines.push({ text: body.slice(start, m.index), eol: m[0] });
    if (m[0] === '\r\n') crlf++;
    else lf++;
    start = m.index + m[0].length;
  }
  const rest = body.slice(start);
  if (rest !== '') lines.push({ text: rest, eol: '' });
  return { bom, lines, eol: crlf > lf ? '\r\n' : '\n', finalNewline: rest === '' && lines.length > 0 };
}

function join(doc: Lines): string {
  const last = doc.lines.length - 1;
  let out = doc.bom ? '\uFEFF' : '';
  doc.lines.forEach((line, i) => {
    out += line.text;
    if (i < last || doc.finalNewline) out += line.eol === '' ? doc.eol : line.eol;
  });
  return out;
}

function insertLines(doc: Lines, at: number, texts: string[]): void {
  // A file created from nothing gets the conventional final newline.
  if (doc.lines.length === 0) doc.finalNewline = true;
  doc.lines.splice(at, 0, ...texts.map((text) => ({ text, eol: '' })));
}

function removeLines(doc: Lines, indexes: number[]): void {
  const drop = new Set(indexes);
  doc.lines = doc.lines.filter((_, i) => !drop.has(i));
}

function appendSection(doc: Lines, section: string, entries: string[]): void {
  const added: string[] = [];
  if (doc.lines.length > 0 && !isBlank(doc.lines[doc.lines.length - 1])) added.push('');
  added.push(`[${section}]`, ...entries);
  insertLines(doc, doc.lines.length, added);
}

function isBlank(line: Line): boolean {
  return line.text.trim() === '';
}

/** Mirrors `parseIni` line by line (see the module comment). */
function scan(lines: ReadonlyArray<Line>): Scanned[] {
  let section: string | undefined;
  let inBadSection = false;
  return lines.map(({ text }): Scanned => {
    const trimmed = text.trim();
    if (trimmed === '') return { kind: 'blank' };
    if (trimmed.startsWith(';') || trimmed.startsWith('#')) return { kind: 'comment' };
    const header = SECTION_LINE.exec(trimmed);
    if (header) {
      const name = header[1].trim();
      if (!NAME.test(name)) {
        section = undefined;
        inBadSection = true;
        return { kind: 'badHeader' };
      }
      section = name;
      inBadSection = false;
      return { kind: 'header', name };
    }
    if (trimmed.startsWith('[')) {
      section = undefined;
      inBadSection = true;
      return { kind: 'badHeader' };
    }
    if (inBadSection) return { kind: 'other' };
    // Leading whitespace holds no separator, so offsets in the untrimmed line are the parser's.
    const separator = firstSeparator(text);
    if (separator < 0) return { kind: 'other' };
    const key = text.slice(0, separator).trim();
    if (!NAME.test(key)) return { kind: 'other' };
    if (section === undefined) return key === 'include' ? { kind: 'include', separator } : { kind: 'other' };
    return { kind: 'entry', section, key, value: unquote(text.slice(separator + 1).trim()), separator };
  });
}


function entryLine(key: string, value: string): string {
  const encoded = encodeValue(value);
  return encoded === '' ? `${key} =` : `${key} = ${encoded}`;
}

/** Rewrites the value after `separator`, keeping the text before it and the spacing around the value. */
function replaceValue(text: string, separator: number, value: string): string {
  const head = text.slice(0, separator + 1);
  const rest = text.slice(separator + 1);
  const old = rest.trim();
  const quote = quoteOf(old);
  // Wrapping in the quote the line already used always reads back as `value`.
  const encoded = quote === undefined ? encodeValue(value) : `${quote}${value}${quote}`;
  // An emptied value leaves no trailing spaces behind.
  if (encoded === '') return head;
  if (old === '') {
    const spaced = text[separator] === ':' || /\s$/.test(text.slice(0, separator));
    return head + (rest === '' && spaced ? ' ' : rest) + encoded;
  }
  const lead = rest.length - rest.trimStart().length;
  const trail = rest.length - rest.trimEnd().length;
  return head + rest.slice(0, lead) + encoded + rest.slice(rest.length - trail);
}

/** The index of the next header line (readable or not) after `header`, or the line count. */
function nextHeader(scanned: ReadonlyArray<Scanned>, header: number): number {
  for (let i = header + 1; i < scanned.length; i++) {
    const kind = scanned[i].kind;
    if (kind === 'header' || kind === 'badHeader') return i;
  }
  return scanned.length;
}

/** The section's last line that is neither blank nor a comment, or its header. */
function lastContentLine(scanned: ReadonlyArray<Scanned>, header: number): number {
  let last = header;
  const end = nextHeader(scanned, header);
  for (let i = header + 1; i < end; i++) {
    const kind = scanned[i].kind;
    if (kind !== 'blank' && kind !== 'comment') last = i;
  }
  return last;
}
