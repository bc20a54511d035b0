import { describe, expect, it } from 'vitest';
import { composeResidentId, composeUscc } from '../../exchange/datasets/codes.js';
import { formatLicenceIdentifier, makeLicenceIdentifier } from '../identifier.js';
import type { LicenceType } from '../licence-type.js';
import { NON_STANDARD_CHECK_FLAG, serialFromLicenceNumber, StockRowReader, type StockLicence, type StockRejection } from './stock-row.js';

const CIVIL = '11210100001000045C';
const MARKET = '11210100001000029N';
const TYPE: LicenceType = {
  code: '11100000MB00032322901',
  name: '收养登记证',
  definingAuthority: { code: '11100000MB00032322', name: '民政部门' },
  holderKind: 'person',
  issuers: [CIVIL, MARKET],
  validityYears: 10,
  fields: [
    { code: 'registeredOn', label: '登记日期', kind: 'date', required: true },
    { code: 'children', label: '子女数', kind: 'integer', required: false },
  ],
};
const ID = composeResidentId('210103', '1985-03-12', 31);

function row(values: Record<string, unknown> = {}): Record<string, unknown> {
  return { licenceNumber: 'SY2020001', holderName: '刘志强', holderCode: ID, issueDate: '2020-05-06', registeredOn: '2020-05-06', ...values };
}

const reader = new StockRowReader(TYPE, { defaultIssuer: CIVIL, today: '2025-01-01' });
const accepted = (r: StockLicence | StockRejection): StockLicence => {
  if ('code' in r) throw new Error(`rejected: ${r.code} ${r.reason}`);
  return r;
};
const rejected = (r: StockLicence | StockRejection): StockRejection => {
  if (!('code' in r)) throw new Error('accepted');
  return r;
};

