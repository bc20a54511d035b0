// The licence client against a real gateway (embedded database, demo data), every case over HTTP and over gRPC:
// issue, lookups, history, anonymous and department verification (checked against the platform CA, the department's
// recorded), the lifecycle steps, status lists, and each kind of refusal with its catalogue code and status.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../core/canonical-json.js';
import { errorCatalogue, type ErrorCode } from '../core/errors/index.js';
import { usccCheckCharacter } from '../core/identifiers/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { signedHeaders } from '../test/support/signing.js';
import { demoKeyFiles } from '../demo/index.js';
import { parseLicenceIdentifier } from '../licences/identifier.js';
import { statusAt } from '../licences/status-list/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { randomUscc, waitUntil } from '../test/support/ca.js';
import {
  DepartmentKey,
  envelopeToJson,
  ExchangeClientError,
  ExchangeError,
  holderCodeType,
  LicenceClient,
  type LicenceClientOptions,
  type LicenceIssueInput,
  type LicenceVersion,
} from './index.js';

const MARKET = '11210100001000029N'; // 市场监管局: issues 营业执照
const CIVIL = '11210100001000045C'; // 民政局: issues 结婚证, not 营业执照
const YS = '112101000010000537'; // 营商局: verifies licences for its cases
const PLATFORM = '11210100001000088R';
const BUSINESS_LICENCE = '11100000MB0002581X001'; // 营业执照
const PURPOSE = { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000777' };
const PROTOCOLS = ['http', 'grpc'] as const;

let app: TestApp;
const clients: LicenceClient[] = [];

function trust(): LicenceClientOptions['trust'] {
  return { root: readFileSync(`${app.config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${app.config.caDir}/issuing-ca.cert.pem`) };
}

function clientFor(uscc: string | null, extra: Partial<LicenceClientOptions> = {}): LicenceClient {
  const files = uscc ? demoKeyFiles(app.config.dataDir, uscc) : null;
  const client = new LicenceClient({
    httpUrl: app.httpUrl,
    grpcAddress: app.grpcAddress,
    ...(files ? { signer: DepartmentKey.fromFiles(files.key, files.certificate) } : {}),
    trust: trust(),
    platformUscc: PLATFORM,
    ...extra,
  });
  clients.push(client);
  return client;
}

/** Reads licences as 市场监管局, which issues 营业执照 and so may read them (a licence read is signed, for a case). */
const reader = (): LicenceClient => clientFor(MARKET);

function businessLicence(over: Partial<LicenceIssueInput> = {}): LicenceIssueInput {
  const holder = randomUscc();
  return {
    typeCode: BUSINESS_LICENCE,
    licenceNumber: holder,
    holder: { name: '沈阳市测试餐饮管理有限公司', code: holder },
    issueDate: '2026-01-15',
    validFrom: '2026-01-15',
    fields: {
      enterpriseType: '有限责任公司（自然人投资或控股）',
      legalRepresentative: DEMO_SUBJECTS.applicant.name,
      registeredCapital: '300.00',
      establishedOn: '2026-01-15',
      address: '辽宁省沈阳市和平区南京北街1号',
      businessScope: '餐饮服务；餐饮管理',
    },
    ...over,
  };
}

async function refusal(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExchangeError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the call was answered');
}

/** Refused with the code, and the HTTP or gRPC status the catalogue gives it. */
async function expectRefused(protocol: 'http' | 'grpc', promise: Promise<unknown>, code: ErrorCode): Promise<ExchangeError> {
  const error = await refusal(promise);
  expect(error.code, error.message).toBe(code);
  if (protocol === 'http') expect(error.httpStatus).toBe(errorCatalogue[code].http);
  else expect(error.grpcStatus).toBe(errorCatalogue[code].grpc);
  return error;
}

async function clientError(promise: Promise<unknown>): Promise<ExchangeClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExchangeClientError) return error;
    throw error;
  }
  throw new Error('expected the client to refuse, but the call was answered');
}

