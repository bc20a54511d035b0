// Two runs converting the same file at once: progress only moves from the row count a run last saw, so the second
// to commit a batch is refused (and its batch rolled back) rather than counted twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, PgliteDatabase } from '../../../core/storage/index.js';
import { DEMO_LICENCE_TYPES } from '../../../demo/licences.js';
import { SqlLicenceStore } from '../../sql/sql-licence-store.js';
import { SqlConversionStore } from './sql-conversion-store.js';

let db: PgliteDatabase;

beforeAll(async () => {
  db = await PgliteDatabase.open({ dataDir: undefined });
  await migrate(db);
  await db.transaction((tx) => new SqlLicenceStore(db).insertType(tx, DEMO_LICENCE_TYPES[0]!));
});

afterAll(async () => {
  await db?.close();
});

describe('conversion progress', () => {
  it('refuses a second run that advances from a row count the first has moved past', async () => {
    const store = new SqlConversionStore(db);
    const { record, created } = await store.open('a'.repeat(64), DEMO_LICENCE_TYPES[0]!.code, 'stock.csv');
    expect(created).toBe(true);
    expect((await store.open('a'.repeat(64), DEMO_LICENCE_TYPES[0]!.code, 'stock.csv')).created).toBe(false);
    const counts = { rowsDone: 500, accepted: 498, skipped: 0, rejected: 2 };
    await db.transaction((tx) => store.advance(tx, record.id, 0, counts));
    await expect(db.transaction((tx) => store.advance(tx, record.id, 0, counts))).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_CONFLICT' });
    expect((await store.get(record.id))!.rowsDone).toBe(500);
  });
});
