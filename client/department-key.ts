// A department's signing key and certificate, as a Signer (certs/signer) that signs on the calling thread. For more
// throughput give the client a LocalSm2Signer (worker threads) instead; for an HSM, its Signer adapter.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { InProcessSm2Signer } from '../certs/signer/index.js';
import { parseCertificate } from '../certs/x509/index.js';
import { ExchangeClientError } from './errors.js';

export interface DepartmentKeyMaterial {
  /** The SM2 private key: PEM (PKCS#8, encrypted PKCS#8, SEC1), PKCS#8 DER, or a KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** The department's certificate from the platform CA, PEM or DER. */
  certificate: string | Buffer;
  passphrase?: string;
}

export const DepartmentKey = {
  /** A signer from key material in memory; ZT_CLIENT_CONFIG_INVALID if the key or certificate cannot be used. */
  fromMaterial(material: DepartmentKeyMaterial): InProcessSm2Signer {
    try {
      const der = new Uint8Array(parseCertificate(material.certificate).rawData);
      return new InProcessSm2Signer({
        privateKey: material.privateKey,
        certificate: der,
        ...(material.passphrase !== undefined ? { passphrase: material.passphrase } : {}),
      });
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the department key cannot be used: ${(error as Error).message}`, { cause: error });
    }
  },

  /** A signer from a key file and a certificate file (PEM or DER), e.g. those `zhengtong ca enrol` wrote. */
  fromFiles(keyPath: string, certificatePath: string, options: { passphrase?: string } = {}): InProcessSm2Signer {
    let privateKey: Buffer;
    let certificate: Buffer;
    try {
      privateKey = readFileSync(keyPath);
      certificate = readFileSync(certificatePath);
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the department key files cannot be read: ${(error as Error).message}`, { cause: error });
    }
    return DepartmentKey.fromMaterial({ privateKey, certificate, ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}) });
  },
};
