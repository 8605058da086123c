import { describe, expect, it } from 'vitest';

import { redactTokenInUrl } from '../../src/auth/request-auth.js';
import { parsePermissions } from '../../src/auth/token-store.js';

// The token stores themselves (SQLite and PostgreSQL) are tested by test/adapters/token-store.contract.ts.

describe('parsePermissions', () => {
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
