import { createHash, X509Certificate as NodeX509Certificate, generateKeyPairSync, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair } from '../sm2/sm2.js';
import {
  assertCertificateUsage,
  createCertificate,
  createCrl,
  exportDer,
  exportPem,
  organisationIdentifierExtensions,
  parseCertificate,
  readDistinguishedName,
  readOrganisationIdentifiers,
  readSubjectSerialNumber,
  readUscc,
  SM2_ALGORITHM,
  SM3_ALGORITHM,
  sm2WebCrypto,
  toSm2CryptoKey,
  validateChain,
  x509,
} from './index.js';
import { DEPARTMENT_USCC, makeOpensslChain, makeTestPki, openssl, OPENSSL_DISTID as DISTID, tempDir, withFlippedSignatureBit, writeFiles, type TestPki } from './test-pki.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isZtError(error) ? error.code : `not a ZtError: ${String(error)}`;
  }
  return undefined;
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isZtError(error) ? error.code : `not a ZtError: ${String(error)}`;
  }
  return undefined;
}

let pki: TestPki;
let dir: string;
let opensslDir: string;

beforeAll(async () => {
  pki = await makeTestPki();
  opensslDir = makeOpensslChain();
  dir = tempDir();
  writeFiles(dir, {
    'root.pem': exportPem(pki.root),
    'issuing.pem': exportPem(pki.issuing),
    'leaf.pem': exportPem(pki.leaf),
    'leaf-tampered.pem': `-----BEGIN CERTIFICATE-----\n${withFlippedSignatureBit(pki.leaf.rawData).toString('base64')}\n-----END CERTIFICATE-----\n`,
  });
});

