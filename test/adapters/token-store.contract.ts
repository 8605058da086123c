import { afterEach, describe, expect, it } from 'vitest';
import { hashToken, looksLikeToken } from '../../src/auth/tokens.js';
import { TokenPermissionError } from '../../src/ports/token-store.js';
import type { AuthSubject, AuthSubjectOptions, OpenAuthSubject } from './auth-subjects.js';

/**
 * The token store contract: every adapter (SQLite, PostgreSQL) must pass exactly these
 * tests, so that an API token means the same whichever database holds it. The token
 * store shares its database with the account store (tokens belong to accounts).
 */
export function tokenStoreContract(name: string, open: OpenAuthSubject, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`token store contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const subjects: AuthSubject[] = [];
    const subject = async (options?: AuthSubjectOptions): Promise<AuthSubject> => {
      const s = await open(options);
      subjects.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of subjects.splice(0)) await s.dispose();
    });

    it('creates a random token, stores only its hash, and verifies it', async () => {
      const { tokens, rows } = await subject({ now: () => 1_000_000 });
      const { token, info } = await tokens.create({ user: 'ci', permissions: ['upload_symbols', 'reprocess'], description: 'CI' });
      // The user made for the first token holds its permissions; a second within them is fine.
      const other = (await tokens.create({ user: 'ci', permissions: ['reprocess'] })).token;
      expect(looksLikeToken(token)).toBe(true);
      expect(token).not.toBe(other);
      expect(info).toEqual({
        id: info.id,
        user: 'ci',
        prefix: token.slice(0, 12),
        description: 'CI',
        permissions: ['upload_symbols', 'reprocess'],
        createdAt: 1_000_000,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
      });
      const principal = await tokens.verify(token);
      expect(principal).toEqual({ tokenId: info.id, user: 'ci', permissions: new Set(['upload_symbols', 'reprocess']) });
      const dump = JSON.stringify(await rows('tokens'));
      expect(dump).not.toContain(token);
      expect(dump).toContain(hashToken(token));
    });

    it('refuses unknown, malformed, expired and revoked tokens', async () => {
      let now = 1_000_000;
      const { tokens } = await subject({ now: () => now });
      const expiring = await tokens.create({ user: 'a', permissions: ['admin'], expiresInMs: 1000 });
      const revoked = await tokens.create({ user: 'a', permissions: ['admin'] });
      expect(expiring.info.expiresAt).toBe(1_001_000);
      expect(await tokens.verify(expiring.token)).toBeDefined();
      expect(await tokens.revoke(revoked.info.id)).toBe(true);
      expect(await tokens.revoke(revoked.info.id)).toBe(false);
      expect((await tokens.get(revoked.info.id))!.revokedAt).toBe(1_000_000);
      expect(await tokens.verify(revoked.token)).toBeUndefined();
      now += 999;
      expect(await tokens.verify(expiring.token)).toBeDefined();
      now += 1;
      expect(await tokens.verify(expiring.token)).toBeUndefined();
      expect(await tokens.verify('mdy_' + 'x'.repeat(43))).toBeUndefined();
      expect(await tokens.verify(expiring.token.slice(0, -1) + (expiring.token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
      expect(await tokens.verify('not a token')).toBeUndefined();
      expect(await tokens.verify('')).toBeUndefined();
    });

    it('answers unknown or impossible ids as "no such token"', async () => {
      const { tokens } = await subject();
      const { info } = await tokens.create({ user: 'a', permissions: ['reprocess'] });
      for (const id of [info.id + 1000, -1, 0, 1.5, Number.NaN, 2 ** 64]) {
        expect(await tokens.get(id)).toBeUndefined();
        expect(await tokens.revoke(id)).toBe(false);
      }
      expect(await tokens.list({ user: 'nobody' })).toEqual([]);
      expect(await tokens.list({ user: 'bad\u0000name' })).toEqual([]);
    });

    it('records when a token was last used, at most once a minute', async () => {
      let now = 5_000_000;
      const { tokens } = await subject({ now: () => now });
      const { token, info } = await tokens.create({ user: 'a', permissions: ['reprocess'] });
      expect((await tokens.get(info.id))!.lastUsedAt).toBeNull();
      await tokens.verify(token);
      expect((await tokens.get(info.id))!.lastUsedAt).toBe(5_000_000);
      now += 30_000;
      await tokens.verify(token);
      expect((await tokens.get(info.id))!.lastUsedAt).toBe(5_000_000);
      now += 30_000;
      await tokens.verify(token);
      expect((await tokens.get(info.id))!.lastUsedAt).toBe(5_060_000);
    });

    it('keeps tokens per user, newest first', async () => {
      const { tokens } = await subject();
      await tokens.create({ user: 'alice', permissions: ['view_protected'] });
      await tokens.create({ user: 'bob', permissions: ['upload_symbols'] });
      await tokens.create({ user: 'alice', permissions: ['reprocess'] });
      expect((await tokens.list({ user: 'alice' })).map((t) => t.permissions[0])).toEqual(['reprocess', 'view_protected']);
      expect((await tokens.list()).map((t) => t.user)).toEqual(['alice', 'bob', 'alice']);
      const ids = (await tokens.list()).map((t) => t.id);
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    });

    it('refuses invalid user names, permission lists and lifetimes', async () => {
      const { tokens } = await subject();
      await expect(tokens.create({ user: '../x', permissions: ['admin'] })).rejects.toThrow(/user name/);
      await expect(tokens.create({ user: 'a\u0000b', permissions: ['admin'] })).rejects.toThrow(/user name/);
      await expect(tokens.create({ user: 'a', permissions: [] })).rejects.toThrow(/no permissions/);
      // A permission this version does not know (from an older or newer caller).
      await expect(tokens.create({ user: 'a', permissions: ['root' as 'admin'] })).rejects.toThrow(/unknown permission root/);
      await expect(tokens.create({ user: 'a', permissions: ['admin'], expiresInMs: 1e300 })).rejects.toThrow(/out of range/);
      await expect(tokens.create({ user: 'a', permissions: ['admin'], expiresInMs: 0 })).rejects.toThrow(/out of range/);
      expect(await tokens.list()).toEqual([]);
    });

    it('stores times as whole ms and descriptions without NULs', async () => {
      const { tokens } = await subject({ now: () => 1_000 });
      const { info } = await tokens.create({ user: 'a', permissions: ['reprocess'], expiresInMs: 0.0864, description: 'a\u0000b' });
      expect(info).toMatchObject({ expiresAt: 1_000, description: 'ab' });
      expect(await tokens.get(info.id)).toEqual(info);
    });

    it('stops the tokens of a deactivated user, and starts them again on reactivation', async () => {
      const { tokens, accounts } = await subject();
      const { token } = await tokens.create({ user: 'ci', permissions: ['upload_symbols'] });
      await accounts.setActive('ci', false);
      expect(await tokens.verify(token)).toBeUndefined();
      await accounts.setActive('ci', true);
      expect((await tokens.verify(token))?.user).toBe('ci');
    });

    it('refuses a self-made token with permissions its user lacks; an administrator\'s grants them', async () => {
      const { tokens, accounts } = await subject();
      await accounts.createUser({ username: 'alice', groups: ['symbol_uploaders'] });
      const refused = tokens.create({ user: 'alice', permissions: ['upload_symbols', 'view_protected'], onlyWithinUser: true });
      await expect(refused).rejects.toThrow(TokenPermissionError);
      await expect(refused).rejects.toMatchObject({ user: 'alice', missing: ['view_protected'] });
      expect(await tokens.list({ user: 'alice' })).toHaveLength(0);
      await tokens.create({ user: 'alice', permissions: ['upload_symbols'], onlyWithinUser: true });
      expect((await accounts.getUser('alice'))!.ownPermissions).toEqual([]);
      await tokens.create({ user: 'alice', permissions: ['view_protected', 'reprocess'] });
      expect((await accounts.getUser('alice'))!.ownPermissions).toEqual(['view_protected', 'reprocess']);
      await tokens.create({ user: 'alice', permissions: ['download_dumps'] });
      expect((await accounts.getUser('alice'))!.ownPermissions).toEqual(['view_protected', 'reprocess', 'download_dumps']);
      // An admin lacks nothing.
      await accounts.createUser({ username: 'root', permissions: ['admin'] });
      await tokens.create({ user: 'root', permissions: ['reprocess'], onlyWithinUser: true });
      expect((await accounts.getUser('root'))!.ownPermissions).toEqual(['admin']);
    });

    it('makes the user of a first token, holding its permissions', async () => {
      const { tokens, accounts } = await subject({ now: () => 7_000 });
      await tokens.create({ user: 'ci', permissions: ['upload_symbols', 'reprocess'], onlyWithinUser: true });
      expect(await accounts.getUser('ci')).toEqual({
        id: expect.any(Number),
        username: 'ci',
        active: true,
        hasPassword: false,
        groups: [],
        ownPermissions: ['upload_symbols', 'reprocess'],
        permissions: ['upload_symbols', 'reprocess'],
        createdAt: 7_000,
        oidcSubject: null,
        lastLoginAt: null,
      });
    });

    it('caps a token by its user\'s permissions of the moment, admin included', async () => {
      const { tokens, accounts } = await subject();
      await accounts.createUser({ username: 'bob', groups: ['admins'] });
      const { token } = await tokens.create({ user: 'bob', permissions: ['admin', 'reprocess', 'upload_symbols'], onlyWithinUser: true });
      expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['admin', 'reprocess', 'upload_symbols']);
      await accounts.setGroups('bob', ['hackers']);
      expect([...(await tokens.verify(token))!.permissions]).toEqual(['reprocess']);
      await accounts.setGroups('bob', ['hackers', 'symbol_uploaders']);
      expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['reprocess', 'upload_symbols']);
    });

    it('takes a group\'s power from its members\' tokens at once', async () => {
      const { tokens, accounts } = await subject();
      await accounts.createUser({ username: 'alice', groups: ['hackers'] });
      const { token } = await tokens.create({ user: 'alice', permissions: ['view_protected', 'reprocess'], onlyWithinUser: true });
      expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['reprocess', 'view_protected']);
      await accounts.setGroups('alice', []);
      expect([...(await tokens.verify(token))!.permissions]).toEqual([]);
      await accounts.setGroups('alice', ['admins']);
      expect([...(await tokens.verify(token))!.permissions].sort()).toEqual(['reprocess', 'view_protected']);
    });

    it('creates tokens of one new user at once without losing any', async () => {
      const { tokens, accounts } = await subject();
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => tokens.create({ user: 'fleet', permissions: [i % 2 ? 'reprocess' : 'upload_symbols'] })));
      expect(new Set(made.map((m) => m.info.id)).size).toBe(8);
      expect(await tokens.list({ user: 'fleet' })).toHaveLength(8);
      expect([...(await accounts.getUser('fleet'))!.ownPermissions].sort()).toEqual(['reprocess', 'upload_symbols']);
      for (const m of made) expect((await tokens.verify(m.token))?.permissions.size).toBe(1);
    });

    it('answers its health check, and closing twice is harmless', async () => {
      const { tokens } = await subject();
      await tokens.check();
      await tokens.close();
      await tokens.close();
    });
  });
}
