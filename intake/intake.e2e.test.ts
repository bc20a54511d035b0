// Application intake end to end on the demo, through the SDK, every case over HTTP and over gRPC: the restaurant's
// application at the business-environment bureau previewed (nothing read), prefilled from enterprise registration
// and both e-licences (locked, with provenance, signed by the platform and checked by the client), a material
// declined, the submission check, and each refusal with its catalogue code. The other two demo items (marriage
// registration at civil affairs, a social insurance transfer at the service centre) prefill from their grants.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartmentKey, ExchangeError, IntakeClient, newNonce, signHttpRequest, type IntakeInput } from '../client/index.js';
import { errorCatalogue, type ErrorCode } from '../core/errors/index.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { demoKeyFiles } from '../demo/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';

const YS = '112101000010000537'; // 营商环境建设局: takes restaurant applications
const MZ = '11210100001000045C'; // 民政局: takes marriage registrations
const SERVICE_CENTRE = '11210100001000109A'; // 政务服务中心: takes social insurance transfers
const RESTAURANT = 'QYKB-210100-0001';
const PROTOCOLS = ['http', 'grpc'] as const;

let app: TestApp;
const clients: IntakeClient[] = [];

function clientFor(uscc: string, protocol: 'http' | 'grpc'): IntakeClient {
  const files = demoKeyFiles(app.config.dataDir, uscc);
  const client = new IntakeClient({
    httpUrl: app.httpUrl,
    grpcAddress: app.grpcAddress,
    protocol,
    signer: DepartmentKey.fromFiles(files.key, files.certificate),
    trust: { root: readFileSync(`${app.config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${app.config.caDir}/issuing-ca.cert.pem`) },
    platformUscc: app.config.platformUscc,
  });
  clients.push(client);
  return client;
}

let caseCounter = 0;
const caseNumber = (prefix: string, protocol: string) => `${prefix}-${protocol}-${Date.now().toString(36)}-${++caseCounter}`;

const restaurant = (protocol: string, over: Partial<IntakeInput> = {}): IntakeInput => ({
  serviceItem: RESTAURANT,
  caseNumber: caseNumber('YS-QYKB', protocol),
  applicant: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc },
  operator: '窗口-07',
  ...over,
});

async function refused(promise: Promise<unknown>, code: ErrorCode, protocol: 'http' | 'grpc'): Promise<ExchangeError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(ExchangeError);
  const e = error as ExchangeError;
  expect(e.code, e.message).toBe(code);
  if (protocol === 'http') expect(e.httpStatus).toBe(errorCatalogue[code].http);
  else expect(e.grpcStatus).toBe(errorCatalogue[code].grpc);
  return e;
}

async function accessRecords(caseNo: string): Promise<{ resource: string; decision: string; protocol: string }[]> {
  const { rows } = await app.app.ctx.db.query<{ resource: string; decision: string; protocol: string }>(
    'SELECT resource, decision, protocol FROM access_record WHERE case_number = $1 ORDER BY resource',
    [caseNo],
  );
  return rows;
}

beforeAll(async () => {
  app = await startTestApp();
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await app?.close();
});

