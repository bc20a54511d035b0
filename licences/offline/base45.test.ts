import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base45Decode, base45Encode } from './base45.js';

describe('Base45 (RFC 9285)', () => {
  it.each([
    ['AB', 'BB8'],
    ['Hello!!', '%69 VD92EX0'],
    ['base-45', 'UJCLQE7W581'],
    ['ietf!', 'QED8WEX0'],
    ['', ''],
  ])('encodes %j as %j (the RFC examples) and back', (text, encoded) => {
    expect(base45Encode(Buffer.from(text))).toBe(encoded);
    expect(base45Decode(encoded).toString()).toBe(text);
  });

  it('round-trips random bytes of every length parity, extremes included', () => {
    for (const bytes of [Buffer.from([0xff, 0xff]), Buffer.from([0xff]), Buffer.from([0, 0, 0]), randomBytes(999), randomBytes(1000)]) {
      const text = base45Encode(bytes);
      expect(text).toMatch(/^[0-9A-Z $%*+\-./:]*$/);
      expect(base45Decode(text).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['a group above 65535', 'GGW'],
    ['a final pair above 255', 'ZZ'],
    ['a dangling character', 'BB8A'],
    ['a lower-case letter', 'bb8'],
    ['a character outside the alphabet', 'BB#'],
  ])('refuses %s', (_what, text) => {
    expect(() => base45Decode(text)).toThrow(RangeError);
  });
});
