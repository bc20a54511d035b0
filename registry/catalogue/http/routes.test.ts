// The data catalogue end to end over HTTP: the seeded demo, publishing, the application–reply workflow and its
// bad inputs, events, import/export round trips between two instances, and the fulfilment report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue, type ErrorCode } from '../../../core/errors/index.js';
import type { DeliveredEvent } from '../../../core/events/index.js';
import { usccCheckCharacter } from '../../../core/identifiers/index.js';
import { existsSync } from 'node:fs';
import { sm3 } from '../../../certs/sm2/sm2.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { demoSigner, platformOperatorKey, signedHeaders, signedJson } from '../../../test/support/signing.js';
import { DEMO_DEMANDS, DEMO_DEPARTMENTS, demoKeyFiles } from '../../../demo/index.js';
import { parseCsv } from '../csv.js';
import { chinaDate } from '../working-days.js';

const GA = '11210100001000010R';
const SC = '11210100001000029N';
const RS = '11210100001000037H';
const MZ = '11210100001000045C';
const YS = '112101000010000537';
const WJ = '112101000010000700';
const UNREGISTERED = (() => {
  const first17 = '11210100900000001';
  return first17 + usccCheckCharacter(first17);
})();
const BAD_USCC = '11210100001000010X';

let a: TestApp;
const events: DeliveredEvent[] = [];

beforeAll(async () => {
  a = await startTestApp();
  await a.app.ctx.bus.subscribe({ topics: ['registry.catalogue'], group: 'catalogue-test', fromBeginning: true, handler: async (e) => void events.push(e) });
});
afterAll(async () => {
  await a?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, any>;
}

const STEP = /^\/v1\/catalogue\/demands(?:\/([^/]+)\/(approve|refuse|withdraw))?$/;
const hasKey = (app: TestApp, uscc: unknown): uscc is string => typeof uscc === 'string' && existsSync(demoKeyFiles(app.config.dataDir, uscc).key);

/**
 * Calls the app as a department's client does: demand steps are signed with the acting demo department's key (from
 * the app's own demo-keys directory) unless the body already has a signature, `unsigned` is set or the actor has no
 * key; a demand import is signed as `importAs`.
 */
async function call(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  options: { unsigned?: boolean; importAs?: string; keysOf?: TestApp } = {},
): Promise<Reply> {
  const init: RequestInit = { method };
  const headers: Record<string, string> = {};
  const step = method === 'POST' ? STEP.exec(path) : null;
  if (step && !options.unsigned && body && typeof body === 'object' && !('signature' in body)) {
    const content = body as Record<string, unknown>;
    const kind = (step[2] ?? 'register') as 'register' | 'approve' | 'refuse' | 'withdraw';
    const actor = kind === 'register' ? content.requester : content.actor;
    // A step for an actor without a key (a malformed or unknown code) is signed by another department: the gateway
    // takes only signed steps, and the service then names what is wrong with the step before the signer.
    const signer = demoSigner(app.config.dataDir, hasKey(app, actor) ? actor : GA);
    body = { ...content, signature: await signedJson(signer, { kind, demandId: step[1] ?? null, actor: actor as string, content }) };
  }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = contentType;
  }
  // Publishing and importing resources are signed requests (Zt-* headers): a publication by its provider, an import
  // by the platform administrator (an import may list several providers).
  if (method === 'POST' && /^\/v1\/catalogue\/resources(\/import)?$/.test(path) && !options.unsigned) {
    const provider = typeof body === 'object' && body !== null ? (body as { provider?: unknown }).provider : undefined;
    const signer = path.endsWith('/import') || !hasKey(app, provider) ? platformOperatorKey((options.keysOf ?? app).config) : demoSigner(app.config.dataDir, provider);
    Object.assign(headers, await signedHeaders(signer, 'POST', path, typeof init.body === 'string' ? init.body : ''));
    if (init.body === undefined) delete headers['content-type'];
    else headers['content-type'] = contentType;
  }
  if (options.importAs) {
    const documentSm3 = sm3(Buffer.from(init.body as string, 'utf8')).toString('hex');
    const envelope = await signedJson(demoSigner((options.keysOf ?? app).config.dataDir, options.importAs), { kind: 'import', actor: options.importAs, content: { documentSm3 } });
    headers['zt-signature'] = Buffer.from(JSON.stringify(envelope)).toString('base64');
  }
  init.headers = headers;
  const response = await fetch(app.httpUrl + path, init);
  const text = await response.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    // CSV and the like
  }
  return { status: response.status, headers: response.headers, text, json };
}

