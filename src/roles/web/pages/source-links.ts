/**
 * Links from a frame's `file:line` into version control, as Socorro makes them.
 *
 * Two sources of repository information:
 * - the symbol file itself: Mozilla's `symbolstore.py` writes `FILE` records as
 *   `hg:HOST/REPO:PATH:REVISION` or `git:HOST/REPO:PATH:REVISION`;
 * - the operator's rules (`[source_links.rules.NAME]`): a build path prefix, a URL template
 *   with `{path}`, `{line}` and `{revision}`, and the annotation that holds the build's
 *   revision (no revision in the crash: no link, since a link at another revision would
 *   show the wrong lines).
 *
 * File names come from uploaded symbol files and revisions from crash reports: every part
 * put into a URL is percent-encoded, repository hosts and revisions are checked against
 * strict patterns, and only https links are made.
 */

export interface SourceLinkRule {
  /** The absolute build path the rule covers, e.g. `/builds/worker/checkouts/gecko/`. */
  readonly prefix: string;
  /** e.g. `https://github.com/org/repo/blob/{revision}/{path}#L{line}`. */
  readonly url: string;
  /** The annotation holding the revision the crashing build was made from, e.g. `SourceRevision`. */
  readonly revisionAnnotation: string;
}

export interface SourceLocation {
  /** What to show: the path inside the repository when known, else the file name as recorded. */
  readonly display: string;
  readonly href?: string;
}

const HOST_REPO = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?)\/([A-Za-z0-9._~/-]+)$/;
const REVISION = /^[0-9A-Fa-f]{6,64}$/;

/** Each path segment percent-encoded, the slashes kept. */
function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** `hg:` / `git:` FILE records: the repository, the path in it and the revision, or undefined. */
export function parseVcsFile(file: string): { kind: 'hg' | 'git'; host: string; repo: string; path: string; revision: string } | undefined {
  const match = /^(hg|git):(.+)$/.exec(file);
  if (!match) return undefined;
  const rest = match[2]!;
  const firstColon = rest.search(/:(?!\d{1,5}\/)/); // a `host:port/` colon belongs to the host
  const lastColon = rest.lastIndexOf(':');
  if (firstColon < 0 || lastColon <= firstColon) return undefined;
  const hostRepo = HOST_REPO.exec(rest.slice(0, firstColon));
  const path = rest.slice(firstColon + 1, lastColon).replace(/^\/+/, '');
  const revision = rest.slice(lastColon + 1);
  if (!hostRepo || path === '' || path.split('/').includes('..') || !REVISION.test(revision)) return undefined;
  const repo = hostRepo[2]!.replace(/\/+$/, '').replace(/\.git$/, '');
  if (repo.split('/').includes('..')) return undefined;
  return { kind: match[1] as 'hg' | 'git', host: hostRepo[1]!, repo, path, revision };
}

/** The web URL of a file at a revision on the usual hosts' layouts. */
function vcsUrl(parsed: NonNullable<ReturnType<typeof parseVcsFile>>, line: number | undefined): string {
  const { host, repo, path, revision } = parsed;
  const base = `https://${host}/${encodePath(repo)}`;
  const file = encodePath(path);
  if (parsed.kind === 'hg') return `${base}/file/${revision}/${file}${line ? `#l${line}` : ''}`;
  if (/(^|\.)gitlab\./.test(host)) return `${base}/-/blob/${revision}/${file}${line ? `#L${line}` : ''}`;
  if (/\.googlesource\.com$/.test(host)) return `${base}/+/${revision}/${file}${line ? `#${line}` : ''}`;
  // GitHub's layout, which Gitea, Forgejo and most others share.
  return `${base}/blob/${revision}/${file}${line ? `#L${line}` : ''}`;
}

/** `C:\build\src\a.cc` and `/build/src/a.cc` compare alike. */
const slashes = (path: string): string => path.replaceAll('\\', '/');

/**
 * The link of a frame's source file and line: from the FILE record's repository
 * information, else from the first rule whose prefix the path starts with and whose
 * revision annotation the crash carries. `annotations` are the crash's annotations the
 * viewer may see.
 */
export function sourceLocation(
  file: string,
  line: number | null | undefined,
  rules: readonly SourceLinkRule[],
  annotations: Readonly<Record<string, string>>,
): SourceLocation {
  const lineNumber = typeof line === 'number' && Number.isInteger(line) && line > 0 ? line : undefined;
  const suffix = lineNumber ? `:${lineNumber}` : '';
  const vcs = parseVcsFile(file);
  if (vcs) return { display: `${vcs.path}${suffix}`, href: vcsUrl(vcs, lineNumber) };
  const path = slashes(file);
  for (const rule of rules) {
    const prefix = slashes(rule.prefix);
    if (prefix === '' || !path.startsWith(prefix)) continue;
    const relative = path.slice(prefix.length).replace(/^\/+/, '');
    const revision = annotationValue(annotations, rule.revisionAnnotation);
    if (relative === '' || relative.split('/').includes('..') || revision === undefined) return { display: `${file}${suffix}` };
    const href = rule.url
      .replaceAll('{path}', encodePath(relative))
      .replaceAll('{line}', lineNumber ? String(lineNumber) : '')
      .replaceAll('{revision}', encodeURIComponent(revision));
    return { display: `${relative}${suffix}`, href: /^https?:\/\//i.test(href) ? href : undefined };
  }
  return { display: `${file}${suffix}` };
}

/** An annotation's value by name, case-insensitively (clients vary in case), if not empty. */
function annotationValue(annotations: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(annotations)) if (key.toLowerCase() === wanted && value.trim() !== '') return value.trim();
  return undefined;
}

/** The rules of `[source_links.rules.NAME]` sections (validated by the config loader); structural, so the web role does not import the config. */
export function sourceLinkRulesFromConfig(rules: ReadonlyArray<{ fields: Record<string, unknown> }>): SourceLinkRule[] {
  return rules.map(({ fields }) => ({ prefix: String(fields.prefix), url: String(fields.url), revisionAnnotation: String(fields.revision_annotation) }));
}
