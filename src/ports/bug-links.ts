/**
 * Links between crash signatures and bugs in the team's tracker (GitHub, GitLab, Jira,
 * Bugzilla: the tracker is only a URL template, `web.bug_url_template`). Socorro keeps the
 * same association (`BugAssociation`) and serves it through its `Bugs` and
 * `SignaturesByBugs` APIs.
 *
 * A bug id is the tracker's own: `1234`, `PROJ-123`, `group/project#12`; it is stored as
 * given (trimmed), and one signature may link many bugs and one bug many signatures.
 */
export interface BugLink {
  signature: string;
  bugId: string;
  /** ms since epoch. */
  createdAt: number;
  /** The user who linked it, or null (a token without a user, the CLI). */
  createdBy: string | null;
}

/** What a bug id may look like: a tracker's key, number or path, never markup or spaces. */
export const BUG_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/#:-]{0,99}$/;

export interface BugLinkStore {
  /** Links a bug to a signature; false when the link already existed (nothing changes). */
  add(signature: string, bugId: string, createdBy: string | null): Promise<boolean>;
  /** Removes a link; false when there was none. */
  remove(signature: string, bugId: string): Promise<boolean>;
  /** The links of each of these signatures, newest first; signatures without links are absent from the map. */
  forSignatures(signatures: readonly string[]): Promise<Map<string, BugLink[]>>;
  /** Every link of these bugs, by bug id then signature. */
  forBugs(bugIds: readonly string[]): Promise<BugLink[]>;
  check(): Promise<void>;
  close(): Promise<void>;
}
