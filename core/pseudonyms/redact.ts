// Identifier patterns in free text (log lines): an 18-character run that has the shape of a resident ID number
// (GB 11643: 17 digits and a digit or X) or of a unified social credit code (GB 32100: two characters of its
// alphabet, a 6-digit area code, ten characters of its alphabet), standing alone (no letter or digit either side).
// The shape is enough: a mistyped ID number, whose check character fails, is still someone's ID number. The USCC
// pattern takes ID numbers in too (digits and X are in its alphabet); the replacement says which one it was.
const ALPHABET = '0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy';
// In a JSON line a newline before the number is written \n: a letter after a backslash is an escape, not a neighbour.
export const IDENTIFIER_PATTERN = new RegExp(`(?<!(?<!\\\\)[0-9A-Za-z])[${ALPHABET}]{2}[0-9]{6}[${ALPHABET}]{10}(?![0-9A-Za-z])`, 'g');
const RESIDENT_ID = /^[0-9]{17}[0-9Xx]$/;
// Both shapes have six digits in a row (the area code); most lines have none and are settled by this test, which is
// several times cheaper than the pattern (measured: about 0.1 µs against 0.3 µs for a 200-character line; a test for
// 18 letters or digits in a row was slower than the pattern itself).
const SIX_DIGITS = /[0-9]{6}/;

function replacement(match: string): string {
  return RESIDENT_ID.test(match) ? '[id-number]' : '[uscc]';
}

/** The text with every resident ID number and USCC replaced by [id-number] or [uscc]. */
export function redactIdentifiers(text: string): string {
  if (!SIX_DIGITS.test(text)) return text;
  IDENTIFIER_PATTERN.lastIndex = 0;
  return text.replace(IDENTIFIER_PATTERN, replacement);
}
