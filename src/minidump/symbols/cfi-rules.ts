/**
 * Reading a `STACK CFI` rule set such as `.cfa: $rsp 16 + .ra: .cfa -8 + ^` into
 * register -> expression pairs, as Breakpad's `CFIRuleParser` does: tokens split on
 * whitespace, a token ending in `:` names the register whose expression the following
 * tokens form (joined by single spaces).
 *
 * Rules are applied to `into` as they are read, so a malformed set applied as a delta
 * leaves its well-formed leading rules in force, exactly like Breakpad; the return value
 * says whether the whole set was well formed (a malformed `INIT` set means no CFI at all).
 */

const WHITESPACE = /[ \t\r\n]+/;

export function applyCfiRules(ruleSet: string, into: Map<string, string>): boolean {
  let name = '';
  let expression = '';
  const report = (): boolean => {
    if (name === '' || expression === '') return false;
    into.set(name, expression);
    return true;
  };
  for (const token of ruleSet.split(WHITESPACE)) {
    if (token === '') continue;
    if (token.endsWith(':')) {
      if (token.length < 2) return false; // a register name cannot be empty
      if ((name !== '' || expression !== '') && !report()) return false;
      name = token.slice(0, -1);
      expression = '';
    } else {
      expression = expression === '' ? token : `${expression} ${token}`;
    }
  }
  return report();
}
