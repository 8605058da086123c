import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { AccountError, SqliteAccountStore } from '../../src/auth/account-store.js';
import { capPermissions } from '../../src/auth/auth-schema.js';
import { SqliteTokenStore, TokenPermissionError } from '../../src/auth/token-store.js';
import { migrate } from '../../src/adapters/sqlite-database.js';
import { AUTH_MIGRATIONS } from '../../src/auth/auth-schema.js';

const dirs: string[] = [];
function dbPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-accounts-'));
  dirs.push(dir);
  return path.join(dir, 'mayday.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const PASSWORD = 'a long enough password';

describe('SqliteAccountStore', () => {
  it('creates users whose permissions are their own and their groups\'', async () => {
    const store = SqliteAccountStore.open(dbPath());
    const alice = await store.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'], permissions: ['upload_symbols'] });
    expect(alice).toMatchObject({ username: 'alice', active: true, hasPassword: true, groups: ['hackers'], ownPermissions: ['upload_symbols'] });
    expect([...alice.permissions].sort()).toEqual(['download_dumps', 'reprocess', 'upload_symbols', 'view_protected']);
    const bob = await store.createUser({ username: 'bob' });
    expect(bob).toMatchObject({ hasPassword: false, groups: [], permissions: [] });
    expect(store.listUsers().map((u) => u.username)).toEqual(['alice', 'bob']);
    expect(store.listGroups().map((g) => g.name)).toEqual(['admins', 'hackers', 'symbol_uploaders']);
    store.close();
  });

  it('refuses taken or invalid names, unknown groups and weak passwords', async () => {
    const store = SqliteAccountStore.open(dbPath());
    await store.createUser({ username: 'alice' });
    await expect(store.createUser({ username: 'alice' })).rejects.toThrow(/already exists/);
    await expect(store.createUser({ username: '../x' })).rejects.toThrow(AccountError);
    await expect(store.createUser({ username: 'carol', groups: ['wizards'] })).rejects.toThrow(/unknown group wizards/);
    await expect(store.createUser({ username: 'carol', password: 'short' })).rejects.toThrow(/at least/);
    expect(store.getUser('carol')).toBeUndefined();
    store.close();
  });

  it('authenticates active users with the right password only', async () => {
    const store = SqliteAccountStore.open(dbPath());
    const alice = await store.createUser({ username: 'alice', password: PASSWORD });
    await store.createUser({ username: 'nopass' });
    expect(await store.authenticate('alice', PASSWORD)).toBe(alice.id);
    expect(await store.authenticate('alice', PASSWORD + '!')).toBeUndefined();
    expect(await store.authenticate('nobody', PASSWORD)).toBeUndefined();
    expect(await store.authenticate('nopass', '')).toBeUndefined();
    store.setActive('alice', false);
    expect(await store.authenticate('alice', PASSWORD)).toBeUndefined();
    store.close();
  });

  it('keeps sessions by hash until logout or expiry, each with its own CSRF token', async () => {
    let now = 1_000_000;
    const file = dbPath();
    const store = SqliteAccountStore.open(file, { now: () => now, sessionLifetimeMs: 60_000 });
    const alice = await store.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'] });
    const one = store.createSession(alice.id);
    const two = store.createSession(alice.id);
    expect(one.expiresAt).toBe(now + 60_000);
    const s1 = await store.verifySession(one.sessionId);
    const s2 = await store.verifySession(two.sessionId);
    expect(s1).toMatchObject({ user: 'alice', userId: alice.id });
    expect(s1!.permissions.has('view_protected')).toBe(true);
    expect(s1!.csrfToken).not.toBe(s2!.csrfToken);
    const raw = new Database(file, { readonly: true });
    expect(JSON.stringify(raw.prepare('SELECT * FROM sessions').all())).not.toContain(one.sessionId);
    raw.close();
    store.deleteSession(one.sessionId);
    expect(await store.verifySession(one.sessionId)).toBeUndefined();
    expect(await store.verifySession('x'.repeat(43))).toBeUndefined();
    now += 60_000;
    expect(await store.verifySession(two.sessionId)).toBeUndefined();
    store.close();
  });

  it('ends every session of a user whose password changes or who is deactivated', async () => {
    const store = SqliteAccountStore.open(dbPath());
    const alice = await store.createUser({ username: 'alice', password: PASSWORD });
    const a = store.createSession(alice.id);
    await store.setPassword('alice', 'another long password');
    expect(await store.verifySession(a.sessionId)).toBeUndefined();
    expect(await store.authenticate('alice', 'another long password')).toBe(alice.id);
    const b = store.createSession(alice.id);
    store.setActive('alice', false);
    expect(await store.verifySession(b.sessionId)).toBeUndefined();
    store.close();
  });

  it('sees group changes at once in live sessions', async () => {
    const store = SqliteAccountStore.open(dbPath());
    const alice = await store.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'] });
    const { sessionId } = store.createSession(alice.id);
    store.setGroups('alice', []);
    expect((await store.verifySession(sessionId))!.permissions.size).toBe(0);
    store.close();
  });
});

describe('tokens never exceed their user', () => {
  it('refuses a self-made token with permissions its user lacks; an administrator\'s grants them', async () => {
    const file = dbPath();
    const accounts = SqliteAccountStore.open(file);
    const tokens = SqliteTokenStore.open(file);
    await accounts.createUser({ username: 'alice', groups: ['symbol_uploaders'] });
    expect(() => tokens.create({ user: 'alice', permissions: ['upload_symbols', 'view_protected'], onlyWithinUser: true })).toThrow(TokenPermissionError);
    expect(tokens.list({ user: 'alice' })).toHaveLength(0);
    tokens.create({ user: 'alice', permissions: ['upload_symbols'], onlyWithinUser: true });
    expect(accounts.getUser('alice')!.ownPermissions).toEqual([]);
    tokens.create({ user: 'alice', permissions: ['view_protected'] });
    expect(accounts.getUser('alice')!.ownPermissions).toEqual(['view_protected']);
    accounts.close();
    tokens.close();
  });

  it('caps a token by its user\'s permissions of the moment', async () => {
    const file = dbPath();
    const accounts = SqliteAccountStore.open(file);
    const tokens = SqliteTokenStore.open(file);
    await accounts.createUser({ username: 'alice', groups: ['hackers'] });
    const { token } = tokens.create({ user: 'alice', permissions: ['view_protected', 'reprocess'] });
    expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['reprocess', 'view_protected']);
    accounts.setGroups('alice', []);
    expect([...(await tokens.verify(token))!.permissions]).toEqual([]);
    accounts.setGroups('alice', ['admins']);
    expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['reprocess', 'view_protected']);
    accounts.close();
    tokens.close();
  });

  it('drops admin from a token whose user is no admin', () => {
    expect([...capPermissions(['admin', 'reprocess'], new Set(['reprocess']))]).toEqual(['reprocess']);
    expect([...capPermissions(['admin'], new Set(['admin']))]).toEqual(['admin']);
  });

  it('lets the tokens of users made before accounts keep what they could do', async () => {
    const file = dbPath();
    const db = new Database(file);
    migrate(db, 'auth', AUTH_MIGRATIONS.filter((m) => m.version === 1));
    db.prepare("INSERT INTO users (id, username, created_at) VALUES (1, 'ci', 0)").run();
    db.prepare("INSERT INTO tokens (user_id, token_hash, prefix, permissions, created_at) VALUES (1, 'h1', 'p', 'upload_symbols', 0), (1, 'h2', 'p', 'reprocess', 0)").run();
    db.prepare("INSERT INTO tokens (user_id, token_hash, prefix, permissions, created_at, revoked_at) VALUES (1, 'h3', 'p', 'admin', 0, 1)").run();
    db.close();
    const accounts = SqliteAccountStore.open(file);
    expect([...accounts.getUser('ci')!.permissions].sort()).toEqual(['reprocess', 'upload_symbols']);
    accounts.close();
  });
});
