/**
 * Applies the `STACK CFI` rules in force at an address to recover the caller's registers
 * (Breakpad `CFIFrameInfo::FindCallerRegs`).
 *
 * Order matters and follows Breakpad: the CFA is computed first from the callee's
 * registers; `.ra` and every register rule are then evaluated with `.cfa` added to the
 * callee's registers. A register rule that fails to evaluate just leaves that register
 * unknown; a failing `.cfa` or `.ra` rule (or a missing one) makes the whole CFI unusable
 * and the walker falls back to the next strategy.
 */
import type { CfiRules, MemoryReader } from '../contracts.js';
import { PostfixEvaluator, type WordSize } from './postfix.js';

/** Caller registers by name without any `$` prefix, plus `.cfa` and `.ra`. */
export type RecoveredRegisters = Map<string, bigint>;

/** Strips the `$` some symbol files put before register names (`$rbx` → `rbx`). */
export function bareRegisterName(name: string): string {
  return name.startsWith('$') ? name.slice(1) : name;
}

/**
 * @param callee the callee's known registers, named as the rules name them (`$rsp` on
 *   x86/amd64, `sp`/`x29` on ARM; either form resolves).
 */
export function findCallerRegisters(
  rules: CfiRules,
  callee: ReadonlyMap<string, bigint>,
  memory: MemoryReader,
  wordSize: WordSize,
): RecoveredRegisters | undefined {
  const cfaRule = rules.get('.cfa');
  const raRule = rules.get('.ra');
  if (!cfaRule || !raRule) return undefined;

  const evaluate = (expression: string, cfa?: bigint): bigint | undefined => {
    const working = new Map(callee);
    if (cfa !== undefined) working.set('.cfa', cfa);
    return new PostfixEvaluator(working, { wordSize, memory }).evaluateForValue(expression);
  };

  const cfa = evaluate(cfaRule);
  if (cfa === undefined) return undefined;
  const ra = evaluate(raRule, cfa);
  if (ra === undefined) return undefined;

  const caller: RecoveredRegisters = new Map();
  for (const [name, expression] of rules) {
    if (name === '.cfa' || name === '.ra') continue;
    const value = evaluate(expression, cfa);
    if (value !== undefined) caller.set(bareRegisterName(name), value);
  }
  caller.set('.ra', ra);
  caller.set('.cfa', cfa);
  return caller;
}
