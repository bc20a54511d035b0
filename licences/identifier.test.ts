import { describe, expect, it } from 'vitest';
import { isZtError } from '../core/errors/index.js';
import { formatLicenceIdentifier, makeLicenceIdentifier, mod3736CheckCharacter, parseLicenceIdentifier } from './identifier.js';

// Identifiers published by issuing authorities (DOMAIN.md), with their check characters.
const VERIFIED = [
  '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
  '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  return 'none';
}

describe('GB/T 36904 licence identifiers', () => {
  it('computes the ISO/IEC 7064 MOD 37,36 check character of the published identifiers', () => {
    expect(mod3736CheckCharacter('11100000000013338W01111430000006122244L20230000403001')).toBe('U');
    expect(mod3736CheckCharacter('11100000000013338W00911330105002500287C2025052201002')).toBe('0');
    for (const text of VERIFIED) {
      const id = parseLicenceIdentifier(text);
      expect(id.nonStandardCheck).toBeUndefined();
      expect(formatLicenceIdentifier(id)).toBe(text);
    }
  });

  it('reads the parts', () => {
    expect(parseLicenceIdentifier(VERIFIED[1]!)).toEqual({ typeCode: '11100000000013338W009', issuerCode: '11330105002500287C', serial: '2025052201', version: 2, check: '0' });
  });

  it('builds identifiers that parse back, with the standard check', () => {
    const made = makeLicenceIdentifier({ typeCode: '11100000000013338W011', issuerCode: '11430000006122244L', serial: '20230000403', version: 1 });
    expect(made.text).toBe(VERIFIED[0]);
    const area = makeLicenceIdentifier({ typeCode: '11100000000013338W011', issuerCode: '210100', serial: 'ab12CD', version: 17 });
    expect(area.text).toMatch(/^1\.2\.156\.3005\.2\.11100000000013338W011\.210100\.ab12CD\.017\.[0-9A-Z]$/);
    expect(parseLicenceIdentifier(area.text).version).toBe(17);
  });

  it('refuses a wrong check character, and with lenient parsing accepts it flagged', () => {
    const wrong = VERIFIED[0]!.replace(/U$/, 'V');
    expect(code(() => parseLicenceIdentifier(wrong))).toBe('ZT_ERR_LICENCE_IDENTIFIER_CHECK');
    expect(parseLicenceIdentifier(wrong, { lenient: true }).nonStandardCheck).toBe(true);
  });

  it.each([
    ['another prefix', '1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.001.U'],
    ['a missing part', '1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U'],
    ['a type code whose USCC check fails', '1.2.156.3005.2.11100000000013338X011.11430000006122244L.20230000403.001.U'],
    ['a type code without its 3 digits', '1.2.156.3005.2.11100000000013338W.11430000006122244L.20230000403.001.U'],
    ['an invalid issuer code', '1.2.156.3005.2.11100000000013338W011.11430000006122244M.20230000403.001.U'],
    ['a serial with punctuation', '1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023-0403.001.U'],
    ['version 000', '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.000.U'],
    ['a two-digit version', '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U'],
    ['a lower-case check', '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.u'],
  ])('refuses %s as malformed, even leniently', (_what, text) => {
    expect(code(() => parseLicenceIdentifier(text, { lenient: true }))).toBe('ZT_ERR_LICENCE_IDENTIFIER_INVALID');
  });

  it('refuses to build from invalid parts', () => {
    expect(code(() => makeLicenceIdentifier({ typeCode: 'X', issuerCode: '210100', serial: '1', version: 1 }))).toBe('ZT_ERR_LICENCE_IDENTIFIER_INVALID');
    expect(code(() => makeLicenceIdentifier({ typeCode: '11100000000013338W011', issuerCode: '210100', serial: '1', version: 1000 }))).toBe('ZT_ERR_LICENCE_IDENTIFIER_INVALID');
  });
});
