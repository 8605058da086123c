/**
 * A line-tracking INI parser. Socorro's configuration files are INI with sections as
 * namespaces; the parser keeps each entry's line so that every finding can be reported
 * as `file:line: message`. Common INI libraries drop line numbers, which is why this is
 * written here (it is small and has no I/O).
 *
 * Accepted: `[section]`, `key = value` (or `key: value`), full-line comments starting
 * with `;` or `#`, blank lines, values optionally wrapped in double or single quotes.
 * Inline comments are not stripped because `#` and `;` appear in real values (URLs,
 * regular expressions); a value that needs leading/trailing spaces can be quoted.
 */

export interface IniEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
}

export interface IniProblem {
  line: number;
  message: string;
}

/** A top-level `include = FILE` line: a file whose settings this one builds on. */
export interface IniInclude {
  path: string;
  line: number;
}

export interface IniDocument {
  sections: IniSection[];
  entries: IniEntry[];
  /** `include = a.ini` lines before the first section, in order (a line may list several, comma-separated). */
  includes: IniInclude[];
  problems: IniProblem[];
}

/** The lexical rules, shared with `ini-edit.ts`, which must read lines exactly as this parser does. */
export const SECTION_LINE = /^\[([^\]]*)\]\s*$/;
export const NAME = /^[a-z][a-z0-9_.-]*$/i;

export function parseIni(text: string): IniDocument {
  const sections: IniSection[] = [];
  const entries: IniEntry[] = [];
  const problems: IniProblem[] = [];
  const includes: IniInclude[] = [];
  const seen = new Map<string, number>();
  const seenSections = new Map<string, number>();
  let section: string | undefined;
  // After a header that could not be read, its entries are skipped without more noise:
  // the header's own error says what is wrong.
  let inBadSection = false;

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;

    const header = SECTION_LINE.exec(trimmed);
    if (header) {
      const name = header[1].trim();
      if (!NAME.test(name)) {
        problems.push({ line, message: `invalid section name "[${name}]"` });
        section = undefined;
        inBadSection = true;
        return;
      }
      const earlier = seenSections.get(name);
      if (earlier !== undefined) {
        problems.push({ line, message: `section [${name}] appears twice (first at line ${earlier})` });
      } else {
        seenSections.set(name, line);
        sections.push({ name, line });
      }
      section = name;
      inBadSection = false;
      return;
    }
    if (trimmed.startsWith('[')) {
      problems.push({ line, message: `malformed section header "${trimmed}" (expected "[name]")` });
      section = undefined;
      inBadSection = true;
      return;
    }
    if (inBadSection) return;

    const separator = firstSeparator(trimmed);
    if (separator < 0) {
      problems.push({ line, message: `expected "key = value", found "${trimmed}"` });
      return;
    }
    const key = trimmed.slice(0, separator).trim();
    const value = unquote(trimmed.slice(separator + 1).trim());
    if (!NAME.test(key)) {
      problems.push({ line, message: `invalid key "${key}"` });
      return;
    }
    if (section === undefined && key === 'include') {
      const paths = value.split(',').map((p) => p.trim());
      if (paths.some((p) => p === '')) problems.push({ line, message: 'include needs a file name (include = common.ini)' });
      else for (const path of paths) includes.push({ path, line });
      return;
    }
    if (section === undefined) {
      problems.push({ line, message: `"${key}" is outside any [section]` });
      return;
    }
    const id = `${section}.${key}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problems.push({ line, message: `${id} is set twice (first at line ${earlier})` });
      return;
    }
    seen.set(id, line);
    entries.push({ section, key, value, line });
  });

  return { sections, entries, includes, problems };
}

export function firstSeparator(text: string): number {
  const equals = text.indexOf('=');
  const colon = text.indexOf(':');
  if (equals < 0) return colon;
  if (colon < 0) return equals;
  return Math.min(equals, colon);
}

/** The quote wrapping a whole value, if any. */
export function quoteOf(raw: string): '"' | "'" | undefined {
  if (raw.length < 2) return undefined;
  const first = raw[0];
  if ((first === '"' || first === "'") && raw.endsWith(first)) return first;
  return undefined;
}

export function unquote(raw: string): string {
  return quoteOf(raw) === undefined ? raw : raw.slice(1, -1);
}

/** A value as written: quoted only when the parser would otherwise trim or unquote it. */
export function encodeValue(value: string): string {
  const needsQuotes = value !== value.trim() || /^["']/.test(value);
  return needsQuotes ? `"${value}"` : value;
}

/** Writes sections back as INI text (used by `config init` and the Configurator). */
export function formatIni(sections: ReadonlyArray<{ name: string; comment?: string; entries: ReadonlyArray<{ key: string; value: string; comment?: string }> }>): string {
  const out: string[] = [];
  for (const section of sections) {
    if (out.length > 0) out.push('');
    if (section.comment) out.push(...section.comment.split('\n').map((l) => `; ${l}`));
    out.push(`[${section.name}]`);
    for (const entry of section.entries) {
      if (entry.comment) out.push(...entry.comment.split('\n').map((l) => `; ${l}`));
      out.push(`${entry.key} = ${encodeValue(entry.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
