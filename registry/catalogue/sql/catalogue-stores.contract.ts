// One contract for the catalogue's SQL stores and the services over them, run on PGlite and on PostgreSQL.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isZtError, type ErrorCode } from '../../../core/errors/index.js';
import { migrate, sqlState, type Database } from '../../../core/storage/index.js';
import { DepartmentService, SqlDepartmentStore } from '../../departments/index.js';
import { CatalogueService } from '../catalogue-service.js';
import { trustNamedActor, type TransitionRequest } from '../authenticator.js';
import { DemandService } from '../demand-service.js';
import type { Demand, DemandRegistration } from '../demand.js';
import type { ResourcePublication } from '../resource.js';
import { SqlDemandStore } from './sql-demand-store.js';
import { SqlResourceStore } from './sql-resource-store.js';

export interface CatalogueStoreHarness {
  /** A fresh, empty database (no migrations applied). */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

const GA = '11210100001000010R';
const SC = '11210100001000029N';
const MZ = '11210100001000045C';
const YS = '112101000010000537';

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error.code;
    return sqlState(error) ?? String(error);
  }
  return undefined;
}

const population: ResourcePublication = {
  code: '210100-GA-0001',
  name: '人口基本信息',
  provider: GA,
  sharingClass: 'conditional',
  updateCycle: 'daily',
  connector: { kind: 'http', endpoint: 'https://ga.example/population' },
  items: [
    { code: 'name', name: '姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
    { code: 'idNumber', name: '公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
    { code: 'birthDate', name: '出生日期', type: 'date', sensitivity: 'sensitive' },
    { code: 'photo', name: '照片', type: 'binary', sensitivity: 'restricted', categories: ['biometric'] },
  ],
};
const enterprises: ResourcePublication = {
  code: '210100-SC-0001',
  name: '企业登记信息',
  provider: SC,
  sharingClass: 'unconditional',
  updateCycle: 'realtime',
  connector: { kind: 'http', endpoint: 'https://sc.example/enterprises' },
  items: [
    { code: 'uscc', name: '统一社会信用代码', type: 'string', sensitivity: 'public' },
    { code: 'entName', name: '企业名称', type: 'string', sensitivity: 'public' },
  ],
};
const adoption: ResourcePublication = {
  code: '210100-MZ-0009',
  name: '收养登记信息',
  provider: MZ,
  sharingClass: 'not-shared',
  legalBasis: { title: '《中华人民共和国民法典》', article: '第一千一百一十条' },
  updateCycle: 'irregular',
  connector: { kind: 'file', endpoint: 'none' },
  items: [{ code: 'childName', name: '被收养人姓名', type: 'string', sensitivity: 'restricted', categories: ['personal'] }],
};

/** Monday 22 September 2025, 10:00 in Shenyang; five working days later (National Day week) is Sunday 28 September… */
const MONDAY = new Date('2025-09-22T02:00:00Z');

export function catalogueStoreContract(harness: CatalogueStoreHarness): void {
  let db: Database;
  let resources: SqlResourceStore;
  let demandStore: SqlDemandStore;
  let catalogue: CatalogueService;
  let demands: DemandService;
  let now = MONDAY;
  let nudges = 0;

  const register = (over: Partial<DemandRegistration> = {}, at?: Date): Promise<Demand> =>
    demands.register(
      { requester: YS, resource: population.code, items: ['name', 'idNumber'], serviceItem: 'QYKB-0001', legalBasis: { title: '《优化营商环境条例》' }, expectedDailyVolume: 10, validTo: '2026-09-30', ...over },
      at ? { at } : {},
    );

  beforeAll(async () => {
    db = await harness.open();
    await migrate(db);
    const departments = new DepartmentService(db, new SqlDepartmentStore(db));
    for (const [uscc, name] of [
      [GA, '沈阳市公安局'],
      [SC, '沈阳市市场监督管理局'],
      [MZ, '沈阳市民政局'],
      [YS, '沈阳市营商环境建设局'],
    ] as const) {
      await departments.register({ uscc, name });
    }
    resources = new SqlResourceStore(db);
    demandStore = new SqlDemandStore(db);
    const options = { clock: () => now, onOutboxWrite: () => void nudges++ };
    catalogue = new CatalogueService(db, resources, departments, options);
    // The stores and the state machine; signatures are checked in signed-transitions.test.ts and end to end.
    demands = new DemandService(db, demandStore, resources, departments, { ...options, authenticator: trustNamedActor });
    for (const p of [population, enterprises, adoption]) await catalogue.publish(p);
  });
  afterAll(async () => {
    await db?.close();
    await harness.dispose();
  });

  it('stores a resource with its items in order, and reads back the same types', async () => {
    const r = await resources.get(population.code);
    expect(r).toMatchObject({ code: population.code, provider: GA, sharingClass: 'conditional', legalBasis: null, connector: population.connector });
    expect(r!.items.map((i) => i.code)).toEqual(['name', 'idNumber', 'birthDate', 'photo']);
    expect(r!.items[1]!.categories).toEqual(['personal', 'identity-number']);
    expect(r!.items[2]!.categories).toEqual([]);
    expect(r!.createdAt).toBeInstanceOf(Date);
    expect((await resources.get(adoption.code))!.legalBasis).toEqual(adoption.legalBasis);
    expect(await resources.get('210100-XX-0000')).toBeNull();
  });

  it('refuses a taken code, an unknown provider, and a legal basis on a shared resource', async () => {
    expect(await codeOf(catalogue.publish(population))).toBe('ZT_ERR_RESOURCE_EXISTS');
    expect(await codeOf(resources.insert(db, { ...(await resources.get(enterprises.code))!, code: 'NEW-1', provider: '112101009000000018' }, now))).toBe('ZT_ERR_DEPARTMENT_NOT_FOUND');
    expect(
      await codeOf(db.query(`INSERT INTO data_resources (code, name, provider_uscc, sharing_class, legal_basis, update_cycle, connector) VALUES ('X-1', 'x', $1, 'conditional', '{"title":"t"}', 'daily', '{}')`, [GA])),
    ).toBe('23514');
    expect(await codeOf(db.query(`INSERT INTO data_resources (code, name, provider_uscc, sharing_class, update_cycle, connector) VALUES ('X-2', 'x', $1, 'not-shared', 'daily', '{}')`, [GA]))).toBe('23514');
  });

  it('lists resources by provider a page at a time, and finds existing codes', async () => {
    const all = await resources.list({ provider: null, limit: 2, after: null });
    expect(all.items.map((r) => r.code)).toEqual(['210100-GA-0001', '210100-MZ-0009']);
    expect(all.next).toBe('210100-MZ-0009');
    const rest = await resources.list({ provider: null, limit: 2, after: all.next });
    expect(rest).toMatchObject({ items: [{ code: '210100-SC-0001' }], next: null });
    expect((await resources.list({ provider: SC, limit: 10, after: null })).items.map((r) => r.code)).toEqual(['210100-SC-0001']);
    expect(await resources.existing(['210100-SC-0001', 'NOPE', '210100-GA-0001'])).toEqual(['210100-GA-0001', '210100-SC-0001']);
  });

  it('registers by sharing class: granted, pending with a deadline in working days, refused on the legal basis', async () => {
    const granted = await register({ resource: enterprises.code, items: ['uscc'] });
    expect(granted).toMatchObject({ state: 'granted', replyDue: null, provider: SC, overdue: false, validFrom: '2025-09-22' });
    const pending = await register();
    // Mon 22 Sep + 5 working days: 23, 24, 25, 26, Sun 28 (调休).
    expect(pending).toMatchObject({ state: 'pending', replyDue: '2025-09-28', overdue: false, items: ['name', 'idNumber'], legalBasis: { title: '《优化营商环境条例》', article: null } });
    const refused = await register({ resource: adoption.code, items: ['childName'] });
    expect(refused).toMatchObject({ state: 'refused', refusal: { automatic: true, legalBasis: adoption.legalBasis, negativeListRuleId: null } });
    expect((await demands.history(refused.id)).map((t) => [t.from, t.to, t.actor])).toEqual([[null, 'refused', YS]]);
    expect(nudges).toBeGreaterThan(0);
  });

  it('computes overdue from the reply deadline and lists by it', async () => {
    const pending = await register({ serviceItem: 'OVERDUE-1' });
    expect(pending.replyDue).toBe('2025-09-28');
    now = new Date('2025-09-28T15:00:00Z'); // 23:00 on the 28th in China: still on time
    expect((await demands.get(pending.id)).overdue).toBe(false);
    now = new Date('2025-09-28T16:00:00Z'); // midnight: the 29th
    expect((await demands.get(pending.id)).overdue).toBe(true);
    const overdue = await demands.list({ overdue: true, serviceItem: 'OVERDUE-1', limit: 10 });
    expect(overdue.items.map((d) => d.id)).toEqual([pending.id]);
    expect((await demands.list({ overdue: false, serviceItem: 'OVERDUE-1', limit: 10 })).items).toEqual([]);
    now = MONDAY;
  });

  it('approves with terms, records each transition in order, and keeps the history append-only', async () => {
    const d = await register({ serviceItem: 'TERMS-1' });
    const approved = await demands.approve(d.id, { actor: GA, terms: { items: ['idNumber'], dailyQuota: 100, validUntil: '2026-03-31' } });
    expect(approved).toMatchObject({ state: 'approved', terms: { items: ['idNumber'], dailyQuota: 100, validUntil: '2026-03-31' } });
    const withdrawn = await demands.withdraw(d.id, { actor: YS, reason: '不再需要' });
    expect(withdrawn.state).toBe('withdrawn');
    const history = await demands.history(d.id);
    expect(history.map((t) => [t.seq, t.from, t.to, t.actor, t.detail.action])).toEqual([
      [1, null, 'pending', YS, 'register'],
      [2, 'pending', 'approved', GA, 'approve'],
      [3, 'approved', 'withdrawn', YS, 'withdraw'],
    ]);
    expect(history[1]!.at).toBeInstanceOf(Date);
    expect(await codeOf(db.query('UPDATE demand_transitions SET actor_uscc = NULL WHERE demand_id = $1', [d.id]))).toBe('55000');
    expect(await codeOf(db.query('DELETE FROM demand_transitions WHERE demand_id = $1', [d.id]))).toBe('55000');
    expect(await demands.history(d.id)).toHaveLength(3);
  });

  it('lets one of two concurrent replies win; the other finds the demand no longer pending', async () => {
    const d = await register({ serviceItem: 'RACE-1' });
    const results = await Promise.allSettled([
      demands.approve(d.id, { actor: GA }),
      demands.refuse(d.id, { actor: GA, negativeListRuleId: 'NL-GA-001' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason.code).toBe('ZT_ERR_DEMAND_STATE');
    expect(await demands.history(d.id)).toHaveLength(2);
  });

  it('asks the transition authenticator about every transition, and checks cited rules against the negative list', async () => {
    const seen: TransitionRequest[] = [];
    let reject = false;
    const strict = new DemandService(db, demandStore, resources, new DepartmentService(db, new SqlDepartmentStore(db)), {
      clock: () => now,
      authenticator: {
        async authenticate(request) {
          seen.push(request);
          if (reject) throw Object.assign(new Error('unsigned'), { code: 'test' });
          return null;
        },
      },
      negativeList: { has: (id) => id === 'NL-KNOWN' },
    });
    const d = await strict.register({ requester: YS, resource: population.code, items: ['name'], serviceItem: 'SEAM-1', legalBasis: { title: 't' }, expectedDailyVolume: 1, validTo: '2026-01-31' }, { proof: 'sig-1' });
    expect(seen[0]).toMatchObject({ kind: 'register', demandId: null, actor: YS, proof: 'sig-1', content: { resource: population.code, items: ['name'] } });
    reject = true;
    await expect(strict.approve(d.id, { actor: GA }, { proof: 'bad' })).rejects.toThrow('unsigned');
    expect(seen[1]).toMatchObject({ kind: 'approve', demandId: d.id, actor: GA, proof: 'bad' });
    expect((await strict.get(d.id)).state).toBe('pending');
    reject = false;
    expect(await codeOf(strict.refuse(d.id, { actor: GA, negativeListRuleId: 'NL-UNKNOWN' }))).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    expect((await strict.refuse(d.id, { actor: GA, negativeListRuleId: 'NL-KNOWN' })).refusal?.negativeListRuleId).toBe('NL-KNOWN');
  });

  it('expires granted and approved demands whose access ended', async () => {
    const short = await register({ resource: enterprises.code, items: ['uscc'], serviceItem: 'EXPIRE-1', validTo: '2025-10-31' });
    const terms = await register({ serviceItem: 'EXPIRE-2' });
    await demands.approve(terms.id, { actor: GA, terms: { validUntil: '2025-10-15' } });
    expect(await demands.expireLapsed({ at: new Date('2025-10-20T02:00:00Z') })).toBeGreaterThanOrEqual(1);
    expect((await demands.get(terms.id)).state).toBe('expired');
    expect((await demands.get(short.id)).state).toBe('granted');
    expect(await demands.expireLapsed({ at: new Date('2025-11-01T02:00:00Z') })).toBeGreaterThanOrEqual(1);
    expect((await demands.get(short.id)).state).toBe('expired');
    expect((await demands.history(short.id)).at(-1)).toMatchObject({ from: 'granted', to: 'expired', actor: null });
  });

  it('lists by requester, provider, resource and state, a page at a time in registration order', async () => {
    const first = await demands.list({ provider: GA, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.items.every((d) => d.provider === GA)).toBe(true);
    const second = await demands.list({ provider: GA, limit: 500, after: first.next });
    const ids = [...first.items, ...second.items].map((d) => d.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    const bySupplier = await demands.list({ provider: SC, limit: 500 });
    expect(bySupplier.items.every((d) => d.resource === enterprises.code)).toBe(true);
    expect((await demands.list({ state: 'refused', limit: 500 })).items.every((d) => d.state === 'refused')).toBe(true);
    expect((await demands.list({ requester: YS, resource: adoption.code, limit: 500 })).items).toHaveLength(1);
  });

  it('counts fulfilment per department, as requester and as supplier', async () => {
    now = new Date('2025-12-01T02:00:00Z');
    const report = await demands.fulfilment();
    expect(report.asOf).toBe('2025-12-01');
    const { rows } = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM demands GROUP BY state');
    const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const ys = report.departments.find((d) => d.department === YS)!;
    expect(ys.asRequester.total).toBe(rows.reduce((a, r) => a + r.n, 0));
    expect(ys.asRequester.pending).toBe(byState.pending ?? 0);
    expect(ys.asRequester.overdue).toBe(byState.pending ?? 0); // by December every pending one is late
    expect(ys.asRequester.served).toBe((byState.granted ?? 0) + (byState.approved ?? 0) + (byState.expired ?? 0));
    expect(ys.asSupplier.total).toBe(0);
    const mz = report.departments.find((d) => d.department === MZ)!;
    expect(mz.asSupplier).toEqual({ total: 1, served: 0, pending: 0, overdue: 0, refused: 1, withdrawn: 0, expired: 0 });
    expect((await demands.fulfilment(GA)).departments.map((d) => d.department)).toEqual([GA]);
    now = MONDAY;
  });

  it('imports all or nothing', async () => {
    const before = (await demands.list({ requester: YS, limit: 500 })).items.length;
    const good = { requester: YS, resource: enterprises.code, items: ['uscc'], serviceItem: 'IMPORT-1', legalBasis: { title: 't' }, expectedDailyVolume: 1, validTo: '2026-01-31' };
    const error = await demands.import({ records: [{ row: 1, value: good }, { row: 2, value: { ...good, items: ['nope'] } }], errors: [] }).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_IMPORT_INVALID');
    expect((error as { details: unknown }).details).toEqual([expect.objectContaining({ row: 2, code: 'ZT_ERR_DATA_ITEM_UNKNOWN' })]);
    expect((await demands.list({ requester: YS, limit: 500 })).items).toHaveLength(before);
    const imported = await demands.import({ records: [{ row: 1, value: good }], errors: [] });
    expect(imported.map((d) => d.state)).toEqual(['granted']);
  });
}
