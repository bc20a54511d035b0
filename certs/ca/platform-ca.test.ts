import { createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import type { PgliteDatabase } from '../../core/storage/index.js';
import { makeTestCaDir, openMigratedDatabase, randomUscc, rejectionCode, TEST_PUBLIC_URL, type TestCaDir } from '../../test/support/ca.js';
import { generateSm2KeyPair, loadSm2PrivateKey, sm2Sign, sm2Verify, sm3 } from '../sm2/sm2.js';
import { createCsr, exportDer, exportPem, parseCertificate, parseCrl, readCrlNumber, readUscc, validateChain, verifyCrl, x509 } from '../x509/index.js';
import { openssl, OPENSSL_DISTID, tempDir, withFlippedSignatureBit, writeFiles } from '../x509/test-pki.js';
import {
  CA_FILES,
  CERTIFICATE_EVENTS_TOPIC,
  initPlatformCa,
  loadPlatformCa,
  loadRootCaKey,
  normaliseSerial,
  PlatformCa,
  reviewCaDirectory,
  ROOT_CRL_DAYS,
  writeRootCrl,
} from './index.js';

const DAY = 86_400_000;
const CERTIFICATE_DAYS = 365;

function spki(key: KeyObject | string): Buffer {
  const k = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  return k.export({ type: 'spki', format: 'der' });
}

function crlDistributionPoints(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.CRLDistributionPointsExtension);
  return (ext?.distributionPoints ?? []).flatMap((dp) => (dp.distributionPoint?.fullName ?? []).map((n) => n.uniformResourceIdentifier ?? ''));
}

