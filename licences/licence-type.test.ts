import { describe, expect, it } from 'vitest';
import { isZtError } from '../core/errors/index.js';
import { DEMO_LICENCE_TYPES } from '../demo/licences.js';
import { effectiveStatus } from './licence.js';
import { readLicenceFields, readLicenceType } from './licence-type.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  return 'none';
}

const business = DEMO_LICENCE_TYPES[0]!;
const food = DEMO_LICENCE_TYPES[1]!;

describe('licence types', () => {
  it('accepts the demo types as they are', () => {
    for (const t of DEMO_LICENCE_TYPES) expect(readLicenceType(JSON.parse(JSON.stringify(t)))).toEqual(t);
  });

  it.each([
    ['a type code whose USCC is invalid', { code: '11100000MB0002581Y001' }],
    ['an authority that is not the type code\'s', { definingAuthority: { code: '11100000000013338W', name: 'x' } }],
    ['an unknown holder kind', { holderKind: 'both' }],
    ['a field of unknown kind', { fields: [{ code: 'a', label: 'A', kind: 'money', required: true }] }],
    ['a field code twice', { fields: [{ code: 'a', label: 'A', kind: 'string', required: true }, { code: 'a', label: 'B', kind: 'string', required: false }] }],
    ['no issuer', { issuers: [] }],
    ['an invalid issuer USCC', { issuers: ['11210100001000029M'] }],
  ])('refuses %s', (_what, change) => {
    expect(code(() => readLicenceType({ ...business, ...change }))).toBe('ZT_ERR_LICENCE_TYPE_INVALID');
  });

  it('checks and converts field values, from JSON values or text', () => {
    expect(readLicenceFields(food, { legalRepresentative: '刘志强', premises: '中街路128号', mainBusiness: '餐馆', businessItems: '热食', dailyCapacity: '400' })).toEqual({
      legalRepresentative: '刘志强',
      premises: '中街路128号',
      mainBusiness: '餐馆',
      businessItems: '热食',
      dailyCapacity: 400,
    });
    const values = { enterpriseType: '有限责任公司', legalRepresentative: '刘志强', registeredCapital: 100.5, establishedOn: '2018-04-20', address: '中街路128号', businessScope: '餐饮服务' };
    expect(readLicenceFields(business, values).registeredCapital).toBe('100.5');
  });

  it.each([
    ['a missing required field', { legalRepresentative: '刘志强' }],
    ['an unknown field', { ...{ legalRepresentative: 'a', premises: 'b', mainBusiness: 'c', businessItems: 'd' }, colour: 'red' }],
    ['an integer that is not one', { legalRepresentative: 'a', premises: 'b', mainBusiness: 'c', businessItems: 'd', dailyCapacity: '4.5' }],
    ['text over its length', { legalRepresentative: 'a'.repeat(51), premises: 'b', mainBusiness: 'c', businessItems: 'd' }],
  ])('refuses %s', (_what, values) => {
    expect(code(() => readLicenceFields(food, values))).toBe('ZT_ERR_LICENCE_FIELDS_INVALID');
  });

  it('refuses impossible dates', () => {
    const values = { enterpriseType: 'a', legalRepresentative: 'b', registeredCapital: '1', establishedOn: '2023-02-30', address: 'c', businessScope: 'd' };
    expect(code(() => readLicenceFields(business, values))).toBe('ZT_ERR_LICENCE_FIELDS_INVALID');
  });
});

describe('effective status', () => {
  const at = new Date('2026-06-30T17:00:00Z'); // 2026-07-01 01:00 in China
  it('applies the dates in China time to an active licence only', () => {
    expect(effectiveStatus('active', '2026-07-01', undefined, at)).toBe('valid');
    expect(effectiveStatus('active', '2026-07-02', undefined, at)).toBe('not-yet-valid');
    expect(effectiveStatus('active', '2020-01-01', '2026-06-30', at)).toBe('expired');
    expect(effectiveStatus('active', '2020-01-01', '2026-07-01', at)).toBe('valid');
    expect(effectiveStatus('revoked', '2020-01-01', undefined, at)).toBe('revoked');
    expect(effectiveStatus('suspended', '2030-01-01', undefined, at)).toBe('suspended');
  });
});

describe('the verification answer\'s canonical form', () => {
  it('is canonicalJson of the answer, with and without the department\'s fields', async () => {
    const { canonicalJson } = await import('../core/canonical-json.js');
    const { canonicalVerification } = await import('./verification.js');
    const licence = { identifier: 'x', name: '营业执照', typeCode: 't', typeName: '营业执照', licenceNumber: 'n', issuer: { code: 'c', name: '局' }, issueDate: '2026-01-01', holder: { name: '沈阳**公司', code: 'h', codeType: '001' }, validFrom: '2026-01-01', version: 1, fields: { a: 1, b: 'two "quoted"', c: true } };
    const base = { schema: 'zhengtong/licence-verification/v1' as const, identifier: 'x', status: 'valid' as const, registryStatus: 'active' as const, documentSm3: 'ab', checked: 'identifier' as const, audience: 'public', licence, checkedAt: '2026-11-27T00:00:00.000Z' };
    expect(canonicalVerification(base, canonicalJson(licence)).toString()).toBe(canonicalJson(base));
    const dept = { ...base, audience: '112101000010000537', accessId: '0190-x', requestDigest: 'cd' };
    expect(canonicalVerification(dept, canonicalJson(licence)).toString()).toBe(canonicalJson(dept));
  });
});
