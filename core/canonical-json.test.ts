import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: 'x' }], c: '政通' } })).toBe('{"a":{"c":"政通","d":[3,{"y":"x","z":true}]},"b":1}');
  });

  it('leaves out null and undefined members, so absent has one form', () => {
    expect(canonicalJson({ a: null, b: undefined, c: 0, d: '' })).toBe('{"c":0,"d":""}');
  });

  it('refuses values JSON cannot carry the same way twice', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(/plain objects/);
    expect(() => canonicalJson([1, null])).toThrow(/null/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });

  it('is the same for any key order, and parses back to the value', () => {
    // JSON values without null (canonical JSON drops null members and refuses null in arrays).
    const { json } = fc.letrec<{ json: unknown }>((tie) => ({
      json: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
        fc.boolean(),
        fc.array(tie('json')),
        fc.dictionary(fc.string(), tie('json')),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), (record) => {
        const shuffled = Object.fromEntries(Object.entries(record).reverse());
        const a = canonicalJson(record);
        expect(canonicalJson(shuffled)).toBe(a);
        expect(canonicalJson(JSON.parse(a))).toBe(a);
      }),
    );
  });
});
