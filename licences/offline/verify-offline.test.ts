import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError, type ZtError } from '../../core/errors/index.js';
import { envelopeToJson, type SignedEnvelope } from '../../certs/envelope/index.js';
import { encodeTreeHead, leafHash } from '../../certs/signer/index.js';
import { sm2Sign, sm3 } from '../../certs/sm2/sm2.js';
import { createCertificate, exportPem } from '../../certs/x509/index.js';
import { InProcessSm2Signer } from '../../certs/signer/index.js';
import { licenceDocumentBytes, type LicenceDocument } from '../licence.js';
import { publishStatusList } from '../status-list/index.js';
import { encodeCompactLicence } from './compact.js';
import { businessLicence, ISSUER, LIST_URL, makeLicenceWorld, PLATFORM_USCC, signedList, signLicence, type LicenceWorld } from './test-support.js';
import { verifyLicenceOffline, type VerifyLicenceOfflineOptions } from './verify-offline.js';

async function failure(promise: Promise<unknown>): Promise<ZtError> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error;
    throw error;
  }
  throw new Error('expected a ZtError, but the promise resolved');
}

let world: LicenceWorld;
let other: LicenceWorld;
let ca: VerifyLicenceOfflineOptions['caCertificates'];

beforeAll(async () => {
  world = await makeLicenceWorld();
  other = await makeLicenceWorld();
  ca = { trustAnchors: [exportPem(world.pki.root)], intermediates: [exportPem(world.pki.issuing)] };
});

/** The n-th licence of the list, signed, as a QR code's text. */
async function presented(counter: number, overrides: Partial<LicenceDocument> = {}): Promise<{ document: LicenceDocument; envelope: SignedEnvelope; payload: string }> {
  const document = businessLicence(world, counter, overrides);
  const envelope = await signLicence(world, document);
  return { document, envelope, payload: encodeCompactLicence({ document, envelope }) };
}

