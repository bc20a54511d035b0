// Prefill on the demo: the restaurant's application at the business-environment bureau is filled from enterprise
// registration (through the exchange) and the restaurant's two e-licences (through the registry), every read recorded
// against the one request; what the government does not hold is left to the applicant, with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { DEMO_RESOURCES } from '../demo/catalogue.js';
import { DEMO_LICENCE_TYPES } from '../demo/licences.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { envelopeToJson, signEnvelope, verifyEnvelope } from '../certs/envelope/index.js';
import type { Signer } from '../certs/signer/index.js';
import { demoSigner } from '../test/support/signing.js';
import { PrefillService, type PrefillInput } from './prefill.js';
import { checkSubmission } from './submission.js';
import { defaultServiceItemDirectory, loadServiceItems, serviceItemContext } from './service-item.js';

const YS = '112101000010000537'; // 营商局, which takes restaurant applications
const MZ = '11210100001000045C';
const verified = { protocol: 'http' as const, requestDigest: Buffer.alloc(32, 0x5a), certificateSm3: Buffer.alloc(32, 0x3c) };

let app: TestApp;
let prefill: PrefillService;
// Stands in for the platform key here; the gateway signs with its own (the batch signer).
let platform: Signer;

beforeAll(async () => {
  app = await startTestApp();
  const items = loadServiceItems(defaultServiceItemDirectory(), serviceItemContext(DEMO_RESOURCES as never, DEMO_LICENCE_TYPES));
  const { ctx } = app.app;
  platform = demoSigner(app.config.dataDir, '11210100001000096L');
  prefill = new PrefillService({
    db: ctx.db,
    items: new Map(items.map((i) => [i.code, i])),
    exchange: ctx.exchange,
    licences: ctx.licences,
    licenceVerifier: ctx.licenceVerifier,
    sign: (canonical) => signEnvelope(platform, canonical),
  });
});
afterAll(async () => {
  await app?.close();
});

const restaurant = (over: Partial<PrefillInput> = {}): PrefillInput => ({
  requester: YS,
  operator: '窗口-07',
  serviceItem: 'QYKB-210100-0001',
  caseNumber: `YS-QYKB-${Math.random().toString(36).slice(2, 10)}`,
  applicant: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc },
  declined: [],
  ...over,
});

