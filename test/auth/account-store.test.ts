import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { AUTH_MIGRATIONS, capPermissions } from '../../src/auth/auth-schema.js';
import { SqliteTokenStore } from '../../src/auth/token-store.js';
import { migrate } from '../../src/adapters/sqlite-database.js';

// The account stores themselves (SQLite and PostgreSQL) are tested by
// test/adapters/account-store.contract.ts; here, what is SQLite's own and the pure parts.

const dirs: string[] = [];
function dbPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-accounts-'));
  dirs.push(dir);
  return path.join(dir, 'mayday.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('tokens never exceed their user', () => {
  it('drops admin from a token whose user is no admin', () => {
    expect([...capPermissions(['admin', 'reprocess'], new Set(['reprocess']))]).toEqual(['reprocess']);
    expect([...capPermissions(['admin'], new Set(['admin']))]).toEqual(['admin']);
  });

  it('lets the tokens of users made before accounts keep what they could do (SQLite migration 2)', async () => {
    const file = dbPath();
    const db = new Database(file);
    migrate(db, 'auth', AUTH_MIGRATIONS.filter((m) => m.version === 1));
    db.prepare("INSERT INTO users (id, username, created_at) VALUES (1, 'ci', 0)").run();
    db.prepare("INSERT INTO tokens (user_id, token_hash, prefix, permissions, created_at) VALUES (1, 'h1', 'p', 'upload_symbols', 0), (1, 'h2', 'p', 'reprocess', 0)").run();
    db.prepare("INSERT INTO tokens (user_id, token_hash, prefix, permissions, created_at, revoked_at) VALUES (1, 'h3', 'p', 'admin', 0, 1)").run();
    db.close();
    const accounts = SqliteAccountStore.open(file);
    expect([...(await accounts.getUser('ci'))!.permissions].sort()).toEqual(['reprocess', 'upload_symbols']);
    await accounts.close();
  });

  it('gives the hackers group of an older database link_bugs, unless an operator changed the group (SQLite migration 3)', async () => {
    for (const [before, after] of [
      ['view_protected,download_dumps,reprocess', ['view_protected', 'download_dumps', 'reprocess', 'link_bugs']],
      ['view_protected', ['view_protected']],
    ] as const) {
      const file = dbPath();
      const db = new Database(file);
      migrate(db, 'auth', AUTH_MIGRATIONS.filter((m) => m.version <= 2));
      // As version 2 made it before triage existed, or as an operator narrowed it.
      db.prepare("UPDATE groups SET permissions = ? WHERE name = 'hackers'").run(before);
      db.close();
      const accounts = SqliteAccountStore.open(file);
      expect((await accounts.listGroups()).find((g) => g.name === 'hackers')?.permissions).toEqual(after);
      await accounts.close();
    }
  });

  it('shares one database file between the token and account stores', async () => {
    const file = dbPath();
    const tokens = SqliteTokenStore.open(file);
    const accounts = SqliteAccountStore.open(file);
    await tokens.create({ user: 'ci', permissions: ['reprocess'] });
    expect((await accounts.getUser('ci'))?.ownPermissions).toEqual(['reprocess']);
    await tokens.close();
    await accounts.close();
  });
});