describe('verifyLicenceOffline', () => {
  it('finds a licence from a QR code genuine and valid, with the signer certificate from the status list', async () => {
    const { payload, document } = await presented(0);
    const statusList = await signedList(world, [{ counter: 1, status: 'revoked' }]);
    const result = await verifyLicenceOffline({ payload, caCertificates: ca, statusList: JSON.stringify(statusList) });
    expect(result.status).toBe('valid');
    expect(result.storedStatus).toBe('active');
    expect(result.document).toEqual(document);
    expect(result.documentBytes.equals(licenceDocumentBytes(document))).toBe(true);
    expect(result.identifier.serial).toBe('2025000001');
    expect(result.signer).toMatchObject({ uscc: PLATFORM_USCC, source: 'status-list', fingerprint: sm3(Buffer.from(world.platformCertificate.rawData)).toString('hex') });
    expect(result.statusList).toMatchObject({ url: LIST_URL, revision: 7, stale: false, index: document.status.index });
    expect(result.checks).toEqual(['status-list', 'signer-certificate', 'signature', 'document', 'identifier', 'status-entry', 'dates']);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ['revoked', 'revoked'],
    ['suspended', 'suspended'],
    ['superseded', 'superseded'],
  ] as const)('reports a licence %s on the list', async (stored, status) => {
    const { payload } = await presented(3);
    const statusList = await signedList(world, [{ counter: 3, status: stored }]);
    const result = await verifyLicenceOffline({ payload, caCertificates: ca, statusList });
    expect(result.status).toBe(status);
    expect(result.storedStatus).toBe(stored);
  });

  it('reports an expired licence, and one not valid yet, from its dates', async () => {
    const statusList = await signedList(world);
    const expired = await presented(4, { validFrom: '2015-01-01', validTo: '2020-12-31' });
    expect((await verifyLicenceOffline({ payload: expired.payload, caCertificates: ca, statusList })).status).toBe('expired');
    const future = await presented(5, { validFrom: '2099-01-01', validTo: undefined });
    expect((await verifyLicenceOffline({ payload: future.payload, caCertificates: ca, statusList })).status).toBe('not-yet-valid');
  });

  it('checks a document and envelope given as JSON files would give them; without a list the status is unknown', async () => {
    const { document, envelope } = await presented(6);
    const result = await verifyLicenceOffline({
      document: JSON.stringify(document, null, 2),
      envelope: JSON.stringify(envelopeToJson(envelope)),
      caCertificates: ca,
    });
    expect(result.status).toBe('unknown');
    expect(result.signer.source).toBe('envelope');
    expect(result.warnings.join()).toMatch(/no status list given/);
    expect(result.checks).not.toContain('status-entry');
  });

  it('finds a changed document tampered, as document and envelope and as a QR code', async () => {
    const { document, envelope } = await presented(7);
    const changed = { ...document, validTo: '2099-12-31' };
    const error = await failure(verifyLicenceOffline({ document: changed, envelope, caCertificates: ca }));
    expect(error.code).toBe('ZT_ERR_LICENCE_TAMPERED');
    expect(error.message).toMatch(/altered/);
    // A forger who also fixes the digest in the QR code still has the registry's signature over the old bytes.
    const forgedEnvelope = { ...envelope, payloadSm3: sm3(licenceDocumentBytes(changed)) };
    const payload = encodeCompactLicence({ document: changed, envelope: forgedEnvelope });
    const statusList = await signedList(world);
    expect((await failure(verifyLicenceOffline({ payload, caCertificates: ca, statusList }))).code).toBe('ZT_ERR_LICENCE_TAMPERED');
  });

  it('refuses a licence when the verifier trusts another CA', async () => {
    const { payload } = await presented(8);
    const otherCa = { trustAnchors: [other.pki.root], intermediates: [other.pki.issuing] };
    const error = await failure(verifyLicenceOffline({ payload, caCertificates: otherCa, signerCertificate: exportPem(world.platformCertificate) }));
    expect(error.code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    // And a list from our CA does not vouch for a licence signed under another one.
    const foreignDocument = businessLicence(other, 0);
    const foreign = encodeCompactLicence({ document: foreignDocument, envelope: await signLicence(other, foreignDocument) });
    const statusList = await signedList(world);
    const mixed = await failure(verifyLicenceOffline({ payload: foreign, caCertificates: ca, statusList, signerCertificate: exportPem(other.platformCertificate) }));
    expect(mixed.code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
  });

  it('needs a certificate for the signer of a QR code', async () => {
    const { payload } = await presented(9);
    const error = await failure(verifyLicenceOffline({ payload, caCertificates: ca }));
    expect(error.code).toBe('ZT_ERR_REQUEST_INVALID');
    expect(error.message).toMatch(/give the issuer's status list/);
    const result = await verifyLicenceOffline({ payload, caCertificates: ca, signerCertificate: exportPem(world.platformCertificate) });
    expect(result.signer.source).toBe('given');
    expect(result.status).toBe('unknown');
    const wrong = await failure(verifyLicenceOffline({ payload, caCertificates: ca, signerCertificate: exportPem(other.platformCertificate) }));
    expect(wrong.code).toBe('ZT_ERR_SIGNATURE_INVALID');
  });

  it("refuses another list than the licence's", async () => {
    const { payload } = await presented(10);
    const elsewhere = await publishStatusList(world.signer, { url: `${LIST_URL.slice(0, -1)}2`, issuer: ISSUER, entries: [], revision: 1 });
    const error = await failure(verifyLicenceOffline({ payload, caCertificates: ca, statusList: elsewhere }));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(error.message).toMatch(/but the licence's is/);
  });

  it('uses a stale list with a warning, or refuses it when told to', async () => {
    const { payload } = await presented(11);
    const stale = await signedList(world, [{ counter: 11, status: 'revoked' }], { validFrom: new Date(world.now.getTime() - 2 * 86_400_000), validForMs: 86_400_000 });
    const result = await verifyLicenceOffline({ payload, caCertificates: ca, statusList: stale });
    expect(result.status).toBe('revoked');
    expect(result.statusList?.stale).toBe(true);
    expect(result.warnings.join()).toMatch(/status list expired at/);
    const error = await failure(verifyLicenceOffline({ payload, caCertificates: ca, statusList: stale, requireFreshStatusList: true }));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
  });

  it("checks the platform's USCC when the verifier knows it", async () => {
    const { payload } = await presented(12);
    const statusList = await signedList(world);
    expect((await verifyLicenceOffline({ payload, caCertificates: ca, statusList, platformUscc: PLATFORM_USCC })).signer.uscc).toBe(PLATFORM_USCC);
    const error = await failure(verifyLicenceOffline({ payload, caCertificates: ca, statusList, platformUscc: '9144030071526726XG' }));
    expect(error.code).toBe('ZT_ERR_LICENCE_TAMPERED');
  });

  it('still accepts a licence signed while the platform certificate was valid, after that certificate expired', async () => {
    const now = new Date();
    const past = await makeLicenceWorld(new Date(now.getTime() - 400 * 86_400_000)); // its platform certificate expired 35 days ago
    const document = businessLicence(past, 0);
    const bytes = licenceDocumentBytes(document);
    const signedAt = past.now.getTime() + 10 * 86_400_000;
    const envelope: SignedEnvelope = {
      version: 1,
      algorithm: 'SM2-SM3',
      signer: { certificateSm3: sm3(Buffer.from(past.platformCertificate.rawData)) },
      userId: '1234567812345678',
      signature: sm2Sign(past.platformKeys.privateKey, encodeTreeHead(1, leafHash(bytes), signedAt)),
      signingTime: new Date(signedAt),
      payloadSm3: sm3(bytes),
    };
    // Today's list is signed with the platform's current certificate from the same CA.
    const current = await createCertificate({
      subject: { country: 'CN', organisation: '沈阳市大数据管理局', commonName: '政通 电子证照签发 2', serialNumber: PLATFORM_USCC },
      issuer: { certificate: past.pki.issuing, privateKey: past.pki.issuingKeys.privateKey },
      publicKey: past.platformKeys.publicKey,
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + 365 * 86_400_000),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
      organisationIdentifiers: { uscc: PLATFORM_USCC },
    });
    const signer = new InProcessSm2Signer({ privateKey: past.platformKeys.privateKey, certificate: new Uint8Array(current.rawData) });
    const statusList = await publishStatusList(signer, { url: LIST_URL, issuer: ISSUER, key: past.listKey, entries: [], revision: 3 });
    const pastCa = { trustAnchors: [past.pki.root], intermediates: [past.pki.issuing] };
    const payload = encodeCompactLicence({ document, envelope });

    // The list's certificate is not the licence's: the verifier must bring the old one.
    expect((await failure(verifyLicenceOffline({ payload, caCertificates: pastCa, statusList }))).message).toMatch(/platform's certificate has changed/);
    const result = await verifyLicenceOffline({ payload, caCertificates: pastCa, statusList, signerCertificate: exportPem(past.platformCertificate) });
    expect(result.status).toBe('valid');
    expect(result.warnings.join()).toMatch(/signer's certificate expired at .* it was valid when the licence was signed/);

    // Signed after the certificate expired: refused.
    const late = now.getTime() - 86_400_000;
    const lateEnvelope = { ...envelope, signingTime: new Date(late), signature: sm2Sign(past.platformKeys.privateKey, encodeTreeHead(1, leafHash(bytes), late)) };
    const error = await failure(
      verifyLicenceOffline({ payload: encodeCompactLicence({ document, envelope: lateEnvelope }), caCertificates: pastCa, statusList, signerCertificate: exportPem(past.platformCertificate) }),
    );
    expect(error.code).toBe('ZT_ERR_CERT_EXPIRED');
  });

  it('refuses incomplete input', async () => {
    const { document, envelope, payload } = await presented(13);
    expect((await failure(verifyLicenceOffline({ document, caCertificates: ca }))).code).toBe('ZT_ERR_REQUEST_INVALID');
    expect((await failure(verifyLicenceOffline({ payload, document, envelope, caCertificates: ca }))).code).toBe('ZT_ERR_REQUEST_INVALID');
    expect((await failure(verifyLicenceOffline({ document: '{"schema":', envelope, caCertificates: ca }))).code).toBe('ZT_ERR_LICENCE_DOCUMENT_MALFORMED');
  });
});
