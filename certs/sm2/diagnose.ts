// Why does an SM2 signature not verify? The usual reasons are not forgery but interoperability mistakes, each with
// its own code so that the person who made the signature knows what to fix (DOMAIN.md, "Pitfalls"):
//   ZT_ERR_SIGNATURE_MALFORMED  not DER SEQUENCE { INTEGER r, INTEGER s } with r, s in [1, n-1];
//   ZT_ERR_SIGNATURE_EMPTY_ID   SM2 with an empty user ID in ZA: Node's crypto.sign('sm3', m, sm2Key), the OpenSSL
//                               3.0 command line without -pkeyopt distid:…;
//   ZT_ERR_SIGNATURE_NOT_SM2    SM2 over SM3(M) without ZA (crypto.createSign('sm3') fed M alone), or plain ECDSA
//                               over the SM2 curve with e = SM3(M) or SHA-256(M) (crypto.sign with the 'ec' key that
//                               generateKeyPairSync('ec', { namedCurve: 'SM2' }) returns);
//   ZT_ERR_SIGNATURE_INVALID    none of these: another key, another message, another user ID, or a forgery.
// The standard check comes first and alone decides success; the diagnosis runs only when it fails. OpenSSL cannot
// load an ECDSA-typed public key on the SM2 curve from SubjectPublicKeyInfo (it becomes an SM2 key), so the ECDSA
// check is done here with BigInt arithmetic on sm2p256v1: slow (milliseconds), and only ever on the failure path.
import { createHash, createVerify, type KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { asSm2Key, assertSignatureShape, computeZa, decodeSignature, publicPoint, SM2_CURVE, SM2_DEFAULT_USER_ID, type UserId } from './sm2.js';

export interface AssertSm2SignatureOptions {
  /** The signer's distinguishing identifier; default 1234567812345678 (GM/T 0009). */
  userId?: UserId;
}

/**
 * Returns when `signature` is a standard SM2 signature over `message` (e = SM3(ZA ‖ M), ZA with `userId`) under
 * `publicKey`; otherwise throws the most specific ZtError: ZT_ERR_SIGNATURE_MALFORMED, ZT_ERR_SIGNATURE_EMPTY_ID,
 * ZT_ERR_SIGNATURE_NOT_SM2 or ZT_ERR_SIGNATURE_INVALID. A key that is not SM2 is ZT_ERR_KEY_NOT_SM2.
 */
export function assertSm2Signature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array, options: AssertSm2SignatureOptions = {}): void {
  const key = asSm2Key(publicKey);
  assertSignatureShape(signature);
  const userId = options.userId ?? SM2_DEFAULT_USER_ID;
  if (verifyOver(key, signature, computeZa(key, userId), message)) return;
  throw diagnoseSm2Failure(key, message, signature, userId);
}

/** The error for a well-formed signature that failed the standard check with `userId`. Exported for tests. */
export function diagnoseSm2Failure(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array, userId: UserId = SM2_DEFAULT_USER_ID): ZtError {
  const key = asSm2Key(publicKey);
  const idText = typeof userId === 'string' ? userId : `0x${Buffer.from(userId).toString('hex')}`;
  const idLength = typeof userId === 'string' ? Buffer.byteLength(userId) : userId.length;
  if (idLength > 0 && verifyOver(key, signature, computeZa(key, ''), message)) {
    return new ZtError(
      'ZT_ERR_SIGNATURE_EMPTY_ID',
      `the signature is SM2 with an empty user ID, not with the ID ${idText} (Node's crypto.sign and OpenSSL without -pkeyopt distid:${SM2_DEFAULT_USER_ID} sign that way)`,
      { details: { expectedUserId: idText, found: 'SM2, empty user ID' } },
    );
  }
  if (verifyOver(key, signature, message)) {
    return new ZtError('ZT_ERR_SIGNATURE_NOT_SM2', 'the signature is SM2 over SM3(M) without ZA (the user ID and key were left out of the hash), not a standard SM2 signature', {
      details: { found: 'SM2 without ZA' },
    });
  }
  const rs = decodeSignature(signature)!;
  const point = publicPoint(key);
  const q = { x: BigInt(`0x${point.subarray(0, 32).toString('hex')}`), y: BigInt(`0x${point.subarray(32).toString('hex')}`) };
  for (const hash of ['sm3', 'sha256'] as const) {
    const e = BigInt(`0x${createHash(hash).update(message).digest('hex')}`);
    if (ecdsaVerifies(q, e, rs[0], rs[1])) {
      return new ZtError(
        'ZT_ERR_SIGNATURE_NOT_SM2',
        `the signature is ECDSA with ${hash === 'sm3' ? 'SM3' : 'SHA-256'} over the SM2 curve, not SM2 (an 'ec' key from generateKeyPairSync('ec', { namedCurve: 'SM2' }) signs that way)`,
        { details: { found: `ECDSA-${hash === 'sm3' ? 'SM3' : 'SHA256'}` } },
      );
    }
  }
  return new ZtError('ZT_ERR_SIGNATURE_INVALID', `the SM2 signature (user ID ${idText}) does not verify against the signer's public key and the message`);
}

