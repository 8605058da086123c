import type Database from 'better-sqlite3';
import type { BugLink, BugLinkStore } from '../ports/bug-links.js';
import { BUG_LINK_TABLES, NEWEST_FIRST, bySignature, distinct, toBugLink, type BugLinkRow } from './bug-links-rows.js';
import { openSqlite, type Migration } from './sqlite-database.js';

const MIGRATIONS: Migration[] = [{ version: 1, description: 'links between signatures and bugs', sql: BUG_LINK_TABLES('INTEGER') }];

/** SQLite binds at most 32766 parameters a statement; lookups go in slices well below it. */
const SLICE = 500;

/** Bug links in the embedded database (in the node's database file, beside the crash index). */
export class SqliteBugLinks implements BugLinkStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  /** `now` is the clock of `createdAt` (tests pin it). */
  static open(path: string, options: { now?: () => number } = {}): SqliteBugLinks {
    return new SqliteBugLinks(openSqlite(path, 'bug_links', MIGRATIONS), options.now ?? Date.now);
  }

  async add(signature: string, bugId: string, createdBy: string | null): Promise<boolean> {
    const result = this.db
      .prepare('INSERT INTO bug_links (signature, bug_id, created_at, created_by) VALUES (?, ?, ?, ?) ON CONFLICT (signature, bug_id) DO NOTHING')
      .run(signature, bugId, this.now(), createdBy);
    return result.changes === 1;
  }

  async remove(signature: string, bugId: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM bug_links WHERE signature = ? AND bug_id = ?').run(signature, bugId).changes === 1;
  }

  async forSignatures(signatures: readonly string[]): Promise<Map<string, BugLink[]>> {
    const rows = this.inSlices(distinct(signatures), (slice) =>
      this.db.prepare(`SELECT * FROM bug_links WHERE signature IN (${slice.map(() => '?').join(', ')}) ORDER BY signature, ${NEWEST_FIRST}`).all(...slice) as BugLinkRow[],
    );
    return bySignature(rows.map(toBugLink));
  }

  async forBugs(bugIds: readonly string[]): Promise<BugLink[]> {
    const rows = this.inSlices(distinct(bugIds), (slice) =>
      this.db.prepare(`SELECT * FROM bug_links WHERE bug_id IN (${slice.map(() => '?').join(', ')})`).all(...slice) as BugLinkRow[],
    );
    // Slices each come back sorted; the whole answer is sorted once here.
    return rows.map(toBugLink).sort((a, b) => compare(a.bugId, b.bugId) || compare(a.signature, b.signature));
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1 FROM bug_links LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private inSlices(values: readonly string[], query: (slice: string[]) => BugLinkRow[]): BugLinkRow[] {
    const rows: BugLinkRow[] = [];
    for (let i = 0; i < values.length; i += SLICE) rows.push(...query(values.slice(i, i + SLICE)));
    return rows;
  }
}

/** Code-unit order, as both databases sort TEXT under the C collation (SQLite's BINARY; PostgreSQL `COLLATE "C"`). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