/** The last character of an identifier replaced by another: a wrong check character. */
function wrongCheck(identifier: string): string {
  const last = identifier.at(-1)!;
  return identifier.slice(0, -1) + (last === '0' ? '1' : '0');
}

function listNumber(licence: LicenceVersion): number {
  return Number(licence.document.status.list.split('/').at(-1));
}

beforeAll(async () => {
  // Anonymous verifications are rate-limited per address; every test here comes from 127.0.0.1.
  app = await startTestApp({ licenceAnonymousRate: 0 });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await app?.close();
});

describe.each(PROTOCOLS)('the licence registry over %s', (protocol) => {
  it('lists the licence types with their field schemas', async () => {
    const types = await clientFor(null).listTypes({ protocol });
    const business = types.find((t) => t.code === BUSINESS_LICENCE);
    expect(business).toMatchObject({ name: '营业执照', holderKind: 'organisation', issuers: [MARKET], validityYears: null });
    expect(business!.fields.filter((f) => f.required).map((f) => f.code)).toEqual(['enterpriseType', 'legalRepresentative', 'registeredCapital', 'establishedOn', 'address', 'businessScope']);
    const marriage = types.find((t) => t.name === '结婚证')!;
    expect(marriage.fields.find((f) => f.code === 'spouseName')).toEqual({ code: 'spouseName', label: '配偶姓名', kind: 'string', required: true, maxLength: 50, sensitive: true });
  });

  it('issues a licence signed by its issuer, and finds it by identifier, holder and number', async () => {
    const market = clientFor(MARKET);
    const input = businessLicence();
    const issued = await market.issue(input, { protocol });
    const id = parseLicenceIdentifier(issued.identifier);
    expect(id).toMatchObject({ typeCode: BUSINESS_LICENCE, issuerCode: MARKET, version: 1 });
    expect(issued).toMatchObject({ status: 'active', supersedes: null, supersededBy: null, source: 'issued', flags: [] });
    expect(issued.document).toMatchObject({
      identifier: issued.identifier,
      name: '营业执照',
      licenceNumber: input.licenceNumber,
      issuer: { code: MARKET, name: '沈阳市市场监督管理局' },
      holder: { name: input.holder.name, code: input.holder.code, codeType: '001' },
      validFrom: '2026-01-15',
      version: 1,
      fields: { registeredCapital: '300.00', businessScope: '餐饮服务；餐饮管理' },
    });
    // The document bytes are the ones the platform signed.
    expect(sm3(issued.documentBytes).equals(issued.envelope.payloadSm3)).toBe(true);
    expect(issued.documentBytes.toString('utf8')).toBe(canonicalJson(issued.document));

    // A licence read is a read of personal data: refused without a signature, and to a department that neither
    // issues the type nor has the holder's case open; the issuer reads it for a case.
    const anyone = clientFor(null);
    expect((await clientError(anyone.get(issued.identifier, { protocol, purpose: PURPOSE }))).code).toBe('ZT_CLIENT_CONFIG_INVALID');
    const raw = await fetch(`${app.httpUrl}/v1/licences/${issued.identifier}?serviceItem=${PURPOSE.serviceItem}&caseNumber=${PURPOSE.caseNumber}`);
    expect(raw.status).toBe(401);
    expect(((await raw.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_UNSIGNED');
    await expectRefused(protocol, clientFor(CIVIL).get(issued.identifier, { protocol, purpose: PURPOSE }), 'ZT_ERR_LICENCE_READ_FORBIDDEN');
    await expectRefused(protocol, clientFor(CIVIL).findByHolder(input.holder.code, undefined, undefined, { protocol, purpose: PURPOSE }), 'ZT_ERR_LICENCE_READ_FORBIDDEN');
    const got = await reader().get(issued.identifier, { protocol, purpose: PURPOSE });
    expect(got.documentBytes.equals(issued.documentBytes)).toBe(true);
    expect(got.document).toEqual(issued.document);

    const byHolder = await reader().findByHolder(input.holder.code, undefined, undefined, { protocol, purpose: PURPOSE });
    expect(byHolder.map((l) => l.identifier)).toEqual([issued.identifier]);
    expect((await reader().findByHolder(input.holder.code, '001', BUSINESS_LICENCE, { protocol, purpose: PURPOSE })).map((l) => l.identifier)).toEqual([issued.identifier]);
    expect(await reader().findByHolder(input.holder.code, '001', '11100000MB0002581X002', { protocol, purpose: PURPOSE })).toEqual([]);
    const byNumber = await reader().findByNumber(BUSINESS_LICENCE, input.licenceNumber!, { protocol, purpose: PURPOSE });
    expect(byNumber.map((l) => l.identifier)).toEqual([issued.identifier]);

    const history = await reader().history(issued.identifier, { protocol, purpose: PURPOSE });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ kind: 'issue', actor: MARKET, reason: null, from: null, to: 'active' });
    expect(JSON.parse(history[0]!.statement!)).toMatchObject({ schema: 'zhengtong/licence-step/v1', kind: 'issue', actor: MARKET });
    expect(history[0]!.envelope!.signer.certificate).toBeDefined();
  });

  it('verifies anonymously with the holder masked, and for a department in full, recorded for its case', async () => {
    const issued = await clientFor(MARKET).issue(businessLicence({ holder: { name: '沈阳市测试餐饮管理有限公司', code: randomUscc() } }), { protocol });

    const anonymous = await clientFor(null).verify({ identifier: issued.identifier }, { protocol });
    expect(anonymous.signer.uscc).toBe(PLATFORM);
    expect(anonymous.result).toMatchObject({ identifier: issued.identifier, status: 'valid', registryStatus: 'active', audience: 'public', checked: 'identifier' });
    expect(anonymous.result.documentSm3).toBe(sm3(issued.documentBytes).toString('hex'));
    expect(anonymous.result.licence.holder.name).toBe('沈阳*******有限公司');
    expect(anonymous.result.requestDigest).toBeUndefined();
    expect(anonymous.result.accessId).toBeUndefined();

    const department = await clientFor(YS).verify({ identifier: issued.identifier }, { protocol, purpose: PURPOSE, operator: 'li.si' });
    expect(department.result).toMatchObject({ identifier: issued.identifier, status: 'valid', audience: YS });
    expect(department.result.licence.holder).toEqual(issued.document.holder);
    expect(department.result.requestDigest).toMatch(/^[0-9a-f]{64}$/);
    const accessId = department.result.accessId!;
    const record = async () =>
      (
        await app.app.ctx.db.query<{ requester: string; operator: string; resource: string; subject_code: string; case_number: string; service_item: string; decision: string; protocol: string; request_digest: Buffer }>(
          'SELECT requester, operator, resource, subject_code, case_number, service_item, decision, protocol, request_digest FROM access_record WHERE id = $1',
          [accessId],
        )
      ).rows[0];
    await waitUntil(async () => (await record()) !== undefined, 10_000, 'the access record');
    const row = (await record())!;
    expect(row).toMatchObject({
      requester: YS,
      operator: 'li.si',
      resource: `e-licence:${BUSINESS_LICENCE}`,
      subject_code: app.app.ctx.pseudonyms.of(issued.document.holder.code),
      case_number: PURPOSE.caseNumber,
      service_item: PURPOSE.serviceItem,
      decision: 'permit',
      protocol,
    });
    expect(Buffer.from(row.request_digest).toString('hex')).toBe(department.result.requestDigest);
  });

  it('verifies a presented document, and its compact form; refuses a tampered one', async () => {
    const issued = await clientFor(MARKET).issue(businessLicence(), { protocol });
    const anyone = clientFor(null);
    const presented = await anyone.verify({ document: issued.document, envelope: issued.envelope }, { protocol });
    expect(presented.result).toMatchObject({ identifier: issued.identifier, status: 'valid', checked: 'presented' });
    // The document as its bytes and the envelope as JSON text, as a holder would keep them in files.
    const asBytes = await anyone.verify({ document: issued.documentBytes, envelope: JSON.stringify(envelopeToJson(issued.envelope)) }, { protocol });
    expect(asBytes.result.identifier).toBe(issued.identifier);

    const compact = await reader().compact(issued.identifier, { protocol, purpose: PURPOSE });
    expect(compact.startsWith('ZTL1:')).toBe(true);
    expect((await anyone.verify({ compact }, { protocol })).result).toMatchObject({ identifier: issued.identifier, status: 'valid', checked: 'presented' });

    const altered = { ...issued.document, holder: { ...issued.document.holder, name: '沈阳市别的公司' } };
    await expectRefused(protocol, anyone.verify({ document: altered, envelope: issued.envelope }, { protocol }), 'ZT_ERR_LICENCE_TAMPERED');
    await expectRefused(protocol, clientFor(YS).verify({ document: altered, envelope: issued.envelope }, { protocol, purpose: PURPOSE }), 'ZT_ERR_LICENCE_TAMPERED');
  });

  it('suspends, resumes, changes (a new version supersedes) and revokes, each step signed and seen by verification', async () => {
    const market = clientFor(MARKET);
    const anyone = clientFor(null);
    const v1 = await market.issue(businessLicence(), { protocol });

    const suspended = await market.suspend(v1.identifier, { reason: '涉嫌虚假登记，立案调查' }, { protocol });
    expect(suspended.status).toBe('suspended');
    expect((await anyone.verify({ identifier: v1.identifier }, { protocol })).result.status).toBe('suspended');

    const resumed = await market.resume(v1.identifier, { reason: '调查结束' }, { protocol });
    expect(resumed.status).toBe('active');
    expect((await anyone.verify({ identifier: v1.identifier }, { protocol })).result.status).toBe('valid');

    const v2 = await market.change(v1.identifier, { reason: '注册资本变更', fields: { registeredCapital: '500.00' } }, { protocol });
    expect(parseLicenceIdentifier(v2.identifier)).toMatchObject({ serial: parseLicenceIdentifier(v1.identifier).serial, version: 2 });
    expect(v2.identifier).toMatch(/\.002\.[0-9A-Z]$/);
    expect(v2).toMatchObject({ status: 'active', supersedes: v1.identifier });
    expect(v2.document).toMatchObject({ version: 2, supersedes: v1.identifier, fields: { registeredCapital: '500.00', businessScope: '餐饮服务；餐饮管理' } });
    const old = await anyone.verify({ identifier: v1.identifier }, { protocol });
    expect(old.result).toMatchObject({ status: 'superseded', licence: { supersededBy: v2.identifier } });
    expect((await reader().get(v1.identifier, { protocol, purpose: PURPOSE })).supersededBy).toBe(v2.identifier);
    expect((await reader().findByNumber(BUSINESS_LICENCE, v1.document.licenceNumber, { protocol, purpose: PURPOSE })).map((l) => l.identifier)).toEqual([v2.identifier, v1.identifier]);

    const revoked = await market.revoke(v2.identifier, { reason: '营业执照被依法吊销' }, { protocol });
    expect(revoked.status).toBe('revoked');
    expect((await anyone.verify({ identifier: v2.identifier }, { protocol })).result.status).toBe('revoked');
    await expectRefused(protocol, market.resume(v2.identifier, {}, { protocol }), 'ZT_ERR_LICENCE_STATE');

    const history = await reader().history(v1.identifier, { protocol, purpose: PURPOSE });
    expect(history.map((t) => [t.kind, t.from, t.to])).toEqual([
      ['issue', null, 'active'],
      ['suspend', 'active', 'suspended'],
      ['resume', 'suspended', 'active'],
      ['change', 'active', 'superseded'],
    ]);
    expect(history.every((t) => t.actor === MARKET && t.statement !== null)).toBe(true);

    // The issuer's status list, checked against the CA, says the same.
    const list = await anyone.statusList(MARKET, listNumber(v2), { protocol });
    expect(list.issuer.code).toBe(MARKET);
    expect(list.signer.uscc).toBe(PLATFORM);
    expect(statusAt(list, v2.document.status.index)).toBe('revoked');
    expect(statusAt(list, v1.document.status.index)).toBe('superseded');
  });

  it('renews with a new end date', async () => {
    const market = clientFor(MARKET);
    const v1 = await market.issue(businessLicence({ validTo: '2027-01-14' }), { protocol });
    const v2 = await market.renew(v1.identifier, { reason: '期满换发', validTo: '2032-01-14' }, { protocol });
    expect(v2.document).toMatchObject({ version: 2, validTo: '2032-01-14', supersedes: v1.identifier });
  });

  it('refuses a wrong check character, an issuer without the right, a bad holder code and an unknown type', async () => {
    const market = clientFor(MARKET);
    const anyone = clientFor(null);
    const issued = await market.issue(businessLicence(), { protocol });
    await expectRefused(protocol, reader().get(wrongCheck(issued.identifier), { protocol, purpose: PURPOSE }), 'ZT_ERR_LICENCE_IDENTIFIER_CHECK');
    await expectRefused(protocol, anyone.verify({ identifier: wrongCheck(issued.identifier) }, { protocol }), 'ZT_ERR_LICENCE_IDENTIFIER_CHECK');
    await expectRefused(protocol, clientFor(CIVIL).issue(businessLicence(), { protocol }), 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED');
    await expectRefused(protocol, clientFor(CIVIL).revoke(issued.identifier, { reason: '越权' }, { protocol }), 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED');
    await expectRefused(protocol, market.issue(businessLicence({ holder: { name: '某公司', code: '91210100MA0000000X' } }), { protocol }), 'ZT_ERR_LICENCE_HOLDER_INVALID');
    await expectRefused(protocol, market.issue(businessLicence({ typeCode: '11100000MB0002581X999' }), { protocol }), 'ZT_ERR_LICENCE_TYPE_UNKNOWN');
    await expectRefused(protocol, market.issue(businessLicence({ fields: { enterpriseType: '有限责任公司' } }), { protocol }), 'ZT_ERR_LICENCE_FIELDS_INVALID');
    await expectRefused(protocol, reader().findByHolder('91210100MA0000000X', '001', undefined, { protocol, purpose: PURPOSE }), 'ZT_ERR_LICENCE_HOLDER_INVALID');
  });

  it('defines a licence type, and refuses to define it twice', async () => {
    const authority = randomUscc();
    const type = {
      code: `${authority}001`,
      name: '测试许可证',
      definingAuthority: { code: authority, name: '测试主管部门' },
      holderKind: 'person' as const,
      issuers: [CIVIL],
      validityYears: 3,
      fields: [
        { code: 'scope', label: '许可范围', kind: 'string' as const, required: true, maxLength: 100 },
        { code: 'address', label: '住址', kind: 'string' as const, required: false, sensitive: true },
      ],
    };
    // Only the platform operator (a certificate of the platform's USCC) may define a type: it grants issuing rights.
    const operator = clientFor(null, { signer: DepartmentKey.fromFiles(join(app.config.platformKeyDir, 'exchange-signer.key.pem'), join(app.config.platformKeyDir, 'exchange-signer.cert.pem')) });
    await expectRefused(protocol, clientFor(CIVIL).defineType(type, { protocol }), 'ZT_ERR_SIGNER_MISMATCH');
    const unsigned =
      protocol === 'http'
        ? await fetch(`${app.httpUrl}/v1/licence-types`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type }) })
        : null;
    if (unsigned) expect(((await unsigned.json()) as { code: string }).code).toBe('ZT_ERR_TRANSITION_UNSIGNED');
    expect(await operator.defineType(type, { protocol })).toEqual(type);
    const anyone = clientFor(null);
    expect((await anyone.listTypes({ protocol })).find((t) => t.code === type.code)).toEqual(type);
    await expectRefused(protocol, operator.defineType(type, { protocol }), 'ZT_ERR_LICENCE_TYPE_EXISTS');
    await expectRefused(protocol, operator.defineType({ ...type, code: `${authority}002`, holderKind: 'robot' as never }, { protocol }), 'ZT_ERR_LICENCE_TYPE_INVALID');

    // A person's licence of the new type: a resident ID number is its holder, and the type's validity applies.
    const issued = await clientFor(CIVIL).issue(
      { typeCode: type.code, holder: { name: DEMO_SUBJECTS.spouse.name, code: DEMO_SUBJECTS.spouse.idNumber }, validFrom: '2026-01-15', fields: { scope: '测试', address: '沈河区' } },
      { protocol },
    );
    expect(issued.document).toMatchObject({ holder: { codeType: '111' }, validFrom: '2026-01-15', validTo: '2029-01-14' });
    const masked = await anyone.verify({ identifier: issued.identifier }, { protocol });
    expect(masked.result.licence.holder).toEqual({ name: '陈*', code: '210105********0421', codeType: '111' });
    expect(masked.result.licence.fields).toEqual({ scope: '测试' });
  });

  it('refuses a second licence with the same number', async () => {
    const market = clientFor(MARKET);
    const first = businessLicence();
    await market.issue(first, { protocol });
    await expectRefused(protocol, market.issue(businessLicence({ licenceNumber: first.licenceNumber! }), { protocol }), 'ZT_ERR_LICENCE_NUMBER_TAKEN');
  });
});

