import type { BugLink } from '../ports/bug-links.js';

/**
 * The bug links' table, as SQLite and PostgreSQL both hold it. One row per (signature, bug);
 * the primary key answers "the bugs of these signatures", the second index "the signatures
 * of these bugs" (Socorro's `SignaturesByBugs`).
 */
export const BUG_LINK_TABLES = (integer: 'INTEGER' | 'BIGINT'): string => `
  CREATE TABLE bug_links (
    signature TEXT NOT NULL,
    bug_id TEXT NOT NULL,
    created_at ${integer} NOT NULL,
    created_by TEXT,
    PRIMARY KEY (signature, bug_id)
  );
  CREATE INDEX bug_links_by_bug ON bug_links (bug_id, signature);
`;

export interface BugLinkRow {
  signature: string;
  bug_id: string;
  created_at: number | string;
  created_by: string | null;
}

export function toBugLink(row: BugLinkRow): BugLink {
  // PostgreSQL hands BIGINT back as a string (it may exceed 2^53; ms timestamps do not).
  return { signature: row.signature, bugId: row.bug_id, createdAt: Number(row.created_at), createdBy: row.created_by };
}

/** Newest first, then by bug id, so that two links made in one millisecond still list the same way every time. */
export const NEWEST_FIRST = 'created_at DESC, bug_id';

/** Groups rows (already in order) by signature. */
export function bySignature(links: readonly BugLink[]): Map<string, BugLink[]> {
  const map = new Map<string, BugLink[]>();
  for (const link of links) {
    const list = map.get(link.signature);
    if (list) list.push(link);
    else map.set(link.signature, [link]);
  }
  return map;
}

/** Distinct values, so that a repeated signature or bug id costs one lookup. */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