/** OpenSSL's SM2 verify over SM3(parts…): with an SM2 key, digest-verify hashes exactly what it is fed. */
function verifyOver(key: KeyObject, signature: Uint8Array, ...parts: Uint8Array[]): boolean {
  const verifier = createVerify('sm3');
  for (const part of parts) verifier.update(part);
  return verifier.verify(key, signature);
}

// --- ECDSA on sm2p256v1 with BigInt (failure path only) -------------------------------------------------------

const { p: P, a: A, n: N } = SM2_CURVE;

interface Affine {
  x: bigint;
  y: bigint;
}
/** Jacobian coordinates: (X / Z², Y / Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function mod(v: bigint, m: bigint): bigint {
  const r = v % m;
  return r < 0n ? r + m : r;
}

function invert(v: bigint, m: bigint): bigint {
  let [a, b, x0, x1] = [mod(v, m), m, 1n, 0n];
  if (a === 0n) throw new RangeError('0 has no inverse');
  while (b !== 0n) {
    const q = a / b;
    [a, b] = [b, a - q * b];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return mod(x0, m);
}

function double(pt: Jacobian): Jacobian {
  const { X, Y, Z } = pt;
  if (Z === 0n || Y === 0n) return INFINITY;
  const yy = mod(Y * Y, P);
  const s = mod(4n * X * yy, P);
  const zz = mod(Z * Z, P);
  const m = mod(3n * X * X + A * zz * zz, P);
  const X3 = mod(m * m - 2n * s, P);
  const Y3 = mod(m * (s - X3) - 8n * yy * yy, P);
  const Z3 = mod(2n * Y * Z, P);
  return { X: X3, Y: Y3, Z: Z3 };
}

function add(p1: Jacobian, p2: Jacobian): Jacobian {
  if (p1.Z === 0n) return p2;
  if (p2.Z === 0n) return p1;
  const z1z1 = mod(p1.Z * p1.Z, P);
  const z2z2 = mod(p2.Z * p2.Z, P);
  const u1 = mod(p1.X * z2z2, P);
  const u2 = mod(p2.X * z1z1, P);
  const s1 = mod(p1.Y * p2.Z * z2z2, P);
  const s2 = mod(p2.Y * p1.Z * z1z1, P);
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  if (h === 0n) return r === 0n ? double(p1) : INFINITY;
  const hh = mod(h * h, P);
  const hhh = mod(hh * h, P);
  const v = mod(u1 * hh, P);
  const X3 = mod(r * r - hhh - 2n * v, P);
  const Y3 = mod(r * (v - X3) - s1 * hhh, P);
  const Z3 = mod(h * p1.Z * p2.Z, P);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** u1·G + u2·Q by Shamir's trick (one pass over the bits of both scalars). */
function twoScalarMultiply(u1: bigint, u2: bigint, q: Affine): Jacobian {
  const g: Jacobian = { X: SM2_CURVE.gx, Y: SM2_CURVE.gy, Z: 1n };
  const qj: Jacobian = { X: q.x, Y: q.y, Z: 1n };
  const gq = add(g, qj);
  let acc = INFINITY;
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    acc = double(acc);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) acc = add(acc, gq);
    else if (b1) acc = add(acc, g);
    else if (b2) acc = add(acc, qj);
  }
  return acc;
}

/** ECDSA verification (SEC 1 §4.1.4) on sm2p256v1 with e the hash as an integer (256 bits, the size of n). */
export function ecdsaVerifies(q: Affine, e: bigint, r: bigint, s: bigint): boolean {
  if (r <= 0n || s <= 0n || r >= N || s >= N) return false;
  const w = invert(s, N);
  const point = twoScalarMultiply(mod(e * w, N), mod(r * w, N), q);
  if (point.Z === 0n) return false;
  const zInv = invert(point.Z, P);
  const x = mod(point.X * zInv * zInv, P);
  return mod(x, N) === r;
}
