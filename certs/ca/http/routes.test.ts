import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCaDir, randomUscc, waitUntil, type TestCaDir } from '../../../test/support/ca.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { decodePem, exportDer, parseCertificate, parseCrl, readCrlNumber, verifyCrl, x509 } from '../../x509/index.js';
import { openssl, tempDir, writeFiles } from '../../x509/test-pki.js';
import type { PlatformCa } from '../platform-ca.js';

async function rejectionCodeOrOk(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? String(error),
  );
}

const CA_ROUTES = ['/v1/ca/root.pem', '/v1/ca/issuing.pem', '/v1/ca/crl', '/v1/ca/crl.pem', '/v1/ca/root.crl', '/v1/ca/certificates/0A1B2C'];

describe('platform CA over HTTP', () => {
  let caDir: TestCaDir;
  let t: TestApp;
  let ca: PlatformCa;
  const get = (path: string, init?: RequestInit) => fetch(`${t.httpUrl}${path}`, init);

  beforeAll(async () => {
    caDir = await makeTestCaDir();
    t = await startTestApp({ caDir: caDir.dir }, { seedDemo: false });
    ca = t.app.ctx.ca!;
    expect(ca).not.toBeNull();
  });

  afterAll(async () => {
    await t?.close();
    caDir?.remove();
  });

  it('GET /v1/ca/root.pem and /v1/ca/issuing.pem: the CA certificates as PEM', async () => {
    for (const [path, expected] of [
      ['/v1/ca/root.pem', caDir.material.root.certificate],
      ['/v1/ca/issuing.pem', caDir.material.issuing.certificate],
    ] as const) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
      const body = await response.text();
      expect(body).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/);
      expect(exportDer(parseCertificate(body))).toEqual(exportDer(expected));
    }
  });

  it('GET /v1/ca/crl: DER, application/pkix-crl, cacheable, with an ETag naming the CRL number', async () => {
    const response = await get('/v1/ca/crl');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pkix-crl');
    const der = Buffer.from(await response.arrayBuffer());
    expect(der[0]).toBe(0x30); // DER, not PEM text
    const crl = parseCrl(der);
    await verifyCrl(crl, ca.issuing);
    expect(crl.issuer).toBe(ca.issuing.subject);
    const number = readCrlNumber(crl)!;
    expect(response.headers.get('etag')).toBe(`"crl-${number}"`);
    const maxAge = /^public, max-age=(\d+)$/.exec(response.headers.get('cache-control') ?? '');
    expect(maxAge).not.toBeNull();
    expect(Number(maxAge![1])).toBeGreaterThan(0);
    expect(Number(maxAge![1])).toBeLessThanOrEqual(300);
    expect(new Date(response.headers.get('last-modified')!).getTime()).toBeLessThanOrEqual(Date.now());
    expect(crl.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    // OpenSSL reads it as a DER CRL.
    const dir = tempDir();
    writeFiles(dir, { 'crl.der': der });
    const text = openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-noout', '-text'], dir);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('SM2-with-SM3');
    // Asked again without a revocation in between: the same CRL.
    const again = await get('/v1/ca/crl');
    expect(again.headers.get('etag')).toBe(response.headers.get('etag'));
    expect(Buffer.from(await again.arrayBuffer())).toEqual(der);
  });

  it('GET /v1/ca/crl.pem: the same CRL under the PEM label X509 CRL', async () => {
    const [pemResponse, derResponse] = await Promise.all([get('/v1/ca/crl.pem'), get('/v1/ca/crl')]);
    expect(pemResponse.status).toBe(200);
    expect(pemResponse.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const pem = await pemResponse.text();
    expect(pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
    expect(pem.trimEnd().endsWith('-----END X509 CRL-----')).toBe(true);
    expect(decodePem(pem, ['X509 CRL'])).toEqual(Buffer.from(await derResponse.arrayBuffer()));
    expect(pemResponse.headers.get('etag')).toBe(derResponse.headers.get('etag'));
    const dir = tempDir();
    writeFiles(dir, { 'crl.pem': pem });
    expect(openssl(['crl', '-in', 'crl.pem', '-noout'], dir).status).toBe(0);
  });

  it('GET /v1/ca/root.crl: the root CA’s CRL, DER, signed by the root', async () => {
    const response = await get('/v1/ca/root.crl');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pkix-crl');
    const crl = parseCrl(Buffer.from(await response.arrayBuffer()));
    expect(crl.issuer).toBe(ca.root.subject);
    await verifyCrl(crl, ca.root);
    expect(crl.entries).toHaveLength(0);
    expect(response.headers.get('etag')).toBe(`"crl-${readCrlNumber(crl)}"`);
  });

  it('GET /v1/ca/certificates/:serial: good, then revoked (with reason) after ca.revoke, and in the next CRL', async () => {
    const uscc = randomUscc();
    const { certificate } = await ca.enrolWithGeneratedKey({ uscc, name: '沈阳市民政局' });
    const etagBefore = (await get('/v1/ca/crl')).headers.get('etag');
    // The instance's trust store (built over the same CA) trusts it, and caches that.
    const trust = t.app.ctx.trust!;
    const trusted = await trust.validate(certificate.pem);
    expect(trusted.uscc).toBe(uscc);
    expect(await trust.validate(certificate.pem)).toBe(trusted);

    const good = await get(`/v1/ca/certificates/${certificate.serial}`);
    expect(good.status).toBe(200);
    expect(good.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await good.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      serial: certificate.serial,
      status: 'good',
      departmentUscc: uscc,
      fingerprintSm3: certificate.fingerprintSm3,
      revokedAt: null,
      revocationReason: null,
      notAfter: certificate.notAfter.toISOString(),
      pem: certificate.pem,
    });
    expect(body.subject).toContain('沈阳市民政局');
    // The serial in lower case, with colons, is the same certificate.
    const colons = certificate.serial.match(/../g)!.join(':').toLowerCase();
    expect(((await (await get(`/v1/ca/certificates/${encodeURIComponent(colons)}`)).json()) as { serial: string }).serial).toBe(certificate.serial);

    await ca.revoke(certificate.serial, 'affiliationChanged');
    const revoked = await get(`/v1/ca/certificates/${certificate.serial}`);
    expect(revoked.status).toBe(200);
    const revokedBody = (await revoked.json()) as { status: string; revocationReason: string; revokedAt: string };
    expect(revokedBody.status).toBe('revoked');
    expect(revokedBody.revocationReason).toBe('affiliationChanged');
    expect(Number.isNaN(Date.parse(revokedBody.revokedAt))).toBe(false);

    const crlResponse = await get('/v1/ca/crl');
    expect(crlResponse.headers.get('etag')).not.toBe(etagBefore);
    const crl = parseCrl(Buffer.from(await crlResponse.arrayBuffer()));
    expect(crl.findRevoked(certificate.serial)?.reason).toBe(x509.X509CrlReason.affiliationChanged);
    // The revocation went out through the outbox and the in-process bus (the relay runs): the trust store dropped it.
    await waitUntil(async () => (await rejectionCodeOrOk(trust.validate(certificate.pem))) === 'ZT_ERR_CERT_REVOKED', 5000, 'the trust store to refuse it');
  });

  it('an unknown serial is 404 ZT_ERR_CERT_NOT_FOUND; a malformed one 400 ZT_ERR_REQUEST_INVALID', async () => {
    const unknown = await get('/v1/ca/certificates/0123456789ABCDEF0123');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'ZT_ERR_CERT_NOT_FOUND', requestId: expect.any(String) });
    for (const serial of ['not-a-serial', 'ZZ', '1'.repeat(41), 'F'.repeat(65)]) {
      const response = await get(`/v1/ca/certificates/${serial}`);
      expect(response.status, serial).toBe(400);
      expect(((await response.json()) as { code: string }).code, serial).toBe('ZT_ERR_REQUEST_INVALID');
    }
  });

  it('the OpenAPI document lists the /v1/ca routes', async () => {
    const response = await get('/docs/json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const path of ['/v1/ca/root.pem', '/v1/ca/issuing.pem', '/v1/ca/crl', '/v1/ca/crl.pem', '/v1/ca/root.crl', '/v1/ca/certificates/{serial}']) {
      expect(doc.paths[path], path).toBeDefined();
      expect(doc.paths[path]!.get?.tags, path).toContain('ca');
    }
  });
});

describe('an instance without a platform CA', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({}, { seedDemo: false });
    expect(t.app.ctx.ca).toBeNull();
    expect(t.app.ctx.trust).toBeNull();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers every /v1/ca route with 409 ZT_ERR_CA_NOT_INITIALISED', async () => {
    for (const path of CA_ROUTES) {
      const response = await fetch(`${t.httpUrl}${path}`);
      expect(response.status, path).toBe(409);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.code, path).toBe('ZT_ERR_CA_NOT_INITIALISED');
      expect(body.message).toContain('zhengtong ca init');
    }
  });
});
