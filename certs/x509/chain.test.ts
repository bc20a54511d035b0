import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError, type ZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair } from '../sm2/sm2.js';
import { createCertificate, createCrl, exportPem, toSm2CryptoKey, validateChain, type RevokedCertificateEntry, type ValidateChainOptions, x509 } from './index.js';
import { makeTestPki, withFlippedSignatureBit, type TestPki } from './test-pki.js';

const DAY = 86_400_000;
let pki: TestPki;
/** The issuing CA's CRL: the leaf revoked for key compromise. */
let issuingCrl: x509.X509Crl;
/** The root's CRL: nothing revoked. */
let rootCrl: x509.X509Crl;

async function crlOf(issuer: 'root' | 'issuing', entries: RevokedCertificateEntry[], nextUpdate = new Date(pki.now.getTime() + 7 * DAY)) {
  const certificate = issuer === 'root' ? pki.root : pki.issuing;
  const privateKey = issuer === 'root' ? pki.rootKeys.privateKey : pki.issuingKeys.privateKey;
  return createCrl({ issuer: { certificate, privateKey }, thisUpdate: pki.now, nextUpdate, crlNumber: 1, entries });
}

async function failure(options: Partial<ValidateChainOptions>): Promise<ZtError> {
  try {
    await validateChain({ certificate: pki.leaf, intermediates: [pki.issuing], trustAnchors: [pki.root], at: pki.now, ...options });
  } catch (error) {
    if (isZtError(error)) return error;
    throw error;
  }
  throw new Error('the chain validated');
}

beforeAll(async () => {
  pki = await makeTestPki();
  issuingCrl = await crlOf('issuing', [{ serialNumber: pki.leaf.serialNumber, revocationDate: pki.now, reason: 'keyCompromise' }]);
  rootCrl = await crlOf('root', []);
});