const get = (path: string) => call(a, 'GET', path);
const post = (path: string, body: unknown) => call(a, 'POST', path, body);
const postUnsigned = (path: string, body: unknown) => call(a, 'POST', path, body, 'application/json', { unsigned: true });

function expectError(r: Reply, code: ErrorCode): void {
  expect({ status: r.status, code: r.json.code, message: r.json.message }).toEqual({ status: errorCatalogue[code].http, code, message: r.json.message });
  expect(typeof r.json.message).toBe('string');
  expect(typeof r.json.requestId).toBe('string');
}

const inDays = (days: number): string => chinaDate(new Date(Date.now() + days * 86_400_000));

const resource = (over: Record<string, unknown> = {}) => ({
  code: 'E2E-GA-0001',
  name: '居住证信息',
  provider: GA,
  sharingClass: 'conditional',
  updateCycle: 'daily',
  connector: { kind: 'http', endpoint: 'https://ga.example/residence' },
  items: [
    { code: 'name', name: '姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
    { code: 'idNumber', name: '公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
    { code: 'address', name: '居住地址', type: 'string', sensitivity: 'sensitive' },
  ],
  ...over,
});

const demand = (over: Record<string, unknown> = {}) => ({
  requester: YS,
  resource: 'E2E-GA-0001',
  items: ['name', 'idNumber'],
  serviceItem: 'E2E-0001',
  legalBasis: { title: '《优化营商环境条例》' },
  expectedDailyVolume: 100,
  validTo: inDays(365),
  ...over,
});

async function eventsFor(key: string, count: number): Promise<{ type: string }[]> {
  const deadline = Date.now() + 5000;
  const mine = () => events.filter((e) => e.key === key);
  while (mine().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return mine().map((e) => JSON.parse(e.value.toString()) as { type: string });
}

describe('the demo catalogue', () => {
  it('is seeded at start: five suppliers\' resources and demands in every state', async () => {
    expect(a.app.seed).toMatchObject({ seeded: true, departments: DEMO_DEPARTMENTS.length, resources: 5, demands: DEMO_DEMANDS.length });
    const resources = await get('/v1/catalogue/resources');
    const byCode = Object.fromEntries((resources.json.items as { code: string; name: string; sharingClass: string; provider: string }[]).map((r) => [r.code, r]));
    expect(byCode['210100-GA-0001']).toMatchObject({ name: '人口基本信息', sharingClass: 'conditional', provider: GA });
    expect(byCode['210100-SC-0001']).toMatchObject({ name: '企业登记信息', sharingClass: 'unconditional', provider: SC });
    expect(byCode['210100-RS-0001']).toMatchObject({ name: '社保参保信息', sharingClass: 'conditional', provider: RS });
    expect(byCode['210100-MZ-0001']).toMatchObject({ name: '婚姻登记信息', sharingClass: 'conditional', provider: MZ });
    expect(byCode['210100-WJ-0001']).toMatchObject({ sharingClass: 'not-shared', legalBasis: { title: expect.any(String) } });
    const population = await get('/v1/catalogue/resources/210100-GA-0001/items');
    expect(population.json.items.map((i: { code: string }) => i.code)).toEqual(expect.arrayContaining(['name', 'gender', 'ethnicity', 'birthDate', 'idNumber', 'address', 'photo']));

    const demands = (await get(`/v1/catalogue/demands?requester=${YS}`)).json.items as { state: string; overdue: boolean; terms: unknown; refusal: { automatic: boolean } | null }[];
    const states = (await get('/v1/catalogue/demands?limit=500')).json.items.map((d: { state: string }) => d.state);
    expect(new Set(states)).toEqual(new Set(['granted', 'pending', 'approved', 'refused', 'withdrawn', 'expired']));
    expect(demands.some((d) => d.state === 'pending' && d.overdue)).toBe(true);
    expect(demands.some((d) => d.state === 'pending' && !d.overdue)).toBe(true);
    expect(demands.some((d) => d.state === 'approved' && d.terms !== null)).toBe(true);
    expect(demands.some((d) => d.state === 'refused' && d.refusal?.automatic)).toBe(true);
    const refusedBySupplier = (await get('/v1/catalogue/demands?state=refused&provider=' + GA)).json.items[0];
    expect(refusedBySupplier.refusal).toMatchObject({ automatic: false, legalBasis: { title: '《中华人民共和国个人信息保护法》' } });
  });

  it('is not seeded twice', async () => {
    const { DemoSigners, seedDemoData } = await import('../../../demo/index.js');
    const { db, departments, catalogue, demands } = a.app.ctx;
    const signers = new DemoSigners(a.app.ctx.ca!, a.config.dataDir);
    expect(await seedDemoData(db, departments, { catalogue: { catalogue, demands }, signers })).toEqual({ seeded: false, departments: 0, resources: 0, demands: 0, licenceTypes: 0, licences: 0 });
  });
});

describe('supply list over HTTP', () => {
  it('publishes a resource and reads it back, with an OpenAPI tag and paths', async () => {
    const created = await post('/v1/catalogue/resources', resource());
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ code: 'E2E-GA-0001', legalBasis: null, items: [{ code: 'name', categories: ['personal'] }, { code: 'idNumber' }, { code: 'address', categories: [] }] });
    expect((await get('/v1/catalogue/resources/E2E-GA-0001')).json.name).toBe('居住证信息');
    expect((await get(`/v1/catalogue/resources?provider=${GA}`)).json.items.map((r: { code: string }) => r.code)).toEqual(['210100-GA-0001', 'E2E-GA-0001']);
    expect((await eventsFor('E2E-GA-0001', 1)).map((e) => e.type)).toEqual(['resource.published']);

    const doc = await get('/docs/json');
    expect(doc.json.tags.map((t: { name: string }) => t.name)).toContain('catalogue');
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/v1/catalogue/resources', '/v1/catalogue/demands/{id}/approve', '/v1/catalogue/resources/import', '/v1/catalogue/reports/fulfilment']),
    );
  });

  it('rejects bad publications with the code that says what is wrong', async () => {
    expectError(await post('/v1/catalogue/resources', resource()), 'ZT_ERR_RESOURCE_EXISTS');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', provider: BAD_USCC })), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', provider: 'short' })), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', provider: UNREGISTERED })), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', sharingClass: 'not-shared' })), 'ZT_ERR_REFUSAL_BASIS_MISSING');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', legalBasis: { title: '《某法》' } })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'e2e-lower' })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', sharingClass: 'sometimes' })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', items: [] })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', items: [resource().items[0], resource().items[0]] })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', resource({ code: 'E2E-X-1', extra: 1 })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/resources', '{"code":'), 'ZT_ERR_REQUEST_MALFORMED_JSON');
    expect((await get('/v1/catalogue/resources/E2E-X-1')).status).toBe(404);
  });

  it('answers unknown resources and departments with their codes', async () => {
    expectError(await get('/v1/catalogue/resources/NOPE-0001'), 'ZT_ERR_RESOURCE_NOT_FOUND');
    expectError(await get('/v1/catalogue/resources/not%20a%20code/items'), 'ZT_ERR_RESOURCE_NOT_FOUND');
    expectError(await get(`/v1/catalogue/resources?provider=${UNREGISTERED}`), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    expectError(await get(`/v1/catalogue/resources?provider=${BAD_USCC}`), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await get('/v1/catalogue/resources?limit=0'), 'ZT_ERR_REQUEST_INVALID');
  });
});

