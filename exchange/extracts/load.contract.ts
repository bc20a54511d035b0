// One contract for loading extracts and seeding the demo datasets, run on PGlite and on PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isZtError, type ZtError } from '../../core/errors/index.js';
import { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import { DEMO_RESOURCES } from '../../demo/catalogue.js';
import { DEMO_SUBJECTS, generateDemoDatasets } from '../datasets/index.js';
import { loadExtract, parseCsvExtract, parseJsonlExtract, seedDemoDatasets, streamJsonlExtract, type ExtractLoad, type ExtractRow } from './index.js';
import type { DatabaseHarness } from './test-databases.js';

const S = DEMO_SUBJECTS;
const SUPPLIER = '11210100001000010R';
const KEY_1 = randomBytes(32);
const pseudonyms = new BlindIndex([{ version: 1, key: KEY_1 }]);
/** A subject's key in the exchange's tables: the blind index of its identifier. */
const key = (code: string): string => pseudonyms.of(code);
const ITEMS = [
  { code: 'idNumber', type: 'string' },
  { code: 'name', type: 'string' },
  { code: 'address', type: 'string' },
  { code: 'children', type: 'integer' },
] as const;

interface RecordRow {
  subject_code: string;
  subject_kind: string;
  values: Record<string, unknown>;
  updated_at: Date | null;
  loaded_at: Date;
  extract_id: string;
}

async function rejection(promise: Promise<unknown>): Promise<ZtError> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection with a ZtError, but the promise resolved');
}

