// The platform CA's key material on disk. The CA directory (ZT_CA_DIR) holds what `serve` needs and nothing more: the
// root certificate (the trust anchor), the root CA's CRL as last signed with the root key, and the issuing CA's key
// and certificate. The root CA's private key is written to a directory of its own (ZT_CA_ROOT_KEY_DIR, or
// `ca init --root-key-out`), to be taken offline: serve never reads it, and the few operations that need it (signing
// the root CRL) are given its path. Keys are PKCS#8 PEM, mode 0600, optionally encrypted with a passphrase. Only
// `zhengtong ca` writes these files.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZtError } from '../../core/errors/index.js';
import { replaceFile } from '../../core/files.js';
import { generateSm2KeyPair, loadSm2PrivateKey, type KeyObject } from '../sm2/sm2.js';
import { createCertificate, createCrl, exportPem, parseCertificate, parseCrl, verifyCrl, type CaSigner, type DistinguishedName, type x509 } from '../x509/index.js';

export const CA_FILES = {
  /** In the root key directory, never in the CA directory (a CA directory made before may still hold it: ignored). */
  rootKey: 'root-ca.key.pem',
  rootCertificate: 'root-ca.cert.pem',
  /** The root CA's CRL, signed with the root key by `ca init` and `ca crl --root --root-key`; served as it is. */
  rootCrl: 'root-ca.crl.pem',
  issuingKey: 'issuing-ca.key.pem',
  issuingCertificate: 'issuing-ca.cert.pem',
} as const;

/** The files serve needs in the CA directory (a directory made before the root CRL file has none until it is signed). */
const SERVING_FILES = [CA_FILES.rootCertificate, CA_FILES.issuingKey, CA_FILES.issuingCertificate] as const;

/** How long the root CRL that `ca init` signs (and, by default, `ca crl --root`) stays current. */
export const ROOT_CRL_DAYS = 365;

export interface PlatformCaMaterial {
  dir: string;
  /** The root CA: its certificate only. */
  root: { certificate: x509.X509Certificate };
  issuing: CaSigner;
  /** The root CA's CRL as it stands in the CA directory (checked against the root), read again when the file changes. */
  rootCrl(): Promise<x509.X509Crl | null>;
}

/** What `ca init` made: the material serve loads, and the root CA's signer, whose key is in `rootKeyPath`. */
export interface InitialisedPlatformCa extends PlatformCaMaterial {
  rootSigner: CaSigner;
  rootKeyPath: string;
}

export interface InitCaOptions {
  /** The CA directory that serve reads (ZT_CA_DIR). */
  dir: string;
  /** Where the root CA's private key goes: a directory apart from `dir`, created with mode 0700, to be taken offline. */
  rootKeyDir: string;
  /** Encrypts both private keys (PKCS#8, AES-256-CBC) when given. */
  passphrase?: string;
  /** Organisation that runs the platform, e.g. 沈阳市大数据管理局. */
  organisation: string;
  province?: string;
  locality?: string;
  /** Base URL under which the CRLs are published. */
  publicUrl: string;
  /** Lifetime of the first root CRL; ROOT_CRL_DAYS by default. */
  rootCrlDays?: number;
  now?: Date;
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

function writeKey(path: string, key: KeyObject, passphrase: string | undefined): void {
  const pem = passphrase
    ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    : key.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
}

/** Writes the root CRL into the CA directory in one step (a reader sees the old file or the new one, never half). */
export function writeRootCrl(dir: string, crl: x509.X509Crl): string {
  const path = join(resolve(dir), CA_FILES.rootCrl);
  replaceFile(path, exportPem(crl), 0o644);
  return path;
}

/**
 * Creates the root and issuing CA keys and certificates and the first root CRL; the root key goes to `rootKeyDir`,
 * the rest to `dir`. Refuses if either already holds a CA.
 */
export async function initPlatformCa(options: InitCaOptions): Promise<InitialisedPlatformCa> {
  const dir = resolve(options.dir);
  const rootKeyDir = resolve(options.rootKeyDir);
  if (rootKeyDir === dir) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `the root CA key must be kept apart from the CA directory that serve reads (${dir}); give another directory`);
  }
  if (Object.values(CA_FILES).some((f) => existsSync(join(dir, f)))) {
    throw new ZtError('ZT_ERR_CA_EXISTS', `${dir} already holds a platform CA; move it away first to create a new one`);
  }
  const rootKeyPath = join(rootKeyDir, CA_FILES.rootKey);
  if (existsSync(rootKeyPath)) throw new ZtError('ZT_ERR_CA_EXISTS', `${rootKeyPath} already holds a root CA key; move it away first to create a new CA`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(rootKeyDir, { recursive: true, mode: 0o700 });
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
  const rootSigner: CaSigner = { certificate: rootCertificate, privateKey: rootKeys.privateKey };

  const issuingKeys = generateSm2KeyPair();
  const issuingCertificate = await createCertificate({
    issuer: rootSigner,
    publicKey: issuingKeys.publicKey,
    subject: { ...base, commonName: `${options.organisation} 政务数据共享签发CA` },
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * YEAR_MS),
    keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    basicConstraints: { ca: true, pathLength: 0 },
    crlDistributionPoints: [`${options.publicUrl.replace(/\/$/, '')}/v1/ca/root.crl`],
  });
  const issuing: CaSigner = { certificate: issuingCertificate, privateKey: issuingKeys.privateKey };
  // The root CRL is signed now, while the root key is at hand: serve publishes it and checks the issuing CA with it.
  const rootCrl = await createCrl({
    issuer: rootSigner,
    thisUpdate: notBefore,
    nextUpdate: new Date(notBefore.getTime() + (options.rootCrlDays ?? ROOT_CRL_DAYS) * DAY_MS),
    crlNumber: 1,
    entries: [],
  });

  writeKey(rootKeyPath, rootKeys.privateKey, options.passphrase);
  writeFileSync(join(dir, CA_FILES.rootCertificate), exportPem(rootCertificate), { mode: 0o644, flag: 'wx' });
  writeKey(join(dir, CA_FILES.issuingKey), issuing.privateKey, options.passphrase);
  writeFileSync(join(dir, CA_FILES.issuingCertificate), exportPem(issuingCertificate), { mode: 0o644, flag: 'wx' });
  writeRootCrl(dir, rootCrl);
  return { dir, root: { certificate: rootCertificate }, issuing, rootCrl: rootCrlReader(dir, rootCertificate), rootSigner, rootKeyPath };
}

