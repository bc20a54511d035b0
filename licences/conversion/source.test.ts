import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_LINES, parseCsvRecord, readSource, surveySource, type SourceRow } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'zt-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: string | Buffer, ext = 'csv'): string {
  const path = join(dir, `f${++n}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function rows(path: string, options: Parameters<typeof readSource>[2] = {}): Promise<SourceRow[]> {
  const out: SourceRow[] = [];
  for await (const r of readSource(path, path.endsWith('.csv') ? 'csv' : 'jsonl', options).rows) out.push(r);
  return out;
}

describe('parseCsvRecord', () => {
  it('reads fields as RFC 4180 writes them', () => {
    expect(parseCsvRecord('a,"b,c","d""e",,f')).toEqual({ fields: ['a', 'b,c', 'd"e', '', 'f'] });
    expect(parseCsvRecord('"x\ny",z')).toEqual({ fields: ['x\ny', 'z'] });
    expect(parseCsvRecord('')).toEqual({ fields: [''] });
    expect(parseCsvRecord('a,')).toEqual({ fields: ['a', ''] });
  });

  it('tells an unfinished record from a broken one', () => {
    expect(parseCsvRecord('a,"b')).toEqual({ open: true });
    expect(parseCsvRecord('a,"b"c')).toMatchObject({ error: expect.stringContaining('after a closing quote') });
    expect(parseCsvRecord('a,b"c')).toMatchObject({ error: expect.stringContaining('inside an unquoted field') });
  });
});

describe('readSource (CSV)', () => {
  it('streams rows with their ordinal and first line: BOM, CRLF, quotes, a field over two lines, blank lines', async () => {
    const path = file('\uFEFFlicenceNumber, holderName ,remarks\r\nA1, 张三 ,"含,逗号"\r\n\r\nA2,李四,"两\r\n行"\r\nA3,王五,\r\n');
    const read = await rows(path);
    expect(read.map((r) => [r.row, r.line, r.values])).toEqual([
      [1, 2, { licenceNumber: 'A1', holderName: '张三', remarks: '含,逗号' }],
      [2, 4, { licenceNumber: 'A2', holderName: '李四', remarks: '两\n行' }],
      [3, 6, { licenceNumber: 'A3', holderName: '王五' }],
    ]);
    expect(read[1]!.raw).toBe('A2,李四,"两\n行"');
  });

  it('rejects a stray quote on its own line and reads the lines after it again', async () => {
    const path = file('a,b,c\n1,"broken,3\n4,5,6\n7,"x,y",8\n9,10\n11,12,13\n');
    const read = await rows(path);
    expect(read.map((r) => [r.row, r.line, r.values, r.problem === null ? null : r.problem.slice(0, 30)])).toEqual([
      [1, 2, null, 'a quoted field opened on this '],
      [2, 3, { a: '4', b: '5', c: '6' }, null],
      [3, 4, { a: '7', b: 'x,y', c: '8' }, null],
      [4, 5, null, 'has 2 fields, the header has 3'],
      [5, 6, { a: '11', b: '12', c: '13' }, null],
    ]);
  });

  it('gives up on a quote left open for too many lines, or to the end of the file', async () => {
    const many = ['a,b', '1,"open'];
    for (let i = 0; i < MAX_RECORD_LINES + 5; i++) many.push(`${i},ok`);
    const read = await rows(file(`${many.join('\n')}\n`));
    expect(read[0]).toMatchObject({ row: 1, line: 2, values: null, problem: expect.stringContaining(`within ${MAX_RECORD_LINES} lines`) });
    expect(read).toHaveLength(MAX_RECORD_LINES + 6);
    expect(read.at(-1)).toMatchObject({ values: { a: String(MAX_RECORD_LINES + 4), b: 'ok' } });

    const atEnd = await rows(file('a,b\n1,2\n3,"never closed\n4,5'));
    expect(atEnd.map((r) => [r.line, r.values])).toEqual([
      [2, { a: '1', b: '2' }],
      [3, null],
      [4, { a: '4', b: '5' }],
    ]);
  });

  it('passes over the rows a resumed run has done, numbering the rest as before', async () => {
    const path = file('a,b\n1,2\n"3\n3",4\n\n5,6\n7,8\n');
    const all = await rows(path);
    const resumed = await rows(path, { skip: 2 });
    expect(resumed).toEqual(all.slice(2));
    expect(resumed.map((r) => r.row)).toEqual([3, 4]);
  });

  it('refuses a file whose header is unusable', async () => {
    await expect(rows(file('a,,b\n1,2,3\n'))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('column 2 has no name') });
    await expect(rows(file('a,b,a\n'))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('column a appears twice') });
    await expect(rows(file('\n\n'))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('empty') });
    const checked: string[][] = [];
    await expect(
      rows(file('x,y\n1,2\n'), {
        checkHeader: (c) => {
          checked.push([...c]);
          throw new Error('no');
        },
      }),
    ).rejects.toThrow('no');
    expect(checked).toEqual([['x', 'y']]);
  });
});

describe('readSource (JSON Lines)', () => {
  it('reads one object per line, skipping blank lines, and reports what is not one', async () => {
    const path = file('{"a":1}\n\n{"a":\n[1]\n  {"b":"x"}  \r\n', 'jsonl');
    const read = await rows(path);
    expect(read.map((r) => [r.row, r.line, r.values, r.problem?.slice(0, 14) ?? null])).toEqual([
      [1, 1, { a: 1 }, null],
      [2, 3, null, 'not valid JSON'],
      [3, 4, null, 'each line must'],
      [4, 5, { b: 'x' }, null],
    ]);
    expect((await rows(path, { skip: 3 })).map((r) => r.row)).toEqual([4]);
  });
});

describe('surveySource', () => {
  it('gives the SM3 of the bytes, the size, a row estimate and the header', async () => {
    const content = Buffer.from('\uFEFFlicenceNumber,holderName\r\nA1,张三\r\nA2,李四', 'utf8');
    const path = file(content);
    const survey = await surveySource(path);
    expect(survey).toMatchObject({ format: 'csv', bytes: content.length, estimatedRows: 2, columns: ['licenceNumber', 'holderName'] });
    expect(survey.sm3).toBe(createHash('sm3').update(content).digest('hex'));
    const reader = readSource(path, 'csv');
    expect(reader.sm3()).toBeUndefined();
    for await (const _ of reader.rows);
    expect(reader.sm3()).toBe(survey.sm3);
    expect((await surveySource(file('{"a":1}\n{"a":2}\n', 'jsonl'))).estimatedRows).toBe(2);
  });

  it('refuses what it cannot convert: another format, a missing file, text that is not UTF-8', async () => {
    await expect(surveySource(join(dir, 'x.xlsx'))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT' });
    await expect(surveySource(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('ENOENT') });
    const gbk = Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]), Buffer.from('\n')]); // 张三 in GBK
    await expect(surveySource(file(gbk))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('not UTF-8') });
  });
});
