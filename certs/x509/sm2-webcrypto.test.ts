import { createHash, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair, sm2Sign, sm2Verify } from '../sm2/sm2.js';
import { createSm2WebCrypto, toSm2CryptoKey } from './sm2-webcrypto.js';

const crypto = createSm2WebCrypto();
const message = new TextEncoder().encode('政务数据共享');

describe('the SM2-aware WebCrypto', () => {
  it('signs and verifies through sm2Sign/sm2Verify (DER signature, default ID)', async () => {
    const keys = generateSm2KeyPair();
    const signature = new Uint8Array(await crypto.subtle.sign({ name: 'SM2', hash: 'SM3' } as webcrypto.Algorithm, toSm2CryptoKey(keys.privateKey), message));
    expect(signature[0]).toBe(0x30);
    expect(sm2Verify(keys.publicKey, message, signature)).toBe(true);
    const theirs = sm2Sign(keys.privateKey, message);
    expect(await crypto.subtle.verify({ name: 'SM2' }, toSm2CryptoKey(keys.publicKey), theirs, message)).toBe(true);
    expect(await crypto.subtle.verify({ name: 'SM2' }, toSm2CryptoKey(keys.publicKey), theirs, new Uint8Array([1]))).toBe(false);
    expect(await crypto.subtle.verify({ name: 'SM2' }, toSm2CryptoKey(keys.publicKey), new Uint8Array([1, 2, 3]), message)).toBe(false);
  });

  it('imports and exports SM2 keys as SPKI / PKCS#8, and generates them', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'SM2' } as webcrypto.Algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
    const publicKey = await crypto.subtle.importKey('spki', spki, { name: 'SM2' }, true, ['verify']);
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'SM2' }, true, ['sign']);
    const signature = await crypto.subtle.sign({ name: 'SM2' }, privateKey, message);
    expect(await crypto.subtle.verify({ name: 'SM2' }, publicKey, signature, message)).toBe(true);
    await expect(crypto.subtle.exportKey('jwk', keys.publicKey)).rejects.toThrow(/cannot be exported/);
  });

  it('refuses SM2 keys with other algorithms and SM2 over another hash', async () => {
    const key = toSm2CryptoKey(generateSm2KeyPair().privateKey);
    await expect(crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams, key, message)).rejects.toThrow(/SM2 key cannot be used/);
    await expect(crypto.subtle.sign({ name: 'SM2', hash: 'SHA-256' } as webcrypto.Algorithm, key, message)).rejects.toThrow(/SM3 only/);
  });

  it('digests SM3, and leaves every other algorithm to Node', async () => {
    expect(Buffer.from(await crypto.subtle.digest('SM3', message))).toEqual(createHash('sm3').update(message).digest());
    expect(Buffer.from(await crypto.subtle.digest('SHA-256', message))).toEqual(createHash('sha256').update(message).digest());
    const ec = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, message);
    expect(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey, signature, message)).toBe(true);
    expect(crypto.getRandomValues(new Uint8Array(8))).toHaveLength(8);
  });
});
