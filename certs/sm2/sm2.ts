// SM2 signatures (GM/T 0003.2, GB/T 32918.2) on Node's native crypto (OpenSSL 3), standard-conformant:
// the signature is over e = SM3(ZA ‖ M), ZA = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA), with the GM/T 0009
// default ID unless the caller names another. Node's own crypto.sign('sm3', …) uses an empty ID, and an EC key
// generated on the SM2 curve signs ECDSA; both are avoided here (see DOMAIN.md, "Pitfalls").
import { createHash, createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';

export const SM2_DEFAULT_USER_ID = '1234567812345678';
export const OID_SM2_CURVE = '1.2.156.10197.1.301';
export const OID_SM3 = '1.2.156.10197.1.401';
export const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';

/** sm2p256v1 parameters (GM/T 0003.5), as they enter ZA. */
export const SM2_CURVE = {
  p: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF'),
  a: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC'),
  b: BigInt('0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93'),
  n: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123'),
  gx: BigInt('0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7'),
  gy: BigInt('0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0'),
} as const;

const CURVE_BYTES = Buffer.concat([SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.gx, SM2_CURVE.gy].map((v) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex')));
/** DER of the curve OID 1.2.156.10197.1.301, to recognise SM2 keys in SPKI/PKCS#8 encodings. */
const SM2_CURVE_OID_DER = Buffer.from('06082a811ccf5501822d', 'hex');

export type UserId = string | Uint8Array;

export interface SignOptions {
  /** Signer's distinguishing identifier; default 1234567812345678. */
  userId?: UserId;
}

export function sm3(...parts: Uint8Array[]): Buffer {
  const h = createHash('sm3');
  for (const p of parts) h.update(p);
  return h.digest();
}

function userIdBytes(userId: UserId | undefined): Buffer {
  if (userId === undefined) return Buffer.from(SM2_DEFAULT_USER_ID, 'utf8');
  return typeof userId === 'string' ? Buffer.from(userId, 'utf8') : Buffer.from(userId);
}

/** The uncompressed public point (x ‖ y, 64 bytes) of an SM2 public or private key. */
export function publicPoint(key: KeyObject): Buffer {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  // An EC SubjectPublicKeyInfo ends with BIT STRING { 0x00, 0x04, x(32), y(32) }.
  if (spki.length < 67 || spki[spki.length - 65] !== 0x04 || !spki.includes(SM2_CURVE_OID_DER)) {
    throw new ZtError('ZT_ERR_KEY_NOT_SM2', 'the key is not an SM2 key with an uncompressed point on sm2p256v1');
  }
  return spki.subarray(spki.length - 64);
}

// ZA depends only on the key and the ID: compute it once per (key, ID). KeyObjects are kept by identity, so callers
// should hold on to their KeyObject (the trust store and the signers do).
const zaCache = new WeakMap<KeyObject, Map<string, Buffer>>();

export function computeZa(key: KeyObject, userId?: UserId): Buffer {
  const id = userIdBytes(userId);
  const cacheKey = id.toString('hex');
  let perKey = zaCache.get(key);
  const cached = perKey?.get(cacheKey);
  if (cached) return cached;
  if (id.length > 8191) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the SM2 user ID is longer than 8191 bytes');
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  const za = sm3(entl, id, CURVE_BYTES, publicPoint(key));
  if (!perKey) {
    perKey = new Map();
    zaCache.set(key, perKey);
  }
  perKey.set(cacheKey, za);
  return za;
}

/**
 * Makes any SM2 key usable for standard SM2: an 'ec' KeyObject on the SM2 curve (what generateKeyPairSync('ec',
 * { namedCurve: 'SM2' }) returns, and which would sign ECDSA) is re-imported through PKCS#8/SPKI, which OpenSSL
 * loads as an SM2 key. Keys on other curves, or of other types, are refused.
 */
export function asSm2Key(key: KeyObject): KeyObject {
  if (key.type === 'secret') throw new ZtError('ZT_ERR_KEY_NOT_SM2', 'a secret key cannot be an SM2 key');
  const type = key.asymmetricKeyType;
  if (type !== undefined && type !== 'ec' && (type as string) !== 'sm2') {
    throw new ZtError('ZT_ERR_KEY_NOT_SM2', `the key is ${type.toUpperCase()}, not SM2`);
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'SM2') throw new ZtError('ZT_ERR_KEY_NOT_SM2', `the key is on curve ${curve ?? 'unknown'}, not sm2p256v1`);
    const sm2 =
      key.type === 'private'
        ? createPrivateKey({ key: key.export({ type: 'pkcs8', format: 'der' }), format: 'der', type: 'pkcs8' })
        : createPublicKey({ key: key.export({ type: 'spki', format: 'der' }), format: 'der', type: 'spki' });
    publicPoint(sm2);
    return sm2;
  }
  publicPoint(key);
  return key;
}

export interface Sm2KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateSm2KeyPair(): Sm2KeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
  const sm2Private = asSm2Key(privateKey);
  return { privateKey: sm2Private, publicKey: asSm2Key(createPublicKey(sm2Private)) };
}

function keyInput(input: string | Uint8Array): { key: string | Buffer; format: 'pem' | 'der' } {
  if (typeof input === 'string') return { key: input, format: 'pem' };
  const buf = Buffer.from(input);
  return buf.subarray(0, 10).toString('latin1').startsWith('-----BEGIN') ? { key: buf.toString('utf8'), format: 'pem' } : { key: buf, format: 'der' };
}

/**
 * Whether a private key is encrypted: PEM "ENCRYPTED PRIVATE KEY" (PKCS#8) or with a "Proc-Type: 4,ENCRYPTED" header
 * (SEC1 and other traditional forms), or PKCS#8 DER whose SEQUENCE opens with an AlgorithmIdentifier
 * (EncryptedPrivateKeyInfo) instead of the version INTEGER (PrivateKeyInfo).
 */
function isEncryptedPrivateKey(key: string | Buffer): boolean {
  if (typeof key === 'string') return /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type:\s*4,\s*ENCRYPTED/m.test(key);
  if (key.length < 4 || key[0] !== 0x30) return false;
  const lengthOctets = key[1]! & 0x80 ? key[1]! & 0x7f : 0;
  return key[2 + lengthOctets] === 0x30;
}

/** Loads an SM2 private key from PEM (PKCS#8, encrypted PKCS#8 or SEC1) or PKCS#8 DER (plain or encrypted). */
export function loadSm2PrivateKey(input: string | Uint8Array, passphrase?: string): KeyObject {
  const { key, format } = keyInput(input);
  let loaded: KeyObject;
  try {
    loaded = format === 'der' ? createPrivateKey({ key, format: 'der', type: 'pkcs8', passphrase }) : createPrivateKey({ key, format: 'pem', passphrase });
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const message = (error as Error).message;
    // An encrypted key that does not load is a passphrase problem, whatever OpenSSL says: a wrong passphrase decrypts
    // to garbage, which about once in 256 ends in valid padding and then fails as undecodable ("unsupported"), not as
    // "bad decrypt".
    if (isEncryptedPrivateKey(key) || code === 'ERR_MISSING_PASSPHRASE' || /passphrase|bad decrypt|interrupted or cancelled/i.test(message)) {
      throw new ZtError('ZT_ERR_KEY_PASSPHRASE', passphrase ? 'the passphrase does not decrypt the private key' : 'the private key is encrypted; give its passphrase', {
        cause: error,
      });
    }
    throw new ZtError('ZT_ERR_KEY_MALFORMED', `the private key cannot be read: ${message}`, { cause: error });
  }
  return asSm2Key(loaded);
}

/** Loads an SM2 public key from PEM or DER (SubjectPublicKeyInfo). */
export function loadSm2PublicKey(input: string | Uint8Array): KeyObject {
  const { key, format } = keyInput(input);
  let loaded: KeyObject;
  try {
    loaded = format === 'der' ? createPublicKey({ key, format: 'der', type: 'spki' }) : createPublicKey({ key, format: 'pem' });
  } catch (error) {
    throw new ZtError('ZT_ERR_KEY_MALFORMED', `the public key cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return asSm2Key(loaded);
}

/** Signs a message: returns the DER-encoded SM2 signature SEQUENCE { r, s }. */
export function sm2Sign(privateKey: KeyObject, message: Uint8Array, options: SignOptions = {}): Buffer {
  const za = computeZa(privateKey, options.userId);
  // With an SM2 key, OpenSSL's digest-sign over 'sm3' hashes exactly what it is fed, so ZA ‖ M gives the standard e.
  return createSign('sm3').update(za).update(message).sign(privateKey);
}

/** Verifies a DER SM2 signature; false for a signature that does not verify, ZT_ERR_SIGNATURE_MALFORMED for garbage. */
export function sm2Verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array, options: SignOptions = {}): boolean {
  assertSignatureShape(signature);
  const za = computeZa(publicKey, options.userId);
  return createVerify('sm3').update(za).update(message).verify(publicKey, signature);
}

/** Sign over a precomputed digest input is not offered: callers pass messages, so ZA can never be forgotten. */

/** A DER SEQUENCE of two positive INTEGERs below n, as GM/T 0009 encodes an SM2 signature. */
export function assertSignatureShape(signature: Uint8Array): void {
  const rs = decodeSignature(signature);
  if (!rs) throw new ZtError('ZT_ERR_SIGNATURE_MALFORMED');
  const [r, s] = rs;
  if (r <= 0n || s <= 0n || r >= SM2_CURVE.n || s >= SM2_CURVE.n) throw new ZtError('ZT_ERR_SIGNATURE_MALFORMED', 'the signature values r and s must lie in [1, n-1]');
}

/** Decodes DER SEQUENCE { INTEGER r, INTEGER s }; undefined when the bytes are not exactly that. */
export function decodeSignature(der: Uint8Array): [bigint, bigint] | undefined {
  const b = Buffer.from(der);
  if (b.length < 8 || b.length > 72 || b[0] !== 0x30 || b[1] !== b.length - 2) return undefined;
  const out: bigint[] = [];
  let i = 2;
  for (let k = 0; k < 2; k++) {
    if (b[i] !== 0x02) return undefined;
    const len = b[i + 1]!;
    if (len < 1 || len > 33 || i + 2 + len > b.length) return undefined;
    const bytes = b.subarray(i + 2, i + 2 + len);
    if (bytes[0]! & 0x80) return undefined; // negative
    if (len > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return undefined; // not minimal
    out.push(BigInt(`0x${bytes.toString('hex')}`));
    i += 2 + len;
  }
  if (i !== b.length) return undefined;
  return [out[0]!, out[1]!];
}

/** Encodes r, s as DER SEQUENCE { INTEGER r, INTEGER s }. */
export function encodeSignature(r: bigint, s: bigint): Buffer {
  const int = (v: bigint): Buffer => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    let bytes = Buffer.from(hex, 'hex');
    if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

export { KeyObject };
