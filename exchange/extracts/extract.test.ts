import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { DEMO_SUBJECTS } from '../datasets/index.js';
import { ExtractValidator, parseCsvExtract, parseJsonlExtract, streamJsonlExtract, UnreadableRow, type ExtractRow, type ExtractRowError, type ValidRow } from './index.js';

const S = DEMO_SUBJECTS;
const people = new ExtractValidator({
  resource: 'T-GA-0001',
  items: [
    { code: 'idNumber', type: 'string' },
    { code: 'name', type: 'string' },
    { code: 'birthDate', type: 'date' },
    { code: 'children', type: 'integer' },
    { code: 'capital', type: 'decimal' },
    { code: 'alive', type: 'boolean' },
    { code: 'seenAt', type: 'datetime' },
    { code: 'note' },
  ],
  subjectKind: 'person',
  subjectItem: 'idNumber',
});
const marriages = new ExtractValidator({
  resource: 'T-MZ-0001',
  items: [{ code: 'maleIdNumber' }, { code: 'femaleIdNumber' }, { code: 'registrationType' }],
  subjectKind: 'person',
  subjectItem: ['maleIdNumber', 'femaleIdNumber'],
});

const valid = (result: ValidRow | ExtractRowError[]): ValidRow => {
  if (Array.isArray(result)) throw new Error(`expected a valid row, got ${JSON.stringify(result)}`);
  return result;
};
const errorsOf = (result: ValidRow | ExtractRowError[]): ExtractRowError[] => {
  if (!Array.isArray(result)) throw new Error(`expected errors, got ${JSON.stringify(result)}`);
  return result;
};
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isZtError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('ExtractValidator', () => {
  it('accepts a good row, normalising the identifier and converting text to the item types', () => {
    const row = valid(
      people.validate(
        { idNumber: ' 11010519491231002x ', name: '王芳', birthDate: '1949-12-31', children: '2', capital: 12.5, alive: 'true', seenAt: '2025-06-30 08:00', note: { any: 'json' } },
        1,
      ),
    );
    expect(row.subjects).toEqual(['11010519491231002X']);
    expect(row.values).toEqual({
      idNumber: '11010519491231002X',
      name: '王芳',
      birthDate: '1949-12-31',
      children: 2,
      capital: '12.5',
      alive: true,
      seenAt: '2025-06-30T08:00+08:00',
      note: { any: 'json' },
    });
    expect(row.updatedAt).toBeNull();
  });

  it('puts values in item order and leaves out empty ones', () => {
    const row = valid(people.validate({ name: '李雷', note: '', idNumber: S.applicant.idNumber, birthDate: null }, 1));
    expect(Object.keys(row.values)).toEqual(['idNumber', 'name']);
  });

  it('reports a bad or missing identifier, naming the item', () => {
    expect(errorsOf(people.validate({ idNumber: '110105194912310021', name: 'x' }, 7))).toEqual([
      { row: 7, item: 'idNumber', message: '"110105194912310021" is not a valid resident ID number (GB 11643)' },
    ]);
    expect(errorsOf(people.validate({ name: 'x' }, 8))[0]).toMatchObject({ row: 8, item: 'idNumber', message: expect.stringMatching(/missing/) });
    // A USCC is not a resident ID number, however valid.
    expect(errorsOf(people.validate({ idNumber: S.restaurant.uscc }, 9))[0]!.item).toBe('idNumber');
  });

  it('reports items the resource does not have, and values of the wrong type, all at once', () => {
    const errors = errorsOf(people.validate({ idNumber: S.applicant.idNumber, photo: 'x', children: 'two', birthDate: '2025-02-30', alive: 'yes', capital: '1e3', seenAt: 'noon' }, 3));
    expect(errors.map((e) => e.item)).toEqual(['photo', 'birthDate', 'children', 'capital', 'alive', 'seenAt']);
    expect(errors[0]!.message).toBe('T-GA-0001 has no data item "photo"');
    expect(errorsOf(people.validate({ idNumber: S.applicant.idNumber, name: 42 }, 1))[0]!.message).toBe('expected text, got 42');
  });

  it('reports rows that are not objects, and rows that could not be read', () => {
    expect(errorsOf(people.validate([1, 2], 1))[0]!.message).toMatch(/an object/);
    expect(errorsOf(people.validate(null, 2))[0]!.message).toMatch(/an object/);
    expect(errorsOf(people.validate(new UnreadableRow('not valid JSON'), 3))).toEqual([{ row: 3, message: 'not valid JSON' }]);
  });

  it('gives a row with two subject items both subjects, and refuses the same person twice', () => {
    expect(valid(marriages.validate({ maleIdNumber: S.applicant.idNumber, femaleIdNumber: S.spouse.idNumber, registrationType: '结婚' }, 1)).subjects).toEqual([
      S.applicant.idNumber,
      S.spouse.idNumber,
    ]);
    expect(errorsOf(marriages.validate({ maleIdNumber: S.applicant.idNumber, femaleIdNumber: S.applicant.idNumber }, 1))[0]!.message).toMatch(/twice in the row/);
    expect(errorsOf(marriages.validate({ maleIdNumber: S.applicant.idNumber }, 1))[0]!.item).toBe('femaleIdNumber');
  });

  it('reads _updatedAt as a date or date-time, China Standard Time unless it says otherwise', () => {
    const at = (value: unknown) => people.validate({ idNumber: S.applicant.idNumber, _updatedAt: value }, 1);
    expect(valid(at('2025-06-30')).updatedAt).toBe('2025-06-30T00:00:00+08:00');
    expect(valid(at('2025-06-30T10:15:00Z')).updatedAt).toBe('2025-06-30T10:15:00Z');
    expect(valid(at('2025-06-30 10:15:00')).updatedAt).toBe('2025-06-30T10:15:00+08:00');
    expect(valid(at('2025-06-30')).values).not.toHaveProperty('_updatedAt');
    expect(errorsOf(at('yesterday'))[0]!.item).toBe('_updatedAt');
    expect(errorsOf(at(20250630))[0]!.item).toBe('_updatedAt');
  });

  it('refuses a spec whose subject item is not an item, or whose codes are malformed', () => {
    expect(codeOf(() => new ExtractValidator({ resource: 'T-1', items: [{ code: 'name' }], subjectKind: 'person', subjectItem: 'idNumber' }))).toBe('ZT_ERR_DATA_ITEM_UNKNOWN');
    expect(codeOf(() => new ExtractValidator({ resource: 'T-1', items: [], subjectKind: 'person', subjectItem: 'idNumber' }))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => new ExtractValidator({ resource: 'T-1', items: [{ code: 'a' }, { code: 'a' }], subjectKind: 'person', subjectItem: 'a' }))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => new ExtractValidator({ resource: 'lower case', items: [{ code: 'a' }], subjectKind: 'person', subjectItem: 'a' }))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => new ExtractValidator({ resource: 'T-1', items: [{ code: 'a' }], subjectKind: 'robot' as 'person', subjectItem: 'a' }))).toBe('ZT_ERR_EXTRACT_INVALID');
  });
});

