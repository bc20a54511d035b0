// SM3 and SM2 in the page, by sm-crypto (pure JavaScript, MIT, https://github.com/JuneAndGreen/sm-crypto): the one
// library that does the national algorithms here. Signatures use the GM/T 0009 default user ID and SM3(ZA ‖ M)
// (sm-crypto's hash: true), as the server and the CLI do; on the wire they are DER SEQUENCE { r, s }.
import smCrypto from 'sm-crypto';
import { derToRs, rsToDer } from './asn1.js';
import { hexToBytes } from './bytes.js';

export const SM_LIBRARY = 'sm-crypto 0.5';
export const SM2_DEFAULT_USER_ID = '1234567812345678';

export function sm3(...parts: Uint8Array[]): Uint8Array {
  let input: Uint8Array;
  if (parts.length === 1) input = parts[0]!;
  else {
    input = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      input.set(p, o);
      o += p.length;
    }
  }
  return hexToBytes(smCrypto.sm3(input));
}

/** DER SM2 signature of `message` (ZA with the default user ID) by the private key `d` (64 hex digits). */
export function sm2Sign(message: Uint8Array, privateKeyHex: string, publicKeyHex?: string): Uint8Array {
  const publicKey = publicKeyHex ?? smCrypto.sm2.getPublicKeyFromPrivateKey(privateKeyHex);
  const rs = smCrypto.sm2.doSignature(message, privateKeyHex, { hash: true, der: false, publicKey, userId: SM2_DEFAULT_USER_ID });
  return rsToDer(rs);
}

/** Whether a DER SM2 signature holds over `message` for the public key '04' ‖ x ‖ y (hex). */
export function sm2Verify(message: Uint8Array, signatureDer: Uint8Array, publicKeyHex: string, userId = SM2_DEFAULT_USER_ID): boolean {
  let rs: string;
  try {
    rs = derToRs(signatureDer);
  } catch {
    return false;
  }
  return smCrypto.sm2.doVerifySignature(message, rs, publicKeyHex, { hash: true, der: false, userId });
}

export function publicKeyOf(privateKeyHex: string): string {
  return smCrypto.sm2.getPublicKeyFromPrivateKey(privateKeyHex);
}
