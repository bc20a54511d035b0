// The platform CA's key material on disk: a root CA and an issuing CA, each a PKCS#8 PEM private key (mode 0600,
// optionally encrypted with a passphrase) and a PEM certificate. Only `zhengtong ca init` writes these files.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair, loadSm2PrivateKey, type KeyObject } from '../sm2/sm2.js';
import { createCertificate, exportPem, parseCertificate, type CaSigner, type DistinguishedName } from '../x509/index.js';

export const CA_FILES = {
  rootKey: 'root-ca.key.pem',
  rootCertificate: 'root-ca.cert.pem',
  issuingKey: 'issuing-ca.key.pem',
  issuingCertificate: 'issuing-ca.cert.pem',
} as const;

export interface PlatformCaMaterial {
  root: CaSigner;
  issuing: CaSigner;
  dir: string;
}

export interface InitCaOptions {
  dir: string;
  /** Encrypts both private keys (PKCS#8, AES-256-CBC) when given. */
  passphrase?: string;
  /** Organisation that runs the platform, e.g. 沈阳市大数据管理局. */
  organisation: string;
  province?: string;
  locality?: string;
  /** Base URL under which the CRLs are published. */
  publicUrl: string;
  now?: Date;
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000;

function writeKey(path: string, key: KeyObject, passphrase: string | undefined): void {
  const pem = passphrase
    ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    : key.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
}

/** Creates the root and issuing CA keys and certificates; refuses if the directory already holds a CA. */
export async function initPlatformCa(options: InitCaOptions): Promise<PlatformCaMaterial> {
  const dir = resolve(options.dir);
  if (Object.values(CA_FILES).some((f) => existsSync(join(dir, f)))) {
    throw new ZtError('ZT_ERR_CA_EXISTS', `${dir} already holds a platform CA; move it away first to create a new one`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000); // tolerate small clock differences between instances
  const base: Omit<DistinguishedName, 'commonName'> = {
    country: 'CN',
    ...(options.province ? { province: options.province } : {}),
    ...(options.locality ? { locality: options.locality } : {}),
    organisation: options.organisation,
  };

  const rootKeys = generateSm2KeyPair();
  const rootCertificate = await createCertificate({
    issuer: 'self',
    privateKey: rootKeys.privateKey,
    publicKey: rootKeys.publicKey,
    subject: { ...base, commonName: `${options.organisation} 政务数据共享根CA` },
    notBefore,
    notAfter: new Date(notBefore.getTime() + 20 * YEAR_MS),
    keyUsage: ['keyCertSign', 'cRLSign'],
    basicConstraints: { ca: true, pathLength: 1 },
  });
  const root: CaSigner = { certificate: rootCertificate, privateKey: rootKeys.privateKey };

  const issuingKeys = generateSm2KeyPair();
  const issuingCertificate = await createCertificate({
    issuer: root,
    publicKey: issuingKeys.publicKey,
    subject: { ...base, commonName: `${options.organisation} 政务数据共享签发CA` },
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * YEAR_MS),
    keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    basicConstraints: { ca: true, pathLength: 0 },
    crlDistributionPoints: [`${options.publicUrl.replace(/\/$/, '')}/v1/ca/root.crl`],
  });
  const issuing: CaSigner = { certificate: issuingCertificate, privateKey: issuingKeys.privateKey };

  writeKey(join(dir, CA_FILES.rootKey), root.privateKey, options.passphrase);
  writeFileSync(join(dir, CA_FILES.rootCertificate), exportPem(rootCertificate), { mode: 0o644, flag: 'wx' });
  writeKey(join(dir, CA_FILES.issuingKey), issuing.privateKey, options.passphrase);
  writeFileSync(join(dir, CA_FILES.issuingCertificate), exportPem(issuingCertificate), { mode: 0o644, flag: 'wx' });
  return { root, issuing, dir };
}

export function platformCaExists(dir: string): boolean {
  return Object.values(CA_FILES).every((f) => existsSync(join(resolve(dir), f)));
}

/** Loads the CA; ZT_ERR_CA_NOT_INITIALISED when the files are missing, ZT_ERR_KEY_PASSPHRASE for a wrong passphrase. */
export function loadPlatformCa(dir: string, passphrase?: string): PlatformCaMaterial {
  const abs = resolve(dir);
  if (!platformCaExists(abs)) {
    throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${abs}; create one with \`zhengtong ca init\` or set ZT_CA_DIR`);
  }
  for (const f of [CA_FILES.rootKey, CA_FILES.issuingKey]) {
    const mode = statSync(join(abs, f)).mode & 0o777;
    if (mode & 0o077) throw new ZtError('ZT_ERR_CONFIG_INVALID', `${join(abs, f)} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const read = (f: string) => readFileSync(join(abs, f), 'utf8');
  return {
    dir: abs,
    root: { certificate: parseCertificate(read(CA_FILES.rootCertificate)), privateKey: loadSm2PrivateKey(read(CA_FILES.rootKey), passphrase) },
    issuing: { certificate: parseCertificate(read(CA_FILES.issuingCertificate)), privateKey: loadSm2PrivateKey(read(CA_FILES.issuingKey), passphrase) },
  };
}
