import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, formatCsv, parseCsv } from './csv.js';
import type { Demand } from './demand.js';
import { demandsFromCsv, demandsToCsv, resourcesFromCsv, resourcesToCsv } from './lists.js';
import type { DataResource } from './resource.js';

describe('CSV', () => {
  it('round-trips commas, quotes, line breaks, Chinese and surrounding spaces', () => {
    const rows = [
      ['a', 'b,c', 'say "hi"', '第一行\n第二行', ' padded ', '', '沈阳市，和平区'],
      ['1', '2', '3', '4', '5', '6', '7'],
    ];
    const text = formatCsv(rows);
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text).toContain('"b,c","say ""hi""","第一行\n第二行"," padded ",,沈阳市，和平区\r\n');
    expect(parseCsv(text).map((r) => r.fields)).toEqual(rows);
  });

  it('reads LF and CRLF, skips blank lines, and reports where records start', () => {
    const records = parseCsv('h1,h2\n"x\ny",2\r\n\r\nlast,\n');
    expect(records).toEqual([
      { fields: ['h1', 'h2'], line: 1 },
      { fields: ['x\ny', '2'], line: 2 },
      { fields: ['last', ''], line: 5 },
    ]);
  });

  it('rejects stray and unclosed quotes with the line', () => {
    expect(() => parseCsv('a,b\nx"y,z\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,b\nx"y,z\n')).toThrow(/line 2/);
    expect(() => parseCsv('a,"b\n')).toThrow(/not closed/);
    expect(() => parseCsv('"a"b\n')).toThrow(/after a closing quote/);
  });
});

const resource: DataResource = {
  code: '210100-GA-0001',
  name: '人口基本信息，"测试"',
  provider: '11210100001000010R',
  sharingClass: 'not-shared',
  legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' },
  updateCycle: 'daily',
  connector: { kind: 'http', endpoint: 'https://ga.example/a,b' },
  items: [
    { code: 'name', name: '姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
    { code: 'photo', name: '照片, "证件照"', type: 'binary', sensitivity: 'restricted', categories: ['personal', 'biometric'] },
  ],
  createdAt: new Date(),
  updatedAt: new Date(),
};

describe('supply list CSV', () => {
  it('round-trips a resource through one row per data item', () => {
    const batch = resourcesFromCsv(resourcesToCsv([resource]));
    expect(batch.errors).toEqual([]);
    expect(batch.records).toEqual([
      {
        row: 2,
        value: {
          code: resource.code,
          name: resource.name,
          provider: resource.provider,
          sharingClass: 'not-shared',
          legalBasis: resource.legalBasis,
          updateCycle: 'daily',
          connector: resource.connector,
          items: resource.items,
        },
      },
    ]);
  });

  it('accepts the sharing class in Chinese', () => {
    const csv = 'resourceCode,resourceName,provider,sharingClass,updateCycle,connectorKind,connectorEndpoint,itemCode,itemName,itemType,itemSensitivity\nX-1,n,11210100001000010R,有条件共享,daily,http,e,a,A,string,public\n';
    expect(resourcesFromCsv(csv).records[0]!.value.sharingClass).toBe('conditional');
  });

  it('reports header problems on row 1 and conflicting resource columns on their row', () => {
    expect(resourcesFromCsv('resourceCode,bogus\n').errors.map((e) => e.message)).toEqual([expect.stringMatching(/unknown column "bogus"/), expect.stringMatching(/missing column resourceName/)]);
    const text = resourcesToCsv([resource]).replace(/(\r\n210100-GA-0001,)[^\r]*?,11210100001000010R,not-shared,/, '$1other name,11210100001000010R,not-shared,');
    const errors = resourcesFromCsv(text).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 3, column: 'resourceName' });
    expect(resourcesFromCsv('').errors[0]!.message).toMatch(/empty/);
    expect(resourcesFromCsv('a,"b\n').errors[0]!.message).toMatch(/malformed/);
  });
});

describe('demand list CSV', () => {
  const demand: Demand = {
    id: '0198b5d0-0000-7000-8000-000000000000',
    requester: '112101000010000537',
    provider: '11210100001000045C',
    resource: '210100-MZ-0001',
    items: ['maleName', 'femaleName'],
    serviceItem: 'HJQY-210100-0004',
    legalBasis: { title: '《优化营商环境条例》，第二章', article: null },
    expectedDailyVolume: 800,
    validFrom: '2025-09-01',
    validTo: '2026-08-31',
    state: 'approved',
    replyDue: '2025-09-08',
    overdue: false,
    terms: { items: ['maleName'], dailyQuota: 10, validUntil: null },
    refusal: null,
    createdAt: new Date('2025-09-01T02:00:00Z'),
  };

  it('exports state and reply, and imports the registration back (ignoring the export-only columns)', () => {
    const csv = demandsToCsv([demand]);
    expect(csv).toContain(',approved,2025-09-08,false,maleName,10,');
    const batch = demandsFromCsv(csv);
    expect(batch.errors).toEqual([]);
    expect(batch.records).toEqual([
      {
        row: 2,
        value: {
          requester: demand.requester,
          resource: demand.resource,
          items: demand.items,
          serviceItem: demand.serviceItem,
          legalBasis: demand.legalBasis,
          expectedDailyVolume: 800,
          validFrom: '2025-09-01',
          validTo: '2026-08-31',
        },
      },
    ]);
  });

  it('reports rows with the wrong number of fields', () => {
    const csv = 'requester,resource,items,serviceItem,legalBasisTitle,expectedDailyVolume,validTo\na,b,c,d,e,1\n';
    expect(demandsFromCsv(csv).errors).toEqual([expect.objectContaining({ row: 2, message: expect.stringMatching(/6 fields, the header has 7/) })]);
  });
});
