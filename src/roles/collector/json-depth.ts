/**
 * How deeply JSON text nests, found in one pass over its characters without parsing it.
 * `JSON.parse` takes any depth, but turning a parsed value back into text
 * (`JSON.stringify`, as annotations and the raw crash are stored) recurses and overflows
 * the stack a few thousand levels down; so depth is checked first, on the text, and too
 * deep a value is refused as bad JSON before anything is stored.
 */

/** Real annotations are flat strings, or a few levels of objects at most. */
export const MAX_JSON_DEPTH = 64;

/** Whether brackets outside strings nest deeper than `maxDepth` anywhere in `text`. */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}
