// One contract for the table connector, run on PGlite and on PostgreSQL over the seeded demo datasets.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isZtError } from '../../../core/errors/index.js';
import { BlindIndex } from '../../../core/pseudonyms/index.js';
import type { Database, Queryable } from '../../../core/storage/index.js';
import { DEMO_SUBJECTS, generateDemoDatasets, type DemoDatasets } from '../../datasets/index.js';
import { loadExtract, seedDemoDatasets } from '../../extracts/index.js';
import type { DatabaseHarness } from '../../extracts/test-databases.js';
import type { ConnectorQuery, Subject } from '../connector.js';
import { TableConnector } from './table-connector.js';

const S = DEMO_SUBJECTS;
const GA = '210100-GA-0001';
const SC = '210100-SC-0001';
const RS = '210100-RS-0001';
const MZ = '210100-MZ-0001';
const person = (code: string): Subject => ({ kind: 'person', code });
const organisation = (code: string): Subject => ({ kind: 'organisation', code });
const LOADED_AT = new Date('2025-07-01T01:00:00.000Z');
const DATASETS = { persons: 400, enterprises: 40 };
const KEY_1 = randomBytes(32);
const pseudonyms = new BlindIndex([{ version: 1, key: KEY_1 }]);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isZtError(error) ? error.code : (error as Error).name;
  }
  return 'resolved';
}

