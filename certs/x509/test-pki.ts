// Test support for certs/x509 (not part of the public API): a three-level SM2 PKI made through the API, and OpenSSL
// run as an independent implementation.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair, type Sm2KeyPair } from '../sm2/sm2.js';
import { createCertificate, EXTENDED_KEY_USAGE } from './certificate.js';
import type { x509 } from './x509-lib.js';

export const DEPARTMENT_USCC = '9144030071526726XG';
const DAY = 86_400_000;

export interface TestPki {
  /** The time the PKI was made; every certificate is valid then. */
  now: Date;
  rootKeys: Sm2KeyPair;
  issuingKeys: Sm2KeyPair;
  leafKeys: Sm2KeyPair;
  root: x509.X509Certificate;
  issuing: x509.X509Certificate;
  leaf: x509.X509Certificate;
  /** A second end-entity certificate from the same issuing CA. */
  otherLeaf: x509.X509Certificate;
}

/** Root (self-signed, 10 years) → issuing CA (5 years) → two end-entity certificates (1 year, from an hour ago). */
export async function makeTestPki(now = new Date()): Promise<TestPki> {
  const rootKeys = generateSm2KeyPair();
  const issuingKeys = generateSm2KeyPair();
  const leafKeys = generateSm2KeyPair();
  const ca = { keyUsage: ['keyCertSign', 'cRLSign'] as const };
  const root = await createCertificate({
    subject: { country: 'CN', organisation: '沈阳市大数据管理局', commonName: '政通 Test Root CA' },
    issuer: 'self',
    privateKey: rootKeys.privateKey,
    publicKey: rootKeys.publicKey,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    keyUsage: ca.keyUsage,
    basicConstraints: { ca: true, pathLength: 1 },
  });
  const issuing = await createCertificate({
    subject: { country: 'CN', organisation: '沈阳市大数据管理局', commonName: '政通 Test Issuing CA' },
    issuer: { certificate: root, privateKey: rootKeys.privateKey },
    publicKey: issuingKeys.publicKey,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 1825 * DAY),
    keyUsage: ca.keyUsage,
    basicConstraints: { ca: true, pathLength: 0 },
  });
  const endEntity = (commonName: string, publicKey = leafKeys.publicKey) =>
    createCertificate({
      subject: { country: 'CN', province: '辽宁省', locality: '沈阳市', organisation: '沈阳市市场监督管理局', organisationalUnit: '数据共享', commonName, serialNumber: DEPARTMENT_USCC },
      issuer: { certificate: issuing, privateKey: issuingKeys.privateKey },
      publicKey,
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + 365 * DAY),
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      extendedKeyUsage: [EXTENDED_KEY_USAGE.clientAuth],
      basicConstraints: { ca: false },
      subjectAltName: { dns: ['scjg.gateway.example.gov.cn'] },
      crlDistributionPoints: ['http://pki.example.gov.cn/issuing.crl'],
      organisationIdentifiers: { uscc: DEPARTMENT_USCC },
    });
  const leaf = await endEntity('市场监管局 数据交换');
  const otherLeaf = await endEntity('市场监管局 证照签发', generateSm2KeyPair().publicKey);
  return { now, rootKeys, issuingKeys, leafKeys, root, issuing, leaf, otherLeaf };
}

export interface OpensslResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function openssl(args: readonly string[], cwd: string): OpensslResult {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'zt-x509-'));
}

export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

/** A copy of a signed object (certificate, request, CRL) with one bit of its signature value flipped. */
export function withFlippedSignatureBit(der: ArrayBuffer | Uint8Array): Buffer {
  const copy = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der);
  // The signature BIT STRING is the last field; its last byte is the low byte of s.
  copy[copy.length - 1]! ^= 0x01;
  return copy;
}

export const OPENSSL_DISTID = 'distid:1234567812345678';

/**
 * A three-level SM2 chain made by OpenSSL alone (r.pem → i.pem → l.pem, keys r/i/l.key), every signature with the
 * standard ID. Returns the directory.
 */
export function makeOpensslChain(): string {
  const dir = tempDir();
  const run = (args: string[]): void => {
    const result = openssl(args, dir);
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  };
  for (const k of ['r', 'i', 'l']) run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', `${k}.key`]);
  writeFiles(dir, { 'ext.cnf': '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[ee]\nkeyUsage=critical,digitalSignature\n' });
  const sign = ['-sm3', '-sigopt', OPENSSL_DISTID];
  run(['req', '-new', '-x509', '-key', 'r.key', '-subj', '/CN=OpenSSL root', ...sign, '-days', '2', '-out', 'r.pem']);
  run(['req', '-new', '-key', 'i.key', '-subj', '/CN=OpenSSL issuing', ...sign, '-out', 'i.csr']);
  run(['x509', '-req', '-in', 'i.csr', '-CA', 'r.pem', '-CAkey', 'r.key', '-set_serial', '2', ...sign, '-vfyopt', OPENSSL_DISTID, '-days', '1', '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', 'i.pem']);
  run(['req', '-new', '-key', 'l.key', '-subj', '/CN=OpenSSL leaf', ...sign, '-out', 'l.csr']);
  run(['x509', '-req', '-in', 'l.csr', '-CA', 'i.pem', '-CAkey', 'i.key', '-set_serial', '3', ...sign, '-vfyopt', OPENSSL_DISTID, '-days', '1', '-extfile', 'ext.cnf', '-extensions', 'ee', '-out', 'l.pem']);
  return dir;
}
