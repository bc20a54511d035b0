// X.509 with SM2 (GM/T 0015): certificates, requests, CRLs and path validation, on @peculiar/x509 and pkijs with the
// project's SM2 primitives plugged in (see setup.ts). The library objects (X509Certificate, X509Crl,
// Pkcs10CertificateRequest) are what these functions take and return.
export { sm2WebCrypto, pkijsEngine } from './setup.js';
export { x509 } from './x509-lib.js';
export { Sm2CryptoKey, toSm2CryptoKey, createSm2WebCrypto, SM2_ALGORITHM, SM2_NAMED_CURVE, SM3_ALGORITHM } from './sm2-webcrypto.js';
export { Sm2Algorithm } from './sm2-algorithm.js';
export { Sm2CryptoEngine, installPkijsEngine, PKIJS_ENGINE_NAME } from './pkijs-engine.js';
export {
  createCertificate,
  parseCertificate,
  assertCertificateUsage,
  EXTENDED_KEY_USAGE,
  type CaSigner,
  type CertificateTemplate,
  type CreateCertificateOptions,
  type KeyUsageName,
  type SubjectAltNames,
} from './certificate.js';
export { createCsr, parseCsr, type CreateCsrOptions } from './csr.js';
export { createCrl, parseCrl, verifyCrl, readCrlNumber, type CreateCrlOptions, type RevocationReason, type RevokedCertificateEntry } from './crl.js';
export { validateChain, type ValidateChainOptions, type ChainValidationResult } from './chain.js';
export { toX509Name, readDistinguishedName, readSubjectSerialNumber, sameName, OID_NAME, type DistinguishedName } from './names.js';
export { organisationIdentifierExtensions, readOrganisationIdentifiers, readUscc, OID_GMT0015, type OrganisationIdentifiers } from './organisation.js';
export { exportPem, exportDer, toPem, toDer, decodePem, PEM_LABEL, type EncodedInput, type X509Object } from './pem.js';
export type { PublicKeyInput } from './keys.js';
