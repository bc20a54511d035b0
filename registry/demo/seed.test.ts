// The full seed on an empty database, and that a second run does nothing, are checked end to end in
// registry/catalogue/http/routes.test.ts; here the upgrade path of a database seeded before the catalogue existed.
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, PgliteDatabase, type Database } from '../../core/storage/index.js';
import { DepartmentService, SqlDepartmentStore } from '../departments/index.js';
import { DEMO_DEMANDS, DEMO_DEPARTMENTS, DEMO_RESOURCES, seedDemoData } from './index.js';

let db: Database | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function fresh(): Promise<{ db: Database; departments: DepartmentService }> {
  db = await PgliteDatabase.open({ dataDir: undefined });
  await migrate(db);
  return { db, departments: new DepartmentService(db, new SqlDepartmentStore(db)) };
}

const count = async (db: Database, table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

describe('demo seed', () => {
  it('gives a database seeded before the catalogue existed the demo catalogue, and force adds only what is missing', async () => {
    const { db, departments } = await fresh();
    for (const d of DEMO_DEPARTMENTS) await departments.register(d);
    await db.query(`INSERT INTO zt_installation (key, value) VALUES ('demo-data-seeded', '{}')`);
    expect(await seedDemoData(db, departments)).toEqual({ seeded: true, departments: 0, resources: DEMO_RESOURCES.length, demands: DEMO_DEMANDS.length });
    expect(await seedDemoData(db, departments, { force: true })).toEqual({ seeded: true, departments: 0, resources: 0, demands: 0 });
    expect(await count(db, 'data_resources')).toBe(DEMO_RESOURCES.length);
    expect(await count(db, 'demands')).toBe(DEMO_DEMANDS.length);
  });
});
