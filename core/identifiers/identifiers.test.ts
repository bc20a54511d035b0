import { describe, expect, it } from 'vitest';
import { isValidResidentId, isValidUscc, residentIdCheckCharacter, usccCheckCharacter } from './index.js';

describe('unified social credit code (GB 32100)', () => {
  it('accepts published valid codes', () => {
    expect(isValidUscc('9144030071526726XG')).toBe(true);
    expect(isValidUscc('11100000000013338W')).toBe(true);
  });

  it('computes the check character, including the final mod 31', () => {
    expect(usccCheckCharacter('9144030071526726X')).toBe('G');
    // A sum divisible by 31 must give check value 0, which a formula without the final mod 31 gets wrong.
    const base = '1121010000000000';
    const found = [...'0123456789ABCDEFGHJKLMNPQRTUWXY'].map((c) => base + c).find((p) => usccCheckCharacter(p) === '0');
    expect(found).toBeDefined();
    expect(isValidUscc(`${found}0`)).toBe(true);
  });

  it('refuses wrong check characters, forbidden letters, wrong length and lower case', () => {
    expect(isValidUscc('9144030071526726XH')).toBe(false);
    expect(isValidUscc('91350100M0001TGQXM')).toBe(false); // a legacy pilot code that fails the check
    expect(isValidUscc('9144030071526726IG')).toBe(false);
    expect(isValidUscc('9144030071526726X')).toBe(false);
    expect(isValidUscc('9144030071526726xg')).toBe(false);
  });
});

describe('resident ID number (GB 11643)', () => {
  it('accepts the published example and computes its X check character', () => {
    expect(isValidResidentId('11010519491231002X')).toBe(true);
    expect(residentIdCheckCharacter('11010519491231002')).toBe('X');
  });

  it('refuses wrong check characters, impossible dates and bad shapes', () => {
    expect(isValidResidentId('110105194912310021')).toBe(false);
    expect(isValidResidentId(`11010519490230002${residentIdCheckCharacter('11010519490230002')}`)).toBe(false); // 30 February
    expect(isValidResidentId('11010519491231002x')).toBe(false);
    expect(isValidResidentId('1101051949123100')).toBe(false);
  });
});