export function tableConnectorContract(harness: DatabaseHarness): void {
  let db: Database;
  let data: DemoDatasets;
  const connector = (resource: string): TableConnector => new TableConnector(db, resource, pseudonyms);
  const fetch = (resource: string, subject: Subject, items: readonly string[]) => connector(resource).fetch({ resource, subject, items });

  beforeAll(async () => {
    db = await harness.open();
    await seedDemoDatasets(db, { pseudonyms, datasets: DATASETS, at: LOADED_AT });
    data = generateDemoDatasets(DATASETS);
  });
  afterAll(async () => {
    await harness.dispose();
  });

  it('names its source after the resource', async () => {
    const c = connector(GA);
    expect(c.source).toBe('table:210100-GA-0001');
    await expect(c.close()).resolves.toBeUndefined();
  });

  it('finds a person and returns exactly the items asked for, as of the load', async () => {
    const record = await fetch(GA, person(S.applicant.idNumber), ['name', 'gender', 'birthDate', 'householdNumber']);
    const row = data.persons[0]!;
    expect(record).toEqual({ values: { name: row.name, gender: '男', birthDate: '1985-03-12', householdNumber: row.householdNumber }, retrievedAt: LOADED_AT });
    expect(record).not.toHaveProperty('updatedAt');
  });

  it('leaves out items not asked for (the photo) and items it holds no value for', async () => {
    const record = await fetch(GA, person(S.spouse.idNumber), ['name', 'noSuchItem']);
    expect(record!.values).toEqual({ name: S.spouse.name });
    expect((await fetch(GA, person(S.spouse.idNumber), []))!.values).toEqual({});
    const enterprise = data.enterprises.find((e) => e.registeredCapital === undefined);
    if (enterprise) expect((await fetch(SC, organisation(enterprise.uscc), ['entName', 'registeredCapital']))!.values).toEqual({ entName: enterprise.entName });
  });

  it('finds an enterprise by its USCC', async () => {
    const record = await fetch(SC, organisation(S.restaurant.uscc), ['entName', 'legalRepresentative', 'status', 'registeredCapital']);
    expect(record!.values).toEqual({ entName: S.restaurant.name, legalRepresentative: S.applicant.name, status: '存续', registeredCapital: '100.00' });
  });

  it('answers concurrent lookups with few queries, each with its own subject and items', async () => {
    let queries = 0;
    const counting: Queryable = {
      query: <R,>(sql: string, params?: readonly unknown[]) => (queries++, db.query<R>(sql, params)),
      exec: (sql: string) => db.exec(sql),
    };
    const c = new TableConnector(counting, GA, pseudonyms);
    const people = data.persons.slice(0, 200);
    const records = await Promise.all(people.map((p, i) => c.fetch({ resource: GA, subject: person(p.idNumber), items: i % 2 === 0 ? ['name'] : ['gender'] })));
    records.forEach((r, i) => expect(r!.values).toEqual(i % 2 === 0 ? { name: people[i]!.name } : { gender: people[i]!.gender }));
    expect(queries).toBeLessThanOrEqual(3);
    expect(await c.fetch({ resource: GA, subject: person(S.unknownPerson.idNumber), items: ['name'] })).toBeNull();
  });

  it('returns null for a subject the table does not hold', async () => {
    expect(await fetch(GA, person(S.unknownPerson.idNumber), ['name'])).toBeNull();
    expect(await fetch(SC, organisation(S.unknownEnterprise.uscc), ['entName'])).toBeNull();
    // Held in the population register, but with no social insurance record and no marriage.
    expect(await fetch(RS, person(S.formerSpouse.idNumber), ['status'])).toBeNull();
    expect(await fetch(MZ, person(S.child.idNumber), ['registrationType'])).toBeNull();
    // A person's ID number asked for as an organisation finds nothing.
    expect(await fetch(GA, organisation(S.applicant.idNumber), ['name'])).toBeNull();
  });

  it('finds a marriage registration by either spouse', async () => {
    const items = ['maleName', 'femaleName', 'registrationType', 'registrationDate', 'certificateNumber'];
    const byHusband = await fetch(MZ, person(S.applicant.idNumber), items);
    const byWife = await fetch(MZ, person(S.spouse.idNumber), items);
    expect(byHusband).toEqual(byWife);
    expect(byHusband!.values).toEqual({ maleName: S.applicant.name, femaleName: S.spouse.name, registrationType: '结婚', registrationDate: '2013-10-02', certificateNumber: 'J210103-2013-004512' });
    expect((await fetch(MZ, person(S.formerSpouse.idNumber), ['registrationType']))!.values).toEqual({ registrationType: '离婚' });
    const generated = data.marriages[5]!;
    expect((await fetch(MZ, person(generated.femaleIdNumber), ['maleIdNumber']))!.values).toEqual({ maleIdNumber: generated.maleIdNumber });
  });

  it('reads insurance with its typed values', async () => {
    const record = await fetch(RS, person(S.applicant.idNumber), ['employerName', 'status', 'paymentMonths', 'startDate']);
    expect(record!.values).toEqual({ employerName: S.restaurant.name, status: '参保缴费', paymentMonths: data.insurance[0]!.paymentMonths, startDate: '2007-07-01' });
  });

  it('gives updatedAt when the extract said when the record changed', async () => {
    const resource = 'T-UPD-0001';
    await loadExtract(db, {
      resource,
      supplier: '11210100001000010R',
      pseudonyms,
      items: [{ code: 'idNumber' }, { code: 'name' }],
      subjectKind: 'person',
      subjectItem: 'idNumber',
      rows: [{ idNumber: S.applicant.idNumber, name: S.applicant.name, _updatedAt: '2025-06-30T09:30:00+08:00' }],
      at: LOADED_AT,
    });
    expect(await fetch(resource, person(S.applicant.idNumber), ['name'])).toEqual({
      values: { name: S.applicant.name },
      retrievedAt: LOADED_AT,
      updatedAt: new Date('2025-06-30T01:30:00.000Z'),
    });
  });

  it('refuses a query for another resource, and an aborted one', async () => {
    const c = connector(GA);
    expect(await codeOf(c.fetch({ resource: SC, subject: organisation(S.restaurant.uscc), items: ['entName'] }))).toBe('ZT_ERR_RESOURCE_NOT_FOUND');
    const controller = new AbortController();
    controller.abort();
    const aborted: ConnectorQuery = { resource: GA, subject: person(S.applicant.idNumber), items: ['name'], signal: controller.signal };
    expect(await codeOf(c.fetch(aborted))).toBe('AbortError');
  });

  it('finds records keyed under an older key version after a rotation, and a record reloaded under the new one', async () => {
    const rotated = new BlindIndex([{ version: 1, key: KEY_1 }, { version: 2, key: randomBytes(32) }]);
    const after = new TableConnector(db, GA, rotated);
    expect((await after.fetch({ resource: GA, subject: person(S.applicant.idNumber), items: ['name'] }))!.values).toEqual({ name: S.applicant.name });
    const resource = 'T-ROT-0001';
    await loadExtract(db, { resource, supplier: '11210100001000010R', pseudonyms, items: [{ code: 'idNumber' }, { code: 'name' }], subjectKind: 'person', subjectItem: 'idNumber', rows: [{ idNumber: S.spouse.idNumber, name: 'old' }] });
    await loadExtract(db, { resource, supplier: '11210100001000010R', pseudonyms: rotated, items: [{ code: 'idNumber' }, { code: 'name' }], subjectKind: 'person', subjectItem: 'idNumber', rows: [{ idNumber: S.spouse.idNumber, name: 'new' }] });
    expect((await new TableConnector(db, resource, rotated).fetch({ resource, subject: person(S.spouse.idNumber), items: ['name'] }))!.values).toEqual({ name: 'new' });
    // The table keys subjects by index only.
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM exchange_records WHERE subject_code !~ '^p[0-9]+\\.'`);
    expect(rows[0]!.n).toBe(0);
  });
}