describe('the licence client', () => {
  it('returns the same types and licences over both protocols', async () => {
    const anyone = clientFor(null);
    expect(await anyone.listTypes({ protocol: 'grpc' })).toEqual(await anyone.listTypes({ protocol: 'http' }));
    const [http] = await reader().findByHolder(DEMO_SUBJECTS.restaurant.uscc, undefined, BUSINESS_LICENCE, { protocol: 'http', purpose: PURPOSE });
    const [grpc] = await reader().findByHolder(DEMO_SUBJECTS.restaurant.uscc, undefined, BUSINESS_LICENCE, { protocol: 'grpc', purpose: PURPOSE });
    expect(grpc).toEqual(http);
    expect(http!.document.holder.name).toBe(DEMO_SUBJECTS.restaurant.name);
    // The demo changed the restaurant's licence: version 2, whose history is the change that made it.
    const history = await reader().history(http!.identifier, { protocol: 'http', purpose: PURPOSE });
    expect(await reader().history(http!.identifier, { protocol: 'grpc', purpose: PURPOSE })).toEqual(history);
    expect(history.map((t) => [t.kind, t.actor, t.reason, t.to])).toEqual([['change', MARKET, '注册资本变更', 'active']]);
  });

  it('tells a resident ID number from a USCC, even an all-digit one', () => {
    expect(holderCodeType(DEMO_SUBJECTS.applicant.idNumber)).toBe('111');
    expect(holderCodeType(YS)).toBe('001');
    expect(holderCodeType(DEMO_SUBJECTS.restaurant.uscc)).toBe('001');
  });

  it('checks the platform signature on documents when asked to', async () => {
    const client = clientFor(MARKET, { verifyDocument: true });
    for (const protocol of PROTOCOLS) {
      const [licence] = await client.findByHolder(DEMO_SUBJECTS.restaurant.uscc, '001', BUSINESS_LICENCE, { protocol, purpose: PURPOSE });
      expect(licence!.signer).toMatchObject({ uscc: PLATFORM });
    }
  });

  it('refuses answers signed by a certificate not naming the expected platform', async () => {
    const [licence] = await reader().findByHolder(DEMO_SUBJECTS.restaurant.uscc, '001', BUSINESS_LICENCE, { purpose: PURPOSE });
    const wary = clientFor(MARKET, { platformUscc: '91210105MA0XY1232L', verifyDocument: true });
    for (const protocol of PROTOCOLS) {
      expect((await clientError(wary.verify({ identifier: licence!.identifier }, { protocol }))).code).toBe('ZT_CLIENT_RESPONSE_UNVERIFIED');
      expect((await clientError(wary.get(licence!.identifier, { protocol, purpose: PURPOSE }))).code).toBe('ZT_CLIENT_RESPONSE_UNVERIFIED');
      expect((await clientError(wary.statusList(MARKET, 1, { protocol }))).code).toBe('ZT_CLIENT_RESPONSE_UNVERIFIED');
    }
  });

  it('refuses an anonymous answer that is not fresh', async () => {
    const [licence] = await reader().findByHolder(DEMO_SUBJECTS.restaurant.uscc, '001', BUSINESS_LICENCE, { purpose: PURPOSE });
    // The client's clock an hour ahead: the answer, made now, looks an hour old.
    const late = clientFor(null, { clock: () => Date.now() + 3600_000 });
    const error = await clientError(late.verify({ identifier: licence!.identifier }));
    expect(error.code).toBe('ZT_CLIENT_RESPONSE_UNVERIFIED');
    expect(error.message).toMatch(/more than 300 s from now/);
  });

  it('needs a signer to take steps or to verify as a department', async () => {
    const anyone = clientFor(null);
    expect((await clientError(anyone.issue(businessLicence()))).code).toBe('ZT_CLIENT_CONFIG_INVALID');
    expect((await clientError(anyone.revoke('1.2.156.3005.2.x', { reason: 'r' }))).code).toBe('ZT_CLIENT_CONFIG_INVALID');
    expect((await clientError(anyone.verify({ identifier: '1.2.156.3005.2.x' }, { purpose: PURPOSE }))).code).toBe('ZT_CLIENT_CONFIG_INVALID');
  });
});