describe.each(PROTOCOLS)('intake over %s', (protocol) => {
  let ys: IntakeClient;
  beforeAll(() => {
    ys = clientFor(YS, protocol);
  });

  it('lists the service items, and refuses an unknown one', async () => {
    const items = await ys.items();
    expect(items.map((i) => i.code)).toEqual(['HYDJ-210100-0011', RESTAURANT, 'SBZY-210100-0012']);
    const item = await ys.item(RESTAURANT);
    expect(item).toMatchObject({ name: '开办餐馆', applicantKind: 'organisation', intakeDepartments: [YS] });
    expect(item.fields.find((f) => f.code === 'enterpriseName')).toMatchObject({ locked: true, material: 'enterpriseRegistration' });
    await refused(ys.item('NOPE-0000'), 'ZT_ERR_SERVICE_ITEM_UNKNOWN', protocol);
  });

  it('previews what would be read and from whom, reading nothing', async () => {
    const input = restaurant(protocol, { declined: ['foodBusinessLicence'] });
    const preview = await ys.preview(input);
    expect(preview).toMatchObject({ requester: YS, serviceItem: RESTAURANT, serviceItemName: '开办餐馆', caseNumber: input.caseNumber });
    const m = (code: string) => preview.materials.find((x) => x.code === code)!;
    expect(m('enterpriseRegistration')).toMatchObject({
      action: 'fetch',
      data: { resource: '210100-SC-0001', supplier: { uscc: '11210100001000029N', name: expect.any(String) }, items: expect.arrayContaining(['entName', 'uscc']) },
      licence: null,
    });
    expect(m('enterpriseRegistration').fields).toContain('enterpriseName');
    expect(m('businessLicence')).toMatchObject({ action: 'fetch', licence: { type: '11100000MB0002581X001', typeName: expect.any(String) }, fields: ['registeredCapital'] });
    expect(m('foodBusinessLicence')).toMatchObject({ action: 'declined' });
    expect(m('leaseContract')).toMatchObject({ action: 'applicant-provides', data: null, licence: null });
    expect(await accessRecords(input.caseNumber)).toEqual([]);
    // Nor does it open the case: another applicant could still take the number.
    const { rows } = await app.app.ctx.db.query('SELECT 1 FROM intake_cases WHERE case_number = $1', [input.caseNumber]);
    expect(rows).toHaveLength(0);
  });

  it('prefills the restaurant: fields locked with provenance, both licences attached, the lease contract needed; signed and checked', async () => {
    const input = restaurant(protocol);
    const { result, signature, signer } = await ys.prefill(input);
    expect(signer?.uscc).toBe(app.config.platformUscc);
    expect(signature.signature.length).toBeGreaterThan(0);
    const field = (code: string) => result.fields.find((f) => f.code === code)!;
    expect(field('enterpriseName')).toMatchObject({ value: DEMO_SUBJECTS.restaurant.name, locked: true, provenance: { kind: 'shared-data', resource: '210100-SC-0001', item: 'entName' } });
    expect(field('registeredCapital')).toMatchObject({ locked: true, provenance: { kind: 'e-licence', type: '11100000MB0002581X001', field: 'registeredCapital' } });
    expect(field('premises')).toMatchObject({ locked: true, provenance: { kind: 'e-licence', type: '11100000MB0002581X002' } });
    // Canonical JSON leaves nulls out: a value still to be given is absent.
    expect(field('seats')).toEqual({ code: 'seats', label: '座位数', locked: false, provenance: { kind: 'applicant' } });
    const material = (code: string) => result.materials.find((m) => m.code === code)!;
    expect(material('businessLicence')).toMatchObject({ status: 'attached', licence: { status: 'valid' } });
    expect(material('foodBusinessLicence')).toMatchObject({ status: 'attached' });
    expect(material('enterpriseRegistration')).toMatchObject({ status: 'attached' });
    expect(material('leaseContract')).toMatchObject({ status: 'needed', reason: 'applicant-provides' });
    const records = await accessRecords(input.caseNumber);
    expect(records.map((r) => r.resource)).toEqual(['210100-SC-0001', 'e-licence:11100000MB0002581X001', 'e-licence:11100000MB0002581X002']);
    for (const r of records) expect(r).toMatchObject({ decision: 'permit', protocol });
  });

  it('fetches nothing the applicant declined', async () => {
    const input = restaurant(protocol, { declined: ['foodBusinessLicence'] });
    const { result } = await ys.prefill(input);
    expect(result.materials.find((m) => m.code === 'foodBusinessLicence')).toMatchObject({ status: 'needed', reason: 'declined' });
    expect(result.fields.find((f) => f.code === 'premises')).toMatchObject({ locked: false, provenance: { kind: 'applicant' } });
    expect(result.fields.find((f) => f.code === 'premises')!.value).toBeUndefined();
    expect((await accessRecords(input.caseNumber)).map((r) => r.resource)).not.toContain('e-licence:11100000MB0002581X002');
  });

  it('checks a submission: locked values unchanged pass with the missing fields listed; an altered one is named', async () => {
    const { result, signature } = await ys.prefill(restaurant(protocol));
    const values = Object.fromEntries(result.fields.map((f) => [f.code, f.value]));
    const check = await ys.submit({ prefill: result, signature, values: { ...values, seats: 40 } });
    expect(check).toMatchObject({ caseNumber: result.caseNumber, serviceItem: RESTAURANT, missing: ['plannedOpeningDate'] });
    expect(check.locked).toEqual(expect.arrayContaining(['enterpriseName', 'registeredCapital', 'premises']));
    const altered = await refused(ys.submit({ prefill: result, signature, values: { ...values, enterpriseName: '别的公司', seats: 40 } }), 'ZT_ERR_INTAKE_LOCKED_ALTERED', protocol);
    expect(altered.message).toContain('enterpriseName');
    // The answer rewritten too, so that the two agree: the platform's signature no longer covers it.
    const forged = JSON.parse(JSON.stringify(result)) as typeof result;
    forged.fields.find((f) => f.code === 'enterpriseName')!.value = '别的公司';
    await refused(ys.submit({ prefill: forged, signature, values: { ...values, enterpriseName: '别的公司' } }), 'ZT_ERR_SIGNATURE_INVALID', protocol);
    // Another department cannot submit this department's case.
    await refused(clientFor(MZ, protocol).submit({ prefill: result, signature, values }), 'ZT_ERR_INTAKE_NOT_AUTHORISED', protocol);
  });

  it('refuses an unknown item, an invalid applicant, a department that does not take the item, and a case reused for another applicant', async () => {
    await refused(ys.prefill(restaurant(protocol, { serviceItem: 'NOPE-0000' })), 'ZT_ERR_SERVICE_ITEM_UNKNOWN', protocol);
    await refused(ys.preview(restaurant(protocol, { serviceItem: 'NOPE-0000' })), 'ZT_ERR_SERVICE_ITEM_UNKNOWN', protocol);
    await refused(ys.prefill(restaurant(protocol, { applicant: { kind: 'organisation', code: '91210103MA0U7G5K1C' } })), 'ZT_ERR_APPLICANT_INVALID', protocol);
    await refused(ys.preview(restaurant(protocol, { applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } })), 'ZT_ERR_APPLICANT_INVALID', protocol);
    const mz = clientFor(MZ, protocol);
    await refused(mz.prefill(restaurant(protocol)), 'ZT_ERR_INTAKE_NOT_AUTHORISED', protocol);
    await refused(mz.preview(restaurant(protocol)), 'ZT_ERR_INTAKE_NOT_AUTHORISED', protocol);
    await refused(ys.prefill(restaurant(protocol, { declined: ['passport'] })), 'ZT_ERR_REQUEST_INVALID', protocol);
    const first = restaurant(protocol);
    await ys.prefill(first);
    const other = { ...first, applicant: { kind: 'organisation' as const, code: DEMO_SUBJECTS.revokedCompany.uscc } };
    await refused(ys.prefill(other), 'ZT_ERR_INTAKE_CASE_CONFLICT', protocol);
    await refused(ys.preview(other), 'ZT_ERR_INTAKE_CASE_CONFLICT', protocol);
    // The same applicant may come back to the same case.
    await expect(ys.prefill(first)).resolves.toMatchObject({ result: { caseNumber: first.caseNumber } });
  });

  it('prefills marriage registration at civil affairs from household data', async () => {
    const input: IntakeInput = { serviceItem: 'HYDJ-210100-0011', caseNumber: caseNumber('MZ-HYDJ', protocol), applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } };
    const { result } = await clientFor(MZ, protocol).prefill(input);
    expect(result.materials.find((m) => m.code === 'population')).toMatchObject({ status: 'attached' });
    expect(result.fields.find((f) => f.code === 'name')).toMatchObject({ value: DEMO_SUBJECTS.applicant.name, locked: true, provenance: { kind: 'shared-data', resource: '210100-GA-0001' } });
    expect(result.fields.find((f) => f.code === 'spouseName')).toMatchObject({ locked: false, provenance: { kind: 'applicant' } });
  });

  it('prefills a social insurance transfer at the service centre from insurance and household data', async () => {
    const input: IntakeInput = { serviceItem: 'SBZY-210100-0012', caseNumber: caseNumber('ZX-SBZY', protocol), applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } };
    const { result } = await clientFor(SERVICE_CENTRE, protocol).prefill(input);
    expect(result.materials.filter((m) => m.status === 'attached').map((m) => m.code).sort()).toEqual(['insurance', 'population']);
    expect(result.fields.find((f) => f.code === 'currentEmployer')).toMatchObject({ value: DEMO_SUBJECTS.restaurant.name, locked: true });
    expect(result.fields.find((f) => f.code === 'name')).toMatchObject({ value: DEMO_SUBJECTS.applicant.name, locked: true });
  });
});