export function loadContract(harness: DatabaseHarness): void {
  let db: Database;
  let resourceSeq = 0;
  /** A resource code of its own for each test, so that tests do not see each other's records. */
  const freshResource = (): string => `T-GA-${String(++resourceSeq).padStart(4, '0')}`;
  const spec = (resource: string, rows: ExtractLoad['rows'], extra: Partial<ExtractLoad> = {}): ExtractLoad => ({
    resource,
    supplier: SUPPLIER,
    pseudonyms,
    items: ITEMS,
    subjectKind: 'person',
    subjectItem: 'idNumber',
    rows,
    ...extra,
  });
  const records = async (resource: string): Promise<RecordRow[]> =>
    (await db.query<RecordRow>('SELECT subject_code, subject_kind, "values", updated_at, loaded_at, extract_id::text FROM exchange_records WHERE resource = $1 ORDER BY subject_code', [resource])).rows;
  const extracts = async (resource: string): Promise<Record<string, unknown>[]> =>
    (await db.query('SELECT id::text, supplier_uscc, row_count, record_count, content_sm3, file_sm3, file_name FROM exchange_extracts WHERE resource = $1 ORDER BY loaded_at', [resource])).rows;

  beforeAll(async () => {
    db = await harness.open();
  });
  afterAll(async () => {
    await harness.dispose();
  });

  it('loads the rows, one record per subject, and records the extract', async () => {
    const resource = freshResource();
    const at = new Date('2025-07-01T02:00:00.000Z');
    const report = await loadExtract(db, spec(resource, [
      { idNumber: S.applicant.idNumber, name: S.applicant.name, address: '沈河区', children: '1', _updatedAt: '2025-06-30' },
      { idNumber: S.spouse.idNumber, name: S.spouse.name },
    ], { at, fileName: 'ga.csv', fileSm3: 'ab'.repeat(32) }));
    expect(report).toMatchObject({ resource, supplier: SUPPLIER, subjectKind: 'person', rows: 2, records: 2, fileSm3: 'ab'.repeat(32), loadedAt: at });
    expect(report.contentSm3).toMatch(/^[0-9a-f]{64}$/);
    const rows = await records(resource);
    const expected = [
      {
        subject_code: key(S.applicant.idNumber),
        subject_kind: 'person',
        values: { idNumber: S.applicant.idNumber, name: S.applicant.name, address: '沈河区', children: 1 },
        updated_at: new Date('2025-06-29T16:00:00.000Z'),
        loaded_at: at,
        extract_id: report.id,
      },
      { subject_code: key(S.spouse.idNumber), subject_kind: 'person', values: { idNumber: S.spouse.idNumber, name: S.spouse.name }, updated_at: null, loaded_at: at, extract_id: report.id },
    ].sort((a, b) => (a.subject_code < b.subject_code ? -1 : 1));
    expect(rows).toEqual(expected);
    expect(await extracts(resource)).toEqual([
      { id: report.id, supplier_uscc: SUPPLIER, row_count: 2, record_count: 2, content_sm3: report.contentSm3, file_sm3: 'ab'.repeat(32), file_name: 'ga.csv' },
    ]);
  });

  it('replaces a record on a later extract, keeping one per subject', async () => {
    const resource = freshResource();
    const first = await loadExtract(db, spec(resource, [{ idNumber: S.applicant.idNumber, name: '刘志强', address: '沈河区' }, { idNumber: S.spouse.idNumber, name: '陈静' }], { at: new Date('2025-07-01T00:00:00Z') }));
    const second = await loadExtract(db, spec(resource, [{ idNumber: S.applicant.idNumber, name: '刘志强', children: 1 }], { at: new Date('2025-08-01T00:00:00Z') }));
    const rows = await records(resource);
    expect(rows.map((r) => [r.subject_code, r.values, r.loaded_at.toISOString(), r.extract_id])).toEqual(
      [
        // The whole record is replaced: the address, absent from the new row, is gone.
        [key(S.applicant.idNumber), { idNumber: S.applicant.idNumber, name: '刘志强', children: 1 }, '2025-08-01T00:00:00.000Z', second.id],
        [key(S.spouse.idNumber), { idNumber: S.spouse.idNumber, name: '陈静' }, '2025-07-01T00:00:00.000Z', first.id],
      ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    expect((await extracts(resource)).map((e) => e.id)).toEqual([first.id, second.id]);
  });

  it('keys a reloaded record under the current key version, replacing the one under the version before', async () => {
    const resource = freshResource();
    await loadExtract(db, spec(resource, [{ idNumber: S.applicant.idNumber, name: '刘志强' }, { idNumber: S.spouse.idNumber, name: '陈静' }]));
    const rotated = new BlindIndex([{ version: 1, key: KEY_1 }, { version: 2, key: randomBytes(32) }]);
    await loadExtract(db, spec(resource, [{ idNumber: S.applicant.idNumber, name: '刘志强', children: 1 }], { pseudonyms: rotated }));
    const rows = await records(resource);
    expect(rows.map((r) => [r.subject_code, r.values.name])).toEqual(
      [
        [rotated.of(S.applicant.idNumber), '刘志强'],
        [key(S.spouse.idNumber), '陈静'],
      ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    expect(rotated.of(S.applicant.idNumber)).toMatch(/^p2\./);
  });

  it('loads nothing when one row is bad, listing the bad rows with their numbers', async () => {
    const resource = freshResource();
    const error = await rejection(loadExtract(db, spec(resource, [
      { idNumber: S.applicant.idNumber, name: '刘志强' },
      { idNumber: '210103198503120313', name: '错号' },
      { idNumber: S.spouse.idNumber, nickname: '静静' },
    ])));
    expect(error.code).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(error.message).toMatch(/2 of 3 rows are invalid/);
    expect(error.message).toMatch(/row 2, idNumber: "210103198503120313" is not a valid resident ID number/);
    expect(error.details).toMatchObject({ resource, rows: 3, invalidRows: 2, errors: [{ row: 2, item: 'idNumber' }, { row: 3, item: 'nickname' }] });
    expect(await records(resource)).toEqual([]);
    expect(await extracts(resource)).toEqual([]);
  });

  it('rolls back batches already written when a later row is bad', async () => {
    const resource = freshResource();
    const rows: ExtractRow[] = generateDemoDatasets({ persons: 100, enterprises: 10 }).persons.map((p) => ({ idNumber: p.idNumber, name: p.name }));
    rows.push({ idNumber: 'not an ID' });
    const error = await rejection(loadExtract(db, spec(resource, rows, { batchSize: 7 })));
    expect(error.details).toMatchObject({ rows: 101, invalidRows: 1, errors: [{ row: 101 }] });
    expect(await records(resource)).toEqual([]);
  });

  it('refuses a subject that appears twice in one extract, naming both rows', async () => {
    const resource = freshResource();
    const error = await rejection(loadExtract(db, spec(resource, [{ idNumber: S.applicant.idNumber }, { idNumber: S.spouse.idNumber }, { idNumber: S.applicant.idNumber.toLowerCase() }])));
    expect(error.code).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(error.details).toMatchObject({ errors: [{ row: 3, message: `subject ${S.applicant.idNumber} is already in row 1; an extract holds one row per subject` }] });
  });

  it('refuses an empty extract, and a supplier that is not a USCC', async () => {
    const resource = freshResource();
    const empty = await rejection(loadExtract(db, spec(resource, [])));
    expect(empty.code).toBe('ZT_ERR_EXTRACT_INVALID');
    expect(empty.message).toMatch(/no rows/);
    expect((await rejection(loadExtract(db, { ...spec(resource, [{ idNumber: S.applicant.idNumber }]), supplier: '11210100001000010A' }))).code).toBe('ZT_ERR_ID_INVALID_USCC');
    expect((await rejection(loadExtract(db, { ...spec(resource, [{ idNumber: S.applicant.idNumber }]), subjectItem: 'uscc' }))).code).toBe('ZT_ERR_DATA_ITEM_UNKNOWN');
    expect(await extracts(resource)).toEqual([]);
  });

  it('lists only the first errors, and says how many more there are', async () => {
    const resource = freshResource();
    const rows = Array.from({ length: 30 }, (_, i) => ({ idNumber: S.applicant.idNumber, [`bad${i}`]: 1 }));
    rows.push({ idNumber: S.spouse.idNumber, bad: 1, worse: 2 } as never);
    const error = await rejection(loadExtract(db, spec(resource, rows, { maxErrors: 5 })));
    const details = error.details as { errors: unknown[]; invalidRows: number; unlisted: number };
    expect(details.errors).toHaveLength(5);
    expect(details.invalidRows).toBe(31);
    expect(details.unlisted).toBe(25 + 2); // the last row has two errors
    expect(error.message).toMatch(/31 of 31 rows are invalid/);
    expect(error.message).toMatch(/and 27 more$/);
  });

  it('stores a row with two subjects once for each, found by either', async () => {
    const resource = 'T-MZ-0001';
    const report = await loadExtract(db, {
      resource,
      supplier: '11210100001000045C',
      pseudonyms,
      items: [{ code: 'maleIdNumber' }, { code: 'femaleIdNumber' }, { code: 'registrationType' }],
      subjectKind: 'person',
      subjectItem: ['maleIdNumber', 'femaleIdNumber'],
      rows: [{ maleIdNumber: S.applicant.idNumber, femaleIdNumber: S.spouse.idNumber, registrationType: '结婚' }],
    });
    expect([report.rows, report.records]).toEqual([1, 2]);
    const rows = await records(resource);
    expect(rows.map((r) => r.subject_code)).toEqual([key(S.applicant.idNumber), key(S.spouse.idNumber)].sort());
    expect(JSON.stringify(rows.map((r) => r.subject_code))).not.toContain(S.applicant.idNumber);
    expect(rows[0]!.values).toEqual(rows[1]!.values);
  });

  it('gives the same content digest to the same data as CSV and as JSON Lines, and keeps each file digest', async () => {
    const csv = `idNumber,name,children\r\n${S.applicant.idNumber},刘志强,1\r\n${S.spouse.idNumber},陈静,\r\n`;
    const jsonl = `{"name":"刘志强","idNumber":"${S.applicant.idNumber}","children":1}\n{"idNumber":"${S.spouse.idNumber}","name":"陈静"}\n`;
    const fromCsv = await loadExtract(db, spec(freshResource(), [], { ...parseCsvExtract(csv), fileName: 'ga.csv' }));
    const fromJsonl = await loadExtract(db, spec(freshResource(), [], parseJsonlExtract(jsonl)));
    expect(fromCsv.contentSm3).toBe(fromJsonl.contentSm3);
    expect(fromCsv.fileSm3).toBe(createHash('sm3').update(csv).digest('hex'));
    expect(fromJsonl.fileSm3).toBe(createHash('sm3').update(jsonl).digest('hex'));
  });

  it('cites file lines for bad rows of a parsed file', async () => {
    const csv = `idNumber,name\n${S.applicant.idNumber},"two\nlines"\n${S.spouse.idNumber}\n`;
    const error = await rejection(loadExtract(db, spec(freshResource(), [], parseCsvExtract(csv))));
    expect(error.details).toMatchObject({ errors: [{ row: 2, line: 4, message: 'has 1 fields, the header has 2' }] });
    expect(error.message).toMatch(/row 2 \(line 4\): has 1 fields/);
  });

  it('loads a streamed JSON Lines file and records its digest, known only at the end', async () => {
    const resource = freshResource();
    const lines = generateDemoDatasets({ persons: 300, enterprises: 10 }).persons.map((p) => JSON.stringify({ idNumber: p.idNumber, name: p.name, address: p.address }));
    const bytes = Buffer.from(lines.join('\n'));
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 1000) yield bytes.subarray(i, i + 1000);
    }
    const report = await loadExtract(db, spec(resource, [], { ...streamJsonlExtract(chunks()), batchSize: 64 }));
    expect(report.rows).toBe(300);
    expect(report.fileSm3).toBe(createHash('sm3').update(bytes).digest('hex'));
    expect(await records(resource)).toHaveLength(300);
    expect((await extracts(resource))[0]).toMatchObject({ file_sm3: report.fileSm3, row_count: 300 });
  });

  it('seeds the demo datasets once, and again only when forced', async () => {
    const options = { pseudonyms, datasets: { persons: 600, enterprises: 80 }, at: new Date('2025-07-01T00:00:00Z') };
    const generated = generateDemoDatasets(options.datasets);
    const first = await seedDemoDatasets(db, options);
    expect(first.seeded).toBe(true);
    expect(first.extracts.map((e) => [e.resource, e.supplier, e.rows, e.records])).toEqual([
      ['210100-GA-0001', DEMO_RESOURCES[0]!.provider, 600, 600],
      ['210100-SC-0001', DEMO_RESOURCES[1]!.provider, 80, 80],
      ['210100-RS-0001', DEMO_RESOURCES[2]!.provider, generated.insurance.length, generated.insurance.length],
      ['210100-MZ-0001', DEMO_RESOURCES[3]!.provider, generated.marriages.length, 2 * generated.marriages.length],
    ]);
    const count = async (): Promise<number[]> => {
      const { rows } = await db.query<{ records: number; extracts: number }>(
        `SELECT (SELECT count(*) FROM exchange_records WHERE resource LIKE '210100-%')::int AS records, (SELECT count(*) FROM exchange_extracts WHERE resource LIKE '210100-%')::int AS extracts`,
      );
      return [rows[0]!.records, rows[0]!.extracts];
    };
    const total = 600 + 80 + generated.insurance.length + 2 * generated.marriages.length;
    expect(await count()).toEqual([total, 4]);
    const again = await seedDemoDatasets(db, options);
    expect(again).toMatchObject({ seeded: false, extracts: [] });
    expect(await count()).toEqual([total, 4]);
    const forced = await seedDemoDatasets(db, { ...options, force: true });
    expect(forced.seeded).toBe(true);
    expect(forced.extracts.map((e) => e.contentSm3)).toEqual(first.extracts.map((e) => e.contentSm3));
    expect(await count()).toEqual([total, 8]);
    const marker = await db.query<{ value: Record<string, unknown> }>(`SELECT value FROM zt_installation WHERE key = 'demo-exchange-datasets-seeded'`);
    expect(marker.rows[0]!.value).toMatchObject({ seed: 20250801, persons: 600, enterprises: 80 });
  });
}