describe('serialFromLicenceNumber', () => {
  it('keeps a number of letters and digits, and hashes any other one, one to one', () => {
    expect(serialFromLicenceNumber('91210103MA0U7G5K1B')).toBe('91210103MA0U7G5K1B');
    const a = serialFromLicenceNumber('JY-2210-1');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(serialFromLicenceNumber('JY-2210-1')).toBe(a);
    expect(serialFromLicenceNumber('JY2210-1')).not.toBe(a);
    expect(serialFromLicenceNumber('（2024）沈民收字第001号')).toMatch(/^[0-9a-f]{32}$/);
    expect(serialFromLicenceNumber('A'.repeat(65))).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('StockRowReader', () => {
  it('reads a good row: identifier from the number, the default issuer, the type default validity, fields converted', () => {
    const l = accepted(reader.read(row({ holderCode: ID.toLowerCase(), children: '2' }), 7, 9));
    expect(l).toMatchObject({
      row: 7,
      line: 9,
      licenceNumber: 'SY2020001',
      holder: { name: '刘志强', code: ID.toUpperCase(), codeType: '111' },
      issuerCode: CIVIL,
      identifierIssuer: CIVIL,
      validFrom: '2020-05-06',
      validTo: '2030-05-05',
      areaCode: '210100',
      fields: { registeredOn: '2020-05-06', children: 2 },
      flags: [],
    });
    expect(l.identifier.text).toBe(makeLicenceIdentifier({ typeCode: TYPE.code, issuerCode: CIVIL, serial: 'SY2020001', version: 1 }).text);
  });

  it('takes the issuer from the row, else from a given identifier, else the default; only the type\'s issuers', () => {
    expect(accepted(reader.read(row({ issuerCode: MARKET.toLowerCase() }), 1, 2)).issuerCode).toBe(MARKET);
    const theirs = makeLicenceIdentifier({ typeCode: TYPE.code, issuerCode: MARKET, serial: 'X1', version: 2 });
    expect(accepted(reader.read(row({ identifier: theirs.text }), 1, 2))).toMatchObject({ issuerCode: MARKET, identifier: { version: 2, serial: 'X1' } });
    const other = composeUscc('11', '210100', '00100099');
    expect(rejected(reader.read(row({ issuerCode: other }), 1, 2))).toMatchObject({ code: 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', licenceNumber: 'SY2020001' });
    expect(rejected(reader.read(row({ issuerCode: `${other.slice(0, 17)}${other.endsWith('1') ? '2' : '1'}` }), 1, 2)).reason).toContain('not a valid unified social credit code');
    // Two issuers and no default: the row must say.
    const noDefault = new StockRowReader(TYPE, { today: '2025-01-01' });
    expect(rejected(noDefault.read(row(), 1, 2)).code).toBe('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED');
    // One issuer: that one.
    const single = new StockRowReader({ ...TYPE, issuers: [MARKET] }, { today: '2025-01-01' });
    expect(accepted(single.read(row(), 1, 2)).issuerCode).toBe(MARKET);
  });

  it('accepts another region\'s identifier with a non-standard check character, and flags it', () => {
    const id = makeLicenceIdentifier({ typeCode: TYPE.code, issuerCode: '440300', serial: 'SZ0001', version: 1 });
    const text = formatLicenceIdentifier({ ...id, check: id.check === '0' ? '1' : '0' });
    const l = accepted(reader.read(row({ identifier: text }), 1, 2));
    expect(l).toMatchObject({ identifier: { text, issuerCode: '440300' }, identifierIssuer: '440300', issuerCode: CIVIL, areaCode: '440300', flags: [NON_STANDARD_CHECK_FLAG] });
    expect(accepted(reader.read(row({ identifier: id.text }), 1, 2)).flags).toEqual([]);
  });

  it('rejects an identifier that is malformed, of another type, or of another issuing department', () => {
    expect(rejected(reader.read(row({ identifier: '1.2.156.3005.2.X' }), 1, 2)).code).toBe('ZT_ERR_LICENCE_IDENTIFIER_INVALID');
    const otherType = makeLicenceIdentifier({ typeCode: '11100000MB00032322902', issuerCode: CIVIL, serial: 'A1', version: 1 });
    expect(rejected(reader.read(row({ identifier: otherType.text }), 1, 2)).reason).toContain('is of licence type 11100000MB00032322902');
    const otherIssuer = makeLicenceIdentifier({ typeCode: TYPE.code, issuerCode: MARKET, serial: 'A1', version: 1 });
    expect(rejected(reader.read(row({ identifier: otherIssuer.text, issuerCode: CIVIL }), 1, 2)).reason).toContain(`names issuer ${MARKET}`);
  });

  it('rejects holders, dates and fields that do not fit, saying which', () => {
    const wrongCheck = ID.slice(0, 17) + (ID.endsWith('1') ? '2' : '1');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ holderCode: wrongCheck }, 'ZT_ERR_LICENCE_HOLDER_INVALID', 'resident ID number'],
      [{ holderCode: composeUscc('91', '210100', 'MA000001') }, 'ZT_ERR_LICENCE_HOLDER_INVALID', 'held by a person'],
      [{ holderName: '' }, 'ZT_ERR_LICENCE_HOLDER_INVALID', 'holderName'],
      [{ licenceNumber: undefined }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'licenceNumber'],
      [{ licenceNumber: 'a b' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'licenceNumber'],
      [{ issueDate: '2021-02-30' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'issueDate'],
      [{ issueDate: '2025-01-02' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'after today'],
      [{ validFrom: '2020-06-01', validTo: '2020-05-31' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'before validFrom'],
      [{ areaCode: '21010' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'areaCode'],
      [{ colour: '红' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'has no field colour'],
      [{ registeredOn: undefined }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'registeredOn'],
      [{ children: 'two' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'whole number'],
      [{ holderName: 42 }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'must be text'],
      [{ fields: 'x' }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'fields must be an object'],
      [{ children: 1, fields: { children: 2 } }, 'ZT_ERR_LICENCE_FIELDS_INVALID', 'given twice'],
    ];
    for (const [values, code, reason] of cases) {
      const r = rejected(reader.read(row(values), 3, 4));
      expect([r.code, r.reason], JSON.stringify(values)).toEqual([code, expect.stringContaining(reason)]);
      expect(r).toMatchObject({ row: 3, line: 4 });
    }
  });

  it('takes fields nested under fields (JSON Lines) as well as at the top level', () => {
    expect(accepted(reader.read(row({ registeredOn: undefined, fields: { registeredOn: '2020-05-06', children: 3 } }), 1, 1)).fields).toEqual({ registeredOn: '2020-05-06', children: 3 });
  });

  it('checks the header for the required columns', () => {
    expect(() => reader.checkColumns(['licenceNumber', 'holderName', 'holderCode', 'issueDate'])).not.toThrow();
    expect(() => reader.checkColumns(['licenceNumber', 'holderName', 'issueDate', 'registeredOn'])).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('no column holderCode') }));
  });
});
