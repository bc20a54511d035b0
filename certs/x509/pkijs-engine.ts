// pkijs verifies signatures through its CryptoEngine, which knows only WebCrypto's algorithms. This engine verifies
// SM2-with-SM3 (1.2.156.10197.1.501) with sm2Verify (ZA with the default ID) and leaves everything else to pkijs.
import { type KeyObject, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isZtError } from '../../core/errors/index.js';
import { loadSm2PublicKey, OID_SM2_WITH_SM3, sm2Verify } from '../sm2/sm2.js';

export const PKIJS_ENGINE_NAME = 'zhengtong-sm2';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

export class Sm2CryptoEngine extends pkijs.CryptoEngine {
  // Issuer keys are verified against repeatedly (chain building tries each candidate, then checks CRLs); keep the
  // KeyObject, and so its cached ZA, with the parsed PublicKeyInfo it came from.
  readonly #keys = new WeakMap<pkijs.PublicKeyInfo, KeyObject | null>();

  constructor() {
    super({ name: PKIJS_ENGINE_NAME, crypto: webcrypto as unknown as EngineCrypto });
  }

  override async verifyWithPublicKey(
    data: Parameters<pkijs.CryptoEngine['verifyWithPublicKey']>[0],
    signature: asn1js.BitString | asn1js.OctetString,
    publicKeyInfo: pkijs.PublicKeyInfo,
    signatureAlgorithm: pkijs.AlgorithmIdentifier,
    shaAlgorithm?: string,
  ): Promise<boolean> {
    if (signatureAlgorithm.algorithmId !== OID_SM2_WITH_SM3) {
      return super.verifyWithPublicKey(data, signature, publicKeyInfo, signatureAlgorithm, shaAlgorithm);
    }
    // SM2-with-SM3 has no parameters (a NULL, which some encoders add, is tolerated); anything else is not this algorithm.
    const params: unknown = signatureAlgorithm.algorithmParams;
    if (params !== undefined && !(params instanceof asn1js.Null)) return false;
    const key = this.#sm2Key(publicKeyInfo);
    if (!key) return false;
    const message = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    try {
      return sm2Verify(key, message, signature.valueBlock.valueHexView);
    } catch (error) {
      if (isZtError(error)) return false; // a malformed signature does not verify
      throw error;
    }
  }

  #sm2Key(publicKeyInfo: pkijs.PublicKeyInfo): KeyObject | null {
    let key = this.#keys.get(publicKeyInfo);
    if (key === undefined) {
      try {
        key = loadSm2PublicKey(new Uint8Array(publicKeyInfo.toSchema().toBER(false)));
      } catch {
        key = null; // not an SM2 key: an SM2 signature cannot verify with it
      }
      this.#keys.set(publicKeyInfo, key);
    }
    return key;
  }
}

let engine: Sm2CryptoEngine | undefined;

/**
 * Installs the SM2 engine as pkijs's global engine, once. pkijs keeps its engine on the process global, so a second
 * copy of this module (another test file, another bundle) finds the engine already there and reuses it.
 */
export function installPkijsEngine(): pkijs.ICryptoEngine {
  let current: pkijs.GlobalCryptoEngine | undefined;
  try {
    current = pkijs.getEngine();
  } catch {
    current = undefined; // getEngine throws until some engine is set
  }
  if (current?.name === PKIJS_ENGINE_NAME && current.crypto) return current.crypto;
  engine ??= new Sm2CryptoEngine();
  pkijs.setEngine(PKIJS_ENGINE_NAME, engine);
  return engine;
}