describe('signed requests over HTTP', () => {
  const body = (requester: string, over: Record<string, unknown> = {}) =>
    Buffer.from(JSON.stringify({ requester, serviceItem: RESTAURANT, caseNumber: caseNumber('YS-RAW', 'http'), applicant: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc }, ...over }), 'utf8');
  const post = (path: string, payload: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${app.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
  const signed = async (path: string, payload: Buffer) => {
    const files = demoKeyFiles(app.config.dataDir, YS);
    const signer = DepartmentKey.fromFiles(files.key, files.certificate);
    try {
      return (await signHttpRequest({ method: 'POST', path, body: payload, signer, timestamp: new Date().toISOString(), nonce: newNonce() })).headers;
    } finally {
      await signer.close();
    }
  };

  it('refuses an unsigned request, and a body changed after signing', async () => {
    const unsigned = await post('/v1/intake/prefill', body(YS));
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'ZT_ERR_REQUEST_UNSIGNED' });
    const payload = body(YS);
    const headers = await signed('/v1/intake/prefill', payload);
    const tampered = await post('/v1/intake/prefill', body(YS), headers);
    expect(await tampered.json()).toMatchObject({ code: 'ZT_ERR_SIGNATURE_INVALID' });
    expect(tampered.status).toBe(errorCatalogue.ZT_ERR_SIGNATURE_INVALID.http);
  });

  it('answers {result, signature} with result exactly the signed canonical bytes', async () => {
    const payload = body(YS);
    const response = await post('/v1/intake/prefill', payload, await signed('/v1/intake/prefill', payload));
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const parsed = JSON.parse(text) as { result: { schema: string } };
    expect(parsed.result.schema).toBe('zhengtong/prefill/v1');
    expect(text.startsWith('{"result":{')).toBe(true);
  });

  it('the SDK refuses an answer replayed from an earlier request of the same case', async () => {
    // A genuine, platform-signed answer for this case, taken once …
    const input = restaurant('http');
    const payload = Buffer.from(JSON.stringify({ requester: YS, ...input }), 'utf8');
    const earlier = await (await post('/v1/intake/prefill', payload, await signed('/v1/intake/prefill', payload))).text();
    // … and served again, by something in the middle, to the next request for it.
    const { createServer } = await import('node:http');
    const replaying = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(earlier));
    await new Promise<void>((resolve) => replaying.listen(0, '127.0.0.1', resolve));
    const files = demoKeyFiles(app.config.dataDir, YS);
    const client = new IntakeClient({
      httpUrl: `http://127.0.0.1:${(replaying.address() as { port: number }).port}`,
      signer: DepartmentKey.fromFiles(files.key, files.certificate),
      trust: { root: readFileSync(`${app.config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${app.config.caDir}/issuing-ca.cert.pem`) },
    });
    try {
      await expect(client.prefill(input)).rejects.toMatchObject({ code: 'ZT_CLIENT_RESPONSE_UNVERIFIED', message: expect.stringContaining('another request') });
    } finally {
      await client.close();
      replaying.close();
    }
  });

  it('refuses unknown fields and wrong types', async () => {
    for (const over of [{ purpose: 'x' }, { applicant: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc, name: 'x' } }, { declined: 'leaseContract' }, { caseNumber: 42 }]) {
      const payload = body(YS, over);
      const response = await post('/v1/intake/preview', payload, await signed('/v1/intake/preview', payload));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID' });
    }
  });
});
