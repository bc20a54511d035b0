// zhengtong.v1.CatalogueService end to end over a real gRPC connection, with a client built independently of the
// server (proto-loader on proto/), checked against the HTTP API of the same instance: the same answers, the same
// errors, the same report numbers.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue, type ErrorCode } from '../../../core/errors/index.js';
import { usccCheckCharacter } from '../../../core/identifiers/index.js';
import { existsSync } from 'node:fs';
import { envelopeFromMessage, envelopeToJson, envelopeToMessage } from '../../../certs/envelope/index.js';
import { sm3 } from '../../../certs/sm2/sm2.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { demoSigner, platformOperatorKey, signedMetadata } from '../../../test/support/signing.js';
import { demoKeyFiles } from '../../../demo/index.js';
import { signTransition } from '../signed-transitions.js';
import { serialised, serviceClient, unary, unaryError, type Client, type Msg } from '../../../test/support/grpc-client.js';
import { DEMO_RESOURCES } from '../../../demo/catalogue.js';
import { chinaDate } from '../working-days.js';

const GA = '11210100001000010R'; // 市公安局: supplies 210100-GA-0001 (conditional)
const SC = '11210100001000029N'; // 市场监管局: 210100-SC-0001 (unconditional)
const YS = '112101000010000537'; // 营商局: the demo's requester
const BAD_USCC = '11210100001000010X';
const UNREGISTERED = (() => {
  const first17 = '11210100900000001';
  return first17 + usccCheckCharacter(first17);
})();
const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';

let app: TestApp;
let client: Client;