const sm3 = (s: string | Uint8Array): string => createHash('sm3').update(s).digest('hex');

describe('extract files', () => {
  it('reads CSV: header of item codes, quoted fields across lines, byte-order mark, trimmed cells', () => {
    const csv = '\uFEFFidNumber,name,address\r\n210103198503120312, 刘志强 ,"沈河区青年大街185号,\n2-3-1201"\r\n210105198709230421,陈静,\r\n';
    const parsed = parseCsvExtract(csv);
    expect(parsed.rows).toEqual([
      { idNumber: '210103198503120312', name: '刘志强', address: '沈河区青年大街185号,\n2-3-1201' },
      { idNumber: '210105198709230421', name: '陈静', address: '' },
    ]);
    expect([parsed.lineOf(1), parsed.lineOf(2)]).toEqual([2, 4]);
    expect(parsed.fileSm3).toBe(sm3(csv));
    expect(parseCsvExtract(Buffer.from(csv)).fileSm3).toBe(parsed.fileSm3);
  });

  it('turns a CSV record with the wrong number of fields into an unreadable row', () => {
    const parsed = parseCsvExtract('idNumber,name\n210103198503120312\n');
    expect(parsed.rows[0]).toBeInstanceOf(UnreadableRow);
    expect((parsed.rows[0] as UnreadableRow).message).toBe('has 1 fields, the header has 2');
  });

  it('refuses CSV that is malformed, empty or has an unusable header', () => {
    expect(codeOf(() => parseCsvExtract('idNumber,name\n"open,x\n'))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => parseCsvExtract(''))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => parseCsvExtract('idNumber,name,name\n1,2,3\n'))).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(codeOf(() => parseCsvExtract('idNumber,,name\n1,2,3\n'))).toBe('ZT_ERR_EXTRACT_INVALID');
  });

  it('reads JSON Lines, skipping blank lines and keeping bad lines as unreadable rows', () => {
    const jsonl = '{"idNumber":"210103198503120312","name":"刘志强"}\n\n{"idNumber": oops}\r\n{"idNumber":"210105198709230421"}';
    const parsed = parseJsonlExtract(jsonl);
    expect(parsed.rows).toHaveLength(3);
    expect(parsed.rows[0]).toEqual({ idNumber: '210103198503120312', name: '刘志强' });
    expect(parsed.rows[1]).toBeInstanceOf(UnreadableRow);
    expect([parsed.lineOf(1), parsed.lineOf(2), parsed.lineOf(3)]).toEqual([1, 3, 4]);
    expect(parsed.fileSm3).toBe(sm3(jsonl));
  });

  it('streams JSON Lines in chunks that split characters and lines, with the same rows and digest', async () => {
    const rows: ExtractRow[] = Array.from({ length: 50 }, (_, i) => ({ idNumber: S.applicant.idNumber, name: `沈阳市第${i}号`, n: i }));
    const bytes = Buffer.from(`\uFEFF${rows.map((r) => JSON.stringify(r)).join('\n')}\n\n`);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7); // 7 bytes: splits 3-byte characters
    }
    const streamed = streamJsonlExtract(chunks());
    expect(streamed.fileSm3()).toBeUndefined();
    const read: unknown[] = [];
    for await (const row of streamed.rows) read.push(row);
    expect(read).toEqual(rows);
    expect(streamed.fileSm3()).toBe(sm3(bytes));
    expect(streamed.lineOf(50)).toBe(50);
    const whole = parseJsonlExtract(bytes);
    expect(whole.rows).toEqual(rows);
    expect(whole.fileSm3).toBe(streamed.fileSm3());
  });

  it('streams a last line without a newline, and string chunks', async () => {
    async function* chunks(): AsyncGenerator<string> {
      yield '{"a":1}\n{"a"';
      yield ':2}';
    }
    const streamed = streamJsonlExtract(chunks());
    const read: unknown[] = [];
    for await (const row of streamed.rows) read.push(row);
    expect(read).toEqual([{ a: 1 }, { a: 2 }]);
    expect(streamed.fileSm3()).toBe(sm3('{"a":1}\n{"a":2}'));
  });
});