describe('SM2 certificates checked by OpenSSL 3.0', () => {
  it('writes SM2-with-SM3 without parameters, an SM2 key and the requested fields (openssl x509 -text)', () => {
    const text = openssl(['x509', '-in', 'leaf.pem', '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus'], dir);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('Signature Algorithm: SM2-with-SM3');
    expect(text.stdout).toContain('ASN1 OID: SM2');
    expect(text.stdout).toContain('id-ecPublicKey');
    expect(text.stdout).toMatch(/Subject: .*C=CN.*ST=辽宁省.*L=沈阳市.*O=沈阳市市场监督管理局.*OU=数据共享.*CN=市场监管局 数据交换.*serialNumber=9144030071526726XG/);
    expect(text.stdout).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text.stdout).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text.stdout).toContain('TLS Web Client Authentication');
    expect(text.stdout).toContain('DNS:scjg.gateway.example.gov.cn');
    expect(text.stdout).toContain('URI:http://pki.example.gov.cn/issuing.crl');
    expect(text.stdout).toContain('X509v3 Subject Key Identifier');
    for (const oid of ['1.2.156.10260.4.1.3', '1.2.156.10260.4.1.4', '1.2.156.10260.4.1.5']) expect(text.stdout).toContain(oid);

    const ca = openssl(['x509', '-in', 'issuing.pem', '-noout', '-text'], dir);
    expect(ca.stdout).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(ca.stdout).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);

    // The AlgorithmIdentifier is the bare OID: SEQUENCE { OID 1.2.156.10197.1.501 }, 30 0a 06 08 2a811ccf55018375.
    const der = Buffer.from(exportDer(pki.leaf));
    const bareSm2WithSm3 = Buffer.from('300a06082a811ccf55018375', 'hex');
    expect(der.indexOf(bareSm2WithSm3)).toBeGreaterThan(0);
    expect(der.lastIndexOf(bareSm2WithSm3)).toBeGreaterThan(der.indexOf(bareSm2WithSm3)); // in TBS and outside
  });

  it('AKI of each certificate is the SKI of its issuer', () => {
    const ski = (c: x509.X509Certificate) => c.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    const aki = (c: x509.X509Certificate) => c.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId;
    expect(aki(pki.leaf)).toBe(ski(pki.issuing));
    expect(aki(pki.issuing)).toBe(ski(pki.root));
    expect(aki(pki.root)).toBe(ski(pki.root));
  });

  it('SKI is RFC 7093 §2 method 4 with SM3: the SM3 of the DER SubjectPublicKeyInfo, as Node and OpenSSL compute it', () => {
    const ski = (c: x509.X509Certificate) => c.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    for (const [name, cert] of [['root', pki.root], ['issuing', pki.issuing], ['leaf', pki.leaf]] as const) {
      // Node's own reading of the certificate, hashed with Node's SM3.
      const spki = new NodeX509Certificate(Buffer.from(cert.rawData)).publicKey.export({ type: 'spki', format: 'der' });
      expect(ski(cert)).toBe(createHash('sm3').update(spki).digest('hex'));
      expect(ski(cert)).toHaveLength(64); // the whole 256-bit hash, not cut to 160 bits
      // Not RFC 5280's SHA-1 of the subjectPublicKey bits any more.
      expect(ski(cert)).not.toBe(createHash('sha1').update(spki.subarray(spki.length - 65)).digest('hex'));
      // OpenSSL alone: the key taken out of the certificate, DER-encoded, hashed; and the extension as it prints it.
      writeFiles(dir, { [`${name}.pem`]: exportPem(cert) });
      expect(openssl(['x509', '-in', `${name}.pem`, '-noout', '-pubkey', '-out', `${name}.pub.pem`], dir).status).toBe(0);
      expect(openssl(['pkey', '-pubin', '-in', `${name}.pub.pem`, '-outform', 'DER', '-out', `${name}.pub.der`], dir).status).toBe(0);
      const digest = openssl(['dgst', '-sm3', '-r', `${name}.pub.der`], dir).stdout.split(' ')[0];
      const printed = openssl(['x509', '-in', `${name}.pem`, '-noout', '-ext', 'subjectKeyIdentifier'], dir).stdout;
      expect(printed.split('\n')[1]!.trim().replace(/:/g, '').toLowerCase()).toBe(digest);
      expect(digest).toBe(ski(cert));
    }
  });

  it('every link verifies in openssl verify with -vfyopt distid:1234567812345678', () => {
    const issuing = openssl(['verify', '-CAfile', 'root.pem', '-vfyopt', DISTID, 'issuing.pem'], dir);
    expect(issuing.stdout.trim()).toBe('issuing.pem: OK');
    // -partial_chain: the issuing CA is the trust anchor, so only the leaf's signature is checked.
    const leaf = openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', '-vfyopt', DISTID, 'leaf.pem'], dir);
    expect(leaf.stdout.trim()).toBe('leaf.pem: OK');
  });

  it('signs with the standard ID: OpenSSL with its default (empty) ID rejects the signature', () => {
    const leaf = openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', 'leaf.pem'], dir);
    expect(leaf.status).not.toBe(0);
    expect(leaf.stdout + leaf.stderr).toContain('certificate signature failure');
  });

  it('the full chain command behaves exactly as it does for a chain made by OpenSSL itself', () => {
    // OpenSSL 3.0's `verify -vfyopt` sets the ID on the target certificate only; an -untrusted intermediate is
    // checked with the empty ID. So the three-level command fails at depth 1 for OpenSSL's own standard chain too:
    // what matters is that ours gives the same answer.
    const ours = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'issuing.pem', '-vfyopt', DISTID, 'leaf.pem'], dir);
    const theirs = openssl(['verify', '-CAfile', 'r.pem', '-untrusted', 'i.pem', '-vfyopt', DISTID, 'l.pem'], opensslDir);
    expect(ours.status === 0).toBe(theirs.status === 0);
    const firstError = (out: string) => /error \d+ at \d+ depth lookup: [^\n]+/.exec(out)?.[0];
    expect(firstError(ours.stdout + ours.stderr)).toBe(firstError(theirs.stdout + theirs.stderr));
  });

  it('openssl verify fails when one bit of the signature is flipped', () => {
    const tampered = openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', '-vfyopt', DISTID, 'leaf-tampered.pem'], dir);
    expect(tampered.status).not.toBe(0);
    expect(tampered.stdout + tampered.stderr).toContain('certificate signature failure');
  });

  it('a chain made by OpenSSL validates here (pkijs with the SM2 engine), and fails with a flipped bit', async () => {
    const read = (name: string) => readFileSync(join(opensslDir, name), 'utf8');
    const result = await validateChain({ certificate: read('l.pem'), intermediates: [read('i.pem')], trustAnchors: [read('r.pem')] });
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=OpenSSL leaf', 'CN=OpenSSL issuing', 'CN=OpenSSL root']);
    const tampered = withFlippedSignatureBit(exportDer(parseCertificate(read('l.pem'))));
    expect(await asyncCodeOf(validateChain({ certificate: tampered, intermediates: [read('i.pem')], trustAnchors: [read('r.pem')] }))).toBe('ZT_ERR_CERT_CHAIN_INVALID');
  });
});

