// A WebCrypto-shaped view of the project's SM2 primitives, for @peculiar/x509, whose generators and verifiers call
// crypto.subtle. Node's WebCrypto has no SM2, and Node's sign/verify would use an empty user ID (DOMAIN.md, pitfall 2),
// so SM2 keys are wrapped here and every SM2 signature goes through sm2Sign/sm2Verify (ZA with the default ID).
// Every other algorithm is handed to Node's WebCrypto unchanged.
import { createHash, type KeyObject, webcrypto } from 'node:crypto';
import { isZtError } from '../../core/errors/index.js';
import { asSm2Key, generateSm2KeyPair, loadSm2PrivateKey, loadSm2PublicKey, sm2Sign, sm2Verify } from '../sm2/sm2.js';

/** WebCrypto name of SM2 signatures (always over SM3, with ZA). */
export const SM2_ALGORITHM = 'SM2';
/** The curve name carried in the key algorithm; the OID is 1.2.156.10197.1.301. */
export const SM2_NAMED_CURVE = 'sm2p256v1';
export const SM3_ALGORITHM = 'SM3';

type WebCryptoKey = webcrypto.CryptoKey;
type BufferSource = ArrayBuffer | ArrayBufferView;

export interface Sm2KeyAlgorithm {
  readonly name: typeof SM2_ALGORITHM;
  readonly namedCurve: typeof SM2_NAMED_CURVE;
  /**
   * SM2 signatures are defined over SM3 only. Carrying it in the key algorithm matters: @peculiar/x509 merges the key
   * algorithm over its default signing algorithm ({ hash: 'SHA-256' }), so this makes the merged one SM2 with SM3.
   */
  readonly hash: { readonly name: typeof SM3_ALGORITHM };
}

const SM2_KEY_ALGORITHM: Sm2KeyAlgorithm = Object.freeze({ name: SM2_ALGORITHM, namedCurve: SM2_NAMED_CURVE, hash: Object.freeze({ name: SM3_ALGORITHM }) });

/** An SM2 key in CryptoKey shape (the libraries recognise CryptoKeys by shape), holding the Node KeyObject. */
export class Sm2CryptoKey {
  readonly algorithm: Sm2KeyAlgorithm = SM2_KEY_ALGORITHM;
  readonly extractable = true;
  readonly type: 'private' | 'public';
  readonly usages: webcrypto.KeyUsage[];
  /** The standard-conformant SM2 key (see asSm2Key). */
  readonly keyObject: KeyObject;

  constructor(key: KeyObject) {
    this.keyObject = asSm2Key(key);
    this.type = key.type === 'private' ? 'private' : 'public';
    this.usages = this.type === 'private' ? ['sign'] : ['verify'];
  }
}

/** Wraps an SM2 KeyObject for @peculiar/x509; ZT_ERR_KEY_NOT_SM2 for any other key. */
export function toSm2CryptoKey(key: KeyObject): WebCryptoKey {
  return new Sm2CryptoKey(key) as unknown as WebCryptoKey;
}

function algorithmName(algorithm: unknown): string {
  if (typeof algorithm === 'string') return algorithm;
  if (algorithm && typeof algorithm === 'object' && 'name' in algorithm && typeof algorithm.name === 'string') return algorithm.name;
  return '';
}

function isSm2Algorithm(algorithm: unknown): boolean {
  return algorithmName(algorithm).toUpperCase() === SM2_ALGORITHM;
}

function assertSm3(algorithm: unknown): void {
  const hash = algorithm && typeof algorithm === 'object' && 'hash' in algorithm ? algorithm.hash : undefined;
  if (hash !== undefined && algorithmName(hash).toUpperCase() !== SM3_ALGORITHM) {
    throw new DOMException(`SM2 signs over SM3 only, not ${algorithmName(hash)}`, 'NotSupportedError');
  }
}

/** True when the operation is SM2's; an SM2 key with another algorithm, or SM2 over another hash, is refused. */
function usesSm2(algorithm: unknown, key: unknown): boolean {
  const sm2Algorithm = isSm2Algorithm(algorithm);
  if (!sm2Algorithm && !(key instanceof Sm2CryptoKey)) return false;
  if (!sm2Algorithm) throw new DOMException(`an SM2 key cannot be used with ${algorithmName(algorithm) || 'this algorithm'}`, 'InvalidAccessError');
  assertSm3(algorithm);
  return true;
}

function bytes(data: BufferSource): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

function arrayBuffer(data: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(data.byteLength);
  new Uint8Array(out).set(data);
  return out;
}

