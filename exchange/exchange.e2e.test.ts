// The real-time exchange end to end, through the client SDK, with every case run over HTTP and over gRPC: answers
// verified (platform signature, certificate chain, request digest), each kind of bad request refused with its own
// code, and every access, answered or refused, recorded.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DepartmentKey, ExchangeClient, ExchangeError, signGrpcRequest, signHttpRequest, encodeQueryJson, encodeQueryRequest, type QueryInput } from '../client/index.js';
import { InProcessSm2Signer } from '../certs/signer/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import { canonicalJson } from '../core/canonical-json.js';
import { parseCertificate } from '../certs/x509/index.js';
import { errorCatalogue, ZtError, type ErrorCode } from '../core/errors/index.js';
import { demoKeyFiles } from '../demo/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { waitUntil } from '../test/support/ca.js';
import { demoSigner } from '../test/support/signing.js';
import { chinaDate, signTransition } from '../registry/catalogue/index.js';
import { DEMO_SUBJECTS } from './datasets/index.js';
import { TableConnector } from './connectors/table/index.js';
import { ExchangeService } from './exchange-service.js';

const YS = '112101000010000537'; // 营商环境建设局: the demo's requester
const MZ = '11210100001000045C'; // 民政局
const GA = '11210100001000010R'; // 公安局: supplies population data
const PLATFORM = '11210100001000088R';
const QUERY_PATH = '/zhengtong.v1.ExchangeService/Query';

let app: TestApp;
const clients: ExchangeClient[] = [];

function clientFor(uscc: string, extra: Partial<ConstructorParameters<typeof ExchangeClient>[0]> = {}): ExchangeClient {
  const files = demoKeyFiles(app.config.dataDir, uscc);
  const client = new ExchangeClient({
    httpUrl: app.httpUrl,
    grpcAddress: app.grpcAddress,
    signer: DepartmentKey.fromFiles(files.key, files.certificate),
    trust: { root: readFileSync(`${app.config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${app.config.caDir}/issuing-ca.cert.pem`) },
    platformUscc: PLATFORM,
    ...extra,
  });
  clients.push(client);
  return client;
}

const population = (over: Partial<QueryInput> = {}): QueryInput => ({
  resource: '210100-GA-0001',
  items: ['name', 'idNumber', 'address'],
  subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
  purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000123' },
  operator: 'zhang.san',
  ...over,
});

async function refusal(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExchangeError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the query was answered');
}

/** The refusal has the code's HTTP or gRPC status, and an access record with that code and protocol. */
async function expectRefused(protocol: 'http' | 'grpc', promise: Promise<unknown>, code: ErrorCode): Promise<ExchangeError> {
  const before = await recorded(code, protocol);
  const error = await refusal(promise);
  expect(error.code, error.message).toBe(code);
  if (protocol === 'http') expect(error.httpStatus).toBe(errorCatalogue[code].http);
  else expect(error.grpcStatus).toBe(errorCatalogue[code].grpc);
  expect(await recorded(code, protocol)).toBe(before + 1);
  return error;
}

