import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { PgAccountStore } from '../../src/auth/pg-account-store.js';
import { PgTokenStore } from '../../src/auth/pg-token-store.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import type { AccountStore } from '../../src/ports/account-store.js';
import type { TokenStore } from '../../src/ports/token-store.js';
import { dropSchema, freshSchema, pgUrl, withSchema } from './pg-support.js';

/**
 * The token store and the account store on one database, as a node has them (tokens
 * belong to accounts): what the token store and account store contracts run against.
 */
export interface AuthSubject {
  tokens: TokenStore;
  accounts: AccountStore;
  /** The rows of a table as the database holds them (to check what is, and is not, stored). */
  rows(table: 'tokens' | 'sessions' | 'users'): Promise<Record<string, unknown>[]>;
  /** Closes and removes what the subject created. */
  dispose(): Promise<void>;
}

export interface AuthSubjectOptions {
  now?: () => number;
  sessionLifetimeMs?: number;
}

export type OpenAuthSubject = (options?: AuthSubjectOptions) => Promise<AuthSubject>;

export const openSqliteAuth: OpenAuthSubject = async (options = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'mayday-auth-'));
  const file = join(dir, 'mayday.sqlite');
  const accounts = SqliteAccountStore.open(file, options);
  const tokens = SqliteTokenStore.open(file, options);
  return {
    tokens,
    accounts,
    rows: async (table) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    dispose: async () => {
      await tokens.close();
      await accounts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const openPgAuth: OpenAuthSubject = async (options = {}) => {
  const schema = freshSchema();
  const accounts = await PgAccountStore.open({ connectionString: pgUrl, schema, ...options });
  const tokens = await PgTokenStore.open({ connectionString: pgUrl, schema, ...options });
  return {
    tokens,
    accounts,
    rows: (table) => withSchema(schema, async (client) => (await client.query<Record<string, unknown>>(`SELECT * FROM ${table}`)).rows),
    dispose: async () => {
      await tokens.close();
      await accounts.close();
      await dropSchema(schema);
    },
  };
};