// The registry's own lookups by holder without a code type, as the client does not make them (it always says which
// type the code is): the adapters take a valid resident ID number as 111 and anything else as 001.
describe('finding by holder without a code type', () => {
  it('gRPC FindByHolder finds an organisation, as HTTP does', async () => {
    // Holder code type left out: the registry tells it from the code.
    const found = await reader().findByHolder(DEMO_SUBJECTS.restaurant.uscc, undefined, undefined, { protocol: 'grpc', purpose: PURPOSE });
    expect(found.length).toBeGreaterThan(0);
  });

  // A USCC may be all digits (the demo departments' are).
  it('HTTP finds the licences of an all-digit USCC', async () => {
    let first17: string;
    do first17 = `11210100${String(randomInt(1e9)).padStart(9, '0')}`;
    while (!/\d/.test(usccCheckCharacter(first17)!));
    const code = first17 + usccCheckCharacter(first17)!;
    const issued = await clientFor(MARKET).issue(businessLicence({ holder: { name: '沈阳市某事业单位', code } }));
    const path = `/v1/licences?holderCode=${code}&serviceItem=${PURPOSE.serviceItem}&caseNumber=${PURPOSE.caseNumber}`;
    const files = demoKeyFiles(app.config.dataDir, MARKET);
    const response = await fetch(`${app.httpUrl}${path}`, { headers: await signedHeaders(DepartmentKey.fromFiles(files.key, files.certificate), 'GET', path) });
    const body = (await response.json()) as { licences?: { identifier: string }[]; code?: string };
    expect(body.code).toBeUndefined();
    expect(body.licences!.map((l) => l.identifier)).toEqual([issued.identifier]);
  });
});

describe('the lookup cache on /metrics', () => {
  it('counts hits, misses and entries', async () => {
    const text = await (await fetch(`${app.httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    expect(value('zt_licence_cache_hits_total')).toBeGreaterThan(0);
    expect(value('zt_licence_cache_misses_total')).toBeGreaterThan(0);
    expect(value('zt_licence_cache_entries')).toBeGreaterThan(0);
  });
});
