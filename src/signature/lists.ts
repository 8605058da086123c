/**
 * Signature lists: plain text files of regular expressions, one per line, that steer
 * which frames make a signature (see `docs/signatures.md`). This module parses their
 * text; reading the files is the caller's business (the signature code does no I/O).
 *
 * Matching follows Socorro, whose lists operators may already know: an entry matches a
 * normalised frame when the expression matches at the *start* of the frame (Python's
 * `re.match`), so `std::__` matches every frame in `std::__*` and `abort$` only `abort`.
 */

/** The four lists, by the role they play in signature generation. */
export type SignatureListName = 'sentinel' | 'irrelevant' | 'prefix' | 'line-number';

export const SIGNATURE_LIST_NAMES: readonly SignatureListName[] = ['sentinel', 'irrelevant', 'prefix', 'line-number'];

/** The file each list is read from, in the lists directory. */
export function signatureListFile(name: SignatureListName): string {
  return `${name}.txt`;
}

export interface SignatureListEntry {
  /** The expression as written in the file. */
  readonly pattern: string;
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

  /** The first entry matching at the start of `frame`, if any. */
  match(frame: string): SignatureListEntry | undefined {
    return this.entries.find((entry) => entry.regex.test(frame));
  }

  /** `irrelevant.txt:12 /abort$/`: where an entry lives, for `signature_debug`. */
  describe(entry: SignatureListEntry): string {
    return `${this.source}:${entry.line} /${entry.pattern}/`;
  }
}

/** Invalid list lines; the message lists each as `file:line: error: reason`. */
export class SignatureListError extends Error {
  constructor(readonly problems: readonly { source: string; line: number; message: string }[]) {
    super(problems.map((p) => `${p.source}:${p.line}: error: ${p.message}`).join('\n'));
    this.name = 'SignatureListError';
  }
}

/**
 * Parses one list. Blank lines and lines whose first non-blank character is `#` are
 * skipped; surrounding whitespace is trimmed (a pattern that needs a leading or trailing
 * space can write `\x20`). Every invalid expression is reported, not only the first.
 */
export function parseSignatureList(text: string, source: string): SignatureList {
  const entries: SignatureListEntry[] = [];
  const problems: { source: string; line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#')) return;
    try {
      // No `u` flag: Socorro's lists escape characters such as `\<` that unicode mode rejects.
      entries.push({ pattern, line: index + 1, regex: new RegExp(`^(?:${pattern})`) });
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