describe('platform CA files (initPlatformCa, loadPlatformCa)', () => {
  const made: TestCaDir[] = [];
  afterAll(() => made.forEach((m) => m.remove()));

  it('writes the root key apart (mode 0600 in a 0700 directory) and what serve needs in the CA directory; refuses a second init', async () => {
    const ca = await makeTestCaDir();
    made.push(ca);
    expect(readdirSync(ca.dir).sort()).toEqual([CA_FILES.issuingCertificate, CA_FILES.issuingKey, CA_FILES.rootCertificate, CA_FILES.rootCrl].sort());
    expect(readdirSync(ca.rootKeyDir)).toEqual([CA_FILES.rootKey]);
    expect(ca.material.rootKeyPath).toBe(join(ca.rootKeyDir, CA_FILES.rootKey));
    for (const key of [join(ca.rootKeyDir, CA_FILES.rootKey), join(ca.dir, CA_FILES.issuingKey)]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
    expect(statSync(ca.dir).mode & 0o077).toBe(0);
    expect(statSync(ca.rootKeyDir).mode & 0o777).toBe(0o700);
    expect(spki(loadRootCaKey(ca.material.rootKeyPath))).toEqual(Buffer.from(ca.material.root.certificate.publicKey.rawData));
    // The certificates on disk are the ones returned; the issuing CA is signed by the root, the root by itself.
    const root = parseCertificate(readFileSync(join(ca.dir, CA_FILES.rootCertificate), 'utf8'));
    const issuing = parseCertificate(readFileSync(join(ca.dir, CA_FILES.issuingCertificate), 'utf8'));
    expect(exportDer(root)).toEqual(exportDer(ca.material.root.certificate));
    expect(exportDer(issuing)).toEqual(exportDer(ca.material.issuing.certificate));
    expect(root.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 1 });
    expect(issuing.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 0 });
    expect(crlDistributionPoints(issuing)).toEqual([`${TEST_PUBLIC_URL}/v1/ca/root.crl`]);
    await expect(validateChain({ certificate: issuing, trustAnchors: [root] })).resolves.toMatchObject({ ok: true });
    // The first root CRL, signed by the root while its key was at hand: empty, number 1, a year long.
    const rootCrl = parseCrl(readFileSync(join(ca.dir, CA_FILES.rootCrl)));
    await verifyCrl(rootCrl, root);
    expect(rootCrl.entries).toHaveLength(0);
    expect(readCrlNumber(rootCrl)).toBe(1n);
    expect(rootCrl.nextUpdate!.getTime() - rootCrl.thisUpdate.getTime()).toBe(ROOT_CRL_DAYS * DAY);
    await expect(validateChain({ certificate: issuing, trustAnchors: [root], crls: [rootCrl] })).resolves.toMatchObject({ ok: true });

    const before = readFileSync(ca.material.rootKeyPath);
    const again = { organisation: 'x', publicUrl: TEST_PUBLIC_URL };
    expect(await rejectionCode(initPlatformCa({ ...again, dir: ca.dir, rootKeyDir: join(tempDir(), 'root') }))).toBe('ZT_ERR_CA_EXISTS');
    // A new CA directory but the root key directory of another CA: that key is not overwritten either.
    expect(await rejectionCode(initPlatformCa({ ...again, dir: join(tempDir(), 'ca'), rootKeyDir: ca.rootKeyDir }))).toBe('ZT_ERR_CA_EXISTS');
    expect(readFileSync(ca.material.rootKeyPath)).toEqual(before);
    // The root key may not go where serve reads.
    const same = join(tempDir(), 'ca');
    expect(await rejectionCode(initPlatformCa({ ...again, dir: same, rootKeyDir: `${same}/` }))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('refuses to init over a directory holding even one CA file', async () => {
    const ca = await makeTestCaDir();
    made.push(ca);
    for (const f of [CA_FILES.rootCertificate, CA_FILES.rootCrl, CA_FILES.issuingCertificate]) rmSync(join(ca.dir, f));
    expect(await rejectionCode(initPlatformCa({ dir: ca.dir, rootKeyDir: join(tempDir(), 'root'), organisation: 'x', publicUrl: TEST_PUBLIC_URL }))).toBe('ZT_ERR_CA_EXISTS');
  });

  it('loads what serve needs without the root key: the issuing key matching its certificate, and the root CRL', async () => {
    const ca = await makeTestCaDir();
    made.push(ca);
    rmSync(ca.rootKeyDir, { recursive: true }); // taken offline
    const loaded = loadPlatformCa(ca.dir);
    expect(loaded.dir).toBe(ca.dir);
    expect(exportDer(loaded.root.certificate)).toEqual(exportDer(ca.material.root.certificate));
    expect(Object.keys(loaded.root)).toEqual(['certificate']);
    expect(spki(loaded.issuing.privateKey)).toEqual(Buffer.from(loaded.issuing.certificate.publicKey.rawData));
    expect(readCrlNumber((await loaded.rootCrl())!)).toBe(1n);
  });

  it('with a passphrase: encrypted keys; the right passphrase loads, a missing or wrong one is ZT_ERR_KEY_PASSPHRASE', async () => {
    const ca = await makeTestCaDir({ passphrase: 'correct horse battery staple' });
    made.push(ca);
    expect(readFileSync(ca.material.rootKeyPath, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(readFileSync(join(ca.dir, CA_FILES.issuingKey), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const loaded = loadPlatformCa(ca.dir, 'correct horse battery staple');
    expect(spki(loaded.issuing.privateKey)).toEqual(Buffer.from(ca.material.issuing.certificate.publicKey.rawData));
    expect(spki(loadRootCaKey(ca.material.rootKeyPath, 'correct horse battery staple'))).toEqual(Buffer.from(ca.material.root.certificate.publicKey.rawData));

    for (const passphrase of [undefined, 'wrong passphrase']) {
      for (const load of [() => loadPlatformCa(ca.dir, passphrase), () => loadRootCaKey(ca.material.rootKeyPath, passphrase)]) {
        let error: unknown;
        try {
          load();
        } catch (e) {
          error = e;
        }
        expect(isZtError(error) && error.code, `passphrase ${String(passphrase)}`).toBe('ZT_ERR_KEY_PASSPHRASE');
      }
    }
  });

  it('refuses a private key readable by others, saying to chmod it', async () => {
    const ca = await makeTestCaDir();
    made.push(ca);
    chmodSync(join(ca.dir, CA_FILES.issuingKey), 0o644);
    let error: unknown;
    try {
      loadPlatformCa(ca.dir);
    } catch (e) {
      error = e;
    }
    expect(isZtError(error)).toBe(true);
    expect((error as Error).message).toContain(CA_FILES.issuingKey);
    expect((error as Error).message).toMatch(/readable by others.*chmod 600/);
    chmodSync(join(ca.dir, CA_FILES.issuingKey), 0o600);
    expect(() => loadPlatformCa(ca.dir)).not.toThrow();
  });

  it('a missing directory (or one without a CA) is ZT_ERR_CA_NOT_INITIALISED', () => {
    const missing = join(tempDir(), 'no-such-ca');
    for (const dir of [missing, tempDir()]) {
      let error: unknown;
      try {
        loadPlatformCa(dir);
      } catch (e) {
        error = e;
      }
      expect(isZtError(error) && error.code).toBe('ZT_ERR_CA_NOT_INITIALISED');
    }
    expect(existsSync(missing)).toBe(false);
  });
});

describe('the root CA key kept offline: root CRL, and CA directories made before', () => {
  const made: TestCaDir[] = [];
  let db: PgliteDatabase;
  beforeAll(async () => {
    db = await openMigratedDatabase();
  });
  afterAll(async () => {
    await db?.close();
    made.forEach((m) => m.remove());
  });
  const open = async (): Promise<{ dir: TestCaDir; ca: PlatformCa }> => {
    const dir = await makeTestCaDir();
    made.push(dir);
    return { dir, ca: new PlatformCa({ db, material: loadPlatformCa(dir.dir), certificateDays: CERTIFICATE_DAYS, publicUrl: TEST_PUBLIC_URL }) };
  };

  it('signRootCrl with the root key given: a higher number, published by writeRootCrl and served at once; another key is refused', async () => {
    const { dir, ca } = await open();
    const first = await ca.rootCrl();
    expect(first.crlNumber).toBe(1n);
    const signed = await ca.signRootCrl(loadRootCaKey(dir.material.rootKeyPath), { days: 90 });
    expect(signed.crlNumber).toBe(2n);
    expect(signed.nextUpdate.getTime() - signed.thisUpdate.getTime()).toBe(90 * DAY);
    await verifyCrl(signed.crl, ca.root);
    expect((await ca.rootCrl()).crlNumber).toBe(1n); // not published until written
    writeRootCrl(dir.dir, signed.crl);
    expect((await ca.rootCrl()).der).toEqual(signed.der);
    expect((await ca.signRootCrl(loadRootCaKey(dir.material.rootKeyPath))).crlNumber).toBe(3n);
    expect(await rejectionCode(ca.signRootCrl(dir.material.issuing.privateKey))).toBe('ZT_ERR_REQUEST_INVALID');
    // A root CRL file that the root did not sign is refused with its name, not served.
    const other = await makeTestCaDir();
    made.push(other);
    writeFileSync(join(dir.dir, CA_FILES.rootCrl), readFileSync(join(other.dir, CA_FILES.rootCrl)));
    const error = await ca.rootCrl().catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_CRL_MALFORMED');
    expect((error as Error).message).toContain(CA_FILES.rootCrl);
    expect(await reviewCaDirectory(ca, dir.dir)).toEqual([expect.stringContaining('is not a CRL signed by the root CA')]);
  });

  it('a directory made before (root key beside the issuing key, no root CRL): loads without reading that key; the review signs the root CRL once and says to move the key', async () => {
    const { dir } = await open();
    const legacyKey = join(dir.dir, CA_FILES.rootKey);
    renameSync(dir.material.rootKeyPath, legacyKey);
    rmSync(join(dir.dir, CA_FILES.rootCrl));
    // Loading for serve does not read the root key: a garbled one beside changes nothing.
    const key = readFileSync(legacyKey);
    writeFileSync(legacyKey, 'not a key');
    expect(() => loadPlatformCa(dir.dir)).not.toThrow();
    writeFileSync(legacyKey, key);
    const ca = new PlatformCa({ db, material: loadPlatformCa(dir.dir), certificateDays: CERTIFICATE_DAYS, publicUrl: TEST_PUBLIC_URL });
    expect(await rejectionCode(ca.rootCrl())).toBe('ZT_ERR_CA_NOT_INITIALISED');

    const warnings = await reviewCaDirectory(ca, dir.dir);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/signed the root CRL .* once with the root CA key found in/);
    expect(warnings[1]).toContain(`the root CA key ${legacyKey} is in the CA directory beside the issuing key; serve does not need it`);
    const published = await ca.rootCrl();
    await verifyCrl(published.crl, ca.root);
    // Certificates validate with it, as they did when serve signed the root CRL itself.
    const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '旧目录局' });
    await expect(validateChain({ certificate: certificate.pem, intermediates: [ca.issuing], trustAnchors: [ca.root], crls: [(await ca.crl()).crl, published.crl] })).resolves.toMatchObject({ ok: true });

    // Only once: the next start only says to move the key; once moved, nothing is said.
    expect(await reviewCaDirectory(ca, dir.dir)).toEqual([warnings[1]]);
    expect((await ca.rootCrl()).crlNumber).toBe(published.crlNumber);
    renameSync(legacyKey, dir.material.rootKeyPath);
    expect(await reviewCaDirectory(ca, dir.dir)).toEqual([]);
    // A root CRL near its nextUpdate is announced, as is one that is missing.
    expect(await reviewCaDirectory(ca, dir.dir, undefined, new Date(published.nextUpdate.getTime() - 10 * DAY))).toEqual([expect.stringMatching(/^the root CRL expires at .*--root-key FILE/)]);
    rmSync(join(dir.dir, CA_FILES.rootCrl));
    expect(await reviewCaDirectory(ca, dir.dir)).toEqual([expect.stringMatching(/^no root CRL in .*: certificates will not validate/)]);
  });
});

describe('PlatformCa over a migrated database', () => {
  let caDir: TestCaDir;
  let db: PgliteDatabase;
  let ca: PlatformCa;
  let outboxWrites = 0;
  let work: string;

  beforeAll(async () => {
    caDir = await makeTestCaDir();
    db = await openMigratedDatabase();
    ca = new PlatformCa({ db, material: caDir.material, certificateDays: CERTIFICATE_DAYS, publicUrl: `${TEST_PUBLIC_URL}/`, onOutboxWrite: () => void outboxWrites++ });
    work = tempDir();
    const run = (args: string[]): void => {
      const result = openssl(args, work);
      if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
    };
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'sm2.key']);
    run(['req', '-new', '-key', 'sm2.key', '-subj', '/CN=requested by openssl/O=whatever', '-sm3', '-sigopt', OPENSSL_DISTID, '-out', 'sm2.csr']);
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'p256.key']);
    run(['req', '-new', '-key', 'p256.key', '-subj', '/CN=p256', '-sha256', '-out', 'p256.csr']);
    writeFiles(work, { 'issuing.pem': exportPem(ca.issuing), 'root.pem': exportPem(ca.root) });
  });

  afterAll(async () => {
    await db?.close();
    caDir?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function crls(): Promise<x509.X509Crl[]> {
    return [(await ca.crl()).crl, (await ca.rootCrl()).crl];
  }

  /** Checks the profile of a department certificate the CA issued just now. */
  /** `window`: Date.now() just before and just after the enrolment. */
  async function checkIssued(pem: string, uscc: string, name: string, window: [number, number]): Promise<x509.X509Certificate> {
    const cert = parseCertificate(pem);
    expect(cert.subjectName.getField('2.5.4.5')).toEqual([uscc]); // subject serialNumber
    expect(cert.subjectName.getField('2.5.4.3')).toEqual([name]);
    expect(cert.subjectName.getField('2.5.4.10')).toEqual([name]);
    expect(cert.subjectName.getField('2.5.4.6')).toEqual(['CN']);
    expect(cert.subjectName.getField('2.5.4.8')).toEqual(['辽宁省']);
    expect(cert.subjectName.getField('2.5.4.7')).toEqual(['沈阳市']);
    expect(readUscc(cert)).toBe(uscc);
    expect(cert.issuer).toBe(ca.issuing.subject);
    const usage = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation);
    expect(usage.critical).toBe(true);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(crlDistributionPoints(cert)).toEqual([`${TEST_PUBLIC_URL}/v1/ca/crl`]);
    // Valid from about now (a minute of clock skew allowed) for certificateDays, inside the issuing CA's validity.
    // (The times are encoded to the second, hence the second of slack below.)
    const [before, after] = window;
    expect(cert.notBefore.getTime()).toBeGreaterThanOrEqual(before - 60_000 - 1_000);
    expect(cert.notBefore.getTime()).toBeLessThanOrEqual(after - 60_000);
    expect(cert.notAfter.getTime()).toBeGreaterThanOrEqual(before + CERTIFICATE_DAYS * DAY - 1_000);
    expect(cert.notAfter.getTime()).toBeLessThanOrEqual(after + CERTIFICATE_DAYS * DAY);
    expect(cert.notBefore.getTime()).toBeGreaterThanOrEqual(ca.issuing.notBefore.getTime());
    expect(cert.notAfter.getTime()).toBeLessThanOrEqual(ca.issuing.notAfter.getTime());
    // The chain validates here with the CA's CRLs, and in OpenSSL with the standard SM2 ID.
    const result = await validateChain({ certificate: cert, intermediates: [ca.issuing], trustAnchors: [ca.root], crls: await crls() });
    expect(result.chain.map((c) => c.subject)).toEqual([cert.subject, ca.issuing.subject, ca.root.subject]);
    const file = `leaf-${cert.serialNumber}.pem`;
    writeFiles(work, { [file]: pem });
    const verify = openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', '-vfyopt', OPENSSL_DISTID, file], work);
    expect(verify.stderr).toBe('');
    expect(verify.stdout.trim()).toBe(`${file}: OK`);
    // The link above (root → issuing) verifies on its own: OpenSSL 3.0's -vfyopt applies to the target certificate
    // only, so a three-level command would check the intermediate with the empty ID (see certificate.test.ts).
    expect(openssl(['verify', '-CAfile', 'root.pem', '-vfyopt', OPENSSL_DISTID, 'issuing.pem'], work).stdout.trim()).toBe('issuing.pem: OK');
    // Without the standard ID OpenSSL rejects the leaf: it really is signed with 1234567812345678.
    expect(openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', file], work).status).not.toBe(0);
    return cert;
  }

  it('enrols from a CSR made by createCsr: the CA sets the subject, the key is the requester’s', async () => {
    const keys = generateSm2KeyPair();
    const uscc = randomUscc();
    // The request asks for another name and no USCC: the CA ignores the request's subject.
    const csr = await createCsr({ subject: { country: 'CN', commonName: 'please make me a CA' }, privateKey: keys.privateKey });
    const before = Date.now();
    const issued = await ca.enrolFromCsr(exportPem(csr), { uscc, name: '沈阳市民政局' });
    const window: [number, number] = [before, Date.now()];
    expect(issued.status).toBe('good');
    expect(issued.departmentUscc).toBe(uscc);
    expect(issued.revokedAt).toBeNull();
    expect(issued.revocationReason).toBeNull();
    const cert = await checkIssued(issued.pem, uscc, '沈阳市民政局', window);
    expect(Buffer.from(cert.publicKey.rawData)).toEqual(spki(keys.publicKey));
    expect(issued.serial).toBe(normaliseSerial(cert.serialNumber));
    expect(issued.fingerprintSm3).toBe(sm3(exportDer(cert)).toString('hex'));
    expect(issued.notAfter.getTime()).toBe(cert.notAfter.getTime());
    expect(await ca.status(issued.serial.toLowerCase())).toMatchObject({ serial: issued.serial, status: 'good' });
    expect((await ca.listForDepartment(uscc)).map((c) => c.serial)).toEqual([issued.serial]);
    // DER input works as well; a lower-case USCC is normalised.
    const again = await ca.enrolFromCsr(exportDer(csr), { uscc: uscc.toLowerCase(), name: '沈阳市民政局' });
    expect(again.departmentUscc).toBe(uscc);
    expect(again.serial).not.toBe(issued.serial);
  });

  it('enrols from a CSR made by the OpenSSL command line (-sm3 -sigopt distid)', async () => {
    const uscc = randomUscc();
    const before = Date.now();
    const issued = await ca.enrolFromCsr(readFileSync(join(work, 'sm2.csr'), 'utf8'), { uscc, name: '沈阳市市场监督管理局' });
    const window: [number, number] = [before, Date.now()];
    const cert = await checkIssued(issued.pem, uscc, '沈阳市市场监督管理局', window);
    const theirs = openssl(['pkey', '-in', 'sm2.key', '-pubout', '-outform', 'DER'], work);
    expect(theirs.status).toBe(0);
    expect(exportPem(cert)).toBe(issued.pem);
    const pub = openssl(['x509', '-in', `leaf-${cert.serialNumber}.pem`, '-noout', '-pubkey'], work).stdout;
    expect(pub).toBe(openssl(['pkey', '-in', 'sm2.key', '-pubout'], work).stdout);
    expect(cert.subject).not.toContain('requested by openssl');
  });

  it('refuses an invalid USCC (ZT_ERR_ID_INVALID_USCC) and a bad name, issuing nothing', async () => {
    const csr = exportPem(await createCsr({ subject: { commonName: 'x' }, privateKey: generateSm2KeyPair().privateKey }));
    const valid = randomUscc();
    const wrongCheck = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    for (const uscc of [wrongCheck, '12345', '', 'ABCDEFGHJKLMNPQRTU']) {
      expect(await rejectionCode(ca.enrolFromCsr(csr, { uscc, name: '某局' })), uscc).toBe('ZT_ERR_ID_INVALID_USCC');
    }
    expect(await rejectionCode(ca.enrolFromCsr(csr, { uscc: valid, name: '   ' }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(await rejectionCode(ca.enrolFromCsr(csr, { uscc: valid, name: '局'.repeat(65) }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(await ca.listForDepartment(valid)).toEqual([]);
  });

  it('refuses a tampered CSR, a P-256 CSR and garbage with ZT_ERR_CSR_INVALID', async () => {
    const csr = await createCsr({ subject: { commonName: 'x' }, privateKey: generateSm2KeyPair().privateKey });
    const uscc = randomUscc();
    expect(await rejectionCode(ca.enrolFromCsr(withFlippedSignatureBit(exportDer(csr)), { uscc, name: '某局' }))).toBe('ZT_ERR_CSR_INVALID');
    // A byte of the subject changed: the signature no longer covers it.
    const der = exportDer(csr);
    const at = der.indexOf(Buffer.from('x'));
    const tampered = Buffer.from(der);
    tampered[at] = 'y'.charCodeAt(0);
    expect(await rejectionCode(ca.enrolFromCsr(tampered, { uscc, name: '某局' }))).toBe('ZT_ERR_CSR_INVALID');
    expect(await rejectionCode(ca.enrolFromCsr(readFileSync(join(work, 'p256.csr'), 'utf8'), { uscc, name: '某局' }))).toBe('ZT_ERR_CSR_INVALID');
    expect(await rejectionCode(ca.enrolFromCsr('not a request', { uscc, name: '某局' }))).toBe('ZT_ERR_CSR_INVALID');
    expect(await ca.listForDepartment(uscc)).toEqual([]);
  });

  it('enrolWithGeneratedKey returns a PKCS#8 PEM key that belongs to the certificate', async () => {
    const uscc = randomUscc();
    const before = Date.now();
    const { certificate, privateKeyPem } = await ca.enrolWithGeneratedKey({ uscc, name: '沈阳市公安局' });
    const window: [number, number] = [before, Date.now()];
    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const cert = await checkIssued(certificate.pem, uscc, '沈阳市公安局', window);
    const key = loadSm2PrivateKey(privateKeyPem);
    expect(spki(key)).toEqual(Buffer.from(cert.publicKey.rawData));
    const message = Buffer.from('政务数据共享');
    const publicKey = createPublicKey(certificate.pem);
    expect(sm2Verify(publicKey, message, sm2Sign(key, message))).toBe(true);
    // OpenSSL reads the key as PKCS#8 and agrees it is the certificate's.
    writeFiles(work, { 'generated.key': privateKeyPem });
    expect(openssl(['pkey', '-in', 'generated.key', '-pubout'], work).stdout).toBe(openssl(['x509', '-in', `leaf-${cert.serialNumber}.pem`, '-noout', '-pubkey'], work).stdout);
  });

  it('clamps the validity to the issuing CA’s notAfter', async () => {
    const long = new PlatformCa({ db, material: caDir.material, certificateDays: 3650 * 3, publicUrl: TEST_PUBLIC_URL });
    const { certificate } = await long.enrolWithGeneratedKey({ uscc: randomUscc(), name: '长期局' });
    expect(certificate.notAfter.getTime()).toBe(ca.issuing.notAfter.getTime());
    await expect(validateChain({ certificate: certificate.pem, intermediates: [ca.issuing], trustAnchors: [ca.root], crls: await crls() })).resolves.toMatchObject({ ok: true });
  });

  describe('revocation and CRLs', () => {
    it('revokes: status revoked with its reason, an outbox event, idempotent, and a re-signed CRL listing it', async () => {
      const { certificate: victim } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '被吊销局' });
      const { certificate: bystander } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '无关局' });
      const before = await ca.crl();
      expect(before.crl.findRevoked(victim.serial)).toBeNull();
      expect(await ca.crl()).toBe(before); // cached while nothing changes
      await db.exec('DELETE FROM zt_outbox');
      const writes = outboxWrites;

      const revoked = await ca.revoke(victim.serial, 'keyCompromise');
      expect(revoked.status).toBe('revoked');
      expect(revoked.revocationReason).toBe('keyCompromise');
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      expect(Math.abs(revoked.revokedAt!.getTime() - Date.now())).toBeLessThan(60_000);
      expect(outboxWrites).toBe(writes + 1);
      expect(await ca.status(victim.serial)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });

      const { rows } = await db.query<{ topic: string; event_key: string; value: Buffer; headers: Record<string, string> }>(
        'SELECT topic, event_key, value, headers FROM zt_outbox ORDER BY id',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.topic).toBe(CERTIFICATE_EVENTS_TOPIC);
      expect(CERTIFICATE_EVENTS_TOPIC).toBe('certs.revocations');
      expect(rows[0]!.event_key).toBe(victim.serial);
      expect(rows[0]!.headers).toMatchObject({ 'zt-event-type': 'certificate.revoked' });
      expect(JSON.parse(rows[0]!.value.toString('utf8'))).toMatchObject({
        type: 'certificate.revoked',
        serial: victim.serial,
        fingerprintSm3: victim.fingerprintSm3,
        reason: 'keyCompromise',
      });

      // Twice: the same answer, no second event; another reason does not overwrite the first.
      const again = await ca.revoke(victim.serial, 'keyCompromise');
      expect(again).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
      expect(again.revokedAt?.getTime()).toBe(revoked.revokedAt!.getTime());
      expect((await ca.revoke(victim.serial.toLowerCase(), 'superseded')).revocationReason).toBe('keyCompromise');
      expect((await db.query('SELECT 1 FROM zt_outbox')).rows).toHaveLength(1);
      expect(outboxWrites).toBe(writes + 1);

      // The CRL was re-signed with a higher number and lists the serial with its reason.
      const after = await ca.crl();
      expect(after).not.toBe(before);
      expect(after.crlNumber).toBeGreaterThan(before.crlNumber);
      expect(readCrlNumber(after.crl)).toBe(after.crlNumber);
      await verifyCrl(after.crl, ca.issuing);
      const entry = after.crl.findRevoked(victim.serial);
      expect(entry).not.toBeNull();
      expect(entry!.reason).toBe(x509.X509CrlReason.keyCompromise);
      expect(after.crl.findRevoked(bystander.serial)).toBeNull();
      expect(after.nextUpdate.getTime()).toBeGreaterThan(Date.now());
      expect(after.pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
      expect(Buffer.from(after.crl.rawData)).toEqual(after.der);

      writeFiles(work, { 'crl.der': after.der, 'crl.pem': after.pem });
      const text = openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-noout', '-text'], work);
      expect(text.status).toBe(0);
      expect(text.stdout).toContain('Signature Algorithm: SM2-with-SM3');
      expect(text.stdout).toMatch(new RegExp(`X509v3 CRL Number:\\s+${after.crlNumber}\\b`));
      expect(text.stdout).toContain(`Serial Number: ${victim.serial}`);
      expect(text.stdout).toMatch(/Reason Code:\s+Key Compromise/);
      expect(openssl(['crl', '-in', 'crl.pem', '-noout', '-text'], work).status).toBe(0);

      // The revoked certificate no longer validates with the CRLs; the other one still does.
      const error = await validateChain({ certificate: victim.pem, intermediates: [ca.issuing], trustAnchors: [ca.root], crls: await crls() }).catch((e: unknown) => e);
      expect(isZtError(error) && error.code).toBe('ZT_ERR_CERT_REVOKED');
      expect(isZtError(error) && error.details).toMatchObject({ reason: 'keyCompromise' });
      await expect(validateChain({ certificate: bystander.pem, intermediates: [ca.issuing], trustAnchors: [ca.root], crls: await crls() })).resolves.toMatchObject({ ok: true });

      // A root CRL exists (signed by the root, listing no issuing CA).
      const rootCrl = await ca.rootCrl();
      await verifyCrl(rootCrl.crl, ca.root);
      expect(rootCrl.crl.entries).toHaveLength(0);
    });

    it('every revocation re-signs the CRL with a new number; invalidateCrl forces a rebuild', async () => {
      const first = await ca.crl();
      const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '再吊销局' });
      await ca.revoke(certificate.serial, 'cessationOfOperation');
      const second = await ca.crl();
      expect(second.crlNumber).toBe(first.crlNumber + 1n);
      expect(second.crl.findRevoked(certificate.serial)?.reason).toBe(x509.X509CrlReason.cessationOfOperation);
      ca.invalidateCrl();
      const third = await ca.crl();
      expect(third.crlNumber).toBe(second.crlNumber + 1n);
      expect(third.crl.entries.length).toBe(second.crl.entries.length);
    });

    it('an unknown serial is ZT_ERR_CERT_NOT_FOUND; a bad reason or a malformed serial ZT_ERR_REQUEST_INVALID', async () => {
      const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '未吊销局' });
      expect(await rejectionCode(ca.revoke('0123456789ABCDEF', 'keyCompromise'))).toBe('ZT_ERR_CERT_NOT_FOUND');
      expect(await rejectionCode(ca.status('0123456789ABCDEF'))).toBe('ZT_ERR_CERT_NOT_FOUND');
      expect(await rejectionCode(ca.revoke(certificate.serial, 'becauseISaidSo' as never))).toBe('ZT_ERR_REQUEST_INVALID');
      expect(await rejectionCode(ca.revoke(certificate.serial, 'removeFromCRL' as never))).toBe('ZT_ERR_REQUEST_INVALID');
      for (const serial of ['not-hex', '', 'G1', '1'.repeat(41), "'; DROP TABLE issued_certificates; --"]) {
        expect(await rejectionCode(ca.revoke(serial, 'keyCompromise')), serial).toBe('ZT_ERR_REQUEST_INVALID');
      }
      expect((await ca.status(certificate.serial)).status).toBe('good');
      // Serials are accepted with colons, 0x or leading zeros.
      const colons = certificate.serial.match(/../g)!.join(':').toLowerCase();
      expect((await ca.status(colons)).serial).toBe(certificate.serial);
      expect((await ca.status(`0x00${certificate.serial}`)).serial).toBe(certificate.serial);
    });
  });
});
