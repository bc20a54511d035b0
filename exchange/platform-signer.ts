// The key with which the platform signs exchange responses: an SM2 key with a certificate from the platform CA that
// names the platform's USCC, in a directory of its own (ZT_PLATFORM_KEY_DIR), never in the CA directory: the CA's
// keys and the platform's are different roles, and the CA directory holds only what the CA needs. Every instance
// sharing a database should share that directory, so they sign with the same key. Created on first use when missing;
// a key that an earlier version kept in the CA directory is moved here then. Signing runs in worker threads behind a
// batch signer, so one SM2 signature covers every response of a batch (docs/envelope.md).
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ZtError } from '../core/errors/index.js';
import { replaceFile } from '../core/files.js';
import type { Logger } from '../core/logging/index.js';
import { isValidUscc } from '../core/identifiers/index.js';
import type { PlatformCa } from '../certs/ca/index.js';
import { BatchSigner, LocalSm2Signer } from '../certs/signer/index.js';
import { loadSm2PrivateKey, loadSm2PublicKey, publicPoint } from '../certs/sm2/sm2.js';
import { parseCertificate, readUscc } from '../certs/x509/index.js';
import { verifyEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import type { TrustStore } from '../certs/trust/index.js';

export const EXCHANGE_SIGNER_FILES = { key: 'exchange-signer.key.pem', certificate: 'exchange-signer.cert.pem' } as const;

export interface PlatformSigner {
  batch: BatchSigner;
  signer: LocalSm2Signer;
  uscc: string;
  close(): Promise<void>;
}

export interface PlatformSignerOptions {
  batchIntervalMs?: number;
  /** A queue this long is signed at once, inside the interval (BatchSignerOptions.fullBatch). */
  fullBatch?: number;
  /**
   * Where the one-time move of a key out of the CA directory is reported (one line on stderr without it), and the
   * key's loading, with its certificate's serial number and expiry.
   */
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** Whether the private key (PEM) is the one the certificate certifies; false for a key that cannot be read. */
function keyMatches(keyPem: string, certificate: ReturnType<typeof parseCertificate>): boolean {
  try {
    return publicPoint(loadSm2PrivateKey(keyPem)).equals(publicPoint(loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData))));
  } catch {
    return false;
  }
}

function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to); // another file system: copy (the mode comes along), then remove the original
    unlinkSync(from);
  }
}

/**
 * Moves the signing key and certificate out of the CA directory, where versions before ZT_PLATFORM_KEY_DIR kept them,
 * unless keyDir already has a key. Returns true when it moved them.
 */
function moveFromCaDirectory(caDir: string, keyDir: string, logger: PlatformSignerOptions['logger']): boolean {
  const from = (f: string) => join(caDir, f);
  const to = (f: string) => join(keyDir, f);
  if (!existsSync(from(EXCHANGE_SIGNER_FILES.key))) return false;
  if (existsSync(to(EXCHANGE_SIGNER_FILES.key))) {
    const message = `an older platform signing key is still in the CA directory (${from(EXCHANGE_SIGNER_FILES.key)}); the one in ${keyDir} is used: delete the older one`;
    if (logger) logger.warn({ caDir, keyDir }, message);
    else process.stderr.write(`zhengtong: ${message}\n`);
    return false;
  }
  try {
    // The certificate first: a key without its certificate is enrolled again, a certificate without its key is not used.
    if (existsSync(from(EXCHANGE_SIGNER_FILES.certificate))) moveFile(from(EXCHANGE_SIGNER_FILES.certificate), to(EXCHANGE_SIGNER_FILES.certificate));
    moveFile(from(EXCHANGE_SIGNER_FILES.key), to(EXCHANGE_SIGNER_FILES.key));
  } catch (error) {
    // Another process (a worker of the same host) moved it first.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(to(EXCHANGE_SIGNER_FILES.key))) return false;
    throw error;
  }
  const message = `moved the platform signing key from the CA directory ${caDir} to ${keyDir} (ZT_PLATFORM_KEY_DIR)`;
  if (logger) logger.info({ caDir, keyDir }, message);
  else process.stderr.write(`zhengtong: ${message}\n`);
  return true;
}

/**
 * Loads the platform's signing key from `keyDir` (ZT_PLATFORM_KEY_DIR), enrolling a new one if there is none (or it
 * is stale). A key left in the CA directory by an earlier version is moved to `keyDir` first, with a log line.
 */
