// What every local signer adapter does with its configuration: load the key as SM2, check the user ID, and check
// that the certificate (if any) is the one for this key.
import { createPublicKey, KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { asSm2Key, loadSm2PrivateKey, SM2_DEFAULT_USER_ID } from '../sm2/sm2.js';
import { signerCertificate, type SignerCertificate } from './signer.js';

export interface LocalSignerKeyOptions {
  /** An SM2 private key: a KeyObject, PEM (PKCS#8, encrypted PKCS#8, SEC1) or PKCS#8 DER. */
  privateKey: KeyObject | string | Uint8Array;
  passphrase?: string;
  /** SM2 distinguishing identifier; default 1234567812345678 (GM/T 0009). */
  userId?: string;
  /** The signer's X.509 certificate, DER. Its public key must be this key's. */
  certificate?: Uint8Array;
}

export interface LocalSignerKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  userId: string;
  certificate?: SignerCertificate;
}

export function loadLocalSignerKey(options: LocalSignerKeyOptions): LocalSignerKey {
  const privateKey = options.privateKey instanceof KeyObject ? asSm2Key(options.privateKey) : loadSm2PrivateKey(options.privateKey, options.passphrase);
  if (privateKey.type !== 'private') throw new ZtError('ZT_ERR_KEY_MALFORMED', 'a signer needs a private key, not a public one');
  const publicKey = asSm2Key(createPublicKey(privateKey));
  const userId = options.userId ?? SM2_DEFAULT_USER_ID;
  // An empty ID is what OpenSSL's defaults produce and what the Chinese ecosystem does not verify (DOMAIN.md).
  if (userId.length === 0 || Buffer.byteLength(userId, 'utf8') > 8191) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', 'the SM2 user ID of a signer must be 1 to 8191 bytes long');
  }
  const key: LocalSignerKey = { privateKey, publicKey, userId };
  if (options.certificate) {
    const certificate = signerCertificate(options.certificate);
    // The SubjectPublicKeyInfo sits verbatim inside TBSCertificate; full parsing is certs/x509's job.
    if (!certificate.der.includes(publicKey.export({ type: 'spki', format: 'der' }))) {
      throw new ZtError('ZT_ERR_CERT_MALFORMED', "the signer's certificate does not carry the signer's public key");
    }
    key.certificate = certificate;
  }
  return key;
}
