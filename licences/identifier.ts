// 电子证照标识 (e-licence identifier, GB/T 36904):
//   1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>
// type code: the defining authority's USCC + 3 digits (21 characters); issuer code: the issuing body's USCC (some
// regions use a 6-digit area code); serial: digits, hex or alphanumerics; version: 3 digits; check: ISO/IEC 7064
// MOD 37,36 (hybrid) over type ‖ issuer ‖ serial ‖ version, alphabet 0-9A-Z.
//
// The registry enforces the standard check character on what it issues. On import, identifiers from other regions
// whose check character does not follow the standard are accepted and flagged (parseLicenceIdentifier with
// { lenient: true }), because the licence is genuine even when its issuer's software computed the check wrongly.
import { isValidUscc } from '../core/identifiers/index.js';
import { ZtError } from '../core/errors/index.js';

export const LICENCE_IDENTIFIER_PREFIX = '1.2.156.3005.2';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));
const TYPE_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\d{3}$/;
const AREA_CODE = /^\d{6}$/;
const SERIAL = /^[0-9A-Za-z]{1,64}$/;
const VERSION = /^\d{3}$/;

export interface LicenceIdentifier {
  /** The licence type: defining authority's USCC + 3 digits. */
  typeCode: string;
  /** The issuing body's USCC, or a 6-digit area code in regions that use one. */
  issuerCode: string;
  serial: string;
  /** 1 for 001, 2 for 002 … */
  version: number;
  check: string;
  /** Set when the check character does not follow the standard (accepted only with lenient parsing). */
  nonStandardCheck?: true;
}

/** ISO/IEC 7064 MOD 37,36: the check character over the given characters (0-9, A-Z; lower case folded). */
export function mod3736CheckCharacter(input: string): string {
  const m = 36;
  let p = m;
  for (const ch of input.toUpperCase()) {
    const v = VALUE.get(ch);
    if (v === undefined) throw new RangeError(`${JSON.stringify(ch)} is outside 0-9A-Z`);
    let s = (p + v) % m;
    if (s === 0) s = m;
    p = (s * 2) % (m + 1);
  }
  return ALPHABET[(m + 1 - p) % m]!;
}

export function isValidTypeCode(code: string): boolean {
  return TYPE_CODE.test(code) && isValidUscc(code.slice(0, 18));
}

export function isValidIssuerCode(code: string): boolean {
  return AREA_CODE.test(code) || isValidUscc(code);
}

export function formatVersion(version: number): string {
  if (!Number.isInteger(version) || version < 1 || version > 999) throw new RangeError(`licence version ${version} is not in 1..999`);
  return String(version).padStart(3, '0');
}

/** Builds an identifier with the standard check character; throws ZT_ERR_LICENCE_IDENTIFIER_INVALID on a bad part. */
export function makeLicenceIdentifier(parts: { typeCode: string; issuerCode: string; serial: string; version: number }): LicenceIdentifier & { text: string } {
  const problem = partProblem(parts.typeCode, parts.issuerCode, parts.serial) ?? (parts.version >= 1 && parts.version <= 999 && Number.isInteger(parts.version) ? undefined : 'the version is not in 001..999');
  if (problem) throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_INVALID', `cannot build a licence identifier: ${problem}`);
  const version = formatVersion(parts.version);
  const check = mod3736CheckCharacter(parts.typeCode + parts.issuerCode + parts.serial + version);
  return { ...parts, check, text: [LICENCE_IDENTIFIER_PREFIX, parts.typeCode, parts.issuerCode, parts.serial, version, check].join('.') };
}

export function formatLicenceIdentifier(id: LicenceIdentifier): string {
  return [LICENCE_IDENTIFIER_PREFIX, id.typeCode, id.issuerCode, id.serial, formatVersion(id.version), id.check].join('.');
}

function partProblem(typeCode: string, issuerCode: string, serial: string): string | undefined {
  if (!isValidTypeCode(typeCode)) return `the type code ${JSON.stringify(typeCode)} is not a valid USCC followed by 3 digits`;
  if (!isValidIssuerCode(issuerCode)) return `the issuer code ${JSON.stringify(issuerCode)} is neither a valid USCC nor a 6-digit area code`;
  if (!SERIAL.test(serial)) return `the serial ${JSON.stringify(serial)} is not 1-64 letters and digits`;
  return undefined;
}

/**
 * Parses an identifier. Every structural fault, and a wrong check character unless `lenient`, throws
 * ZT_ERR_LICENCE_IDENTIFIER_INVALID (ZT_ERR_LICENCE_IDENTIFIER_CHECK for the check character alone). With `lenient`
 * a well-formed identifier with a non-standard check character parses with nonStandardCheck set.
 */
export function parseLicenceIdentifier(text: string, options: { lenient?: boolean } = {}): LicenceIdentifier {
  if (typeof text !== 'string' || text.length > 200 || !text.startsWith(`${LICENCE_IDENTIFIER_PREFIX}.`)) {
    throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_INVALID', `a licence identifier starts with ${LICENCE_IDENTIFIER_PREFIX}. (GB/T 36904)`);
  }
  const parts = text.slice(LICENCE_IDENTIFIER_PREFIX.length + 1).split('.');
  if (parts.length !== 5) throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_INVALID', 'a licence identifier has five parts after the prefix: type, issuer, serial, version, check');
  const [typeCode, issuerCode, serial, version, check] = parts as [string, string, string, string, string];
  const problem = partProblem(typeCode, issuerCode, serial) ?? (VERSION.test(version) && version !== '000' ? undefined : `the version ${JSON.stringify(version)} is not three digits from 001`) ?? (/^[0-9A-Z]$/.test(check) ? undefined : `the check ${JSON.stringify(check)} is not one character of 0-9A-Z`);
  if (problem) throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_INVALID', `invalid licence identifier: ${problem}`);
  const expected = mod3736CheckCharacter(typeCode + issuerCode + serial + version);
  const id: LicenceIdentifier = { typeCode, issuerCode, serial, version: Number(version), check };
  if (expected !== check) {
    if (!options.lenient) throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_CHECK', `the check character of licence identifier ${text} should be ${expected}, not ${check} (ISO/IEC 7064 MOD 37,36)`);
    id.nonStandardCheck = true;
  }
  return id;
}
