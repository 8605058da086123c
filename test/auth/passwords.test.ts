import { describe, expect, it } from 'vitest';

import { hashPassword, passwordProblem, verifyPassword } from '../../src/auth/passwords.js';

describe('password hashing', () => {
  it('salts each hash, names its parameters, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse battery', b)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('never matches a damaged or foreign hash, without throwing', async () => {
    const good = await hashPassword('correct horse battery');
    const parts = good.split('$');
    for (const bad of ['', 'plain', `bcrypt$${parts.slice(1).join('$')}`, parts.slice(0, 5).join('$'), [...parts.slice(0, 1), '1000', ...parts.slice(2)].join('$'), [...parts.slice(0, 5), 'AAAA'].join('$')]) {
      expect(await verifyPassword('correct horse battery', bad)).toBe(false);
    }
  });

  it('wants passwords of a reasonable length', () => {
    expect(passwordProblem('short')).toMatch(/at least 10/);
    expect(passwordProblem('long enough pass')).toBeUndefined();
    expect(passwordProblem('x'.repeat(2000))).toMatch(/at most/);
  });
});