async function recorded(code: string | null, protocol: 'http' | 'grpc'): Promise<number> {
  const { rows } = await app.app.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM access_record WHERE protocol = $1 AND (($2::text IS NULL AND error_code IS NULL) OR error_code = $2)`,
    [protocol, code],
  );
  return rows[0]!.n;
}

/** Sends bytes with the signature parts given (or none), bypassing the SDK: for tampered and unsigned requests. */
async function sendRaw(protocol: 'http' | 'grpc', body: Buffer, signed: { headers?: Record<string, string>; metadata?: grpc.Metadata } | null): Promise<ExchangeError> {
  if (protocol === 'http') {
    const response = await fetch(`${app.httpUrl}/v1/exchange/query`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(signed?.headers ?? {}) } });
    const json = (await response.json()) as { code: string; message: string };
    return new ExchangeError({ code: json.code, message: json.message, httpStatus: response.status });
  }
  const client = new grpc.Client(app.grpcAddress, grpc.credentials.createInsecure());
  try {
    return await new Promise<ExchangeError>((resolve) => {
      client.makeUnaryRequest(QUERY_PATH, (b: Buffer) => b, (b: Buffer) => b, body, signed?.metadata ?? new grpc.Metadata(), (error) => {
        const code = (error?.metadata?.get('zt-error-code')[0] as string | undefined) ?? 'none';
        resolve(new ExchangeError({ code, message: error?.details ?? 'answered', grpcStatus: error?.code }));
      });
    });
  } finally {
    client.close();
  }
}

// A supplier that answers from its own API (an http connector), on a real local server; `upstreamDown` makes it fail.
const VEHICLES = '210100-JT-0001';
const JT = '11210100001000029N'; // the market regulator supplies it here, for the test
let upstream: Server;
let upstreamDown = false;
let upstreamHits = 0;

beforeAll(async () => {
  app = await startTestApp();
  upstream = createServer((request, response) => {
    upstreamHits++;
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString('utf8')));
    request.on('end', () => {
      if (upstreamDown) return response.writeHead(503).end();
      const asked = JSON.parse(body) as { subject: { code: string }; items: string[] };
      const known = asked.subject.code === DEMO_SUBJECTS.applicant.idNumber;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(known ? { found: true, values: { plate: '辽A·12345', model: '比亚迪 秦', owner: DEMO_SUBJECTS.applicant.name } } : { found: false }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { ctx } = app.app;
  await ctx.catalogue.publish({
    code: VEHICLES,
    name: '机动车登记信息',
    provider: JT,
    sharingClass: 'unconditional',
    updateCycle: 'realtime',
    connector: { kind: 'http', endpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/zt` },
    items: [
      { code: 'plate', name: '号牌号码', type: 'string', sensitivity: 'internal' },
      { code: 'model', name: '品牌型号', type: 'string', sensitivity: 'internal' },
      { code: 'owner', name: '所有人', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
    ],
  });
  const registration = {
    requester: YS,
    resource: VEHICLES,
    items: ['plate', 'model', 'owner'],
    serviceItem: 'QYKB-210100-0010',
    legalBasis: { title: '《优化营商环境条例》' },
    expectedDailyVolume: 10,
    validTo: '2099-12-31',
  };
  await ctx.demands.register(registration, { proof: await signTransition(demoSigner(app.config.dataDir, YS), { kind: 'register', actor: YS, content: registration }) });
  // The negative list and the grants are rebuilt from the catalogue's events.
  await waitUntil(() => ctx.grants.find(YS, VEHICLES, 'QYKB-210100-0010', ['plate'], chinaDate(new Date())).grant !== null, 10_000, 'the grant');
  await waitUntil(() => ctx.policy.current!.engine.decide({ requester: YS, resource: VEHICLES, items: ['plate'], subject: { kind: 'person', id: DEMO_SUBJECTS.applicant.idNumber }, purpose: { serviceItem: 'QYKB-210100-0010', caseNumber: 'x' }, at: new Date() }).reason !== 'unknown-resource', 10_000, 'the negative list to know the resource');
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await app?.close();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe.each(['http', 'grpc'] as const)('the exchange over %s', (protocol) => {
  it('answers a granted query with the allowed items, masked, with provenance, signed by the platform and recorded', async () => {
    const client = clientFor(YS);
    const before = await recorded(null, protocol);
    const { result, signer } = await client.query(population(), { protocol });
    expect(signer.uscc).toBe(PLATFORM);
    expect(result).toMatchObject({ decision: 'permit', requester: YS, resource: '210100-GA-0001', subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } });
    expect(result.items.name).toBe(DEMO_SUBJECTS.applicant.name);
    // The negative list masks the ID number: its first 6 and last 4 characters stay.
    expect(result.masked).toContain('idNumber');
    expect(result.items.idNumber).toMatch(/^210103\*+0312$/);
    expect(result.provenance.map((p) => [p.item, p.supplier, p.source])).toEqual([
      ['name', GA, 'table:210100-GA-0001'],
      ['idNumber', GA, 'table:210100-GA-0001'],
      ['address', GA, 'table:210100-GA-0001'],
    ]);
    expect(await recorded(null, protocol)).toBe(before + 1);
    const { rows } = await app.app.ctx.db.query<{ requester: string; operator: string; case_number: string; items_returned: string[]; decision: string; policy_revision: string }>(
      'SELECT requester, operator, case_number, items_returned, decision, policy_revision FROM access_record WHERE id = $1',
      [result.accessId],
    );
    expect(rows[0]).toEqual({ requester: YS, operator: 'zhang.san', case_number: 'YS-2026-000123', items_returned: ['name', 'idNumber', 'address'], decision: 'permit', policy_revision: result.policyRevision });
  });

  it('answers about an organisation under an unconditional grant', async () => {
    const { result } = await clientFor(YS).query(
      {
        resource: '210100-SC-0001',
        items: ['entName', 'status', 'legalRepresentative'],
        subject: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc },
        purpose: { serviceItem: 'QYKB-210100-0001', caseNumber: 'YS-2026-000124' },
      },
      { protocol },
    );
    expect(result.items).toMatchObject({ entName: DEMO_SUBJECTS.restaurant.name, status: '存续' });
  });

  it('refuses items, resources and purposes no grant covers, and unknown codes', async () => {
    const client = clientFor(YS);
    const noGrant = await expectRefused(protocol, client.query(population({ items: ['name', 'photo'] }), { protocol }), 'ZT_ERR_NO_GRANT');
    expect(noGrant.details).toEqual({ missing: ['photo'] });
    await expectRefused(protocol, client.query(population({ purpose: { serviceItem: 'QYKB-210100-0001', caseNumber: 'c-1' } }), { protocol }), 'ZT_ERR_NO_GRANT');
    await expectRefused(protocol, client.query(population({ resource: '210100-RS-0001', items: ['name'] }), { protocol }), 'ZT_ERR_NO_GRANT');
    await expectRefused(protocol, client.query(population({ resource: '210100-XX-9999' }), { protocol }), 'ZT_ERR_RESOURCE_NOT_FOUND');
    await expectRefused(protocol, client.query(population({ items: ['salary'] }), { protocol }), 'ZT_ERR_DATA_ITEM_UNKNOWN');
  });

  it('refuses unknown and invalid subjects', async () => {
    const client = clientFor(YS);
    await expectRefused(protocol, client.query(population({ subject: { kind: 'person', code: DEMO_SUBJECTS.unknownPerson.idNumber } }), { protocol }), 'ZT_ERR_SUBJECT_NOT_FOUND');
    await expectRefused(protocol, client.query(population({ subject: { kind: 'person', code: '210103198503120311' } }), { protocol }), 'ZT_ERR_SUBJECT_INVALID');
    await expectRefused(protocol, client.query(population({ purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: '' } }), { protocol }), 'ZT_ERR_REQUEST_INVALID');
  });

  it('records a request without a case number against the department that signed it', async () => {
    const operator = `no-case-${protocol}`;
    await expectRefused(protocol, clientFor(YS).query(population({ operator, purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: '' } }), { protocol }), 'ZT_ERR_REQUEST_INVALID');
    const { rows } = await app.app.ctx.db.query<{ requester: string; subject_code: string; case_number: string | null; service_item: string; certificate_sm3: Buffer | null }>(
      'SELECT requester, subject_code, case_number, service_item, certificate_sm3 FROM access_record WHERE operator = $1',
      [operator],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ requester: YS, subject_code: app.app.ctx.pseudonyms.of(DEMO_SUBJECTS.applicant.idNumber), case_number: null, service_item: 'QYKB-210100-0009' });
    expect(rows[0]!.certificate_sm3).not.toBeNull();
  });

  it("enforces the supplier's daily quota", async () => {
    const { ctx } = app.app;
    const serviceItem = `QYKB-QUOTA-${protocol.toUpperCase()}`;
    const registration = { requester: YS, resource: '210100-GA-0001', items: ['name'], serviceItem, legalBasis: { title: '《优化营商环境条例》' }, expectedDailyVolume: 2, validTo: '2099-12-31' };
    const demand = await ctx.demands.register(registration, { proof: await signTransition(demoSigner(app.config.dataDir, YS), { kind: 'register', actor: YS, content: registration }) });
    const approval = { actor: GA, terms: { dailyQuota: 2 } };
    await ctx.demands.approve(demand.id, approval, { proof: await signTransition(demoSigner(app.config.dataDir, GA), { kind: 'approve', demandId: demand.id, actor: GA, content: approval }) });
    await waitUntil(() => ctx.grants.find(YS, '210100-GA-0001', serviceItem, ['name'], chinaDate(new Date())).grant !== null, 10_000, 'the grant');
    const client = clientFor(YS);
    const ask = () => client.query(population({ items: ['name'], purpose: { serviceItem, caseNumber: 'Q-1' } }), { protocol });
    await ask();
    await ask();
    const error = await expectRefused(protocol, ask(), 'ZT_ERR_QUOTA_EXCEEDED');
    expect(error.details).toMatchObject({ demandId: demand.id, dailyQuota: 2 });
  });

  it('releases no data when the access record cannot be written', async () => {
    const { accessLog } = app.app.ctx;
    const spy = vi.spyOn(accessLog, 'write').mockRejectedValueOnce(new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', 'the database went away (test)'));
    try {
      const error = await refusal(clientFor(YS).query(population(), { protocol }));
      expect(error.code).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
      expect(JSON.stringify(error.details ?? {})).not.toContain(DEMO_SUBJECTS.applicant.name);
      expect(error.message).not.toContain(DEMO_SUBJECTS.applicant.name);
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses a request signed by one department in another's name", async () => {
    await expectRefused(protocol, clientFor(MZ).query({ ...population(), requester: YS }, { protocol }), 'ZT_ERR_SIGNER_MISMATCH');
  });

  it('refuses replayed nonces and stale timestamps', async () => {
    const nonce = `replay-${protocol}-0123456789abcdef`;
    const replaying = clientFor(YS, { nonce: () => nonce });
    await replaying.query(population(), { protocol });
    await expectRefused(protocol, replaying.query(population(), { protocol }), 'ZT_ERR_REQUEST_REPLAYED');
    const late = clientFor(YS, { clock: () => Date.now() - 10 * 60_000 });
    await expectRefused(protocol, late.query(population(), { protocol }), 'ZT_ERR_REQUEST_STALE');
  });

  it('refuses a revoked certificate', async () => {
    const issued = await app.app.ctx.ca!.enrolWithGeneratedKey({ uscc: YS, name: '沈阳市营商环境建设局' });
    const signer = new InProcessSm2Signer({ privateKey: issued.privateKeyPem, certificate: new Uint8Array(parseCertificate(issued.certificate.pem).rawData) });
    const client = clientFor(YS, { signer });
    await client.query(population(), { protocol });
    await app.app.ctx.ca!.revoke(issued.certificate.serial, 'keyCompromise');
    await expectRefused(protocol, client.query(population(), { protocol }), 'ZT_ERR_CERT_REVOKED');
  });

  it('refuses unsigned and tampered requests, and records them', async () => {
    const files = demoKeyFiles(app.config.dataDir, YS);
    const signer = DepartmentKey.fromFiles(files.key, files.certificate);
    const encode = protocol === 'http' ? encodeQueryJson : encodeQueryRequest;
    const body = encode(population(), YS);
    const before = await recorded('ZT_ERR_REQUEST_UNSIGNED', protocol);
    expect((await sendRaw(protocol, body, null)).code).toBe('ZT_ERR_REQUEST_UNSIGNED');
    expect(await recorded('ZT_ERR_REQUEST_UNSIGNED', protocol)).toBe(before + 1);
    // Signed for one body, sent with another (the case number changed).
    const tampered = encode(population({ purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-999999' } }), YS);
    const signed = protocol === 'http' ? await signHttpRequest({ body, signer }) : await signGrpcRequest({ body, signer });
    const before2 = await recorded('ZT_ERR_SIGNATURE_INVALID', protocol);
    expect((await sendRaw(protocol, tampered, signed)).code).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await recorded('ZT_ERR_SIGNATURE_INVALID', protocol)).toBe(before2 + 1);
  });

  it("reads the supplier's extract while the signature is checked, once, and only for the certificate's own department", async () => {
    const fetch = vi.spyOn(TableConnector.prototype, 'fetch');
    const query = vi.spyOn(ExchangeService.prototype, 'query');
    try {
      const { result } = await clientFor(YS).query(population(), { protocol });
      expect(result.items.name).toBe(DEMO_SUBJECTS.applicant.name);
      // One read, started before the service had the call: during the gateway's signature check.
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(query).toHaveBeenCalledTimes(1);
      expect(fetch.mock.invocationCallOrder[0]).toBeLessThan(query.mock.invocationCallOrder[0]!);
      expect(fetch.mock.calls[0]![0]).toMatchObject({ resource: '210100-GA-0001', items: ['name', 'idNumber', 'address'] });

      // A certificate of another department than the requester named: nothing is read, early or late.
      fetch.mockClear();
      await expectRefused(protocol, clientFor(MZ).query({ ...population(), requester: YS }, { protocol }), 'ZT_ERR_SIGNER_MISMATCH');
      // Signed before the window: refused before the certificate is looked at.
      const late = clientFor(YS, { clock: () => Date.now() - 10 * 60_000 });
      await expectRefused(protocol, late.query(population(), { protocol }), 'ZT_ERR_REQUEST_STALE');
      // No grant covers the purpose: nothing to read.
      await expectRefused(protocol, clientFor(YS).query(population({ purpose: { serviceItem: 'NONE-0001', caseNumber: 'C-1' } }), { protocol }), 'ZT_ERR_NO_GRANT');
      expect(fetch).not.toHaveBeenCalled();

      // A forged signature: the read started meanwhile is dropped; the refusal carries nothing of it.
      const files = demoKeyFiles(app.config.dataDir, YS);
      const signer = DepartmentKey.fromFiles(files.key, files.certificate);
      const encode = protocol === 'http' ? encodeQueryJson : encodeQueryRequest;
      const signedFor = encode(population(), YS);
      const signed = protocol === 'http' ? await signHttpRequest({ body: signedFor, signer }) : await signGrpcRequest({ body: signedFor, signer });
      const forged = encode(population({ operator: 'someone.else' }), YS);
      const error = await sendRaw(protocol, forged, signed);
      expect(error.code).toBe('ZT_ERR_SIGNATURE_INVALID');
      expect(error.message).not.toContain(DEMO_SUBJECTS.applicant.name);
    } finally {
      fetch.mockRestore();
      query.mockRestore();
    }
  });

  it('refuses a malformed body, and records it', async () => {
    const code = protocol === 'http' ? 'ZT_ERR_REQUEST_MALFORMED_JSON' : 'ZT_ERR_REQUEST_MALFORMED_PROTOBUF';
    const before = await recorded(code, protocol);
    const garbage = protocol === 'http' ? Buffer.from('{"resource": "210100-GA-0001",') : Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect((await sendRaw(protocol, garbage, null)).code).toBe(code);
    expect(await recorded(code, protocol)).toBe(before + 1);
  });
});

describe('the exchange\'s HTTP answer', () => {
  it('carries the result as the canonical JSON the signature covers, byte for byte', async () => {
    const body = encodeQueryJson(population(), YS);
    const signed = await signHttpRequest({ body, signer: demoSigner(app.config.dataDir, YS) });
    const response = await fetch(`${app.httpUrl}/v1/exchange/query`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signed.headers } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await response.text();
    const answer = JSON.parse(text) as { result: Record<string, unknown>; signature: { payloadSm3: string } };
    const resultText = Buffer.from(canonicalJson(answer.result), 'utf8');
    expect(text).toBe(`{"result":${resultText.toString('utf8')},"signature":${JSON.stringify(answer.signature)}}`);
    expect(sm3(resultText).toString('hex')).toBe(answer.signature.payloadSm3);
    expect(answer.result.requestDigest).toBe(signed.requestDigest.toString('hex'));
  });
});

describe('reads on behalf of a request verified elsewhere (application intake)', () => {
  const verified = { protocol: 'http' as const, requestDigest: Buffer.alloc(32, 0xab), certificateSm3: Buffer.alloc(32, 0xcd) };

  it('answers through the same grant, policy and record path, citing the verified request', async () => {
    const answer = await app.app.ctx.exchange.queryVerified({ ...population({ operator: 'intake-verified' }), requester: YS } as never, verified);
    expect(answer.result).toMatchObject({ decision: 'permit', requester: YS, requestDigest: 'ab'.repeat(32) });
    expect(answer.result.items.idNumber).not.toBe(DEMO_SUBJECTS.applicant.idNumber); // masked by the negative list
    const { rows } = await app.app.ctx.db.query<{ decision: string; request_digest: Buffer; certificate_sm3: Buffer }>(
      `SELECT decision, request_digest, certificate_sm3 FROM access_record WHERE operator = 'intake-verified'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.decision).toBe('permit');
    expect(Buffer.from(rows[0]!.request_digest).equals(verified.requestDigest)).toBe(true);
  });

  it('refuses, and records, what no grant covers', async () => {
    await expect(
      app.app.ctx.exchange.queryVerified({ ...population({ operator: 'intake-refused', purpose: { serviceItem: 'NONE-0001', caseNumber: 'C-1' } }), requester: YS } as never, verified),
    ).rejects.toMatchObject({ code: 'ZT_ERR_NO_GRANT' });
    const { rows } = await app.app.ctx.db.query<{ decision: string; error_code: string }>(`SELECT decision, error_code FROM access_record WHERE operator = 'intake-refused'`);
    expect(rows).toEqual([{ decision: 'deny', error_code: 'ZT_ERR_NO_GRANT' }]);
  });
});

describe.each(['http', 'grpc'] as const)("the exchange over %s, from the supplier's own API", (protocol) => {
  const vehicle = (over: Partial<QueryInput> = {}): QueryInput => ({
    resource: VEHICLES,
    items: ['plate', 'owner'],
    subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
    purpose: { serviceItem: 'QYKB-210100-0010', caseNumber: 'YS-2026-000200' },
    ...over,
  });

  it('answers with what the upstream returned, naming it as the source', async () => {
    upstreamDown = false;
    const { result } = await clientFor(YS).query(vehicle(), { protocol });
    expect(result.items).toEqual({ plate: '辽A·12345', owner: DEMO_SUBJECTS.applicant.name });
    expect(result.provenance[0]!.source).toMatch(/^http:http:\/\/127\.0\.0\.1:\d+\/zt$/);
    await expectRefused(protocol, clientFor(YS).query(vehicle({ subject: { kind: 'person', code: DEMO_SUBJECTS.spouse.idNumber } }), { protocol }), 'ZT_ERR_SUBJECT_NOT_FOUND');
  });

  it("never asks the supplier's system before the caller's signature verifies", async () => {
    upstreamDown = false;
    const files = demoKeyFiles(app.config.dataDir, YS);
    const signer = DepartmentKey.fromFiles(files.key, files.certificate);
    const encode = protocol === 'http' ? encodeQueryJson : encodeQueryRequest;
    const signedFor = encode({ ...vehicle(), requester: YS } as QueryInput, YS);
    const signed = protocol === 'http' ? await signHttpRequest({ body: signedFor, signer }) : await signGrpcRequest({ body: signedFor, signer });
    const hits = upstreamHits;
    const error = await sendRaw(protocol, encode(vehicle({ operator: 'someone.else' }), YS), signed);
    expect(error.code).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(upstreamHits).toBe(hits);
    // Signed properly, the same query reaches the supplier once.
    await clientFor(YS).query(vehicle(), { protocol });
    expect(upstreamHits).toBe(hits + 1);
  });

  it('refuses with ZT_ERR_UPSTREAM_UNAVAILABLE when the upstream fails, after retrying, and records it as an error', async () => {
    upstreamDown = true;
    try {
      const hits = upstreamHits;
      await expectRefused(protocol, clientFor(YS).query(vehicle(), { protocol }), 'ZT_ERR_UPSTREAM_UNAVAILABLE');
      expect(upstreamHits - hits).toBeGreaterThan(1);
      const { rows } = await app.app.ctx.db.query<{ decision: string }>(`SELECT decision FROM access_record WHERE error_code = 'ZT_ERR_UPSTREAM_UNAVAILABLE' AND protocol = $1`, [protocol]);
      expect(rows.every((r) => r.decision === 'error')).toBe(true);
    } finally {
      upstreamDown = false;
    }
  });
});

describe.each(['http', 'grpc'] as const)('the exchange over %s, oversized', (protocol) => {
  it('refuses a body over ZT_BODY_LIMIT_BYTES with its code, and records it', async () => {
    const before = await recorded('ZT_ERR_REQUEST_TOO_LARGE', protocol);
    const big = population({ operator: 'x'.repeat(app.config.bodyLimitBytes) });
    const body = protocol === 'http' ? Buffer.from(JSON.stringify(big)) : encodeQueryRequest(big, YS);
    const error = await sendRaw(protocol, body, null);
    expect(error.code).toBe('ZT_ERR_REQUEST_TOO_LARGE');
    if (protocol === 'http') expect(error.httpStatus).toBe(413);
    else expect(error.grpcStatus).toBe(errorCatalogue.ZT_ERR_REQUEST_TOO_LARGE.grpc);
    expect(await recorded('ZT_ERR_REQUEST_TOO_LARGE', protocol)).toBe(before + 1);
  });
});
