// The key with which the platform signs exchange responses: an SM2 key with a certificate from the platform CA that
// names the platform's USCC, kept beside the CA (every instance sharing ZT_CA_DIR signs with the same key). Created
// on first start when missing; signing runs in worker threads behind a batch signer, so one SM2 signature covers
// every response of a batch (docs/envelope.md).
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ZtError } from '../core/errors/index.js';
import { isValidUscc } from '../core/identifiers/index.js';
import type { PlatformCa } from '../certs/ca/index.js';
import { BatchSigner, LocalSm2Signer } from '../certs/signer/index.js';
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

/** Loads the platform's exchange signing key from the CA directory, enrolling a new one if there is none (or it is stale). */
export async function openPlatformSigner(ca: PlatformCa, caDir: string, uscc: string, name: string, options: { batchIntervalMs?: number } = {}): Promise<PlatformSigner> {
  if (!isValidUscc(uscc)) throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_PLATFORM_USCC ${JSON.stringify(uscc)} is not a valid unified social credit code`);
  const keyPath = join(caDir, EXCHANGE_SIGNER_FILES.key);
  const certPath = join(caDir, EXCHANGE_SIGNER_FILES.certificate);
  let usable = false;
  if (existsSync(keyPath) && existsSync(certPath)) {
    const certificate = parseCertificate(readFileSync(certPath, 'utf8'));
    usable = certificate.issuer === ca.issuing.subject && readUscc(certificate) === uscc && certificate.notAfter.getTime() > Date.now() + 86_400_000;
  }
  if (!usable) {
    const { certificate, privateKeyPem } = await ca.enrolWithGeneratedKey({ uscc, name });
    writeFileSync(keyPath, privateKeyPem, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, certificate.pem, { mode: 0o644 });
  }
  const certificate = parseCertificate(readFileSync(certPath, 'utf8'));
  const signer = await LocalSm2Signer.start({ privateKey: readFileSync(keyPath, 'utf8'), certificate: new Uint8Array(certificate.rawData) });
  const batch = new BatchSigner(signer, { minIntervalMs: options.batchIntervalMs ?? 0 });
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