export async function openPlatformSigner(ca: PlatformCa, keyDir: string, uscc: string, name: string, options: PlatformSignerOptions = {}): Promise<PlatformSigner> {
  if (!isValidUscc(uscc)) throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_PLATFORM_USCC ${JSON.stringify(uscc)} is not a valid unified social credit code`);
  const dir = resolve(keyDir);
  const caDir = resolve(ca.directory);
  const inside = relative(caDir, dir);
  if (inside === '' || (!inside.startsWith('..') && !inside.startsWith('/'))) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_PLATFORM_KEY_DIR (${dir}) is in the CA directory ${caDir}: the platform's signing key must be kept apart from the CA's; give another directory`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  moveFromCaDirectory(caDir, dir, options.logger);
  const keyPath = join(dir, EXCHANGE_SIGNER_FILES.key);
  const certPath = join(dir, EXCHANGE_SIGNER_FILES.certificate);
  let pair: { keyPem: string; certificatePem: string } | null = null;
  if (existsSync(keyPath) && existsSync(certPath)) {
    const onDisk = { keyPem: readFileSync(keyPath, 'utf8'), certificatePem: readFileSync(certPath, 'utf8') };
    const certificate = parseCertificate(onDisk.certificatePem);
    const current = certificate.issuer === ca.issuing.subject && readUscc(certificate) === uscc && certificate.notAfter.getTime() > Date.now() + 86_400_000;
    if (current && keyMatches(onDisk.keyPem, certificate)) pair = onDisk;
    else if (current) {
      // Kept, not overwritten: it may be a key an operator put there by mistake.
      const kept = `${keyPath}.mismatched-${Date.now()}`;
      renameSync(keyPath, kept);
      const line = `the platform signing key in ${dir} does not match its certificate; it was moved to ${kept}, and a new key is enrolled`;
      if (options.logger) options.logger.warn({ kept }, line);
      else process.stderr.write(`zhengtong: ${line}\n`);
    }
  }
  if (!pair) {
    // Two processes starting at once on a fresh directory (ZT_WORKERS) may each enrol: each signs with the pair it
    // made, and the files end as one writer's pair or, interleaved, a key and a certificate that do not match,
    // which the check above finds at the next start, which enrols again. Each file is replaced whole.
    const { certificate, privateKeyPem } = await ca.enrolWithGeneratedKey({ uscc, name });
    pair = { keyPem: privateKeyPem, certificatePem: certificate.pem };
    replaceFile(keyPath, pair.keyPem, 0o600);
    replaceFile(certPath, pair.certificatePem, 0o644);
  }
  const certificate = parseCertificate(pair.certificatePem);
  const signer = await LocalSm2Signer.start({ privateKey: pair.keyPem, certificate: new Uint8Array(certificate.rawData) });
  const batch = new BatchSigner(signer, { minIntervalMs: options.batchIntervalMs ?? 0, fullBatch: options.fullBatch ?? 0 });
  options.logger?.info({ keyDir: dir, serial: certificate.serialNumber, notAfter: certificate.notAfter.toISOString() }, 'platform signing key loaded');
  return {
    batch,
    signer,
    uscc,
    async close() {
      await batch.close();
      await signer.close();
    },
  };
}

/**
 * Checks that an envelope presented back to the gateway (a licence document, a prefill answer) was signed by the
 * platform: a certificate it carries must chain to the platform CA and name the platform's USCC; a fingerprint alone
 * must be this platform signer's. Throws the catalogue error that says which check failed.
 */
export async function verifyPlatformEnvelope(platform: Pick<PlatformSigner, 'batch' | 'uscc'>, trust: TrustStore | null, envelope: SignedEnvelope, payload: Uint8Array): Promise<void> {
  await verifyEnvelope(envelope, payload, {
    resolveSignerKey: async (e) => {
      const signer = platform.batch.signer;
      if (e.signer.certificate) {
        if (!trust) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', 'no platform CA to check the signer against');
        const trusted = await trust.validate(e.signer.certificate);
        if (trusted.uscc !== platform.uscc) throw new ZtError('ZT_ERR_SIGNER_MISMATCH', `signed by ${trusted.uscc ?? 'someone'}, not by the platform (${platform.uscc})`);
        return trusted.publicKey;
      }
      if (e.signer.certificateSm3 && signer.certificate && e.signer.certificateSm3.toString('hex') === signer.certificate.fingerprint) return signer.publicKey;
      throw new ZtError('ZT_ERR_CERT_UNKNOWN_ISSUER', 'the envelope names a signer certificate this platform does not know');
    },
  });
}
