/**
 * Final clean-up of signature text (Socorro's `SigFixWhitespace` and `SigTruncate`):
 * signatures are search keys and page titles, so they hold printable characters only,
 * single spaces, and at most 255 characters.
 */

export const SIGNATURE_MAX_LENGTH = 255;

/**
 * Drops what does not print: control and format characters, unpaired surrogates,
 * private-use and unassigned code points. Whitespace becomes a space first, so a tab or
 * newline still separates words. Letters of any script are kept (Unicode identifiers are
 * legal in C++ and Rust).
 */
export function printableOnly(text: string): string {
  return text.replace(/\s/gu, ' ').replace(/[\p{C}\p{Zl}\p{Zp}]/gu, '');
}

/** Printable, one space between words, no leading or trailing space. */
export function fixSignatureWhitespace(text: string): string {
  return printableOnly(text).replace(/ {2,}/g, ' ').trim();
}

/**
 * At most `max` characters (code points, so a character outside the BMP is never cut in
 * half), ending in `...` when cut.
 */
export function truncateSignature(text: string, max = SIGNATURE_MAX_LENGTH): { text: string; truncated: boolean } {
  const chars = [...text];
  if (chars.length <= max) return { text, truncated: false };
  return { text: `${chars.slice(0, max - 3).join('')}...`, truncated: true };
}