describe('a CA made before SM3 key identifiers (its SKI is the SHA-1 of RFC 5280 §4.2.1.2 method 1)', () => {
  it('what it issues carries its SHA-1 SKI as AKI and an SM3 SKI of its own; the chain validates here and in OpenSSL', async () => {
    const DAY = 86_400_000;
    const rootKeys = generateSm2KeyPair();
    const rootSpki = rootKeys.publicKey.export({ type: 'spki', format: 'der' });
    const sha1Ski = createHash('sha1').update(rootSpki.subarray(rootSpki.length - 65)).digest('hex'); // 04 ‖ x ‖ y
    // Made the way the CA was made before, directly with the library: SKI and AKI are the SHA-1.
    const legacyRoot = await x509.X509CertificateGenerator.create(
      {
        serialNumber: '01',
        subject: 'C=CN, CN=政通 Legacy Root CA',
        issuer: 'C=CN, CN=政通 Legacy Root CA',
        notBefore: new Date(pki.now.getTime() - DAY),
        notAfter: new Date(pki.now.getTime() + 3650 * DAY),
        publicKey: toSm2CryptoKey(rootKeys.publicKey),
        signingKey: toSm2CryptoKey(rootKeys.privateKey),
        signingAlgorithm: { name: SM2_ALGORITHM, hash: SM3_ALGORITHM },
        extensions: [
          new x509.BasicConstraintsExtension(true, 1, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          new x509.SubjectKeyIdentifierExtension(sha1Ski, false),
          new x509.AuthorityKeyIdentifierExtension(sha1Ski, false),
        ],
      },
      sm2WebCrypto,
    );
    const issuingKeys = generateSm2KeyPair();
    const issuing = await createCertificate({
      subject: { country: 'CN', commonName: '政通 Issuing CA under the legacy root' },
      issuer: { certificate: legacyRoot, privateKey: rootKeys.privateKey },
      publicKey: issuingKeys.publicKey,
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + 1825 * DAY),
      keyUsage: ['keyCertSign', 'cRLSign'],
      basicConstraints: { ca: true, pathLength: 0 },
    });
    const leaf = await createCertificate({
      subject: { country: 'CN', commonName: 'leaf under the legacy root' },
      issuer: { certificate: issuing, privateKey: issuingKeys.privateKey },
      publicKey: pki.leafKeys.publicKey,
      notBefore: new Date(pki.now.getTime() - 3_600_000),
      notAfter: new Date(pki.now.getTime() + 365 * DAY),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
    });
    const ski = (c: x509.X509Certificate) => c.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    const aki = (c: x509.X509Certificate) => c.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId;
    const issuingSpki = issuingKeys.publicKey.export({ type: 'spki', format: 'der' });
    expect(aki(issuing)).toBe(sha1Ski);
    expect(ski(issuing)).toBe(createHash('sm3').update(issuingSpki).digest('hex'));
    expect(aki(leaf)).toBe(ski(issuing));
    // The legacy root's CRL names it by its SHA-1 SKI too.
    const crl = await createCrl({ issuer: { certificate: legacyRoot, privateKey: rootKeys.privateKey }, thisUpdate: pki.now, nextUpdate: new Date(pki.now.getTime() + DAY), crlNumber: 1, entries: [] });
    expect(crl.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(sha1Ski);

    const result = await validateChain({ certificate: leaf, intermediates: [issuing], trustAnchors: [legacyRoot], crls: [crl], revocation: 'best-effort', at: pki.now });
    expect(result.chain.map((c) => c.subject)).toEqual([leaf.subject, issuing.subject, legacyRoot.subject]);
    const legacyDir = tempDir();
    writeFiles(legacyDir, { 'root.pem': exportPem(legacyRoot), 'issuing.pem': exportPem(issuing), 'leaf.pem': exportPem(leaf) });
    expect(openssl(['verify', '-CAfile', 'root.pem', '-vfyopt', DISTID, 'issuing.pem'], legacyDir).stdout.trim()).toBe('issuing.pem: OK');
    expect(openssl(['verify', '-partial_chain', '-CAfile', 'issuing.pem', '-vfyopt', DISTID, 'leaf.pem'], legacyDir).stdout.trim()).toBe('leaf.pem: OK');
  });
});

describe('issuing rules', () => {
  it('refuses a non-CA issuer, a key that is not the issuer’s, a validity outside the issuer’s and a non-SM2 key', async () => {
    const keys = generateSm2KeyPair();
    const base = {
      subject: { commonName: 'x' },
      publicKey: keys.publicKey,
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + 86_400_000),
      keyUsage: ['digitalSignature'] as const,
      basicConstraints: { ca: false },
    };
    expect(await asyncCodeOf(createCertificate({ ...base, issuer: { certificate: pki.leaf, privateKey: pki.leafKeys.privateKey } }))).toBe('ZT_ERR_CERT_USAGE');
    expect(await asyncCodeOf(createCertificate({ ...base, issuer: { certificate: pki.issuing, privateKey: pki.rootKeys.privateKey } }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(
      await asyncCodeOf(createCertificate({ ...base, notAfter: new Date(pki.now.getTime() + 3000 * 86_400_000), issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey } })),
    ).toBe('ZT_ERR_REQUEST_INVALID');
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await asyncCodeOf(createCertificate({ ...base, publicKey: p256.publicKey, issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey } }))).toBe(
      'ZT_ERR_KEY_NOT_SM2',
    );
    // A CA certificate from an issuer with pathLength 0.
    expect(
      await asyncCodeOf(
        createCertificate({ ...base, keyUsage: ['keyCertSign'], basicConstraints: { ca: true }, issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey } }),
      ),
    ).toBe('ZT_ERR_CERT_USAGE');
    // keyCertSign without cA.
    expect(await asyncCodeOf(createCertificate({ ...base, keyUsage: ['keyCertSign'], issuer: 'self', privateKey: keys.privateKey }))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('assertCertificateUsage checks key usage and extended key usage', () => {
    expect(() => assertCertificateUsage(pki.leaf, { keyUsage: ['digitalSignature'], extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'] })).not.toThrow();
    expect(codeOf(() => assertCertificateUsage(pki.leaf, { keyUsage: ['keyCertSign'] }))).toBe('ZT_ERR_CERT_USAGE');
    expect(codeOf(() => assertCertificateUsage(pki.leaf, { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] }))).toBe('ZT_ERR_CERT_USAGE');
  });
});

describe('department identifiers (USCC 统一社会信用代码)', () => {
  it('reads back the subject serialNumber and the GM/T 0015 organisation extensions', () => {
    const parsed = parseCertificate(exportPem(pki.leaf));
    expect(readSubjectSerialNumber(parsed)).toBe(DEPARTMENT_USCC);
    expect(readOrganisationIdentifiers(parsed)).toEqual({ businessRegistrationNumber: DEPARTMENT_USCC, organisationCode: DEPARTMENT_USCC, taxNumber: DEPARTMENT_USCC });
    expect(readUscc(parsed)).toBe(DEPARTMENT_USCC);
    expect(readDistinguishedName(parsed.subjectName)).toEqual({
      country: 'CN',
      province: '辽宁省',
      locality: '沈阳市',
      organisation: '沈阳市市场监督管理局',
      organisationalUnit: '数据共享',
      commonName: '市场监管局 数据交换',
      serialNumber: DEPARTMENT_USCC,
    });
  });

  it('encodes each GM/T 0015 value as a PrintableString', () => {
    const [ext] = organisationIdentifierExtensions({ businessRegistrationNumber: DEPARTMENT_USCC });
    expect(ext!.type).toBe('1.2.156.10260.4.1.3');
    expect(Buffer.from(ext!.value).toString('hex')).toBe(`1312${Buffer.from(DEPARTMENT_USCC).toString('hex')}`);
  });

  it('refuses a USCC with a wrong check character, and a certificate naming two different USCCs', async () => {
    expect(codeOf(() => organisationIdentifierExtensions({ uscc: '9144030071526726XA' }))).toBe('ZT_ERR_ID_INVALID_USCC');
    const keys = generateSm2KeyPair();
    const cert = await createCertificate({
      subject: { commonName: 'two codes', serialNumber: '11100000000013338W' },
      issuer: 'self',
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + 86_400_000),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
      organisationIdentifiers: { uscc: DEPARTMENT_USCC },
    });
    expect(codeOf(() => readUscc(cert))).toBe('ZT_ERR_CERT_MALFORMED');
  });
});

describe('parseCertificate and PEM/DER', () => {
  it('reads PEM text, PEM bytes and DER, and writes them back identically', () => {
    const pem = exportPem(pki.leaf);
    const der = exportDer(pki.leaf);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    for (const input of [pem, Buffer.from(pem), der, new Uint8Array(der).buffer]) {
      expect(exportDer(parseCertificate(input)).equals(der)).toBe(true);
    }
    expect(exportPem(parseCertificate(der))).toBe(pem);
  });

  it('ZT_ERR_CERT_MALFORMED for garbage, truncation, trailing bytes, wrong labels and bad base64', () => {
    const der = exportDer(pki.leaf);
    const cases: Array<string | Uint8Array> = [
      '',
      'not a certificate',
      Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]),
      webcrypto.getRandomValues(new Uint8Array(300)),
      der.subarray(0, der.length - 10),
      Buffer.concat([der, Buffer.from([0])]),
      exportPem(pki.leaf).replace(/CERTIFICATE/g, 'PRIVATE KEY'),
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      `-----BEGIN CERTIFICATE-----\n${Buffer.from('hello').toString('base64')}\n-----END CERTIFICATE-----\n`,
    ];
    for (const input of cases) expect(codeOf(() => parseCertificate(input))).toBe('ZT_ERR_CERT_MALFORMED');
  });
});

describe('other algorithms keep working in @peculiar/x509 after the SM2 registration', () => {
  it('ECDSA P-256 certificates: created, verified, parsed, and validated by pkijs', async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=P-256 test',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date(pki.now.getTime() - 60_000),
      notAfter: new Date(pki.now.getTime() + 86_400_000),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
    });
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(cert.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(await cert.verify()).toBe(true); // the default provider, i.e. the SM2-aware one
    const reparsed = parseCertificate(exportPem(cert));
    expect(await reparsed.verify({ signatureOnly: true })).toBe(true);
    expect(await reparsed.verify({ signatureOnly: true, publicKey: pki.root })).toBe(false);
    const tampered = parseCertificate(withFlippedSignatureBit(cert.rawData));
    expect(await tampered.verify({ signatureOnly: true })).toBe(false);
    // pkijs: the SM2 engine hands ECDSA to the default engine. A P-256 leaf under the P-256 root validates.
    const leafKeys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const leaf = await x509.X509CertificateGenerator.create({
      subject: 'CN=P-256 leaf',
      issuer: cert.subjectName,
      publicKey: leafKeys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date(pki.now.getTime() - 30_000),
      notAfter: new Date(pki.now.getTime() + 3_600_000),
    });
    const result = await validateChain({ certificate: leaf, trustAnchors: [cert], at: pki.now });
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=P-256 leaf', 'CN=P-256 test']);
    expect(await asyncCodeOf(validateChain({ certificate: withFlippedSignatureBit(leaf.rawData), trustAnchors: [cert], at: pki.now }))).toBe('ZT_ERR_CERT_CHAIN_INVALID');
  });

  it('RSA PKCS#1 v1.5 with SHA-256 certificate issued and verified', async () => {
    const keys = (await webcrypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      false,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=RSA test', keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(await cert.verify({ signatureOnly: true })).toBe(true);
  });

  it('an SM2 chain still validates alongside (same process, same registries)', async () => {
    const result = await validateChain({ certificate: pki.leaf, intermediates: [pki.issuing], trustAnchors: [pki.root], at: pki.now });
    expect(result.chain).toHaveLength(3);
  });
});