describe('prefill', () => {
  it('fills the restaurant form from enterprise registration and both e-licences, locked, each value with its source', async () => {
    const input = restaurant();
    const result = await prefill.prefill(input, verified);
    const field = (code: string) => result.fields.find((f) => f.code === code)!;
    expect(field('enterpriseName')).toMatchObject({ value: DEMO_SUBJECTS.restaurant.name, locked: true, provenance: { kind: 'shared-data', resource: '210100-SC-0001', item: 'entName' } });
    expect(field('premises')).toMatchObject({ locked: true, provenance: { kind: 'e-licence', type: '11100000MB0002581X002', field: 'premises' } });
    expect(field('premises').value).toEqual(expect.any(String));
    expect(field('seats')).toMatchObject({ value: null, locked: false, provenance: { kind: 'applicant' } });
    const material = (code: string) => result.materials.find((m) => m.code === code)!;
    expect(material('businessLicence')).toMatchObject({ status: 'attached', licence: { status: 'valid' } });
    expect(material('foodBusinessLicence')).toMatchObject({ status: 'attached' });
    expect(material('enterpriseRegistration')).toMatchObject({ status: 'attached' });
    expect(material('leaseContract')).toMatchObject({ status: 'needed', reason: 'applicant-provides' });
    expect(result.lockedDigest).toMatch(/^[0-9a-f]{64}$/);

    // Three reads for the case, each an access record citing the one request.
    const { rows } = await app.app.ctx.db.query<{ resource: string; decision: string; request_digest: Buffer; service_item: string }>(
      'SELECT resource, decision, request_digest, service_item FROM access_record WHERE case_number = $1 ORDER BY resource',
      [input.caseNumber],
    );
    expect(rows.map((r) => r.resource)).toEqual(['210100-SC-0001', 'e-licence:11100000MB0002581X001', 'e-licence:11100000MB0002581X002']);
    for (const r of rows) {
      expect(r.decision).toBe('permit');
      expect(r.service_item).toBe('QYKB-210100-0001');
      expect(Buffer.from(r.request_digest).equals(verified.requestDigest)).toBe(true);
    }
  });

  it('fills marriage registration from household data, with the negative list\'s masks shown in the provenance', async () => {
    const result = await prefill.prefill(
      { requester: MZ, operator: '婚登-02', serviceItem: 'HYDJ-210100-0011', caseNumber: 'MZ-HYDJ-0001', applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber }, declined: [] },
      verified,
    );
    expect(result.fields.find((f) => f.code === 'name')).toMatchObject({ value: DEMO_SUBJECTS.applicant.name, locked: true });
    // The negative list gives the birth date as year and month only, outside pension and social assistance.
    expect(result.fields.find((f) => f.code === 'birthDate')).toMatchObject({ value: '1985-03', locked: true, provenance: { masked: true } });
    expect(result.fields.find((f) => f.code === 'spouseName')).toMatchObject({ value: null, locked: false });
  });

  it('fills a social insurance transfer at the service centre from insurance and household data', async () => {
    const result = await prefill.prefill(
      { requester: '11210100001000109A', operator: '综窗-11', serviceItem: 'SBZY-210100-0012', caseNumber: 'ZX-SBZY-0001', applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber }, declined: [] },
      verified,
    );
    expect(result.materials.filter((m) => m.status === 'attached').map((m) => m.code).sort()).toEqual(['insurance', 'population']);
    expect(result.fields.filter((f) => f.locked).length).toBeGreaterThanOrEqual(4);
  });

  it('fetches nothing the applicant declined, and says so', async () => {
    const input = restaurant({ declined: ['foodBusinessLicence'] });
    const result = await prefill.prefill(input, verified);
    expect(result.materials.find((m) => m.code === 'foodBusinessLicence')).toMatchObject({ status: 'needed', reason: 'declined' });
    expect(result.fields.find((f) => f.code === 'premises')).toMatchObject({ value: null, locked: false });
    const { rows } = await app.app.ctx.db.query('SELECT 1 FROM access_record WHERE case_number = $1 AND resource = $2', [input.caseNumber, 'e-licence:11100000MB0002581X002']);
    expect(rows).toHaveLength(0);
  });

  it('says why a licence is missing: not held, or held but revoked', async () => {
    const result = await prefill.prefill(restaurant({ applicant: { kind: 'organisation', code: DEMO_SUBJECTS.revokedCompany.uscc } }), verified);
    expect(result.materials.find((m) => m.code === 'foodBusinessLicence')).toMatchObject({ status: 'needed', reason: 'not-held' });
    expect(result.materials.find((m) => m.code === 'businessLicence')).toMatchObject({ status: 'needed', reason: 'not-valid', detail: { licenceStatus: 'revoked' } });
    expect(result.fields.find((f) => f.code === 'registeredCapital')).toMatchObject({ value: null, locked: false });
  });

  it('refuses unknown items, departments that do not take the item, invalid applicants and a case reused for someone else', async () => {
    await expect(prefill.prefill(restaurant({ serviceItem: 'NOPE-0000' }), verified)).rejects.toMatchObject({ code: 'ZT_ERR_SERVICE_ITEM_UNKNOWN' });
    await expect(prefill.prefill(restaurant({ requester: MZ }), verified)).rejects.toMatchObject({ code: 'ZT_ERR_INTAKE_NOT_AUTHORISED' });
    await expect(prefill.prefill(restaurant({ applicant: { kind: 'organisation', code: '91210103MA0U7G5K1C' } }), verified)).rejects.toMatchObject({ code: 'ZT_ERR_APPLICANT_INVALID' });
    await expect(prefill.prefill(restaurant({ applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } }), verified)).rejects.toMatchObject({ code: 'ZT_ERR_APPLICANT_INVALID' });
    const first = restaurant();
    await prefill.prefill(first, verified);
    await expect(prefill.prefill({ ...first, applicant: { kind: 'organisation', code: DEMO_SUBJECTS.revokedCompany.uscc } }, verified)).rejects.toMatchObject({ code: 'ZT_ERR_INTAKE_CASE_CONFLICT' });
    // The same applicant may come back to the same case.
    await expect(prefill.prefill(first, verified)).resolves.toMatchObject({ caseNumber: first.caseNumber });
  });

  it('checks a submission: the locked values unchanged pass, any altered one is named, a rewritten answer fails its signature', async () => {
    const { result, signature } = await prefill.prefillSigned(restaurant(), verified);
    const verify = (envelope: Parameters<typeof verifyEnvelope>[0], payload: Buffer) => verifyEnvelope(envelope, payload, { publicKey: platform.publicKey });
    const required = () => ['enterpriseName', 'seats', 'plannedOpeningDate'];
    // As it travels: JSON out and back in.
    const returned = JSON.parse(JSON.stringify(result)) as unknown;
    const sig = envelopeToJson(signature);
    const values = Object.fromEntries(result.fields.map((f) => [f.code, f.value]));
    const ok = await checkSubmission({ prefill: returned, signature: sig, values: { ...values, seats: 40 } }, verify, required);
    expect(ok).toMatchObject({ caseNumber: result.caseNumber, missing: ['plannedOpeningDate'] });
    expect(ok.locked).toContain('enterpriseName');
    await expect(checkSubmission({ prefill: returned, signature: sig, values: { ...values, enterpriseName: '别的公司' } }, verify, required)).rejects.toMatchObject({
      code: 'ZT_ERR_INTAKE_LOCKED_ALTERED',
      details: { fields: ['enterpriseName'] },
    });
    // Rewriting the value in the answer too (so the two agree) breaks the platform's signature instead.
    const forged = JSON.parse(JSON.stringify(result)) as { fields: { code: string; value: unknown }[] };
    forged.fields.find((f) => f.code === 'enterpriseName')!.value = '别的公司';
    await expect(checkSubmission({ prefill: forged, signature: sig, values: { ...values, enterpriseName: '别的公司' } }, verify, required)).rejects.toMatchObject({ code: 'ZT_ERR_SIGNATURE_INVALID' });
  });
});