describe('validateChain: root CA → issuing CA → end entity, all SM2', () => {
  it('validates, returning the path and the earliest notAfter', async () => {
    const result = await validateChain({ certificate: pki.leaf, intermediates: [pki.issuing], trustAnchors: [pki.root], at: pki.now });
    expect(result.ok).toBe(true);
    expect(result.chain.map((c) => c.subject)).toEqual([pki.leaf.subject, pki.issuing.subject, pki.root.subject]);
    expect(result.chain[0]).toBe(pki.leaf);
    expect(result.notAfter).toEqual(pki.leaf.notAfter);
  });

  it('accepts PEM and DER input, and the leaf repeated among the intermediates', async () => {
    const result = await validateChain({
      certificate: exportPem(pki.leaf),
      intermediates: [Buffer.from(pki.issuing.rawData), exportPem(pki.leaf)],
      trustAnchors: [exportPem(pki.root)],
      at: pki.now,
    });
    expect(result.chain.map((c) => c.subject)).toEqual([pki.leaf.subject, pki.issuing.subject, pki.root.subject]);
  });

  it('with CRLs: the revoked leaf is ZT_ERR_CERT_REVOKED with its reason; another leaf of the same CA passes', async () => {
    const crls = [issuingCrl, rootCrl];
    const revoked = await failure({ crls });
    expect(revoked.code).toBe('ZT_ERR_CERT_REVOKED');
    expect(revoked.details).toMatchObject({ serialNumber: pki.leaf.serialNumber, reason: 'keyCompromise', subject: pki.leaf.subject });
    expect(revoked.message).toContain('keyCompromise');
    const other = await validateChain({ certificate: pki.otherLeaf, intermediates: [pki.issuing], trustAnchors: [pki.root], crls: crls.map(exportPem), at: pki.now });
    expect(other.chain).toHaveLength(3);
  });

  it('a revoked issuing CA revokes the path of every leaf under it', async () => {
    const rootRevokesIssuing = await crlOf('root', [{ serialNumber: pki.issuing.serialNumber, revocationDate: pki.now, reason: 'cACompromise' }]);
    const error = await failure({ certificate: pki.otherLeaf, crls: [issuingCrl, rootRevokesIssuing] });
    expect(error.code).toBe('ZT_ERR_CERT_REVOKED');
    expect(error.details).toMatchObject({ subject: pki.issuing.subject, reason: 'cACompromise' });
  });

  it('fails closed when a CRL is missing or stale, unless revocation is best-effort', async () => {
    expect((await failure({ certificate: pki.otherLeaf, crls: [issuingCrl] })).code).toBe('ZT_ERR_CERT_CHAIN_INVALID');
    await expect(validateChain({ certificate: pki.otherLeaf, intermediates: [pki.issuing], trustAnchors: [pki.root], crls: [issuingCrl], at: pki.now, revocation: 'best-effort' })).resolves.toMatchObject({
      ok: true,
    });
    const later = new Date(pki.now.getTime() + 10 * DAY); // after both CRLs' nextUpdate
    expect((await failure({ certificate: pki.otherLeaf, crls: [issuingCrl, rootCrl], at: later })).code).toBe('ZT_ERR_CERT_CHAIN_INVALID');
  });

  it('ignores a CRL its issuer did not sign', async () => {
    const impostorKeys = generateSm2KeyPair();
    const impostor = await createCertificate({
      subject: pki.issuing.subjectName,
      issuer: 'self',
      privateKey: impostorKeys.privateKey,
      publicKey: impostorKeys.publicKey,
      notBefore: pki.issuing.notBefore,
      notAfter: pki.issuing.notAfter,
      keyUsage: ['keyCertSign', 'cRLSign'],
      basicConstraints: { ca: true },
    });
    const forged = await createCrl({
      issuer: { certificate: impostor, privateKey: impostorKeys.privateKey },
      thisUpdate: pki.now,
      nextUpdate: new Date(pki.now.getTime() + DAY),
      crlNumber: 99,
      entries: [{ serialNumber: pki.otherLeaf.serialNumber, revocationDate: pki.now, reason: 'keyCompromise' }],
    });
    const result = await validateChain({ certificate: pki.otherLeaf, intermediates: [pki.issuing], trustAnchors: [pki.root], crls: [forged, issuingCrl, rootCrl], at: pki.now });
    expect(result.ok).toBe(true);
  });

  it('ZT_ERR_CERT_EXPIRED after notAfter, ZT_ERR_CERT_NOT_YET_VALID before notBefore', async () => {
    const expired = await failure({ at: new Date(pki.leaf.notAfter.getTime() + 1000) });
    expect(expired.code).toBe('ZT_ERR_CERT_EXPIRED');
    expect(expired.details).toMatchObject({ serialNumber: pki.leaf.serialNumber });
    const early = await failure({ at: new Date(pki.leaf.notBefore.getTime() - 60_000) });
    expect(early.code).toBe('ZT_ERR_CERT_NOT_YET_VALID');
    // The issuing CA is not yet valid while the leaf would be: the error names the CA.
    const keys = generateSm2KeyPair();
    const lateCa = await createCertificate({
      subject: { commonName: 'late CA' },
      issuer: { certificate: pki.root, privateKey: pki.rootKeys.privateKey },
      publicKey: keys.publicKey,
      notBefore: new Date(pki.now.getTime() + DAY),
      notAfter: new Date(pki.now.getTime() + 30 * DAY),
      keyUsage: ['keyCertSign', 'cRLSign'],
      basicConstraints: { ca: true, pathLength: 0 },
    });
    const leaf = await createCertificate({
      subject: { commonName: 'leaf of late CA' },
      issuer: { certificate: lateCa, privateKey: keys.privateKey },
      publicKey: generateSm2KeyPair().publicKey,
      notBefore: new Date(pki.now.getTime() + DAY),
      notAfter: new Date(pki.now.getTime() + 2 * DAY),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
    });
    const beforeCa = await failure({ certificate: leaf, intermediates: [lateCa], at: pki.now });
    expect(beforeCa.code).toBe('ZT_ERR_CERT_NOT_YET_VALID');
    await expect(validateChain({ certificate: leaf, intermediates: [lateCa], trustAnchors: [pki.root], at: new Date(pki.now.getTime() + 1.5 * DAY) })).resolves.toMatchObject({ ok: true });
  });

  it('ZT_ERR_CERT_UNKNOWN_ISSUER for another root, a missing intermediate, or an untrusted self-signed certificate', async () => {
    const other = await makeTestPki(pki.now);
    expect((await failure({ trustAnchors: [other.root] })).code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect((await failure({ intermediates: [] })).code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect((await failure({ certificate: other.root, intermediates: [] })).code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
  });

  it('ZT_ERR_CERT_CHAIN_INVALID for a flipped signature bit, in the leaf or in the CA', async () => {
    expect((await failure({ certificate: withFlippedSignatureBit(pki.leaf.rawData) })).code).toBe('ZT_ERR_CERT_CHAIN_INVALID');
    const error = await failure({ intermediates: [withFlippedSignatureBit(pki.issuing.rawData)] });
    expect(error.code).toBe('ZT_ERR_CERT_CHAIN_INVALID');
    expect(error.message).toContain('does not verify');
  });

  it('a CA of the same name with another key is not the issuer: ZT_ERR_CERT_UNKNOWN_ISSUER', async () => {
    const other = await makeTestPki(pki.now);
    const impostorCa = await createCertificate({
      subject: pki.issuing.subjectName,
      issuer: { certificate: pki.root, privateKey: pki.rootKeys.privateKey },
      publicKey: other.issuingKeys.publicKey,
      notBefore: pki.issuing.notBefore,
      notAfter: pki.issuing.notAfter,
      keyUsage: ['keyCertSign', 'cRLSign'],
      basicConstraints: { ca: true, pathLength: 0 },
    });
    expect((await failure({ intermediates: [impostorCa] })).code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
  });

  it('ZT_ERR_CERT_CHAIN_INVALID when an end-entity certificate poses as a CA', async () => {
    // Signed with the leaf's key straight through @peculiar/x509 (no signingAlgorithm: the SM2 key makes it SM2-with-SM3),
    // so the name and signature chain, and only basicConstraints says no.
    const child = await x509.X509CertificateGenerator.create({
      subject: 'CN=child of an end entity',
      issuer: pki.leaf.subjectName,
      publicKey: toSm2CryptoKey(generateSm2KeyPair().publicKey),
      signingKey: toSm2CryptoKey(pki.leafKeys.privateKey),
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    expect(child.signatureAlgorithm).toMatchObject({ name: 'SM2', hash: { name: 'SM3' } });
    const error = await failure({ certificate: child, intermediates: [pki.leaf, pki.issuing] });
    expect(error.code).toBe('ZT_ERR_CERT_CHAIN_INVALID');
    expect(error.message).toContain('not a CA');
  });

  it('ZT_ERR_CERT_MALFORMED / ZT_ERR_CRL_MALFORMED for undecodable input', async () => {
    expect((await failure({ certificate: 'not PEM' })).code).toBe('ZT_ERR_CERT_MALFORMED');
    expect((await failure({ intermediates: [Buffer.from([1, 2, 3])] })).code).toBe('ZT_ERR_CERT_MALFORMED');
    expect((await failure({ crls: ['-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'] })).code).toBe('ZT_ERR_CRL_MALFORMED');
  });
});