function sm2KeyOf(key: unknown, type: 'private' | 'public'): KeyObject {
  if (!(key instanceof Sm2CryptoKey) || key.type !== type) throw new DOMException(`an SM2 ${type} key is required`, 'InvalidAccessError');
  return key.keyObject;
}

// Only these operations know SM2; the rest of SubtleCrypto is Node's own.
const sm2Subtle = {
  async sign(algorithm: unknown, key: WebCryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    if (!usesSm2(algorithm, key)) return webcrypto.subtle.sign(algorithm as webcrypto.AlgorithmIdentifier, key, data);
    return arrayBuffer(sm2Sign(sm2KeyOf(key, 'private'), bytes(data)));
  },

  async verify(algorithm: unknown, key: WebCryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean> {
    if (!usesSm2(algorithm, key)) return webcrypto.subtle.verify(algorithm as webcrypto.AlgorithmIdentifier, key, signature, data);
    try {
      return sm2Verify(sm2KeyOf(key, 'public'), bytes(data), bytes(signature));
    } catch (error) {
      // A signature that is not DER (r, s) simply does not verify.
      if (isZtError(error) && error.code === 'ZT_ERR_SIGNATURE_MALFORMED') return false;
      throw error;
    }
  },

  async importKey(format: string, keyData: unknown, algorithm: unknown, extractable: boolean, usages: webcrypto.KeyUsage[]): Promise<WebCryptoKey> {
    if (!isSm2Algorithm(algorithm)) {
      return webcrypto.subtle.importKey(format as 'spki', keyData as BufferSource, algorithm as webcrypto.AlgorithmIdentifier, extractable, usages);
    }
    const der = bytes(keyData as BufferSource);
    if (format === 'spki') return toSm2CryptoKey(loadSm2PublicKey(der));
    if (format === 'pkcs8') return toSm2CryptoKey(loadSm2PrivateKey(der));
    throw new DOMException(`SM2 keys are imported from spki or pkcs8, not ${format}`, 'NotSupportedError');
  },

  async exportKey(format: string, key: WebCryptoKey): Promise<ArrayBuffer | webcrypto.JsonWebKey> {
    if (!(key instanceof Sm2CryptoKey)) return webcrypto.subtle.exportKey(format as 'spki', key);
    if (format === 'spki' && key.type === 'public') return arrayBuffer(key.keyObject.export({ type: 'spki', format: 'der' }));
    if (format === 'pkcs8' && key.type === 'private') return arrayBuffer(key.keyObject.export({ type: 'pkcs8', format: 'der' }));
    throw new DOMException(`an SM2 ${key.type} key cannot be exported as ${format}`, 'NotSupportedError');
  },

  async generateKey(algorithm: unknown, extractable: boolean, usages: webcrypto.KeyUsage[]): Promise<unknown> {
    if (!isSm2Algorithm(algorithm)) return webcrypto.subtle.generateKey(algorithm as webcrypto.EcKeyGenParams, extractable, usages);
    const pair = generateSm2KeyPair();
    return { privateKey: toSm2CryptoKey(pair.privateKey), publicKey: toSm2CryptoKey(pair.publicKey) };
  },

  async digest(algorithm: unknown, data: BufferSource): Promise<ArrayBuffer> {
    if (algorithmName(algorithm).toUpperCase() !== SM3_ALGORITHM) return webcrypto.subtle.digest(algorithm as webcrypto.AlgorithmIdentifier, data);
    return arrayBuffer(createHash('sm3').update(bytes(data)).digest());
  },
};

const SM2_CRYPTO_MARK = Symbol.for('zhengtong.certs.x509.sm2-webcrypto');

/**
 * Node's WebCrypto with SM2 signing, verification, key import/export/generation and SM3 digests added. Node's
 * methods check their receiver, so the ones passed through are bound to Node's own objects.
 */
export function createSm2WebCrypto(): webcrypto.Crypto {
  const nodeSubtle = webcrypto.subtle as unknown as Record<PropertyKey, unknown>;
  const overrides = sm2Subtle as unknown as Record<PropertyKey, unknown>;
  const subtle = new Proxy(nodeSubtle, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as webcrypto.SubtleCrypto;
  return {
    subtle,
    getRandomValues: <T extends Parameters<webcrypto.Crypto['getRandomValues']>[0]>(array: T): T => webcrypto.getRandomValues(array),
    randomUUID: () => webcrypto.randomUUID(),
    CryptoKey: webcrypto.CryptoKey,
    [SM2_CRYPTO_MARK]: true,
  } as webcrypto.Crypto;
}

export function isSm2WebCrypto(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SM2_CRYPTO_MARK] === true;
}
