import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { redactTokenInUrl } from '../../src/auth/request-auth.js';
import { SqliteTokenStore, parsePermissions } from '../../src/auth/token-store.js';
import { hashToken, looksLikeToken } from '../../src/auth/tokens.js';

const dirs: string[] = [];
function dbPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mayday-auth-'));
  dirs.push(dir);
  return path.join(dir, 'mayday.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteTokenStore', () => {
  it('creates a random token, stores only its hash, and verifies it', async () => {
    const file = dbPath();
    const store = SqliteTokenStore.open(file);
    const { token, info } = store.create({ user: 'ci', permissions: ['upload_symbols', 'reprocess'], description: 'CI' });
    // The user made for the first token holds its permissions; a second within them is fine.
    const other = store.create({ user: 'ci', permissions: ['reprocess'] }).token;
    expect(looksLikeToken(token)).toBe(true);
    expect(token).not.toBe(other);
    expect(info).toMatchObject({ user: 'ci', permissions: ['upload_symbols', 'reprocess'], prefix: token.slice(0, 12), description: 'CI', expiresAt: null });
    const principal = await store.verify(token);
    expect(principal?.user).toBe('ci');
    expect([...principal!.permissions]).toEqual(['upload_symbols', 'reprocess']);
    store.close();
    const raw = new Database(file, { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM tokens').all());
    raw.close();
    expect(dump).not.toContain(token);
    expect(dump).toContain(hashToken(token));
  });

  it('refuses unknown, malformed, expired and revoked tokens', async () => {
    let now = 1_000_000;
    const store = SqliteTokenStore.open(dbPath(), { now: () => now });
    const expiring = store.create({ user: 'a', permissions: ['admin'], expiresInMs: 1000 });
    const revoked = store.create({ user: 'a', permissions: ['admin'] });
    expect(await store.verify(expiring.token)).toBeDefined();
    expect(store.revoke(revoked.info.id)).toBe(true);
    expect(store.revoke(revoked.info.id)).toBe(false);
    expect(await store.verify(revoked.token)).toBeUndefined();
    now += 1000;
    expect(await store.verify(expiring.token)).toBeUndefined();
    expect(await store.verify('mdy_' + 'x'.repeat(43))).toBeUndefined();
    expect(await store.verify('not a token')).toBeUndefined();
    store.close();
  });

  it('records when a token was last used, at most once a minute', async () => {
    let now = 5_000_000;
    const store = SqliteTokenStore.open(dbPath(), { now: () => now });
    const { token, info } = store.create({ user: 'a', permissions: ['reprocess'] });
    expect(store.get(info.id)!.lastUsedAt).toBeNull();
    await store.verify(token);
    expect(store.get(info.id)!.lastUsedAt).toBe(5_000_000);
    now += 30_000;
    await store.verify(token);
    expect(store.get(info.id)!.lastUsedAt).toBe(5_000_000);
    now += 30_000;
    await store.verify(token);
    expect(store.get(info.id)!.lastUsedAt).toBe(5_060_000);
    store.close();
  });

  it('keeps tokens per user, in a users table a later login can build on', () => {
    const store = SqliteTokenStore.open(dbPath());
    store.create({ user: 'alice', permissions: ['view_protected'] });
    store.create({ user: 'bob', permissions: ['upload_symbols'] });
    store.create({ user: 'alice', permissions: ['reprocess'] });
    expect(store.list({ user: 'alice' }).map((t) => t.permissions[0])).toEqual(['reprocess', 'view_protected']);
    expect(store.list()).toHaveLength(3);
    expect(() => store.create({ user: '../x', permissions: ['admin'] })).toThrow(/user name/);
    store.close();
  });

  it('parses permission lists and names unknown ones', () => {
    expect(parsePermissions('upload_symbols, reprocess,upload_symbols')).toEqual(['upload_symbols', 'reprocess']);
    expect(() => parsePermissions('upload_symbols,root')).toThrow(/unknown permission root/);
    expect(() => parsePermissions('')).toThrow(/no permissions/);
  });
});

describe('redactTokenInUrl', () => {
  it('blanks every token parameter and nothing else', () => {
    expect(redactTokenInUrl('/symbols/upload?token=mdy_abc')).toBe('/symbols/upload?token=REDACTED');
    expect(redactTokenInUrl('/x?a=1&token=s&b=2&TOKEN=t')).toBe('/x?a=1&token=REDACTED&b=2&TOKEN=REDACTED');
    expect(redactTokenInUrl('/x?tokens=1')).toBe('/x?tokens=1');
    expect(redactTokenInUrl('/x')).toBe('/x');
  });
});
