// Identifier patterns in free text (log lines): an 18-character run that has the shape of a resident ID number
// (GB 11643: 17 digits and a digit or X) or of a unified social credit code (GB 32100: two characters of its
// alphabet, a 6-digit area code, ten characters of its alphabet), standing alone (no letter or digit either side).
// The shape is enough: a mistyped ID number, whose check character fails, is still someone's ID number. The USCC
// pattern takes ID numbers in too (digits and X are in its alphabet); the replacement says which one it was.
const ALPHABET = '0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy';
// In a JSON line a newline before the number is written \n: a letter after a backslash is an escape, not a neighbour.
export const IDENTIFIER_PATTERN = new RegExp(`(?<!(?<!\\\\)[0-9A-Za-z])[${ALPHABET}]{2}[0-9]{6}[${ALPHABET}]{10}(?![0-9A-Za-z])`, 'g');
const RESIDENT_ID = /^[0-9]{17}[0-9Xx]$/;
// A line without 18 consecutive letters or digits cannot hold one: most lines are settled by this cheaper test.
const LONG_RUN = /[0-9A-Za-z]{18}/;

function replacement(match: string): string {
  return RESIDENT_ID.test(match) ? '[id-number]' : '[uscc]';
}

/** The text with every resident ID number and USCC replaced by [id-number] or [uscc]. */
export function redactIdentifiers(text: string): string {
  if (!LONG_RUN.test(text)) return text;
  IDENTIFIER_PATTERN.lastIndex = 0;
  return text.replace(IDENTIFIER_PATTERN, replacement);
}
