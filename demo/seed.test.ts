// The full seed on an empty database, and that a second run does nothing, are checked end to end in
// registry/catalogue/http/routes.test.ts; here the upgrade path of a database seeded before the catalogue existed.
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, PgliteDatabase, type Database } from '../core/storage/index.js';
import { DepartmentService, SqlDepartmentStore } from '../registry/departments/index.js';
import { CatalogueService, DemandService, SqlDemandStore, SqlResourceStore } from '../registry/catalogue/index.js';
import { makeSigningWorld, type SigningWorld } from '../test/support/signing.js';
import { DEMO_DEMANDS, DEMO_DEPARTMENTS, DEMO_RESOURCES, seedDemoData, type SeedOptions } from './index.js';

let db: Database | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

let world: SigningWorld | undefined;
afterEach(() => {
  world?.remove();
  world = undefined;
});

async function fresh(): Promise<{ db: Database; departments: DepartmentService; options: SeedOptions }> {
  db = await PgliteDatabase.open({ dataDir: undefined });
  await migrate(db);
  world = await makeSigningWorld(db);
  const departments = new DepartmentService(db, new SqlDepartmentStore(db));
  const resources = new SqlResourceStore(db);
  const catalogue = new CatalogueService(db, resources, departments);
  const demands = new DemandService(db, new SqlDemandStore(db), resources, departments, { authenticator: world.authenticator });
  return { db, departments, options: { catalogue: { catalogue, demands }, signers: world.signers } };
}

const count = async (db: Database, table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

describe('demo seed', () => {
  it('gives a database seeded before the catalogue existed the demo catalogue, and force adds only what is missing', async () => {
    const { db, departments, options } = await fresh();
    for (const d of DEMO_DEPARTMENTS) await departments.register(d);
    await db.query(`INSERT INTO zt_installation (key, value) VALUES ('demo-data-seeded', '{}')`);
    expect(await seedDemoData(db, departments, options)).toEqual({ seeded: true, departments: 0, resources: DEMO_RESOURCES.length, demands: DEMO_DEMANDS.length, licenceTypes: 0, licences: 0 });
    expect(await seedDemoData(db, departments, { ...options, force: true })).toEqual({ seeded: true, departments: 0, resources: 0, demands: 0, licenceTypes: 0, licences: 0 });
    expect(await count(db, 'data_resources')).toBe(DEMO_RESOURCES.length);
    expect(await count(db, 'demands')).toBe(DEMO_DEMANDS.length);
    // Every step a department took is signed by it, with a certificate of the CA, and kept with the transition.
    const steps = await db.query<{ actor_uscc: string | null; statement_key: string | null; signer: string | null }>(
      `SELECT t.actor_uscc, t.statement_key, s.actor_uscc AS signer FROM demand_transitions t LEFT JOIN signed_statements s ON s.key = t.statement_key`,
    );
    const taken = steps.rows.filter((r) => r.actor_uscc !== null);
    expect(taken.length).toBeGreaterThanOrEqual(DEMO_DEMANDS.length);
    for (const r of taken) expect(r.signer).toBe(r.actor_uscc);
    expect(steps.rows.filter((r) => r.actor_uscc === null).every((r) => r.statement_key === null)).toBe(true);
  });
});