beforeAll(async () => {
  app = await startTestApp();
  client = serviceClient('catalogue.proto', 'CatalogueService', app.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await app?.close();
});

const STEPS: Record<string, 'register' | 'approve' | 'refuse' | 'withdraw'> = {
  RegisterDemand: 'register',
  ApproveDemand: 'approve',
  RefuseDemand: 'refuse',
  WithdrawDemand: 'withdraw',
};

/**
 * Signs a demand step as a department's client does, with the acting demo department's key, unless the request has
 * a signature already or the actor has none; a demand import is signed as the business-environment bureau.
 */
async function signed(method: string, request: Msg): Promise<Msg> {
  if ('signature' in request) return request;
  if (method === 'ImportDemands') {
    const documentSm3 = sm3(request.content ?? Buffer.alloc(0)).toString('hex');
    const envelope = await signTransition(demoSigner(app.config.dataDir, YS), { kind: 'import', actor: YS, content: { documentSm3 } });
    return { ...request, signature: envelopeToMessage(envelope) };
  }
  const kind = STEPS[method];
  if (!kind) return request;
  const actor = kind === 'register' ? request.requester : request.actor;
  // An actor without a key (a malformed or unknown code) is signed for by another department: the gateway takes only
  // signed steps, and the service then names what is wrong with the step before the signer.
  if (typeof actor !== 'string') return request;
  const signer = demoSigner(app.config.dataDir, existsSync(demoKeyFiles(app.config.dataDir, actor).key) ? actor : SC);
  const envelope = await signTransition(signer, { kind, demandId: request.id ?? null, actor, content: request });
  return { ...request, signature: envelopeToMessage(envelope) };
}

/**
 * Publishing and importing resources are signed requests (metadata): a publication by its provider (another
 * department's key for a provider without one), an import by the platform administrator.
 */
async function metadataFor(method: string, request: Msg): Promise<grpc.Metadata> {
  if (method !== 'PublishResource' && method !== 'ImportResources') return new grpc.Metadata();
  const provider = request.provider;
  const signer =
    method === 'ImportResources' ? platformOperatorKey(app.config) : demoSigner(app.config.dataDir, typeof provider === 'string' && existsSync(demoKeyFiles(app.config.dataDir, provider).key) ? provider : SC);
  const { path, bytes } = serialised(client, method, request);
  return signedMetadata(signer, path, bytes);
}

const rpc = async (method: string, request: Msg = {}): Promise<Msg> => {
  const message = await signed(method, request);
  return unary(client, method, message, await metadataFor(method, message));
};
const rpcError = async (method: string, request: Msg): Promise<grpc.ServiceError> => {
  const message = await signed(method, request);
  return unaryError(client, method, message, await metadataFor(method, message));
};

function errorBody(error: grpc.ServiceError): { code: string; message: string; requestId: string; details?: any } {
  return JSON.parse((error.metadata.get('zt-error-bin')[0] as Buffer).toString('utf8'));
}

/** Expects the call to fail with `code`: its gRPC status, the zt-error-code trailer and the error body. */
async function expectCode(method: string, request: Msg, code: ErrorCode): Promise<grpc.ServiceError> {
  const error = await rpcError(method, request);
  expect({ status: error.code, trailer: error.metadata.get('zt-error-code')[0], body: errorBody(error).code, message: error.details }).toEqual({
    status: errorCatalogue[code].grpc,
    trailer: code,
    body: code,
    message: errorBody(error).message,
  });
  return error;
}

const STEP_PATH = /^\/v1\/catalogue\/demands(?:\/([^/]+)\/(approve|refuse|withdraw))?$/;

async function http(method: 'GET' | 'POST', path: string, body?: Msg): Promise<{ status: number; json: Msg; bytes: Buffer }> {
  // Demand steps are signed over HTTP as over gRPC, so both answer the same bad request with the same code.
  const step = method === 'POST' && body ? STEP_PATH.exec(path) : null;
  if (step && body) {
    const kind = (step[2] ?? 'register') as 'register' | 'approve' | 'refuse' | 'withdraw';
    const actor = kind === 'register' ? body.requester : body.actor;
    if (typeof actor === 'string') {
      const signer = demoSigner(app.config.dataDir, existsSync(demoKeyFiles(app.config.dataDir, actor).key) ? actor : SC);
      body = { ...body, signature: envelopeToJson(await signTransition(signer, { kind, demandId: step[1] ?? null, actor, content: body })) };
    }
  }
  const response = await fetch(app.httpUrl + path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: Msg = {};
  try {
    json = JSON.parse(text) as Msg;
  } catch {
    // CSV
  }
  return { status: response.status, json, bytes };
}

const inDays = (days: number): string => chinaDate(new Date(Date.now() + days * 86_400_000));
const isoOf = (t: Msg): string => new Date(Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6)).toISOString();

// The HTTP JSON shape of the messages, to compare the two APIs field for field.
const basisJson = (b: Msg | null) => (b ? { title: b.title, article: b.article || null } : null);
const resourceJson = (r: Msg) => ({
  code: r.code,
  name: r.name,
  provider: r.provider,
  sharingClass: r.sharingClass,
  legalBasis: basisJson(r.legalBasis),
  updateCycle: r.updateCycle,
  connector: { kind: r.connector.kind, endpoint: r.connector.endpoint },
  items: (r.items as Msg[]).map((i) => ({ code: i.code, name: i.name, type: i.type, sensitivity: i.sensitivity, categories: i.categories })),
  createdAt: isoOf(r.createdAt),
  updatedAt: isoOf(r.updatedAt),
});
const demandJson = (d: Msg) => ({
  id: d.id,
  requester: d.requester,
  provider: d.provider,
  resource: d.resource,
  items: d.items,
  serviceItem: d.serviceItem,
  legalBasis: basisJson(d.legalBasis),
  expectedDailyVolume: d.expectedDailyVolume,
  validFrom: d.validFrom,
  validTo: d.validTo,
  state: d.state,
  replyDue: d.replyDue || null,
  overdue: d.overdue,
  terms: d.terms ? { items: d.terms.items.length > 0 ? d.terms.items : null, dailyQuota: d.terms.dailyQuota ?? null, validUntil: d.terms.validUntil || null } : null,
  refusal: d.refusal
    ? { negativeListRuleId: d.refusal.negativeListRuleId || null, legalBasis: basisJson(d.refusal.legalBasis), reason: d.refusal.reason || null, automatic: d.refusal.automatic }
    : null,
  createdAt: isoOf(d.createdAt),
});
function fromValue(v: Msg): unknown {
  switch (v.kind) {
    case 'nullValue':
      return null;
    case 'structValue':
      return fromStruct(v.structValue);
    case 'listValue':
      return (v.listValue.values as Msg[]).map(fromValue);
    default:
      return v[v.kind];
  }
}
const fromStruct = (s: Msg): Msg => Object.fromEntries(Object.entries(s.fields as Msg).map(([k, v]) => [k, fromValue(v as Msg)]));

const publication = (over: Msg = {}): Msg => ({
  code: 'GRPC-GA-0001',
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

const registration = (over: Msg = {}): Msg => ({
  requester: YS,
  resource: 'GRPC-GA-0001',
  items: ['name', 'idNumber'],
  serviceItem: 'GRPC-0001',
  legalBasis: { title: '《优化营商环境条例》' },
  expectedDailyVolume: 100,
  validTo: inDays(365),
  ...over,
});

describe('CatalogueService: supply list', () => {
  it('serves the demo catalogue as the HTTP API does', async () => {
    const page = await rpc('ListResources', { limit: 500 });
    expect((page.items as Msg[]).map((r) => r.code)).toEqual(expect.arrayContaining(DEMO_RESOURCES.map((r) => r.code)));
    expect(page.next).toBe('');
    const viaHttp = (await http('GET', '/v1/catalogue/resources?limit=500')).json;
    expect((page.items as Msg[]).map(resourceJson)).toEqual(viaHttp.items);

    const wj = await rpc('GetResource', { code: '210100-WJ-0001' });
    expect(wj).toMatchObject({ sharingClass: 'not-shared', legalBasis: { title: '《中华人民共和国传染病防治法》', article: '' } });
    const items = await rpc('ListResourceItems', { code: '210100-GA-0001' });
    expect(items.resource).toBe('210100-GA-0001');
    expect((items.items as Msg[]).map((i) => i.code)).toEqual(['name', 'gender', 'ethnicity', 'birthDate', 'idNumber', 'address', 'householdNumber', 'photo']);

    const first = await rpc('ListResources', { limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1].code);
    const second = await rpc('ListResources', { limit: 2, after: first.next });
    expect((second.items as Msg[]).map(resourceJson)).toEqual((await http('GET', `/v1/catalogue/resources?limit=2&after=${first.next}`)).json.items);
  });

  it('publishes a conditional resource, readable over HTTP', async () => {
    const published = await rpc('PublishResource', publication());
    expect(published).toMatchObject({ code: 'GRPC-GA-0001', provider: GA, sharingClass: 'conditional', legalBasis: null });
    expect((published.items as Msg[]).map((i) => [i.code, i.categories])).toEqual([
      ['name', ['personal']],
      ['idNumber', ['personal', 'identity-number']],
      ['address', []],
    ]);
    expect(resourceJson(published)).toEqual((await http('GET', '/v1/catalogue/resources/GRPC-GA-0001')).json);
    expect(await rpc('GetResource', { code: 'GRPC-GA-0001' })).toEqual(published);
  });

  it('rejects bad publications with the codes of the HTTP API', async () => {
    await expectCode('PublishResource', publication(), 'ZT_ERR_RESOURCE_EXISTS');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', provider: BAD_USCC }), 'ZT_ERR_ID_INVALID_USCC');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', provider: UNREGISTERED }), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', sharingClass: 'not-shared' }), 'ZT_ERR_REFUSAL_BASIS_MISSING');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', legalBasis: { title: '《某法》' } }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('PublishResource', publication({ code: 'grpc-lower' }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', sharingClass: 'sometimes' }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', items: [] }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', connector: null }), 'ZT_ERR_REQUEST_INVALID');
    const tagged = { code: 'a', name: '甲', type: 'string', sensitivity: 'public', categories: Array.from({ length: 21 }, (_, i) => `t${i}`) };
    await expectCode('PublishResource', publication({ code: 'GRPC-X-1', items: [tagged] }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('GetResource', { code: 'GRPC-X-1' }, 'ZT_ERR_RESOURCE_NOT_FOUND');
    await expectCode('ListResourceItems', { code: 'not a code' }, 'ZT_ERR_RESOURCE_NOT_FOUND');
    await expectCode('ListResources', { provider: UNREGISTERED }, 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    await expectCode('ListResources', { limit: 501 }, 'ZT_ERR_REQUEST_INVALID');
  });
});

describe('CatalogueService: the application–reply workflow', () => {
  let approvedId = '';

  it('registers a demand for a conditional resource as pending with a reply due; the supplier approves with terms', async () => {
    const pending = await rpc('RegisterDemand', registration());
    expect(pending).toMatchObject({ state: 'pending', requester: YS, provider: GA, resource: 'GRPC-GA-0001', overdue: false, terms: null, refusal: null, validFrom: inDays(0) });
    expect(pending.replyDue > inDays(0)).toBe(true);
    const id = pending.id as string;
    approvedId = id;
    expect(demandJson(pending)).toEqual((await http('GET', `/v1/catalogue/demands/${id}`)).json);

    // Only the provider replies: the requester may not approve its own demand.
    expect((await expectCode('ApproveDemand', { id, actor: YS }, 'ZT_ERR_NOT_A_PARTY')).code).toBe(grpc.status.PERMISSION_DENIED);
    await expectCode('ApproveDemand', { id, actor: BAD_USCC }, 'ZT_ERR_ID_INVALID_USCC');
    await expectCode('ApproveDemand', { id, actor: GA, terms: { items: ['address'] } }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('ApproveDemand', { id, actor: GA, terms: { items: ['salary'] } }, 'ZT_ERR_DATA_ITEM_UNKNOWN');
    await expectCode('ApproveDemand', { id, actor: GA, terms: { dailyQuota: 0 } }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('ApproveDemand', { id, actor: GA, terms: { validUntil: inDays(400) } }, 'ZT_ERR_REQUEST_INVALID');
    expect((await rpc('GetDemand', { id })).state).toBe('pending');

    const approved = await rpc('ApproveDemand', { id, actor: GA, terms: { items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) } });
    expect(approved).toMatchObject({ id, state: 'approved', replyDue: pending.replyDue, terms: { items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) } });
    expect(demandJson(approved)).toEqual((await http('GET', `/v1/catalogue/demands/${id}`)).json);

    // No second reply once approved.
    expect((await expectCode('ApproveDemand', { id, actor: GA }, 'ZT_ERR_DEMAND_STATE')).code).toBe(grpc.status.FAILED_PRECONDITION);
    await expectCode('RefuseDemand', { id, actor: GA, legalBasis: { title: '《某法》' } }, 'ZT_ERR_DEMAND_STATE');
  });

  it('refuses another demand on a legal basis, and refuses a refusal without one', async () => {
    const id = (await rpc('RegisterDemand', registration({ serviceItem: 'GRPC-REFUSE-1' }))).id as string;
    expect((await expectCode('RefuseDemand', { id, actor: GA }, 'ZT_ERR_REFUSAL_BASIS_MISSING')).code).toBe(grpc.status.INVALID_ARGUMENT);
    await expectCode('RefuseDemand', { id, actor: GA, reason: '数据敏感' }, 'ZT_ERR_REFUSAL_BASIS_MISSING');
    await expectCode('RefuseDemand', { id, actor: GA, legalBasis: { article: '第六条' } }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RefuseDemand', { id, actor: SC, legalBasis: { title: '《某法》' } }, 'ZT_ERR_NOT_A_PARTY');
    expect((await rpc('GetDemand', { id })).state).toBe('pending');

    const refused = await rpc('RefuseDemand', { id, actor: GA, legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' }, reason: '超出最小必要范围' });
    expect(refused).toMatchObject({
      state: 'refused',
      refusal: { negativeListRuleId: '', legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' }, reason: '超出最小必要范围', automatic: false },
    });
    expect(demandJson(refused)).toEqual((await http('GET', `/v1/catalogue/demands/${id}`)).json);
    await expectCode('ApproveDemand', { id, actor: GA }, 'ZT_ERR_DEMAND_STATE');
    await expectCode('WithdrawDemand', { id, actor: YS }, 'ZT_ERR_DEMAND_STATE');
  });

  it('grants unconditional demands at once and refuses not-shared ones at once', async () => {
    const granted = await rpc('RegisterDemand', registration({ resource: '210100-SC-0001', items: ['uscc', 'entName'] }));
    expect(granted).toMatchObject({ state: 'granted', provider: SC, replyDue: '', overdue: false });
    const refused = await rpc('RegisterDemand', registration({ resource: '210100-WJ-0001', items: ['diagnosis'] }));
    expect(refused).toMatchObject({ state: 'refused', refusal: { automatic: true, legalBasis: { title: '《中华人民共和国传染病防治法》' } } });
  });

  it('withdraws the approved demand; its history is every step, as over HTTP', async () => {
    await expectCode('WithdrawDemand', { id: approvedId, actor: GA }, 'ZT_ERR_NOT_A_PARTY');
    await expectCode('WithdrawDemand', { id: approvedId, actor: YS, reason: 'x'.repeat(1001) }, 'ZT_ERR_REQUEST_INVALID');
    expect((await rpc('WithdrawDemand', { id: approvedId, actor: YS, reason: '事项已调整' })).state).toBe('withdrawn');
    await expectCode('WithdrawDemand', { id: approvedId, actor: YS }, 'ZT_ERR_DEMAND_STATE');

    const history = await rpc('GetDemandHistory', { id: approvedId });
    expect(history.demand).toBe(approvedId);
    const transitions = history.transitions as Msg[];
    expect(transitions.map((t) => [t.seq, t.from, t.to, t.actor])).toEqual([
      [1, '', 'pending', YS],
      [2, 'pending', 'approved', GA],
      [3, 'approved', 'withdrawn', YS],
    ]);
    expect(fromStruct(transitions[1]!.detail)).toEqual({ action: 'approve', terms: { items: ['idNumber'], dailyQuota: 50, validUntil: inDays(90) } });
    const viaHttp = (await http('GET', `/v1/catalogue/demands/${approvedId}/history`)).json.transitions as Msg[];
    const signatureJson = (sig: Msg | null) =>
      sig
        ? {
            statementKey: sig.statementKey,
            statement: sig.statement,
            envelope: envelopeToJson(envelopeFromMessage(sig.envelope)),
            certificateSm3: sig.certificateSm3,
            certificateSerial: sig.certificateSerial,
            signedAt: isoOf(sig.signedAt),
          }
        : null;
    expect(
      transitions.map((t) => ({ seq: t.seq, from: t.from || null, to: t.to, actor: t.actor || null, at: isoOf(t.at), detail: fromStruct(t.detail), signature: signatureJson(t.signature) })),
    ).toEqual(viaHttp);
    expect(transitions.every((t) => t.signature !== null)).toBe(true);
  });

  it('rejects bad registrations and unknown demands with the codes of the HTTP API', async () => {
    expect((await expectCode('RegisterDemand', registration({ resource: 'NOPE-0001' }), 'ZT_ERR_RESOURCE_NOT_FOUND')).code).toBe(grpc.status.NOT_FOUND);
    expect((await expectCode('RegisterDemand', registration({ items: ['name', 'salary'] }), 'ZT_ERR_DATA_ITEM_UNKNOWN')).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await expectCode('RegisterDemand', registration({ requester: BAD_USCC }), 'ZT_ERR_ID_INVALID_USCC')).code).toBe(grpc.status.INVALID_ARGUMENT);
    await expectCode('RegisterDemand', registration({ requester: UNREGISTERED }), 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    await expectCode('RegisterDemand', registration({ requester: GA }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RegisterDemand', registration({ validTo: inDays(-1) }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RegisterDemand', registration({ items: [] }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RegisterDemand', registration({ legalBasis: null }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RegisterDemand', registration({ expectedDailyVolume: undefined }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('RegisterDemand', registration({ expectedDailyVolume: -5 }), 'ZT_ERR_REQUEST_INVALID');
    await expectCode('GetDemand', { id: UNKNOWN_ID }, 'ZT_ERR_DEMAND_NOT_FOUND');
    await expectCode('GetDemandHistory', { id: UNKNOWN_ID }, 'ZT_ERR_DEMAND_NOT_FOUND');
    await expectCode('ApproveDemand', { id: UNKNOWN_ID, actor: GA }, 'ZT_ERR_DEMAND_NOT_FOUND');
    await expectCode('GetDemand', { id: 'not-a-uuid' }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('ListDemands', { state: 'lost' }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('ListDemands', { resource: 'NOPE-0001' }, 'ZT_ERR_RESOURCE_NOT_FOUND');
  });

  it('takes only steps signed by the acting department', async () => {
    const id = (await rpc('RegisterDemand', registration({ serviceItem: 'GRPC-SIGN-1' }))).id as string;
    expect((await expectCode('ApproveDemand', { id, actor: GA, signature: undefined }, 'ZT_ERR_TRANSITION_UNSIGNED')).code).toBe(grpc.status.UNAUTHENTICATED);
    const byYs = await signTransition(demoSigner(app.config.dataDir, YS), { kind: 'approve', demandId: id, actor: GA, content: {} });
    expect((await expectCode('ApproveDemand', { id, actor: GA, signature: envelopeToMessage(byYs) }, 'ZT_ERR_SIGNER_MISMATCH')).code).toBe(grpc.status.PERMISSION_DENIED);
    const tampered = await signTransition(demoSigner(app.config.dataDir, GA), { kind: 'approve', demandId: id, actor: GA, content: { terms: { dailyQuota: 1 } } });
    await expectCode('ApproveDemand', { id, actor: GA, terms: { dailyQuota: 2 }, signature: envelopeToMessage(tampered) }, 'ZT_ERR_SIGNATURE_INVALID');
    await expectCode('ApproveDemand', { id, actor: GA, signature: { version: 1 } }, 'ZT_ERR_ENVELOPE_MALFORMED');
    expect((await rpc('GetDemand', { id })).state).toBe('pending');
    expect((await rpc('ApproveDemand', { id, actor: GA, terms: { dailyQuota: 1 }, signature: envelopeToMessage(tampered) })).state).toBe('approved');
  });

  it('gives the same code as HTTP for the same bad request', async () => {
    const pendingId = (await rpc('RegisterDemand', registration({ serviceItem: 'GRPC-PARITY-1' }))).id as string;
    const cases: { method: string; request: Msg; path: string; body?: Msg }[] = [
      { method: 'RegisterDemand', request: registration({ resource: 'R'.repeat(65) }), path: '/v1/catalogue/demands', body: registration({ resource: 'R'.repeat(65) }) },
      { method: 'RegisterDemand', request: registration({ items: ['i'.repeat(65)] }), path: '/v1/catalogue/demands', body: registration({ items: ['i'.repeat(65)] }) },
      { method: 'RefuseDemand', request: { id: pendingId, actor: GA }, path: `/v1/catalogue/demands/${pendingId}/refuse`, body: { actor: GA } },
      { method: 'RefuseDemand', request: { id: pendingId, actor: YS, legalBasis: { title: '《某法》' } }, path: `/v1/catalogue/demands/${pendingId}/refuse`, body: { actor: YS, legalBasis: { title: '《某法》' } } },
      { method: 'WithdrawDemand', request: { id: pendingId, actor: YS, reason: 'x'.repeat(1001) }, path: `/v1/catalogue/demands/${pendingId}/withdraw`, body: { actor: YS, reason: 'x'.repeat(1001) } },
      { method: 'GetResource', request: { code: 'R'.repeat(65) }, path: `/v1/catalogue/resources/${'R'.repeat(65)}` },
      { method: 'ListDemands', request: { serviceItem: 's'.repeat(65) }, path: `/v1/catalogue/demands?serviceItem=${'s'.repeat(65)}` },
      { method: 'FulfilmentReport', request: { department: BAD_USCC }, path: `/v1/catalogue/reports/fulfilment?department=${BAD_USCC}` },
    ];
    for (const c of cases) {
      const viaHttp = await http(c.body ? 'POST' : 'GET', c.path, c.body);
      expect(viaHttp.status, c.path).toBeGreaterThanOrEqual(400);
      const error = await rpcError(c.method, c.request);
      expect([c.method, error.metadata.get('zt-error-code')[0]]).toEqual([c.method, viaHttp.json.code]);
    }
    expect((await rpc('GetDemand', { id: pendingId })).state).toBe('pending');
  });

  it('lists demands by provider, state and overdue, a page at a time, as over HTTP', async () => {
    const all = await rpc('ListDemands', { limit: 500 });
    expect((all.items as Msg[]).map(demandJson)).toEqual((await http('GET', '/v1/catalogue/demands?limit=500')).json.items);
    const overdue = (await rpc('ListDemands', { overdue: true })).items as Msg[];
    expect(overdue.length).toBeGreaterThan(0);
    expect(overdue.every((d) => d.state === 'pending' && d.overdue)).toBe(true);
    const notOverdue = (await rpc('ListDemands', { overdue: false, limit: 500 })).items as Msg[];
    expect(notOverdue.length + overdue.length).toBe((all.items as Msg[]).length);
    const refused = (await rpc('ListDemands', { provider: GA, state: 'refused' })).items as Msg[];
    expect(refused.map((d) => d.id)).toEqual((await http('GET', `/v1/catalogue/demands?provider=${GA}&state=refused`)).json.items.map((d: Msg) => d.id));

    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 20; i++) {
      const page = await rpc('ListDemands', { requester: YS, limit: 2, after });
      seen.push(...(page.items as Msg[]).map((d) => d.id as string));
      if (page.next === '') break;
      after = page.next as string;
    }
    expect(seen).toEqual((await http('GET', `/v1/catalogue/demands?requester=${YS}&limit=500`)).json.items.map((d: Msg) => d.id));
  });
});

describe('CatalogueService: export and import', () => {
  it('exports what the HTTP export sends, as JSON and as CSV', async () => {
    const json = await rpc('ExportResources', { provider: GA });
    expect(json.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(Buffer.from(json.content).toString('utf8'))).toEqual((await http('GET', `/v1/catalogue/resources/export?provider=${GA}`)).json);
    const csv = await rpc('ExportDemands', { format: 'csv', requester: YS, state: 'granted' });
    expect(csv).toMatchObject({ contentType: 'text/csv; charset=utf-8', filename: 'demand-list.csv' });
    expect(Buffer.from(csv.content).equals((await http('GET', `/v1/catalogue/demands/export?format=csv&requester=${YS}&state=granted`)).bytes)).toBe(true);
    await expectCode('ExportResources', { format: 'xml' }, 'ZT_ERR_REQUEST_INVALID');
  });

  it('imports a demand list exported as CSV, and all or nothing from JSON', async () => {
    const csv = await rpc('ExportDemands', { format: 'csv', requester: YS, state: 'granted' });
    const before = ((await rpc('ListDemands', { requester: YS, state: 'granted', limit: 500 })).items as Msg[]).length;
    const imported = await rpc('ImportDemands', { contentType: 'text/csv', content: csv.content });
    expect(imported.imported).toBe(before);
    expect((imported.demands as Msg[]).every((d) => d.state === 'granted')).toBe(true);
    expect(((await rpc('ListDemands', { requester: YS, state: 'granted', limit: 500 })).items as Msg[]).length).toBe(2 * before);

    const bad = { demands: [registration({ serviceItem: 'GRPC-IMP-OK' }), registration({ items: ['salary'] }), 'not an object'] };
    const error = await expectCode('ImportDemands', { content: Buffer.from(JSON.stringify(bad)) }, 'ZT_ERR_IMPORT_INVALID');
    expect((errorBody(error).details as Msg[]).map((d) => [d.row, d.code])).toEqual([
      [2, 'ZT_ERR_DATA_ITEM_UNKNOWN'],
      [3, 'ZT_ERR_IMPORT_INVALID'],
    ]);
    expect((await rpc('ListDemands', { serviceItem: 'GRPC-IMP-OK' })).items).toEqual([]);

    const resource = { resources: [{ ...publication({ code: 'GRPC-IMP-1' }), legalBasis: null }] };
    expect(await rpc('ImportResources', { content: Buffer.from(JSON.stringify(resource)) })).toEqual({ imported: 1, resources: ['GRPC-IMP-1'] });
    await expectCode('ImportResources', { content: Buffer.from(JSON.stringify(resource)) }, 'ZT_ERR_IMPORT_INVALID');
    await expectCode('ImportResources', { content: Buffer.from('{"resources":') }, 'ZT_ERR_REQUEST_MALFORMED_JSON');
    await expectCode('ImportResources', { content: Buffer.from('{"items":[]}') }, 'ZT_ERR_REQUEST_INVALID');
    await expectCode('ImportResources', { contentType: 'text/plain', content: Buffer.from('x') }, 'ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('CatalogueService: fulfilment report', () => {
  it('has the numbers of the HTTP report, for one department and for all', async () => {
    const mine = await rpc('FulfilmentReport', { department: YS });
    expect(mine.asOf).toBe(inDays(0));
    expect(mine.departments).toHaveLength(1);
    expect(mine.departments[0].asRequester.overdue).toBeGreaterThan(0);
    expect(mine).toEqual((await http('GET', `/v1/catalogue/reports/fulfilment?department=${YS}`)).json);

    const all = await rpc('FulfilmentReport', {});
    expect(all).toEqual((await http('GET', '/v1/catalogue/reports/fulfilment')).json);
    expect((all.departments as Msg[]).find((d) => d.department === GA)!.asSupplier.refused).toBeGreaterThanOrEqual(2);
    await expectCode('FulfilmentReport', { department: UNREGISTERED }, 'ZT_ERR_DEPARTMENT_NOT_FOUND');
  });
});
