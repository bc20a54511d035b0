// Teaches @peculiar/x509's algorithm registry the SM2 names: the signature algorithm SM2-with-SM3
// (1.2.156.10197.1.501, AlgorithmIdentifier without parameters, GM/T 0006) and SM2 public keys
// (id-ecPublicKey with namedCurve sm2p256v1, 1.2.156.10197.1.301).
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ECParameters, id_ecPublicKey } from '@peculiar/asn1-ecc';
import { OID_SM2_CURVE, OID_SM2_WITH_SM3 } from '../sm2/sm2.js';
import { SM2_ALGORITHM, SM2_NAMED_CURVE, SM3_ALGORITHM } from './sm2-webcrypto.js';
import type { x509 } from './x509-lib.js';

interface NamedAlgorithm {
  name: string;
  hash?: string | { name: string };
  namedCurve?: string;
}

function hashName(hash: NamedAlgorithm['hash']): string | undefined {
  return typeof hash === 'string' ? hash : hash?.name;
}

export const SM2_ALGORITHM_MARK = Symbol.for('zhengtong.certs.x509.sm2-algorithm');

export class Sm2Algorithm implements x509.IAlgorithm {
  readonly [SM2_ALGORITHM_MARK] = true;

  toAsnAlgorithm(algorithm: NamedAlgorithm): AlgorithmIdentifier | null {
    if (algorithm.name.toUpperCase() !== SM2_ALGORITHM) return null;
    const hash = hashName(algorithm.hash);
    if (hash !== undefined) {
      // Another hash is not SM2-with-SM3; returning null lets the registry report the algorithm as unknown.
      return hash.toUpperCase() === SM3_ALGORITHM ? new AlgorithmIdentifier({ algorithm: OID_SM2_WITH_SM3 }) : null;
    }
    if (algorithm.namedCurve === SM2_NAMED_CURVE) {
      return new AlgorithmIdentifier({
        algorithm: id_ecPublicKey,
        parameters: AsnConvert.serialize(new ECParameters({ namedCurve: OID_SM2_CURVE })),
      });
    }
    return null;
  }

  toWebAlgorithm(identifier: AlgorithmIdentifier): NamedAlgorithm | null {
    if (identifier.algorithm === OID_SM2_WITH_SM3) return { name: SM2_ALGORITHM, hash: { name: SM3_ALGORITHM } };
    if (identifier.algorithm === id_ecPublicKey && identifier.parameters) {
      try {
        const parameters = AsnConvert.parse(identifier.parameters, ECParameters);
        if (parameters.namedCurve === OID_SM2_CURVE) return { name: SM2_ALGORITHM, namedCurve: SM2_NAMED_CURVE };
      } catch {
        // Not named-curve parameters: not ours to describe.
      }
    }
    return null;
  }
}
