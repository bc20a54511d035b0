// Keys as the certificate functions take them: Node KeyObjects (the project's SM2 keys) or @peculiar/x509 PublicKeys
// (read from a CSR or a certificate). Anything that is not SM2 is refused with ZT_ERR_KEY_NOT_SM2.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { asSm2Key, loadSm2PublicKey, publicPoint } from '../sm2/sm2.js';
import { x509 } from './x509-lib.js';

export type PublicKeyInput = KeyObject | x509.PublicKey;

export function sm2PublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof x509.PublicKey) return loadSm2PublicKey(new Uint8Array(input.rawData));
  const key = asSm2Key(input);
  return key.type === 'private' ? asSm2Key(createPublicKey(key)) : key;
}

export function sm2PrivateKey(input: KeyObject, role: string): KeyObject {
  if (input.type !== 'private') throw new ZtError('ZT_ERR_REQUEST_INVALID', `the ${role} must be a private key`);
  return asSm2Key(input);
}

export function sameSm2Key(a: KeyObject, b: KeyObject): boolean {
  return publicPoint(a).equals(publicPoint(b));
}
