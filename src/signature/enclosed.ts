/**
 * Bracket-aware scanning of symbol names. C++ and Rust names nest `<>`, `()`, `[]`, `{}`
 * and MSVC's `` `...' `` quotes, and the same characters also appear bare in operator
 * names (`operator<<`, `operator->`, `operator()`), which must not open or close
 * anything. Everything here works on one character class at a time, like Socorro's
 * `collapse`, and tolerates unbalanced input (truncated or mangled names are common).
 */

/** The C++ operators spelled with `<` or `>` (`operator<=>`, `operator->*`...). */
const ANGLE_OPERATORS = ['<', '<<', '<=', '<=>', '<<=', '>', '>>', '>=', '>>=', '->', '->*'];

/**
 * Whether the `<` or `>` at `index` is part of an operator name or an arrow rather than a
 * bracket: `operator<`, `operator<<=`, `operator->`, `operator>>`, `a->b` in a decltype. Only
 * when it continues a real operator: in `operator-<int>` or `operator==<T>` the `<` opens
 * template arguments.
 */
export function isOperatorAngle(text: string, index: number): boolean {
  const char = text[index];
  if (char !== '<' && char !== '>') return false;
  const m = /operator\s*([<>=-]*)$/.exec(text.slice(Math.max(0, index - 16), index));
  if (m) {
    const spelled = m[1] + char;
    return ANGLE_OPERATORS.some((op) => op.startsWith(spelled));
  }
  return char === '>' && text[index - 1] === '-';
}

/** Half-open `[start, end)` ranges of the top-level `open ... close` slices; an unclosed one runs to the end. */
export function enclosedSlices(text: string, open: string, close: string): [number, number][] {
  const slices: [number, number][] = [];
  const angles = open === '<';
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (angles && isOperatorAngle(text, i)) continue;
    if (char === open) {
      if (depth === 0) start = i;
      depth++;
    } else if (char === close && depth > 0) {
      depth--;
      if (depth === 0) slices.push([start, i + 1]);
    }
  }
  if (depth > 0) slices.push([start, text.length]);
  return slices;
}

/**
 * Replaces each top-level `open ... close` slice with what `replace` answers, given the
 * text before it, the slice itself (brackets included) and the text after it.
 */
export function replaceEnclosed(text: string, open: string, close: string, replace: (before: string, inside: string, after: string) => string): string {
  let out = '';
  let previous = 0;
  for (const [start, end] of enclosedSlices(text, open, close)) {
    out += text.slice(previous, start) + replace(text.slice(0, start), text.slice(start, end), text.slice(end));
    previous = end;
  }
  return out + text.slice(previous);
}

const CLOSING: Readonly<Record<string, string>> = { '(': ')', '{': '}', '[': ']', '<': '>', '`': "'" };

/**
 * Splits on spaces outside any brackets: `static void* Foo<A, B>::bar(int, char)` gives
 * `static`, `void*`, `Foo<A, B>::bar(int, char)`.
 */
export function splitTopLevelSpaces(text: string): string[] {
  const tokens: string[] = [];
  const levels: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const operatorAngle = isOperatorAngle(text, i);
    if (!operatorAngle && CLOSING[char] !== undefined) {
      levels.push(char);
    } else if (!operatorAngle && levels.length > 0 && CLOSING[levels[levels.length - 1]] === char) {
      levels.pop();
    } else if (char === ' ' && levels.length === 0) {
      tokens.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (current !== '') tokens.push(current);
  return tokens.filter((t) => t !== '');
}
