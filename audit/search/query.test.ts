// The parts of the search that need no server: reading parameters, the cursor, CSV cells.
import { describe, expect, it } from 'vitest';
import { ZtError } from '../../core/errors/index.js';
import { csvCell } from './export-format.js';
import { chinaDateOf, decodeCursor, encodeCursor, readSearchQuery } from './query.js';

const bounds = { maxRangeDays: 366 };

function refusedParameter(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ZtError);
    expect((error as ZtError).code).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
    return (error as { details: { parameter: string } }).details.parameter;
  }
  throw new Error('expected a refusal');
}

describe('readSearchQuery', () => {
  it('reads dates as China midnight, normalises codes, defaults the page size', () => {
    const q = readSearchQuery({ from: '2026-03-01', to: '2026-03-02T00:00:00+08:00', department: '11210100001000010r', subject: '11010519491231002x' }, bounds);
    expect(q.filters.from!.toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(q.filters.department).toBe('11210100001000010R');
    expect(q.filters.subject).toBe('11010519491231002X');
    expect(q.limit).toBe(50);
  });

  it('refuses unknown, repeated, malformed and unbounded parameters, naming them', () => {
    expect(refusedParameter(() => readSearchQuery({ departmnet: 'x', subject: '11010519491231002X' }, bounds))).toBe('departmnet');
    expect(refusedParameter(() => readSearchQuery({ subject: ['11010519491231002X', '11010519491231002X'] }, bounds))).toBe('subject');
    expect(refusedParameter(() => readSearchQuery({ operator: 'x' }, bounds))).toBe('from');
    expect(refusedParameter(() => readSearchQuery({ from: '2025-01-01', to: '2026-03-01' }, bounds))).toBe('to');
    expect(refusedParameter(() => readSearchQuery({ from: '2026-01-01T00:00:00', to: '2026-03-01' }, bounds))).toBe('from');
    expect(refusedParameter(() => readSearchQuery({ caseNumber: 'x', limit: '0.5' }, bounds))).toBe('limit');
    expect(refusedParameter(() => readSearchQuery({ caseNumber: ' ' }, bounds))).toBe('caseNumber');
    expect(readSearchQuery({ from: '2025-03-01', to: '2026-03-01' }, bounds).filters.to).toBeDefined(); // 365 days
  });

  it('binds a cursor to its filters and keeps microseconds', () => {
    const { filters } = readSearchQuery({ caseNumber: 'C-1' }, bounds);
    const cursor = { atMicros: 1_772_000_000_123_456n, seq: 42n };
    const text = encodeCursor(filters, cursor);
    expect(decodeCursor(text, filters)).toEqual(cursor);
    expect(refusedParameter(() => decodeCursor(text, { caseNumber: 'C-2' }))).toBe('cursor');
    expect(refusedParameter(() => decodeCursor(`A${text.slice(1)}`, filters))).toBe('cursor');
    expect(refusedParameter(() => decodeCursor("' OR 1=1 --", filters))).toBe('cursor');
  });

  it('tells the China date of an instant', () => {
    expect(chinaDateOf(new Date('2026-11-30T16:00:00Z'))).toBe('2026-12-01');
    expect(chinaDateOf(new Date('2026-11-30T15:59:59.999Z'))).toBe('2026-11-30');
  });
});

describe('csvCell', () => {
  it('quotes and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(f).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(null)).toBe('');
  });
});
