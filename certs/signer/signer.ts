// The Signer port: what the trust layer needs from whatever holds a signing key. LocalSm2Signer keeps the key in
// this process (a pool of worker threads); an HSM (密码机) adapter can implement the same interface later, and every
// adapter runs the contract suite in signer-contract.ts.
import { sm3 } from '../sm2/sm2.js';
import type { KeyObject } from 'node:crypto';

export type SignatureAlgorithm = 'SM2-SM3';

/** The signer's X.509 certificate, and its SM3 fingerprint (lower-case hex of SM3 over the DER). */
export interface SignerCertificate {
  der: Buffer;
  fingerprint: string;
}

export interface Signer {
  /** SM2 with SM3 (OID 1.2.156.10197.1.501), signatures over SM3(ZA ‖ M) with `userId` in ZA. */
  readonly algorithm: SignatureAlgorithm;
  /** The SM2 distinguishing identifier that enters ZA; 1234567812345678 (GM/T 0009) unless configured. */
  readonly userId: string;
  readonly publicKey: KeyObject;
  readonly certificate?: SignerCertificate;
  /** How many signatures the signer can usefully make at once (worker threads, HSM sessions). */
  readonly concurrency: number;
  /** A standard SM2 signature over `message`, DER SEQUENCE { r, s }. */
  sign(message: Uint8Array): Promise<Buffer>;
  /** Lets signatures in progress finish, then releases the key; later sign() calls fail with ZT_ERR_SHUTTING_DOWN. */
  close(): Promise<void>;
}

export function signerCertificate(der: Uint8Array): SignerCertificate {
  const copy = Buffer.from(der);
  return { der: copy, fingerprint: sm3(copy).toString('hex') };
}
