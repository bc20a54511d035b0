// Building valid identifiers for made-up subjects. Validation lives in core/identifiers; this only composes.
import { residentIdCheckCharacter, usccCheckCharacter } from '../../core/identifiers/index.js';

const ORGANISATION_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/**
 * The check character of an organisation code (组织机构代码, GB 11714), which forms characters 9–17 of a USCC:
 * C9 = 11 − (Σ value × weight mod 11), 10 written X and 11 written 0; letters count A = 10 … Z = 35.
 */
export function organisationCodeCheckCharacter(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = first8.charCodeAt(i);
    const value = c >= 48 && c <= 57 ? c - 48 : c - 55;
    sum += value * ORGANISATION_CODE_WEIGHTS[i]!;
  }
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

/** A resident ID number (GB 11643) from its parts; the sequence's last digit is odd for a man. */
export function composeResidentId(area: string, birthDate: string, sequence: number): string {
  const first17 = `${area}${birthDate.replace(/-/g, '')}${String(sequence).padStart(3, '0')}`;
  return first17 + residentIdCheckCharacter(first17)!;
}

/**
 * A USCC (GB 32100) from registration authority + organisation type (e.g. "91" 工商·企业, "92" 工商·个体工商户),
 * division code and the first 8 characters of the organisation code (its own check character is added).
 */
export function composeUscc(authorityAndType: string, division: string, organisationCode8: string): string {
  const first17 = `${authorityAndType}${division}${organisationCode8}${organisationCodeCheckCharacter(organisationCode8)}`;
  return first17 + usccCheckCharacter(first17)!;
}
