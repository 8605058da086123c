/**
 * The postfix (reverse Polish) expression language of Breakpad symbol files: `STACK CFI`
 * rules (`.cfa: $rsp 8 +`) and `STACK WIN` program strings
 * (`$T0 $ebp = $eip $T0 4 + ^ = ...`).
 *
 * Semantics follow Breakpad's `PostfixEvaluator` exactly, because the symbol files were
 * written for it:
 * - tokens are separated by whitespace; a token `=X` (no space after `=`) is read as `=`
 *   followed by `X`, a quirk some program strings rely on;
 * - literals are decimal integers with an optional leading `-`; anything else that is not
 *   an operator is an identifier, looked up in the dictionary only when popped as a value;
 * - `+ - * / %` wrap around at the register width (32 or 64 bits); `@` aligns
 *   (`a b @` = `a & ~(b - 1)`); `^` reads one register-sized word of memory;
 * - `a b =` assigns to identifier `a`, which must start with `$`;
 * - a program (`evaluate`) must leave the stack empty; an expression (`evaluateForValue`)
 *   must leave exactly one value.
 * Division by zero fails the evaluation (undefined behaviour in Breakpad's C++).
 */
import type { MemoryReader } from '../contracts.js';

export type WordSize = 4 | 8;

/** Variables of an evaluation: registers (`$esp`, `x29`), pseudo-registers (`.cfa`), temporaries. */
export type Dictionary = Map<string, bigint>;

export interface EvaluatorOptions {
  /** Register width: values wrap around at 2^(8*wordSize), and `^` reads this many bytes. */
  readonly wordSize: WordSize;
  /** Memory `^` reads from; without it every dereference fails. */
  readonly memory?: MemoryReader;
}

const LITERAL = /^-?\d+$/;

/** Evaluates postfix programs and expressions against one dictionary. */
export class PostfixEvaluator {
  private readonly mask: bigint;
  private stack: string[] = [];

  constructor(
    readonly dictionary: Dictionary,
    private readonly options: EvaluatorOptions,
  ) {
    this.mask = (1n << BigInt(options.wordSize * 8)) - 1n;
  }

  /**
   * Runs a program of assignments, adding every identifier it assigns to `assigned`.
   * Answers false if the program failed (bad syntax, unknown identifier, unreadable
   * memory, values left on the stack). Assignments made before a failure stay in the
   * dictionary and in `assigned`, as in Breakpad, whose x86 walker still uses them.
   */
  evaluate(program: string, assigned: Set<string> = new Set()): boolean {
    try {
      if (!this.run(program, assigned)) return false;
      return this.stack.length === 0;
    } finally {
      this.stack = [];
    }
  }

  /** Evaluates an expression that must leave exactly one value. */
  evaluateForValue(expression: string): bigint | undefined {
    try {
      if (!this.run(expression, undefined)) return undefined;
      if (this.stack.length !== 1) return undefined;
      return this.popValue();
    } finally {
      this.stack = [];
    }
  }

  private run(text: string, assigned: Set<string> | undefined): boolean {
    for (const token of text.split(/\s+/)) {
      if (token === '') continue;
      if (token.length > 1 && token[0] === '=') {
        if (!this.step('=', assigned) || !this.step(token.slice(1), assigned)) return false;
      } else if (!this.step(token, assigned)) {
        return false;
      }
    }
    return true;
  }

  private step(token: string, assigned: Set<string> | undefined): boolean {
    switch (token) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '@': {
        const b = this.popValue();
        const a = b === undefined ? undefined : this.popValue();
        if (a === undefined || b === undefined) return false;
        const result = this.binary(token, a, b);
        if (result === undefined) return false;
        this.stack.push((result & this.mask).toString());
        return true;
      }
      case '^': {
        const address = this.popValue();
        if (address === undefined || !this.options.memory) return false;
        const value =
          this.options.wordSize === 8
            ? this.options.memory.readU64(address)
            : toBig(this.options.memory.readU32(address));
        if (value === undefined) return false;
        this.stack.push(value.toString());
        return true;
      }
      case '=': {
        const value = this.popValue();
        if (value === undefined) return false;
        const identifier = this.stack.pop();
        if (identifier === undefined || LITERAL.test(identifier) || !identifier.startsWith('$')) {
          return false;
        }
        this.dictionary.set(identifier, value);
        assigned?.add(identifier);
        return true;
      }
      default:
        this.stack.push(token);
        return true;
    }
  }

  private binary(op: string, a: bigint, b: bigint): bigint | undefined {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return b === 0n ? undefined : a / b;
      case '%':
        return b === 0n ? undefined : a % b;
      default: // '@': align down to a multiple of b (b a power of two)
        return a & (this.mask ^ ((b - 1n) & this.mask));
    }
  }

  /** Pops a literal or an identifier's value. */
  private popValue(): bigint | undefined {
    const token = this.stack.pop();
    if (token === undefined) return undefined;
    if (LITERAL.test(token)) return BigInt(token) & this.mask;
    return lookupIdentifier(this.dictionary, token);
  }
}

/**
 * Looks an identifier up, tolerating the `$` prefix convention differing between the
 * expression and the dictionary (`$rsp` in x86/amd64 rules, bare `sp`/`x29` on ARM).
 */
export function lookupIdentifier(dictionary: ReadonlyMap<string, bigint>, name: string): bigint | undefined {
  const direct = dictionary.get(name);
  if (direct !== undefined) return direct;
  if (name.startsWith('$')) return dictionary.get(name.slice(1));
  if (name.startsWith('.')) return undefined;
  return dictionary.get(`$${name}`);
}

function toBig(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
