import type pg from 'pg';
import type { BugLink, BugLinkStore } from '../ports/bug-links.js';
import { BUG_LINK_TABLES, bySignature, distinct, toBugLink, type BugLinkRow } from './bug-links-rows.js';
import { closePool, openPgPool, type Migration, type PgStoreOptions } from './pg-database.js';

const MIGRATIONS: Migration[] = [{ version: 1, description: 'links between signatures and bugs', sql: BUG_LINK_TABLES('BIGINT') }];

/**
 * Bug links on PostgreSQL, shared by every web node. Ordering uses the C collation, so that
 * the answers list as SQLite's (byte order) whatever the database's locale.
 */
export class PgBugLinks implements BugLinkStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number,
  ) {}

  /** `now` is the clock of `createdAt` (tests pin it). */
  static async open(options: PgStoreOptions & { now?: () => number }): Promise<PgBugLinks> {
    return new PgBugLinks(await openPgPool(options, 'bug_links', MIGRATIONS), options.now ?? Date.now);
  }

  async add(signature: string, bugId: string, createdBy: string | null): Promise<boolean> {
    const result = await this.pool.query(
      'INSERT INTO bug_links (signature, bug_id, created_at, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (signature, bug_id) DO NOTHING',
      [signature, bugId, this.now(), createdBy],
    );
    return result.rowCount === 1;
  }

  async remove(signature: string, bugId: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM bug_links WHERE signature = $1 AND bug_id = $2', [signature, bugId])).rowCount === 1;
  }

  async forSignatures(signatures: readonly string[]): Promise<Map<string, BugLink[]>> {
    if (signatures.length === 0) return new Map();
    const { rows } = await this.pool.query<BugLinkRow>(
      'SELECT * FROM bug_links WHERE signature = ANY($1::text[]) ORDER BY signature COLLATE "C", created_at DESC, bug_id COLLATE "C"',
      [distinct(signatures)],
    );
    return bySignature(rows.map(toBugLink));
  }

  async forBugs(bugIds: readonly string[]): Promise<BugLink[]> {
    if (bugIds.length === 0) return [];
    const { rows } = await this.pool.query<BugLinkRow>('SELECT * FROM bug_links WHERE bug_id = ANY($1::text[]) ORDER BY bug_id COLLATE "C", signature COLLATE "C"', [distinct(bugIds)]);
    return rows.map(toBugLink);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1 FROM bug_links LIMIT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closePool(this.pool);
  }
}
