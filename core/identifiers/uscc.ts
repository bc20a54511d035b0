// 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from a 31-character alphabet
// (no I, O, S, V, Z); the last is a check character over the first 17.

export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const VALUE = new Map([...USCC_ALPHABET].map((c, i) => [c, i]));
const SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** The check character for the first 17 characters of a code; undefined if one is outside the alphabet. */
export function usccCheckCharacter(first17: string): string | undefined {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = VALUE.get(first17[i]!);
    if (v === undefined) return undefined;
    sum += v * WEIGHTS[i]!;
  }
  // The final "mod 31" maps a remainder of 0 to check value 0, not 31.
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

export function isValidUscc(code: string): boolean {
  return code.length === 18 && SHAPE.test(code) && usccCheckCharacter(code.slice(0, 17)) === code[17];
}