describe('application–reply workflow over HTTP', () => {
  it('grants unconditional demands at once, and refuses not-shared ones at once on the resource\'s basis', async () => {
    const granted = await post('/v1/catalogue/demands', demand({ resource: '210100-SC-0001', items: ['uscc', 'entName'] }));
    expect(granted.status).toBe(201);
    expect(granted.json).toMatchObject({ state: 'granted', provider: SC, replyDue: null, overdue: false, validFrom: inDays(0) });
    expect((await eventsFor(granted.json.id, 2)).map((e) => e.type)).toEqual(['demand.registered', 'demand.granted']);

    const refused = await post('/v1/catalogue/demands', demand({ resource: '210100-WJ-0001', items: ['diagnosis'] }));
    expect(refused.json).toMatchObject({ state: 'refused', refusal: { automatic: true, legalBasis: { title: '《中华人民共和国传染病防治法》' } } });
    expect((await eventsFor(refused.json.id, 2)).map((e) => e.type)).toEqual(['demand.registered', 'demand.refused']);
  });

  it('sends conditional demands to the supplier, who approves with terms; every transition is recorded', async () => {
    const pending = await post('/v1/catalogue/demands', demand());
    expect(pending.json).toMatchObject({ state: 'pending', provider: GA, overdue: false, terms: null });
    expect(pending.json.replyDue > inDays(0)).toBe(true);
    const id = pending.json.id as string;

    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: YS }), 'ZT_ERR_NOT_A_PARTY');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: BAD_USCC }), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, terms: { items: ['address'] } }), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, terms: { items: ['salary'] } }), 'ZT_ERR_DATA_ITEM_UNKNOWN');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, terms: { validUntil: inDays(400) } }), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, terms: { dailyQuota: 0 } }), 'ZT_ERR_REQUEST_INVALID');

    const approved = await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, terms: { items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) } });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ state: 'approved', terms: { items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) } });
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA }), 'ZT_ERR_DEMAND_STATE');
    expectError(await post(`/v1/catalogue/demands/${id}/refuse`, { actor: GA, negativeListRuleId: 'NL-1' }), 'ZT_ERR_DEMAND_STATE');
    expectError(await post(`/v1/catalogue/demands/${id}/withdraw`, { actor: GA }), 'ZT_ERR_NOT_A_PARTY');
    const withdrawn = await post(`/v1/catalogue/demands/${id}/withdraw`, { actor: YS, reason: '事项已调整' });
    expect(withdrawn.json.state).toBe('withdrawn');
    expectError(await post(`/v1/catalogue/demands/${id}/withdraw`, { actor: YS }), 'ZT_ERR_DEMAND_STATE');

    const history = await get(`/v1/catalogue/demands/${id}/history`);
    expect(history.json.transitions.map((t: { seq: number; from: string | null; to: string; actor: string }) => [t.seq, t.from, t.to, t.actor])).toEqual([
      [1, null, 'pending', YS],
      [2, 'pending', 'approved', GA],
      [3, 'approved', 'withdrawn', YS],
    ]);
    expect(history.json.transitions[1].detail.terms).toEqual({ items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) });
    expect((await eventsFor(id, 3)).map((e) => e.type)).toEqual(['demand.registered', 'demand.approved', 'demand.withdrawn']);
  });

  it('takes only steps signed by the acting department, and keeps the signature in the history', async () => {
    expectError(await postUnsigned('/v1/catalogue/demands', demand({ serviceItem: 'E2E-SIGN-1' })), 'ZT_ERR_TRANSITION_UNSIGNED');
    const id = (await post('/v1/catalogue/demands', demand({ serviceItem: 'E2E-SIGN-1' }))).json.id as string;
    expectError(await postUnsigned(`/v1/catalogue/demands/${id}/approve`, { actor: GA }), 'ZT_ERR_TRANSITION_UNSIGNED');
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, signature: { version: 1 } }), 'ZT_ERR_ENVELOPE_MALFORMED');
    const byCivilAffairs = await signedJson(demoSigner(a.config.dataDir, MZ), { kind: 'approve', demandId: id, actor: GA, content: {} });
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, signature: byCivilAffairs }), 'ZT_ERR_SIGNER_MISMATCH');
    const forOther = await signedJson(demoSigner(a.config.dataDir, GA), { kind: 'approve', demandId: id, actor: GA, content: { terms: { dailyQuota: 5 } } });
    expectError(await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, signature: forOther }), 'ZT_ERR_SIGNATURE_INVALID');
    expect((await get(`/v1/catalogue/demands/${id}`)).json.state).toBe('pending');
    const good = await signedJson(demoSigner(a.config.dataDir, GA), { kind: 'approve', demandId: id, actor: GA, content: {} });
    expect((await post(`/v1/catalogue/demands/${id}/approve`, { actor: GA, signature: good })).json.state).toBe('approved');
    const history = (await get(`/v1/catalogue/demands/${id}/history`)).json.transitions as { actor: string; signature: { statement: string; certificateSerial: string; envelope: object } }[];
    expect(history.map((t) => [t.actor, JSON.parse(t.signature.statement).kind])).toEqual([
      [YS, 'register'],
      [GA, 'approve'],
    ]);
    expect(history[1]!.signature.envelope).toEqual(good);
  });

  it('rejects a refusal without a basis, and accepts one citing a negative-list entry or a legal basis', async () => {
    const one = (await post('/v1/catalogue/demands', demand({ serviceItem: 'E2E-REFUSE-1' }))).json.id as string;
    const two = (await post('/v1/catalogue/demands', demand({ serviceItem: 'E2E-REFUSE-2' }))).json.id as string;
    expectError(await post(`/v1/catalogue/demands/${one}/refuse`, { actor: GA }), 'ZT_ERR_REFUSAL_BASIS_MISSING');
    expectError(await post(`/v1/catalogue/demands/${one}/refuse`, { actor: GA, reason: '数据敏感' }), 'ZT_ERR_REFUSAL_BASIS_MISSING');
    expectError(await post(`/v1/catalogue/demands/${one}/refuse`, { actor: GA, legalBasis: { article: '第六条' } }), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post(`/v1/catalogue/demands/${one}/refuse`, { actor: MZ, negativeListRuleId: 'NL-GA-0002' }), 'ZT_ERR_NOT_A_PARTY');
    expect((await get(`/v1/catalogue/demands/${one}`)).json.state).toBe('pending');

    const byRule = await post(`/v1/catalogue/demands/${one}/refuse`, { actor: GA, negativeListRuleId: 'NL-GA-0002' });
    expect(byRule.json).toMatchObject({ state: 'refused', refusal: { negativeListRuleId: 'NL-GA-0002', legalBasis: null, automatic: false } });
    const byLaw = await post(`/v1/catalogue/demands/${two}/refuse`, { actor: GA, legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' }, reason: '超出最小必要范围' });
    expect(byLaw.json.refusal).toEqual({ negativeListRuleId: null, legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' }, reason: '超出最小必要范围', automatic: false });
    expectError(await post(`/v1/catalogue/demands/${two}/approve`, { actor: GA }), 'ZT_ERR_DEMAND_STATE');
    expect((await eventsFor(two, 2)).map((e) => e.type)).toEqual(['demand.registered', 'demand.refused']);
  });

  it('rejects bad registrations with the code that says what is wrong', async () => {
    expectError(await post('/v1/catalogue/demands', demand({ resource: 'NOPE-0001' })), 'ZT_ERR_RESOURCE_NOT_FOUND');
    expectError(await post('/v1/catalogue/demands', demand({ items: ['name', 'salary'] })), 'ZT_ERR_DATA_ITEM_UNKNOWN');
    expectError(await post('/v1/catalogue/demands', demand({ requester: UNREGISTERED })), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    expectError(await post('/v1/catalogue/demands', demand({ requester: BAD_USCC })), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await post('/v1/catalogue/demands', demand({ requester: GA })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ validTo: inDays(-1) })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ validFrom: inDays(30), validTo: inDays(10) })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ validTo: '2026-13-01' })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ serviceItem: '事项' })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ items: [] })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ legalBasis: undefined })), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands', demand({ expectedDailyVolume: -5 })), 'ZT_ERR_REQUEST_INVALID');
  });

  it('answers unknown and malformed demand ids, and bad list filters', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    expectError(await get(`/v1/catalogue/demands/${unknown}`), 'ZT_ERR_DEMAND_NOT_FOUND');
    expectError(await get(`/v1/catalogue/demands/${unknown}/history`), 'ZT_ERR_DEMAND_NOT_FOUND');
    expectError(await post(`/v1/catalogue/demands/${unknown}/approve`, { actor: GA }), 'ZT_ERR_DEMAND_NOT_FOUND');
    expectError(await get('/v1/catalogue/demands/not-a-uuid'), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post('/v1/catalogue/demands/not-a-uuid/withdraw', { actor: YS }), 'ZT_ERR_REQUEST_INVALID');
    expectError(await post(`/v1/catalogue/demands/${unknown}/approve`, {}), 'ZT_ERR_REQUEST_INVALID');
    expectError(await get('/v1/catalogue/demands?state=lost'), 'ZT_ERR_REQUEST_INVALID');
    expectError(await get('/v1/catalogue/demands?after=zzz'), 'ZT_ERR_REQUEST_INVALID');
    expectError(await get(`/v1/catalogue/demands?requester=${BAD_USCC}`), 'ZT_ERR_ID_INVALID_USCC');
    expectError(await get(`/v1/catalogue/demands?provider=${UNREGISTERED}`), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    expectError(await get('/v1/catalogue/demands?resource=NOPE-0001'), 'ZT_ERR_RESOURCE_NOT_FOUND');
  });

  it('lists demands by provider, state and overdue, a page at a time', async () => {
    const overdue = await get(`/v1/catalogue/demands?overdue=true`);
    expect(overdue.json.items.length).toBeGreaterThan(0);
    expect(overdue.json.items.every((d: { state: string; overdue: boolean }) => d.state === 'pending' && d.overdue)).toBe(true);
    const first = await get(`/v1/catalogue/demands?provider=${GA}&limit=1`);
    expect(first.json.items).toHaveLength(1);
    const next = await get(`/v1/catalogue/demands?provider=${GA}&limit=1&after=${first.json.next}`);
    expect(next.json.items[0].id > first.json.items[0].id).toBe(true);
  });
});

