import { describe, expect, it } from 'vitest';
import { applyMasks, combineMasks, maskSpec, maskValue } from './masks.js';

const idMask = maskSpec('keep-ends', 6, 4);

describe('maskValue', () => {
  it('keeps the first 6 and last 4 characters of an ID number', () => {
    expect(maskValue('11010519491231002X', idMask)).toBe('110105********002X');
  });

  it('masks a value no longer than keepStart + keepEnd entirely, so no mask reveals a whole value', () => {
    expect(maskValue('1234567890', idMask)).toBe('**********');
    expect(maskValue('123', idMask)).toBe('***');
    expect(maskValue('', idMask)).toBe('');
  });

  it('counts characters, not UTF-16 units (a rare character in a name is one character)', () => {
    expect(maskValue('𠮷野家', maskSpec('keep-ends', 1, 0))).toBe('𠮷**');
    expect(maskValue('张三', maskSpec('keep-ends', 1, 0))).toBe('张*');
  });

  it('keeps the year or the year and month of a date, from text or a Date (Beijing day)', () => {
    expect(maskValue('2009-03-15', maskSpec('year-only'))).toBe('2009');
    expect(maskValue('20090315', maskSpec('year-month'))).toBe('2009-03');
    expect(maskValue(new Date('2009-12-31T20:00:00Z'), maskSpec('year-only'))).toBe('2010'); // 04:00 on 1 January in Beijing
    expect(maskValue('not a date', maskSpec('year-only'))).toBeNull();
  });

  it('redacts to null, and leaves null and undefined alone', () => {
    expect(maskValue('secret', maskSpec('redact'))).toBeNull();
    expect(maskValue(12, maskSpec('redact'))).toBeNull();
    expect(maskValue(null, idMask)).toBeNull();
    expect(maskValue(undefined, idMask)).toBeUndefined();
  });
});

describe('combineMasks', () => {
  it('hides everything either mask hides', () => {
    expect(combineMasks(idMask, maskSpec('keep-ends', 3, 8))).toEqual(maskSpec('keep-ends', 3, 4));
    expect(combineMasks(idMask, maskSpec('redact'))).toEqual(maskSpec('redact'));
    expect(combineMasks(maskSpec('year-month'), maskSpec('year-only'))).toEqual(maskSpec('year-only'));
    expect(combineMasks(idMask, maskSpec('year-only'))).toEqual(maskSpec('redact'));
    expect(combineMasks(idMask, maskSpec('keep-ends', 6, 4))).toBe(idMask);
  });
});

describe('applyMasks', () => {
  it('returns only the released items, masked as the decision says', () => {
    const record = { name: '张三', idNumber: '11010519491231002X', photo: 'base64…', criminalRecord: '…' };
    const out = applyMasks(record, { items: [{ code: 'name', mask: null }, { code: 'idNumber', mask: idMask }, { code: 'birthDate', mask: null }] });
    expect(out).toEqual({ name: '张三', idNumber: '110105********002X' });
  });
});
