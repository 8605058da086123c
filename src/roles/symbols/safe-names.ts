/**
 * Names in an upload (zip entry paths, declared debug files) come from the uploader and
 * end up as paths in the store: anything that could escape it or confuse a person
 * reading a listing is refused before a byte is written.
 *
 * Refused: absolute paths (`/x`, `C:\x`, `\\host\x`), `.` and `..` components, empty
 * components, backslashes (a Windows separator, and a traversal on a Windows reader),
 * NUL and other control characters, and "odd Unicode": text not in NFC (two spellings
 * of one name would be two files), format characters (zero-width joiners, bidi
 * overrides that make `exe.txt` display as `txt.exe`), unassigned, private-use and
 * surrogate code points, and line/paragraph separators. Ordinary non-ASCII letters,
 * digits and punctuation are allowed: module names are not always ASCII.
 */

const ALLOWED = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;

/** Why one path component is unsafe, or undefined when it is fine. */
export function unsafeComponent(component: string): string | undefined {
  if (component === '') return 'an empty path component';
  if (component === '.' || component === '..') return `a "${component}" path component`;
  if (component.includes('\u0000')) return 'a NUL byte';
  if (component.includes('\\')) return 'a backslash';
  if (component.includes('/')) return 'a slash';
  if (component !== component.normalize('NFC')) return 'text that is not in Unicode NFC form';
  if (!ALLOWED.test(component)) return 'a control, format, private-use or unassigned character';
  if (component.trim() !== component) return 'leading or trailing spaces';
  return undefined;
}

/** Why a relative `a/b/c` path is unsafe, or undefined when every part is fine. */
export function unsafePath(name: string): string | undefined {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  for (const component of name.split('/')) {
    const problem = unsafeComponent(component);
    if (problem) return problem;
  }
  return undefined;
}

/** Shows an untrusted name in a message: JSON quoting makes control characters visible. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
}
