import { describe, expect, it } from 'vitest';

import { applyCfiRules } from '../../../src/minidump/symbols/index.js';

describe('applyCfiRules', () => {
  it('splits a rule set into register -> expression, joining tokens with single spaces', () => {
    const rules = new Map<string, string>();
    expect(applyCfiRules('.cfa: $rsp   16 +\t.ra: .cfa -8 + ^ $rbx: .cfa -24 + ^', rules)).toBe(true);
    expect(rules).toEqual(new Map([['.cfa', '$rsp 16 +'], ['.ra', '.cfa -8 + ^'], ['$rbx', '.cfa -24 + ^']]));
  });

  it('overrides earlier rules for the same register', () => {
    const rules = new Map([['.cfa', 'old']]);
    applyCfiRules('.cfa: new', rules);
    expect(rules.get('.cfa')).toBe('new');
  });

  it.each([
    ['an empty set', ''],
    ['an expression without a register', '$rsp 8 +'],
    ['a register without an expression', '.cfa:'],
    ['an empty register name', ': $rsp'],
    ['a register without an expression before the next', '.cfa: .ra: x'],
  ])('rejects %s', (_label, text) => {
    expect(applyCfiRules(text, new Map())).toBe(false);
  });

  it('keeps the rules read before a malformed one', () => {
    const rules = new Map<string, string>();
    expect(applyCfiRules('.cfa: $rsp 8 + .ra: $rbp:', rules)).toBe(false);
    expect(rules).toEqual(new Map([['.cfa', '$rsp 8 +']]));
  });
});
