import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair, loadSm2PrivateKey } from '../sm2/sm2.js';
import { createCertificate, createCsr, exportDer, exportPem, parseCsr, readDistinguishedName, readUscc, validateChain, x509 } from './index.js';
import { DEPARTMENT_USCC, makeTestPki, openssl, OPENSSL_DISTID as DISTID, tempDir, withFlippedSignatureBit, writeFiles, type TestPki } from './test-pki.js';

async function csrCode(input: Parameters<typeof parseCsr>[0]): Promise<string | undefined> {
  try {
    await parseCsr(input);
  } catch (error) {
    return isZtError(error) ? error.code : `not a ZtError: ${String(error)}`;
  }
  return undefined;
}

let pki: TestPki;
let dir: string;

beforeAll(async () => {
  pki = await makeTestPki();
  dir = tempDir();
  const run = (args: string[]) => {
    const result = openssl(args, dir);
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
  };
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'k.pem']);
  const subj = '/C=CN/ST=Liaoning/O=Shenyang Civil Affairs Bureau/CN=minzheng-gateway/serialNumber=11100000000013338W';
  run(['req', '-new', '-key', 'k.pem', '-subj', subj, '-sm3', '-sigopt', DISTID, '-out', 'openssl.csr']);
  // The same request signed with OpenSSL's default, empty, ID: not a standard SM2 signature.
  run(['req', '-new', '-key', 'k.pem', '-subj', subj, '-sm3', '-out', 'empty-id.csr']);
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'p256.pem']);
  run(['req', '-new', '-key', 'p256.pem', '-subj', '/CN=p256', '-sha256', '-out', 'p256.csr']);
});

describe('certificate requests made by OpenSSL', () => {
  it('parses an SM2 request (-sm3 -sigopt distid) and verifies its signature here', async () => {
    const csr = await parseCsr(readFileSync(join(dir, 'openssl.csr'), 'utf8'));
    expect(csr.signatureAlgorithm).toMatchObject({ name: 'SM2', hash: { name: 'SM3' } });
    expect(readDistinguishedName(csr.subjectName)).toMatchObject({ country: 'CN', organisation: 'Shenyang Civil Affairs Bureau', commonName: 'minzheng-gateway', serialNumber: '11100000000013338W' });
    expect(readUscc(csr)).toBe('11100000000013338W');
  });

  it('refuses the request signed with the empty ID, a P-256 request, and a flipped bit', async () => {
    await expect(parseCsr(readFileSync(join(dir, 'empty-id.csr')))).rejects.toMatchObject({ code: 'ZT_ERR_CSR_INVALID', message: expect.stringContaining('does not verify') });
    await expect(parseCsr(readFileSync(join(dir, 'p256.csr'), 'utf8'))).rejects.toMatchObject({ code: 'ZT_ERR_CSR_INVALID', message: expect.stringContaining('not SM2-with-SM3') });
    const der = exportDer(await parseCsr(readFileSync(join(dir, 'openssl.csr'), 'utf8')));
    expect(await csrCode(withFlippedSignatureBit(der))).toBe('ZT_ERR_CSR_INVALID');
  });

  it('issues a certificate from it that validates here and whose key OpenSSL holds', async () => {
    const csr = await parseCsr(readFileSync(join(dir, 'openssl.csr'), 'utf8'));
    const cert = await createCertificate({
      subject: csr.subjectName,
      publicKey: csr.publicKey,
      issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey },
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + 86_400_000),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
      extensions: csr.extensions,
    });
    expect(cert.subject).toBe(csr.subject);
    await expect(validateChain({ certificate: cert, intermediates: [pki.issuing], trustAnchors: [pki.root], at: pki.now })).resolves.toMatchObject({ ok: true });
    writeFiles(dir, { 'issued.pem': exportPem(cert) });
    expect(openssl(['x509', '-in', 'issued.pem', '-noout', '-pubkey'], dir).stdout).toBe(openssl(['pkey', '-in', 'k.pem', '-pubout'], dir).stdout);
  });
});

describe('certificate requests made here', () => {
  it('verify in openssl req -verify -vfyopt distid:1234567812345678, and not with the empty ID', async () => {
    const keys = generateSm2KeyPair();
    const csr = await createCsr({
      subject: { country: 'CN', organisation: '沈阳市民政局', commonName: '民政局 婚姻登记 数据共享', serialNumber: DEPARTMENT_USCC },
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      organisationIdentifiers: { uscc: DEPARTMENT_USCC },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'mz.gateway.example.gov.cn' }])],
    });
    writeFiles(dir, { 'ours.csr': exportPem(csr) });
    const ok = openssl(['req', '-in', 'ours.csr', '-noout', '-verify', '-vfyopt', DISTID], dir);
    expect(ok.status).toBe(0);
    expect(ok.stdout + ok.stderr).toContain('self-signature verify OK');
    const emptyId = openssl(['req', '-in', 'ours.csr', '-noout', '-verify'], dir);
    expect(emptyId.stdout + emptyId.stderr).toContain('verify failure');
    const text = openssl(['req', '-in', 'ours.csr', '-noout', '-text'], dir).stdout;
    expect(text).toContain('Signature Algorithm: SM2-with-SM3');
    expect(text).toContain('Requested Extensions');
    expect(text).toContain('DNS:mz.gateway.example.gov.cn');
    expect(text).toContain('1.2.156.10260.4.1.3');

    const parsed = await parseCsr(exportPem(csr));
    expect(readUscc(parsed)).toBe(DEPARTMENT_USCC);
  });

  it('uses a key made by OpenSSL, loaded with loadSm2PrivateKey', async () => {
    const key = loadSm2PrivateKey(readFileSync(join(dir, 'k.pem'), 'utf8'));
    const csr = await createCsr({ subject: { commonName: 'openssl key' }, privateKey: key });
    writeFiles(dir, { 'ours-openssl-key.csr': exportPem(csr) });
    expect(openssl(['req', '-in', 'ours-openssl-key.csr', '-noout', '-verify', '-vfyopt', DISTID], dir).status).toBe(0);
  });

  it('refuses a public key that is not the private key’s, and a private key that is not SM2', async () => {
    const a = generateSm2KeyPair();
    const b = generateSm2KeyPair();
    await expect(createCsr({ subject: { commonName: 'x' }, privateKey: a.privateKey, publicKey: b.publicKey })).rejects.toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID' });
    // createPrivateKey directly: loadSm2PrivateKey would already refuse the P-256 key.
    const p256 = createPrivateKey(readFileSync(join(dir, 'p256.pem'), 'utf8'));
    await expect(createCsr({ subject: { commonName: 'x' }, privateKey: p256 })).rejects.toMatchObject({ code: 'ZT_ERR_KEY_NOT_SM2' });
  });

  it('ZT_ERR_CSR_INVALID for garbage and for a certificate given as a request', async () => {
    for (const input of ['', 'garbage', Buffer.from([0x30, 0x00]), exportPem(pki.leaf), exportPem(pki.leaf).replace(/CERTIFICATE/g, 'CERTIFICATE REQUEST')]) {
      expect(await csrCode(input)).toBe('ZT_ERR_CSR_INVALID');
    }
  });
});
