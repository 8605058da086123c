/**
 * Signature lists: plain text files of regular expressions, one per line, that steer
 * which frames make a signature (see `docs/signatures.md`). This module parses their
 * text; reading the files is the caller's business (the signature code does no I/O).
 *
 * Matching follows Socorro, whose lists operators may already know: an entry matches a
 * normalised frame when the expression matches at the *start* of the frame (Python's
 * `re.match`), so `std::__` matches every frame in `std::__*` and `abort$` only `abort`.
 *
 * An entry may also say which frames it is for: `function:sentry_` matches only frames
 * named by a function, `module:libc\.so@` only frames without one (`module@0xoffset`,
 * `(unloaded module@0xoffset)`). Without either, an entry matches any frame, as in
 * Socorro. This keeps an entry meant for a library's functions (`sentry_` for the Sentry
 * SDK) from swallowing the unsymbolicated frames of an application that happens to share
 * the name (`sentry_example.exe@0x1234`).
 */

/** The four lists, by the role they play in signature generation. */
export type SignatureListName = 'sentinel' | 'irrelevant' | 'prefix' | 'line-number';

export const SIGNATURE_LIST_NAMES: readonly SignatureListName[] = ['sentinel', 'irrelevant', 'prefix', 'line-number'];

/** The file each list is read from, in the lists directory. */
export function signatureListFile(name: SignatureListName): string {
  return `${name}.txt`;
}

/** Which frames an entry applies to (its `function:` or `module:` marker, else any). */
export type SignatureEntryScope = 'any' | 'function' | 'module';

/** What a frame is, for matching: named by a function, or only by its module (or address, file and line). */
export type FrameMatchKind = 'function' | 'module' | 'other';

export interface SignatureListEntry {
  /** The expression as written in the file, without its scope marker. */
  readonly pattern: string;
  readonly scope: SignatureEntryScope;
  /** 1-based line number in its file, for explanations and errors. */
  readonly line: number;
  readonly regex: RegExp;
}

/** One compiled list. `source` names the file (or whatever the text came from). */
export class SignatureList {
  constructor(
    readonly source: string,
    readonly entries: readonly SignatureListEntry[],
  ) {}

  /**
   * The first entry matching at the start of `frame`, if any. `kind` says what the frame
   * is (a function name by default), for entries marked `function:` or `module:`.
   */
  match(frame: string, kind: FrameMatchKind = 'function'): SignatureListEntry | undefined {
    return this.entries.find((entry) => (entry.scope === 'any' || entry.scope === kind) && entry.regex.test(frame));
  }

  /** `irrelevant.txt:12 /abort$/` (`function:/sentry_/` for a scoped entry): where an entry lives, for `signature_debug`. */
  describe(entry: SignatureListEntry): string {
    return `${this.source}:${entry.line} ${entry.scope === 'any' ? '' : `${entry.scope}:`}/${entry.pattern}/`;
  }
}

/** Invalid list lines; the message lists each as `file:line: error: reason`. */
export class SignatureListError extends Error {
  constructor(readonly problems: readonly { source: string; line: number; message: string }[]) {
    super(problems.map((p) => `${p.source}:${p.line}: error: ${p.message}`).join('\n'));
    this.name = 'SignatureListError';
  }
}

/** `function:` or `module:` at the start of a line, then the expression. */
const SCOPE_MARKER = /^(function|module):\s*/;

/**
 * Parses one list. Blank lines and lines whose first non-blank character is `#` are
 * skipped; surrounding whitespace is trimmed (a pattern that needs a leading or trailing
 * space can write `\x20`). A line may start with `function:` or `module:` to say which
 * frames it is for (an expression that itself starts with those words can be written
 * `(?:module:)...`). Every invalid expression is reported, not only the first.
 */
export function parseSignatureList(text: string, source: string): SignatureList {
  const entries: SignatureListEntry[] = [];
  const problems: { source: string; line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const marker = SCOPE_MARKER.exec(trimmed);
    const scope: SignatureEntryScope = marker ? (marker[1] as 'function' | 'module') : 'any';
    const pattern = marker ? trimmed.slice(marker[0].length) : trimmed;
    if (pattern === '') {
      problems.push({ source, line: index + 1, message: `"${marker![1]}:" without an expression` });
      return;
    }
    try {
      // No `u` flag: Socorro's lists escape characters such as `\<` that unicode mode rejects.
      entries.push({ pattern, scope, line: index + 1, regex: new RegExp(`^(?:${pattern})`) });
    } catch (error) {
      problems.push({ source, line: index + 1, message: `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}` });
    }
  });
  if (problems.length > 0) throw new SignatureListError(problems);
  return new SignatureList(source, entries);
}

/** The compiled lists signature generation uses. */
export interface SignatureLists {
  /** The first frame matching one of these starts the signature; frames above it are dropped. */
  readonly sentinel: SignatureList;
  /** Frames matching these are skipped. */
  readonly irrelevant: SignatureList;
  /** Frames matching these are kept and combined with the next frame. */
  readonly prefix: SignatureList;
  /** Functions matching these get their line number appended (`function:42`). */
  readonly lineNumber: SignatureList;
}

/** Text of each list and the name to report it under (defaults to its file name). */
export type SignatureListTexts = Readonly<Record<SignatureListName, string | { text: string; source: string }>>;

/** Compiles the four lists, reporting the invalid lines of all of them at once. */
export function compileSignatureLists(texts: SignatureListTexts): SignatureLists {
  const compiled = new Map<SignatureListName, SignatureList>();
  const problems: { source: string; line: number; message: string }[] = [];
  for (const name of SIGNATURE_LIST_NAMES) {
    const given = texts[name];
    const { text, source } = typeof given === 'string' ? { text: given, source: signatureListFile(name) } : given;
    try {
      compiled.set(name, parseSignatureList(text, source));
    } catch (error) {
      if (!(error instanceof SignatureListError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new SignatureListError(problems);
  return {
    sentinel: compiled.get('sentinel')!,
    irrelevant: compiled.get('irrelevant')!,
    prefix: compiled.get('prefix')!,
    lineNumber: compiled.get('line-number')!,
  };
}

/** Lists with no entries: every frame is relevant and ends the signature. */
export function emptySignatureLists(): SignatureLists {
  return compileSignatureLists({ sentinel: '', irrelevant: '', prefix: '', 'line-number': '' });
}