export function platformCaExists(dir: string): boolean {
  return SERVING_FILES.every((f) => existsSync(join(resolve(dir), f)));
}

/** True when a CA directory made before the root key was kept apart still holds it. */
export function rootKeyBesideIssuingKey(dir: string): boolean {
  return existsSync(join(resolve(dir), CA_FILES.rootKey));
}

/** Reads a root CA key given by path (the operations that need it take it explicitly); ZT_ERR_KEY_PASSPHRASE if wrong. */
export function loadRootCaKey(path: string, passphrase?: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read the root CA key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  return loadSm2PrivateKey(pem, passphrase);
}

function rootCrlReader(dir: string, root: x509.X509Certificate): () => Promise<x509.X509Crl | null> {
  const path = join(dir, CA_FILES.rootCrl);
  let cached: { ino: number; mtimeMs: number; size: number; crl: Promise<x509.X509Crl> } | null = null;
  return async () => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return null;
    }
    if (!cached || cached.ino !== stat.ino || cached.mtimeMs !== stat.mtimeMs || cached.size !== stat.size) {
      const crl = parseCrl(readFileSync(path));
      // A file that the root did not sign would make every chain fail: say so here, naming the file.
      const checked = verifyCrl(crl, root).then(
        () => crl,
        (error: unknown) => {
          throw new ZtError('ZT_ERR_CRL_MALFORMED', `${path} is not a CRL signed by the root CA ${root.subject}`, { cause: error });
        },
      );
      cached = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, crl: checked };
    }
    return cached.crl;
  };
}

/**
 * Loads what serve needs: the root certificate, the issuing CA's key and certificate, and the root CRL (read when
 * asked for). The root CA's key is neither read nor required, even when a directory made before still holds it.
 * ZT_ERR_CA_NOT_INITIALISED when files are missing, ZT_ERR_KEY_PASSPHRASE for a wrong passphrase.
 */
export function loadPlatformCa(dir: string, passphrase?: string): PlatformCaMaterial {
  const abs = resolve(dir);
  if (!platformCaExists(abs)) {
    throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${abs}; create one with \`zhengtong ca init\` or set ZT_CA_DIR`);
  }
  const issuingKey = join(abs, CA_FILES.issuingKey);
  const mode = statSync(issuingKey).mode & 0o777;
  if (mode & 0o077) throw new ZtError('ZT_ERR_CONFIG_INVALID', `${issuingKey} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  const read = (f: string) => readFileSync(join(abs, f), 'utf8');
  const rootCertificate = parseCertificate(read(CA_FILES.rootCertificate));
  return {
    dir: abs,
    root: { certificate: rootCertificate },
    issuing: { certificate: parseCertificate(read(CA_FILES.issuingCertificate)), privateKey: loadSm2PrivateKey(read(CA_FILES.issuingKey), passphrase) },
    rootCrl: rootCrlReader(abs, rootCertificate),
  };
}