describe('import and export', () => {
  let b: TestApp;
  beforeAll(async () => {
    // An empty instance under the same CA, so the demo departments' keys are good there too.
    b = await startTestApp({ caDir: a.config.caDir }, { seedDemo: false });
    for (const d of DEMO_DEPARTMENTS) await b.app.ctx.departments.register(d);
  });
  afterAll(async () => {
    await b?.close();
  });

  it('round-trips the supply list as CSV, with commas, quotes and Chinese, to another instance', async () => {
    const tricky = resource({
      code: 'E2E-QUOTE-1',
      name: '户籍信息，含"迁入"与"迁出"',
      connector: { kind: 'http', endpoint: 'https://ga.example/q?a=1,b=2' },
      items: [{ code: 'note', name: '备注\n（多行）, "引号"', type: 'string', sensitivity: 'internal', categories: ['personal', 'free-text'] }],
    });
    expect((await post('/v1/catalogue/resources', tricky)).status).toBe(201);
    const csv = await get('/v1/catalogue/resources/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('supply-list.csv');
    expect(csv.text).toContain('"户籍信息，含""迁入""与""迁出"""');

    const imported = await call(b, 'POST', '/v1/catalogue/resources/import', csv.text, 'text/csv; charset=utf-8');
    expect(imported.status).toBe(201);
    expect(imported.json.resources).toEqual(expect.arrayContaining(['210100-GA-0001', 'E2E-QUOTE-1', '210100-WJ-0001']));
    const again = await call(b, 'GET', '/v1/catalogue/resources/export?format=csv');
    expect(again.text).toBe(csv.text);
    expect((await call(b, 'GET', '/v1/catalogue/resources/E2E-QUOTE-1')).json.items[0].name).toBe('备注\n（多行）, "引号"');
  });

  it('round-trips the demand list as JSON: each row registers afresh, taking its state from the sharing class', async () => {
    const exported = await get(`/v1/catalogue/demands/export?requester=${YS}`);
    const demands = exported.json.demands as { resource: string; items: string[]; serviceItem: string; state: string }[];
    expect(demands.length).toBeGreaterThan(5);
    const imported = await call(b, 'POST', '/v1/catalogue/demands/import', exported.json, 'application/json', { importAs: YS, keysOf: a });
    expect(imported.status).toBe(201);
    expect(imported.json.imported).toBe(demands.length);
    const inB = (await call(b, 'GET', `/v1/catalogue/demands/export?requester=${YS}`)).json.demands as typeof demands;
    const registration = (d: (typeof demands)[number]) => [d.resource, d.items, d.serviceItem];
    expect(inB.map(registration)).toEqual(demands.map(registration));
    const stateByClass = { '210100-SC-0001': 'granted', '210100-WJ-0001': 'refused', '210100-GA-0001': 'pending' } as Record<string, string>;
    for (const d of inB) if (stateByClass[d.resource]) expect(d.state).toBe(stateByClass[d.resource]);
  });

  it('exports the demand list as CSV and imports it back', async () => {
    const csv = await get(`/v1/catalogue/demands/export?format=csv&requester=${YS}&state=granted`);
    const rows = parseCsv(csv.text);
    expect(rows[0]!.fields).toEqual(expect.arrayContaining(['id', 'requester', 'state', 'replyDue', 'termsDailyQuota']));
    expect(rows.slice(1).every((r) => r.fields[rows[0]!.fields.indexOf('state')] === 'granted')).toBe(true);
    const before = (await get(`/v1/catalogue/demands?requester=${YS}&state=granted&limit=500`)).json.items.length;
    expectError(await call(a, 'POST', '/v1/catalogue/demands/import', csv.text, 'text/csv'), 'ZT_ERR_TRANSITION_UNSIGNED');
    expectError(await call(a, 'POST', '/v1/catalogue/demands/import', csv.text, 'text/csv', { importAs: GA }), 'ZT_ERR_IMPORT_INVALID');
    const imported = await call(a, 'POST', '/v1/catalogue/demands/import', csv.text, 'text/csv', { importAs: YS });
    expect(imported.json.imported).toBe(rows.length - 1);
    expect((await get(`/v1/catalogue/demands?requester=${YS}&state=granted&limit=500`)).json.items.length).toBe(before + rows.length - 1);
  });

  it('imports nothing when any row is invalid, and lists every bad row with its number', async () => {
    const header = 'resourceCode,resourceName,provider,sharingClass,legalBasisTitle,legalBasisArticle,updateCycle,connectorKind,connectorEndpoint,itemCode,itemName,itemType,itemSensitivity,itemCategories';
    const csv = [
      header,
      'E2E-IMP-1,好的资源,11210100001000029N,无条件共享,,,daily,http,https://x,a,甲,string,public,',
      `E2E-IMP-2,未知部门,${UNREGISTERED},conditional,,,daily,http,https://x,a,甲,string,public,`,
      `E2E-IMP-3,坏代码,${BAD_USCC},conditional,,,daily,http,https://x,a,甲,string,public,`,
      'E2E-IMP-4,不予共享无依据,11210100001000029N,不予共享,,,daily,http,https://x,a,甲,string,public,',
      '210100-SC-0001,已存在,11210100001000029N,unconditional,,,daily,http,https://x,a,甲,string,public,',
      'E2E-IMP-5,坏类型,11210100001000029N,unconditional,,,daily,http,https://x,a,甲,text,public,',
      'E2E-IMP-1,好的资源,11210100001000029N,无条件共享,,,weekly,http,https://x,b,乙,string,public,',
    ].join('\n');
    const r = await call(a, 'POST', '/v1/catalogue/resources/import', csv, 'text/csv');
    expectError(r, 'ZT_ERR_IMPORT_INVALID');
    expect(r.json.details.map((d: { row: number; code: string }) => [d.row, d.code])).toEqual([
      [3, 'ZT_ERR_DEPARTMENT_NOT_FOUND'],
      [4, 'ZT_ERR_ID_INVALID_USCC'],
      [5, 'ZT_ERR_REFUSAL_BASIS_MISSING'],
      [6, 'ZT_ERR_RESOURCE_EXISTS'],
      [7, 'ZT_ERR_REQUEST_INVALID'],
      [8, 'ZT_ERR_IMPORT_INVALID'],
    ]);
    expect(r.json.details[5]).toMatchObject({ column: 'updateCycle' });
    expectError(await get('/v1/catalogue/resources/E2E-IMP-1'), 'ZT_ERR_RESOURCE_NOT_FOUND');

    const json = await call(
      a,
      'POST',
      '/v1/catalogue/demands/import',
      { demands: [demand({ serviceItem: 'E2E-IMP-OK' }), demand({ items: ['salary'] }), 'not an object', demand({ colour: 'red' })] },
      'application/json',
      { importAs: YS },
    );
    expectError(json, 'ZT_ERR_IMPORT_INVALID');
    expect(json.json.details.map((d: { row: number; code: string }) => [d.row, d.code])).toEqual([
      [2, 'ZT_ERR_DATA_ITEM_UNKNOWN'],
      [3, 'ZT_ERR_IMPORT_INVALID'],
      [4, 'ZT_ERR_IMPORT_INVALID'],
    ]);
    expect((await get('/v1/catalogue/demands?serviceItem=E2E-IMP-OK')).json.items).toEqual([]);

    expectError(await call(a, 'POST', '/v1/catalogue/resources/import', 'a,"b\n', 'text/csv'), 'ZT_ERR_IMPORT_INVALID');
    expectError(await post('/v1/catalogue/resources/import', { items: [] }), 'ZT_ERR_REQUEST_INVALID');
    expectError(await call(a, 'POST', '/v1/catalogue/resources/import', 'x', 'text/plain'), 'ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
    expectError(await get('/v1/catalogue/resources/export?format=xml'), 'ZT_ERR_REQUEST_INVALID');
  });
});

describe('fulfilment report', () => {
  it('counts served, pending, overdue and refused demands per department, as requester and as supplier', async () => {
    const r = await get(`/v1/catalogue/reports/fulfilment?department=${YS}`);
    expect(r.status).toBe(200);
    expect(r.json.asOf).toBe(inDays(0));
    const [ys] = r.json.departments as { department: string; asRequester: Record<string, number>; asSupplier: Record<string, number> }[];
    const mine = (await get(`/v1/catalogue/demands?requester=${YS}&limit=500`)).json.items as { state: string; overdue: boolean }[];
    const count = (f: (d: { state: string; overdue: boolean }) => boolean) => mine.filter(f).length;
    expect(ys!.asRequester).toEqual({
      total: mine.length,
      served: count((d) => ['granted', 'approved', 'expired'].includes(d.state)),
      pending: count((d) => d.state === 'pending'),
      overdue: count((d) => d.overdue),
      refused: count((d) => d.state === 'refused'),
      withdrawn: count((d) => d.state === 'withdrawn'),
      expired: count((d) => d.state === 'expired'),
    });
    expect(ys!.asRequester.overdue).toBeGreaterThan(0);
    expect(ys!.asSupplier.total).toBe(0);

    const all = await get('/v1/catalogue/reports/fulfilment');
    expect(all.json.departments.map((d: { department: string }) => d.department)).toEqual(expect.arrayContaining(DEMO_DEPARTMENTS.map((d) => d.uscc)));
    const ga = all.json.departments.find((d: { department: string }) => d.department === GA);
    expect(ga.asSupplier.refused).toBeGreaterThanOrEqual(1);
    expect(all.json.departments.find((d: { department: string }) => d.department === WJ).asSupplier.refused).toBeGreaterThanOrEqual(1);

    expectError(await get(`/v1/catalogue/reports/fulfilment?department=${UNREGISTERED}`), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    expectError(await get(`/v1/catalogue/reports/fulfilment?department=${BAD_USCC}`), 'ZT_ERR_ID_INVALID_USCC');
  });
});
