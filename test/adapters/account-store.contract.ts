import { afterEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/tokens.js';
import { AccountError } from '../../src/ports/account-store.js';
import type { AuthSubject, AuthSubjectOptions, OpenAuthSubject } from './auth-subjects.js';

/**
 * The account store contract: every adapter (SQLite, PostgreSQL) must pass exactly these
 * tests, so that users, groups, passwords and sessions mean the same whichever database
 * holds them.
 */

const PASSWORD = 'a long enough password';

export function accountStoreContract(name: string, open: OpenAuthSubject, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`account store contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const subjects: AuthSubject[] = [];
    const subject = async (options?: AuthSubjectOptions): Promise<AuthSubject> => {
      const s = await open(options);
      subjects.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of subjects.splice(0)) await s.dispose();
    });

    it('creates users whose permissions are their own and their groups\'', async () => {
      const { accounts } = await subject({ now: () => 3_000 });
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD, groups: ['symbol_uploaders', 'hackers', 'hackers'], permissions: ['upload_symbols', 'admin', 'admin'] });
      expect(alice).toEqual({
        id: alice.id,
        username: 'alice',
        active: true,
        hasPassword: true,
        groups: ['hackers', 'symbol_uploaders'],
        ownPermissions: ['upload_symbols', 'admin'],
        permissions: ['upload_symbols', 'admin', 'view_protected', 'download_dumps', 'reprocess', 'link_bugs'],
        createdAt: 3_000,
        oidcSubject: null,
        lastLoginAt: null,
      });
      const bob = await accounts.createUser({ username: 'bob' });
      expect(bob).toMatchObject({ hasPassword: false, groups: [], ownPermissions: [], permissions: [] });
      expect(bob.id).not.toBe(alice.id);
      expect(await accounts.getUser('alice')).toEqual(alice);
      expect(await accounts.getUser('nobody')).toBeUndefined();
      expect(await accounts.getUser('bad\u0000name')).toBeUndefined();
    });

    it('lists users and groups by name, in byte order', async () => {
      const { accounts } = await subject();
      for (const username of ['bob', 'Zed', 'alice', '9svc', 'b.x']) await accounts.createUser({ username });
      expect((await accounts.listUsers()).map((u) => u.username)).toEqual(['9svc', 'Zed', 'alice', 'b.x', 'bob']);
      expect(await accounts.listGroups()).toEqual([
        { name: 'admins', permissions: ['admin'], description: 'everything, including administration' },
        { name: 'hackers', permissions: ['view_protected', 'download_dumps', 'reprocess', 'link_bugs'], description: 'developers who read protected data and raw dumps, reprocess crashes and link signatures to bugs' },
        { name: 'symbol_uploaders', permissions: ['upload_symbols'], description: 'build machines and people who upload symbols' },
      ]);
    });

    it('refuses taken or invalid names, unknown groups and weak passwords', async () => {
      const { accounts } = await subject();
      await accounts.createUser({ username: 'alice' });
      await expect(accounts.createUser({ username: 'alice' })).rejects.toThrow(/already exists/);
      await expect(accounts.createUser({ username: 'alice' })).rejects.toThrow(AccountError);
      await expect(accounts.createUser({ username: '../x' })).rejects.toThrow(AccountError);
      await expect(accounts.createUser({ username: 'a\u0000b' })).rejects.toThrow(/not a valid user name/);
      await expect(accounts.createUser({ username: 'carol', groups: ['wizards', 'hackers', 'muggles'] })).rejects.toThrow(
        'unknown groups wizards, muggles (known: admins, hackers, symbol_uploaders)',
      );
      await expect(accounts.createUser({ username: 'carol', password: 'short' })).rejects.toThrow(/at least/);
      expect(await accounts.getUser('carol')).toBeUndefined();
      expect((await accounts.listUsers()).map((u) => u.username)).toEqual(['alice']);
    });

    it('creates one user when two ask for the same name at once', async () => {
      const { accounts } = await subject();
      const results = await Promise.allSettled([accounts.createUser({ username: 'dup', password: PASSWORD }), accounts.createUser({ username: 'dup', password: PASSWORD })]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(AccountError);
      expect(refused.reason.message).toMatch(/already exists/);
      expect(await accounts.listUsers()).toHaveLength(1);
    });

    it('refuses changes to unknown users', async () => {
      const { accounts } = await subject();
      await expect(accounts.setPassword('nobody', PASSWORD)).rejects.toThrow('no user nobody');
      await expect(accounts.setActive('nobody', false)).rejects.toThrow(AccountError);
      await expect(accounts.setGroups('nobody', [])).rejects.toThrow(AccountError);
      await expect(accounts.setGroups('bad\u0000name', [])).rejects.toThrow(AccountError);
      await accounts.createUser({ username: 'alice', groups: ['hackers'] });
      await expect(accounts.setGroups('alice', ['wizards'])).rejects.toThrow(/unknown group wizards/);
      expect((await accounts.getUser('alice'))!.groups).toEqual(['hackers']);
      await expect(accounts.setPassword('alice', 'short')).rejects.toThrow(/at least/);
    });

    it('authenticates active users with the right password only', async () => {
      const { accounts } = await subject();
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD });
      await accounts.createUser({ username: 'nopass' });
      expect(await accounts.authenticate('alice', PASSWORD)).toBe(alice.id);
      expect(await accounts.authenticate('alice', PASSWORD + '!')).toBeUndefined();
      expect(await accounts.authenticate('Alice', PASSWORD)).toBeUndefined();
      expect(await accounts.authenticate('nobody', PASSWORD)).toBeUndefined();
      expect(await accounts.authenticate('bad\u0000name', PASSWORD)).toBeUndefined();
      expect(await accounts.authenticate('nopass', '')).toBeUndefined();
      await accounts.setActive('alice', false);
      expect(await accounts.authenticate('alice', PASSWORD)).toBeUndefined();
      expect((await accounts.getUser('alice'))!.active).toBe(false);
      await accounts.setActive('alice', true);
      expect(await accounts.authenticate('alice', PASSWORD)).toBe(alice.id);
    });

    it('keeps sessions by hash until logout or expiry, each with its own CSRF token', async () => {
      let now = 1_000_000;
      const { accounts, rows } = await subject({ now: () => now, sessionLifetimeMs: 60_000 });
      expect(accounts.sessionLifetimeMs).toBe(60_000);
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'] });
      const one = await accounts.createSession(alice.id);
      const two = await accounts.createSession(alice.id);
      expect(one.expiresAt).toBe(now + 60_000);
      expect(one.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const s1 = await accounts.verifySession(one.sessionId);
      const s2 = await accounts.verifySession(two.sessionId);
      expect(s1).toEqual({ user: 'alice', userId: alice.id, permissions: new Set(['view_protected', 'download_dumps', 'reprocess', 'link_bugs']), csrfToken: s1!.csrfToken, expiresAt: now + 60_000 });
      expect(s1!.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s1!.csrfToken).not.toBe(s2!.csrfToken);
      const stored = JSON.stringify(await rows('sessions'));
      expect(stored).not.toContain(one.sessionId);
      expect(stored).toContain(hashToken(one.sessionId));
      await accounts.deleteSession(one.sessionId);
      await accounts.deleteSession('never-issued');
      expect(await accounts.verifySession(one.sessionId)).toBeUndefined();
      expect(await accounts.verifySession('x'.repeat(43))).toBeUndefined();
      expect(await accounts.verifySession('not a session')).toBeUndefined();
      now += 59_999;
      expect(await accounts.verifySession(two.sessionId)).toBeDefined();
      now += 1;
      expect(await accounts.verifySession(two.sessionId)).toBeUndefined();
    });

    it('sweeps expired sessions at the next login', async () => {
      let now = 1_000_000;
      const { accounts, rows } = await subject({ now: () => now, sessionLifetimeMs: 60_000 });
      const alice = await accounts.createUser({ username: 'alice' });
      await accounts.createSession(alice.id);
      await accounts.createSession(alice.id);
      now += 60_000;
      const fresh = await accounts.createSession(alice.id);
      expect((await rows('sessions')).map((r) => r.id_hash)).toEqual([hashToken(fresh.sessionId)]);
    });

    it('ends every session of a user whose password changes or who is deactivated', async () => {
      const { accounts } = await subject();
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD });
      const bob = await accounts.createUser({ username: 'bob', password: PASSWORD });
      const a = await accounts.createSession(alice.id);
      const kept = await accounts.createSession(bob.id);
      await accounts.setPassword('alice', 'another long password');
      expect(await accounts.verifySession(a.sessionId)).toBeUndefined();
      expect(await accounts.authenticate('alice', PASSWORD)).toBeUndefined();
      expect(await accounts.authenticate('alice', 'another long password')).toBe(alice.id);
      const b = await accounts.createSession(alice.id);
      await accounts.setActive('alice', false);
      expect(await accounts.verifySession(b.sessionId)).toBeUndefined();
      // Reactivation does not bring the ended sessions back.
      await accounts.setActive('alice', true);
      expect(await accounts.verifySession(b.sessionId)).toBeUndefined();
      expect((await accounts.verifySession(kept.sessionId))?.user).toBe('bob');
    });

    it('sees group changes at once in live sessions and user records', async () => {
      const { accounts } = await subject();
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD, groups: ['hackers'], permissions: ['upload_symbols'] });
      const { sessionId } = await accounts.createSession(alice.id);
      await accounts.setGroups('alice', []);
      expect([...(await accounts.verifySession(sessionId))!.permissions]).toEqual(['upload_symbols']);
      await accounts.setGroups('alice', ['admins', 'admins']);
      expect([...(await accounts.verifySession(sessionId))!.permissions]).toEqual(['upload_symbols', 'admin']);
      expect(await accounts.getUser('alice')).toMatchObject({ groups: ['admins'], ownPermissions: ['upload_symbols'], permissions: ['upload_symbols', 'admin'] });
    });

    it('sets a user\'s own permissions, refusing unknown users', async () => {
      const { accounts } = await subject();
      await accounts.createUser({ username: 'alice', groups: ['symbol_uploaders'], permissions: ['admin'] });
      await accounts.setPermissions('alice', ['reprocess', 'reprocess', 'link_bugs']);
      expect(await accounts.getUser('alice')).toMatchObject({ ownPermissions: ['reprocess', 'link_bugs'], permissions: ['reprocess', 'link_bugs', 'upload_symbols'] });
      await accounts.setPermissions('alice', []);
      expect(await accounts.getUser('alice')).toMatchObject({ ownPermissions: [], permissions: ['upload_symbols'] });
      await expect(accounts.setPermissions('nobody', ['admin'])).rejects.toThrow(AccountError);
      await expect(accounts.setPermissions('bad\u0000name', ['admin'])).rejects.toThrow(AccountError);
    });

    it('records the last login of each user at the start of their sessions', async () => {
      let now = 10_000;
      const { accounts } = await subject({ now: () => now });
      const alice = await accounts.createUser({ username: 'alice', password: PASSWORD });
      expect((await accounts.getUser('alice'))!.lastLoginAt).toBeNull();
      await accounts.createSession(alice.id);
      now = 20_000;
      await accounts.createSession(alice.id);
      expect((await accounts.getUser('alice'))!.lastLoginAt).toBe(20_000);
    });

    describe('single sign-on logins', () => {
      const SUBJECT = 'https://idp.example.org 248289761001';
      const login = (overrides: Partial<Parameters<AuthSubject['accounts']['oidcLogin']>[0]> = {}) => ({ subject: SUBJECT, username: 'jane', groups: ['hackers'], createUnknown: true, ...overrides });

      it('creates the user of a new identity, without a password, in the groups of the claims', async () => {
        const { accounts } = await subject({ now: () => 5_000 });
        const result = await accounts.oidcLogin(login());
        expect(result).toEqual({ ok: true, userId: expect.any(Number), username: 'jane', created: true, unknownGroups: [] });
        expect(await accounts.getUser('jane')).toMatchObject({ hasPassword: false, oidcSubject: SUBJECT, groups: ['hackers'], createdAt: 5_000 });
        // No password: the local login cannot be used for this account.
        expect(await accounts.authenticate('jane', '')).toBeUndefined();
      });

      it('finds the user by identity at later logins, whatever name the claims give, and replaces their groups', async () => {
        const { accounts } = await subject();
        const first = await accounts.oidcLogin(login());
        const again = await accounts.oidcLogin(login({ username: 'jane.doe', groups: ['admins', 'no_such_group'] }));
        expect(again).toEqual({ ok: true, userId: (first as { userId: number }).userId, username: 'jane', created: false, unknownGroups: ['no_such_group'] });
        expect(await accounts.getUser('jane')).toMatchObject({ groups: ['admins'], permissions: ['admin'] });
        expect(await accounts.getUser('jane.doe')).toBeUndefined();
        // Without a group map (groups undefined), the groups an admin set are kept.
        await accounts.setGroups('jane', ['symbol_uploaders']);
        await accounts.oidcLogin(login({ groups: undefined }));
        expect((await accounts.getUser('jane'))!.groups).toEqual(['symbol_uploaders']);
        expect((await accounts.listUsers()).length).toBe(1);
      });

      it('links an account an admin made without a password, never one with a password or another identity', async () => {
        const { accounts } = await subject();
        await accounts.createUser({ username: 'jane', permissions: ['reprocess'] });
        expect(await accounts.oidcLogin(login())).toMatchObject({ ok: true, created: false, username: 'jane' });
        expect(await accounts.getUser('jane')).toMatchObject({ oidcSubject: SUBJECT, ownPermissions: ['reprocess'], groups: ['hackers'] });
        // Another identity asking for the same name is refused, as is a local account with a password.
        expect(await accounts.oidcLogin(login({ subject: 'https://idp.example.org other' }))).toEqual({ ok: false, reason: 'name_taken', username: 'jane' });
        await accounts.createUser({ username: 'root', password: PASSWORD, permissions: ['admin'] });
        expect(await accounts.oidcLogin(login({ subject: 'https://idp.example.org mallory', username: 'root' }))).toEqual({ ok: false, reason: 'name_taken', username: 'root' });
        expect((await accounts.getUser('root'))!.oidcSubject).toBeNull();
      });

      it('refuses deactivated users, unknown identities when creation is off, and names no account can have', async () => {
        const { accounts } = await subject();
        expect(await accounts.oidcLogin(login({ createUnknown: false }))).toEqual({ ok: false, reason: 'not_provisioned', username: 'jane' });
        expect(await accounts.getUser('jane')).toBeUndefined();
        expect(await accounts.oidcLogin(login({ username: 'bad name' }))).toEqual({ ok: false, reason: 'invalid_name', username: 'bad name' });
        await accounts.oidcLogin(login());
        await accounts.setActive('jane', false);
        expect(await accounts.oidcLogin(login())).toEqual({ ok: false, reason: 'inactive', username: 'jane' });
        // Creation off still lets known identities in.
        await accounts.setActive('jane', true);
        expect(await accounts.oidcLogin(login({ createUnknown: false }))).toMatchObject({ ok: true, created: false });
      });

      it('creates one user when two first logins of one identity race', async () => {
        const { accounts } = await subject();
        const results = await Promise.all([accounts.oidcLogin(login()), accounts.oidcLogin(login())]);
        expect(results.every((r) => r.ok)).toBe(true);
        expect(new Set(results.map((r) => (r as { userId: number }).userId)).size).toBe(1);
        expect((await accounts.listUsers()).map((u) => u.username)).toEqual(['jane']);
      });
    });

    it('answers its health check, and closing twice is harmless', async () => {
      const { accounts } = await subject();
      await accounts.check();
      await accounts.close();
      await accounts.close();
    });
  });
}
