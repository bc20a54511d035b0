// assertSm2Signature: the standard signature passes, and each usual way of getting SM2 wrong is named by its own
// code, on real signatures made the wrong way by Node, OpenSSL and sm-crypto.
import { execFileSync } from 'node:child_process';
import { createPublicKey, createSign, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import smCrypto from 'sm-crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { signEnvelope, verifyEnvelope } from '../envelope/envelope.js';
import type { Signer } from '../signer/signer.js';
import { assertSm2Signature, diagnoseSm2Failure, ecdsaVerifies } from './diagnose.js';
import { asSm2Key, decodeSignature, encodeSignature, generateSm2KeyPair, publicPoint, sm2Sign, sm3, SM2_CURVE, SM2_DEFAULT_USER_ID } from './sm2.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: { doSignature(msg: number[], privateKeyHex: string, options: { hash: boolean; der: boolean; userId?: string; publicKey?: string }): string };
};

function codeOf(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return isZtError(error) ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const keys = generateSm2KeyPair();
const other = generateSm2KeyPair();
const message = Buffer.from('{"licence":"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"}');
const check = (signature: Uint8Array, m: Uint8Array = message, publicKey: KeyObject = keys.publicKey, userId?: string) =>
  codeOf(() => assertSm2Signature(publicKey, m, signature, userId === undefined ? {} : { userId }));

/** The private scalar and the public point in hex, as sm-crypto takes them (d read from ECPrivateKey in PKCS#8). */
function smCryptoKeys(privateKey: KeyObject): { d: string; xy: string } {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const at = der.indexOf(Buffer.from('0201010420', 'hex')); // ECPrivateKey: version 1, privateKey OCTET STRING (32)
  return { d: der.subarray(at + 5, at + 37).toString('hex'), xy: `04${publicPoint(privateKey).toString('hex')}` };
}

describe('assertSm2Signature: the standard signature', () => {
  it('returns for SM2 over SM3(ZA ‖ M) with the default ID, and with the ID given', () => {
    expect(check(sm2Sign(keys.privateKey, message))).toBe('ok');
    expect(check(sm2Sign(keys.privateKey, message, { userId: 'bureau@example.gov.cn' }), message, keys.publicKey, 'bureau@example.gov.cn')).toBe('ok');
    // A private key or an 'ec'-typed key on the SM2 curve is accepted as the verifying key.
    expect(check(sm2Sign(keys.privateKey, message), message, keys.privateKey)).toBe('ok');
  });

  it('returns for signatures made by OpenSSL with distid and by sm-crypto with its default ID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-diagnose-ok-'));
    try {
      writeFileSync(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(dir, 'm.bin'), message);
      execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', join(dir, 'key.pem'), '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${SM2_DEFAULT_USER_ID}`, '-in', join(dir, 'm.bin'), '-out', join(dir, 's.der')]);
      expect(check(readFileSync(join(dir, 's.der')))).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const { d, xy } = smCryptoKeys(ec.privateKey);
    const sig = Buffer.from(smSm2.doSignature([...message], d, { hash: true, der: true, publicKey: xy }), 'hex');
    expect(check(sig, message, asSm2Key(createPublicKey(ec.privateKey)))).toBe('ok');
  });
});

describe('assertSm2Signature names what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zt-diagnose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ZT_ERR_SIGNATURE_MALFORMED: not DER (r, s), or r, s outside [1, n-1]', () => {
    const good = sm2Sign(keys.privateKey, message);
    const [r, s] = decodeSignature(good)!;
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from('not a signature'),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      encodeSignature(0n, s),
      encodeSignature(r, SM2_CURVE.n),
      encodeSignature(r + SM2_CURVE.n, s),
    ]) {
      expect(check(bad), bad.toString('hex')).toBe('ZT_ERR_SIGNATURE_MALFORMED');
    }
  });

  it("ZT_ERR_SIGNATURE_EMPTY_ID: Node's crypto.sign('sm3', m, sm2Key)", () => {
    expect(check(nodeSign('sm3', message, keys.privateKey))).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    expect(check(nodeSign(null, message, keys.privateKey))).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    // Expected under another ID, the diagnosis is the same.
    expect(check(nodeSign('sm3', message, keys.privateKey), message, keys.publicKey, 'bureau@example.gov.cn')).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
  });

  it('ZT_ERR_SIGNATURE_EMPTY_ID: OpenSSL pkeyutl -sign without distid, and sm-crypto with userId ""', () => {
    writeFileSync(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'm.bin'), message);
    execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', join(dir, 'key.pem'), '-rawin', '-digest', 'sm3', '-in', join(dir, 'm.bin'), '-out', join(dir, 'empty-id.der')]);
    expect(check(readFileSync(join(dir, 'empty-id.der')))).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const { d, xy } = smCryptoKeys(ec.privateKey);
    const sig = Buffer.from(smSm2.doSignature([...message], d, { hash: true, der: true, publicKey: xy, userId: '' }), 'hex');
    expect(check(sig, message, ec.publicKey)).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
  });

  it("ZT_ERR_SIGNATURE_NOT_SM2: SM2 without ZA (crypto.createSign('sm3') fed M; sm-crypto over SM3(M) unhashed)", () => {
    expect(check(createSign('sm3').update(message).sign(keys.privateKey))).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const { d } = smCryptoKeys(ec.privateKey);
    const sig = Buffer.from(smSm2.doSignature([...sm3(message)], d, { hash: false, der: true }), 'hex');
    expect(check(sig, message, ec.publicKey)).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
  });

  it("ZT_ERR_SIGNATURE_NOT_SM2: ECDSA over the SM2 curve, from an 'ec' key made by generateKeyPairSync('ec', { namedCurve: 'SM2' })", () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    expect(ec.privateKey.asymmetricKeyType).toBe('ec');
    const sm2Public = asSm2Key(createPublicKey(ec.privateKey));
    for (const hash of ['sm3', 'sha256']) {
      const signature = nodeSign(hash, message, ec.privateKey);
      let error: unknown;
      try {
        assertSm2Signature(sm2Public, message, signature);
      } catch (e) {
        error = e;
      }
      expect(error, hash).toMatchObject({ code: 'ZT_ERR_SIGNATURE_NOT_SM2', details: { found: hash === 'sm3' ? 'ECDSA-SM3' : 'ECDSA-SHA256' } });
      // The 'ec'-typed public key itself works as well as its SM2 re-import.
      expect(check(signature, message, ec.publicKey), hash).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
    }
  });

  it('ZT_ERR_SIGNATURE_INVALID: another message, key or ID, and wrong-kind signatures that fail anyway', () => {
    const good = sm2Sign(keys.privateKey, message);
    const tampered = Buffer.from(message);
    tampered[3]! ^= 1;
    expect(check(good, tampered)).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(good, message, other.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(good, message, keys.publicKey, 'someone else')).toBe('ZT_ERR_SIGNATURE_INVALID');
    // Made the wrong way, and also over another message or by another key: invalid, not misdiagnosed.
    expect(check(nodeSign('sm3', message, keys.privateKey), tampered)).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(createSign('sm3').update(message).sign(keys.privateKey), message, other.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    expect(check(nodeSign('sm3', message, ec.privateKey), tampered, ec.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(nodeSign('sha256', message, ec.privateKey), message, other.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
    // ECDSA over another hash is not recognised: it stays invalid.
    expect(check(nodeSign('sha384', message, ec.privateKey), message, ec.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
  });

  it('a key that is not SM2 is ZT_ERR_KEY_NOT_SM2', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(check(nodeSign('sha256', message, p256.privateKey), message, p256.publicKey)).toBe('ZT_ERR_KEY_NOT_SM2');
  });

  it('diagnoseSm2Failure is what assertSm2Signature throws; an empty expected ID is not reported as EMPTY_ID', () => {
    const emptyId = nodeSign('sm3', message, keys.privateKey);
    expect(diagnoseSm2Failure(keys.publicKey, message, emptyId).code).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    // Asked for the empty ID, such a signature is simply valid.
    expect(check(emptyId, message, keys.publicKey, '')).toBe('ok');
    expect(check(sm2Sign(keys.privateKey, message), message, keys.publicKey, '')).toBe('ZT_ERR_SIGNATURE_INVALID');
  });
});

describe('ecdsaVerifies (BigInt arithmetic on sm2p256v1)', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
  const point = publicPoint(ec.publicKey);
  const q = { x: BigInt(`0x${point.subarray(0, 32).toString('hex')}`), y: BigInt(`0x${point.subarray(32).toString('hex')}`) };
  const e = BigInt(`0x${sm3(message).toString('hex')}`);

  it("accepts OpenSSL's ECDSA signatures and rejects a changed hash, r or s, and out-of-range values", () => {
    for (let i = 0; i < 5; i++) {
      const [r, s] = decodeSignature(nodeSign('sm3', message, ec.privateKey))!;
      expect(ecdsaVerifies(q, e, r, s)).toBe(true);
      expect(ecdsaVerifies(q, e + 1n, r, s)).toBe(false);
      expect(ecdsaVerifies(q, e, r ^ 1n, s)).toBe(false);
      expect(ecdsaVerifies(q, e, r, s ^ 1n)).toBe(false);
      // (r, n - s) is the other valid ECDSA signature of the same hash.
      expect(ecdsaVerifies(q, e, r, SM2_CURVE.n - s)).toBe(true);
      expect(ecdsaVerifies(q, e, 0n, s)).toBe(false);
      expect(ecdsaVerifies(q, e, r, SM2_CURVE.n)).toBe(false);
    }
  });
});

describe('verifyEnvelope reports the diagnosis for a bad head signature', () => {
  /** A signer that claims the default ID but signs the wrong way. */
  const wrongSigner = (publicKey: KeyObject, sign: (message: Uint8Array) => Buffer): Signer => ({
    algorithm: 'SM2-SM3',
    userId: SM2_DEFAULT_USER_ID,
    publicKey,
    concurrency: 1,
    sign: async (m) => sign(m),
    close: async () => undefined,
  });
  const verifyCode = async (signer: Signer, publicKey: KeyObject, p: Uint8Array = message) => {
    try {
      await verifyEnvelope(await signEnvelope(signer, message), p, { publicKey });
      return 'ok';
    } catch (error) {
      return isZtError(error) ? error.code : String(error);
    }
  };

  it('empty ID, ECDSA and no ZA get their codes; a good envelope verifies; another payload stays invalid', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const ecPublic = asSm2Key(createPublicKey(ec.privateKey));
    expect(await verifyCode(wrongSigner(keys.publicKey, (m) => sm2Sign(keys.privateKey, m)), keys.publicKey)).toBe('ok');
    expect(await verifyCode(wrongSigner(keys.publicKey, (m) => nodeSign('sm3', m, keys.privateKey)), keys.publicKey)).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    expect(await verifyCode(wrongSigner(keys.publicKey, (m) => createSign('sm3').update(m).sign(keys.privateKey)), keys.publicKey)).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
    expect(await verifyCode(wrongSigner(ecPublic, (m) => nodeSign('sm3', m, ec.privateKey)), ecPublic)).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
    expect(await verifyCode(wrongSigner(keys.publicKey, (m) => nodeSign('sm3', m, keys.privateKey)), other.publicKey)).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await verifyCode(wrongSigner(keys.publicKey, (m) => nodeSign('sm3', m, keys.privateKey)), keys.publicKey, Buffer.from('another payload'))).toBe('ZT_ERR_SIGNATURE_INVALID');
  });
});
