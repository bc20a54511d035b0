// PKCS #10 certificate requests signed with SM2-with-SM3.
import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { OID_SM2_WITH_SM3 } from '../sm2/sm2.js';
import { isSingleSequence } from './der.js';
import { sameSm2Key, sm2PrivateKey, sm2PublicKey } from './keys.js';
import { toX509Name, type DistinguishedName } from './names.js';
import { organisationIdentifierExtensions, type OrganisationIdentifiers } from './organisation.js';
import { PEM_INPUT_LABELS, toDer, type EncodedInput } from './pem.js';
import { sm2WebCrypto } from './setup.js';
import { SM2_ALGORITHM, SM3_ALGORITHM, toSm2CryptoKey } from './sm2-webcrypto.js';
import { x509 } from './x509-lib.js';

export interface CreateCsrOptions {
  subject: DistinguishedName | x509.Name;
  privateKey: KeyObject;
  /** Derived from the private key when absent; when given, it must match. */
  publicKey?: KeyObject;
  organisationIdentifiers?: { uscc: string } | OrganisationIdentifiers;
  /** Requested extensions (PKCS #9 extensionRequest). */
  extensions?: readonly x509.Extension[];
}

export async function createCsr(options: CreateCsrOptions): Promise<x509.Pkcs10CertificateRequest> {
  const privateKey = sm2PrivateKey(options.privateKey, 'key of the request');
  const publicKey = sm2PublicKey(options.publicKey ?? privateKey);
  if (!sameSm2Key(privateKey, publicKey)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the public key does not belong to the private key');
  const extensions = [...(options.extensions ?? [])];
  if (options.organisationIdentifiers) extensions.push(...organisationIdentifierExtensions(options.organisationIdentifiers));
  return x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: toX509Name(options.subject),
      keys: { privateKey: toSm2CryptoKey(privateKey), publicKey: toSm2CryptoKey(publicKey) },
      signingAlgorithm: { name: SM2_ALGORITHM, hash: SM3_ALGORITHM },
      extensions,
    },
    sm2WebCrypto,
  );
}

function csrInvalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_CSR_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * Reads a request from PEM or DER and checks it is SM2 (key and signature) and signed by the key it carries, with
 * the default user ID. ZT_ERR_CSR_INVALID otherwise.
 */
export async function parseCsr(input: EncodedInput): Promise<x509.Pkcs10CertificateRequest> {
  const der = toDer(input, PEM_INPUT_LABELS.certificateRequest);
  if (!der) throw csrInvalid('no CERTIFICATE REQUEST PEM block, or its body is not base64');
  if (!isSingleSequence(der)) throw csrInvalid('the bytes are not one DER SEQUENCE');
  let csr: x509.Pkcs10CertificateRequest;
  let asn: CertificationRequest;
  try {
    asn = AsnConvert.parse(der, CertificationRequest);
    csr = new x509.Pkcs10CertificateRequest(der);
    void [csr.subject, csr.publicKey.algorithm, csr.attributes, csr.extensions];
  } catch (error) {
    throw csrInvalid(`the request cannot be decoded: ${(error as Error).message}`, error);
  }
  if (asn.signatureAlgorithm.algorithm !== OID_SM2_WITH_SM3) throw csrInvalid(`the request is signed with ${asn.signatureAlgorithm.algorithm}, not SM2-with-SM3`);
  try {
    sm2PublicKey(csr.publicKey);
  } catch (error) {
    throw csrInvalid('the request does not carry an SM2 public key', error);
  }
  let verified: boolean;
  try {
    verified = await csr.verify(sm2WebCrypto);
  } catch (error) {
    if (isZtError(error) && error.code === 'ZT_ERR_CSR_INVALID') throw error;
    throw csrInvalid(`the request's signature cannot be checked: ${(error as Error).message}`, error);
  }
  if (!verified) throw csrInvalid("the request's signature does not verify with its public key and the default SM2 user ID");
  return csr;
}
