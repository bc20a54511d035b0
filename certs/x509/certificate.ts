// Issuing and reading SM2 certificates (GM/T 0015 profile of RFC 5280), through @peculiar/x509 with SM2 plugged in.
import type { KeyObject } from 'node:crypto';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { sm3 } from '../sm2/sm2.js';
import { isSingleSequence } from './der.js';
import { sameSm2Key, sm2PrivateKey, sm2PublicKey, type PublicKeyInput } from './keys.js';
import { toX509Name, type DistinguishedName } from './names.js';
import { organisationIdentifierExtensions, type OrganisationIdentifiers } from './organisation.js';
import { PEM_INPUT_LABELS, toDer, type EncodedInput } from './pem.js';
import { sm2WebCrypto } from './setup.js';
import { SM2_ALGORITHM, SM3_ALGORITHM, toSm2CryptoKey } from './sm2-webcrypto.js';
import { x509 } from './x509-lib.js';

export type KeyUsageName = keyof typeof x509.KeyUsageFlags;

/** Extended key usages met on platform certificates (RFC 5280 §4.2.1.12); any other OID may be given as is. */
export const EXTENDED_KEY_USAGE = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** A certificate authority that signs: its certificate and its private key. */
export interface CaSigner {
  certificate: x509.X509Certificate;
  privateKey: KeyObject;
}

export interface SubjectAltNames {
  dns?: readonly string[];
  email?: readonly string[];
  uri?: readonly string[];
  ip?: readonly string[];
}

export interface CertificateTemplate {
  subject: DistinguishedName | x509.Name;
  /** The subject's SM2 public key. */
  publicKey: PublicKeyInput;
  /** Hexadecimal, at most 20 octets; random 128 bits when absent. */
  serialNumber?: string;
  notBefore: Date;
  notAfter: Date;
  keyUsage: readonly KeyUsageName[];
  /** OIDs, e.g. EXTENDED_KEY_USAGE.clientAuth. */
  extendedKeyUsage?: readonly string[];
  basicConstraints: { ca: boolean; pathLength?: number };
  subjectAltName?: SubjectAltNames;
  /** URL(s) where the issuer publishes its CRL. */
  crlDistributionPoints?: readonly string[];
  /** GM/T 0015 organisation identifiers, e.g. { uscc } for a department. */
  organisationIdentifiers?: { uscc: string } | OrganisationIdentifiers;
  /** Further extensions, e.g. copied from a CSR; none may repeat one built from the fields above. */
  extensions?: readonly x509.Extension[];
}

export type CreateCertificateOptions = CertificateTemplate & ({ issuer: CaSigner } | { issuer: 'self'; privateKey: KeyObject });

const SIGNING_ALGORITHM = { name: SM2_ALGORITHM, hash: SM3_ALGORITHM };

function invalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message, cause === undefined ? {} : { cause });
}

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function checkTemplate(t: CertificateTemplate): void {
  if (!isDate(t.notBefore) || !isDate(t.notAfter)) throw invalid('notBefore and notAfter must be valid dates');
  if (t.notAfter.getTime() <= t.notBefore.getTime()) throw invalid('notAfter must be later than notBefore');
  if (t.serialNumber !== undefined) {
    const hex = t.serialNumber.replace(/^0+/, '');
    if (!/^[0-9a-fA-F]+$/.test(t.serialNumber) || hex.length === 0 || hex.length > 40) {
      throw invalid('serialNumber must be a positive hexadecimal number of at most 20 octets');
    }
  }
  if (t.keyUsage.length === 0) throw invalid('keyUsage must name at least one usage');
  for (const usage of t.keyUsage) if (!(usage in x509.KeyUsageFlags) || typeof x509.KeyUsageFlags[usage] !== 'number') throw invalid(`unknown key usage ${usage}`);
  const signsCertificates = t.keyUsage.includes('keyCertSign');
  // RFC 5280 §4.2.1.3 and §4.2.1.9: keyCertSign and cA go together.
  if (t.basicConstraints.ca !== signsCertificates) throw invalid('a CA certificate must have the keyCertSign usage, and only a CA certificate may have it');
  if (t.basicConstraints.pathLength !== undefined) {
    if (!t.basicConstraints.ca) throw invalid('pathLength applies to CA certificates only');
    if (!Number.isInteger(t.basicConstraints.pathLength) || t.basicConstraints.pathLength < 0) throw invalid('pathLength must be a non-negative integer');
  }
}

/** Checks that the issuer may sign this certificate: a CA, allowed keyCertSign, whose validity covers the new one. */
function checkIssuer(issuer: CaSigner, template: CertificateTemplate): KeyObject {
  const cert = issuer.certificate;
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new ZtError('ZT_ERR_CERT_USAGE', `the issuer ${cert.subject} is not a CA certificate`);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) throw new ZtError('ZT_ERR_CERT_USAGE', `the issuer ${cert.subject} may not sign certificates (no keyCertSign)`);
  if (template.basicConstraints.ca && constraints.pathLength === 0) {
    throw new ZtError('ZT_ERR_CERT_USAGE', `the issuer ${cert.subject} may not sign CA certificates (pathLength 0)`);
  }
  if (template.notBefore.getTime() < cert.notBefore.getTime() || template.notAfter.getTime() > cert.notAfter.getTime()) {
    throw invalid(`the validity must lie within the issuer's (${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
  }
  const privateKey = sm2PrivateKey(issuer.privateKey, "issuer's key");
  if (!sameSm2Key(privateKey, sm2PublicKey(cert.publicKey))) throw invalid(`the private key given is not the key of the issuer ${cert.subject}`);
  return privateKey;
}

/**
 * The key identifier of an SM2 public key: RFC 7093 §2 method 4, the SM3 hash (all 256 bits) of the DER encoding of
 * the SubjectPublicKeyInfo, the very bytes the certificate carries. Method 4 is the one RFC 7093 method that names
 * no hash function (methods 1 to 3 are SHA-256, -384 and -512 cut to 160 bits), so SM3 fits it as written; RFC 5280's
 * SHA-1 (§4.2.1.2) is not used. Only new identifiers are computed this way: an issuer's existing SKI (SHA-1 on a CA
 * made before) is copied into the AKI of what it issues, never recomputed.
 */
async function keyIdentifier(key: KeyObject): Promise<string> {
  const spki = await x509.PublicKey.create(toSm2CryptoKey(key), sm2WebCrypto);
  return sm3(new Uint8Array(spki.rawData)).toString('hex');
}

function subjectAltNameExtension(names: SubjectAltNames): x509.Extension | undefined {
  const entries: x509.JsonGeneralName[] = [
    ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(names.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(names.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  return entries.length ? new x509.SubjectAlternativeNameExtension(entries, false) : undefined;
}

/** Issues a certificate, signed with SM2-with-SM3 by the issuing CA (or by the subject's own key when 'self'). */
export async function createCertificate(options: CreateCertificateOptions): Promise<x509.X509Certificate> {
  checkTemplate(options);
  const subjectKey = sm2PublicKey(options.publicKey);
  const subject = toX509Name(options.subject);
  const subjectKeyId = await keyIdentifier(subjectKey);

  let signingKey: KeyObject;
  let issuerName: x509.Name;
  let authorityKeyId: string;
  if (options.issuer === 'self') {
    signingKey = sm2PrivateKey(options.privateKey, "subject's key");
    if (!sameSm2Key(signingKey, subjectKey)) throw invalid('the private key does not belong to the public key of a self-signed certificate');
    issuerName = subject;
    authorityKeyId = subjectKeyId;
  } else {
    signingKey = checkIssuer(options.issuer, options);
    issuerName = options.issuer.certificate.subjectName;
    // RFC 5280 §4.2.1.1: the AKI repeats the issuer's SKI as it is written (SHA-1 on a CA made before SM3 identifiers),
    // so path building by key identifier still finds the issuer; computed only for an issuer without one.
    authorityKeyId = options.issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? (await keyIdentifier(sm2PublicKey(options.issuer.certificate.publicKey)));
  }

  const usageFlags = options.keyUsage.reduce((flags, usage) => flags | x509.KeyUsageFlags[usage], 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.basicConstraints.ca, options.basicConstraints.pathLength, true),
    new x509.KeyUsagesExtension(usageFlags, true),
    new x509.SubjectKeyIdentifierExtension(subjectKeyId, false),
    new x509.AuthorityKeyIdentifierExtension(authorityKeyId, false),
  ];
  if (options.extendedKeyUsage?.length) extensions.push(new x509.ExtendedKeyUsageExtension([...options.extendedKeyUsage], false));
  const san = options.subjectAltName && subjectAltNameExtension(options.subjectAltName);
  if (san) extensions.push(san);
  if (options.crlDistributionPoints?.length) extensions.push(new x509.CRLDistributionPointsExtension([...options.crlDistributionPoints], false));
  if (options.organisationIdentifiers) extensions.push(...organisationIdentifierExtensions(options.organisationIdentifiers));
  extensions.push(...(options.extensions ?? []));
  const seen = new Set<string>();
  for (const extension of extensions) {
    if (seen.has(extension.type)) throw invalid(`the extension ${extension.type} is given twice`);
    seen.add(extension.type);
  }

  try {
    return await x509.X509CertificateGenerator.create(
      {
        serialNumber: options.serialNumber,
        subject,
        issuer: issuerName,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        publicKey: toSm2CryptoKey(subjectKey),
        signingKey: toSm2CryptoKey(signingKey),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions,
      },
      sm2WebCrypto,
    );
  } catch (error) {
    if (isZtError(error)) throw error;
    throw invalid(`the certificate cannot be built: ${(error as Error).message}`, error);
  }
}

/**
 * Reads a certificate from PEM or DER. ZT_ERR_CERT_MALFORMED for anything that is not exactly one well-formed
 * X.509 certificate (trailing bytes included). The signature is not checked here: see validateChain.
 */
export function parseCertificate(input: EncodedInput | x509.X509Certificate): x509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input;
  const der = toDer(input, PEM_INPUT_LABELS.certificate);
  if (!der) throw new ZtError('ZT_ERR_CERT_MALFORMED', 'no CERTIFICATE PEM block, or its body is not base64');
  if (!isSingleSequence(der)) throw new ZtError('ZT_ERR_CERT_MALFORMED', 'the bytes are not one DER SEQUENCE');
  try {
    const cert = new x509.X509Certificate(der);
    // The library decodes lazily; touch every field so that a broken one fails here, not later.
    void [cert.serialNumber, cert.subject, cert.issuer, cert.notBefore, cert.notAfter, cert.signatureAlgorithm, cert.publicKey.algorithm, cert.extensions];
    return cert;
  } catch (error) {
    throw new ZtError('ZT_ERR_CERT_MALFORMED', `the certificate cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
}

/** ZT_ERR_CERT_USAGE unless the certificate allows every key usage and extended key usage named. */
export function assertCertificateUsage(cert: x509.X509Certificate, required: { keyUsage?: readonly KeyUsageName[]; extendedKeyUsage?: readonly string[] }): void {
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  for (const name of required.keyUsage ?? []) {
    // RFC 5280 §4.2.1.3: without the extension, the key's use is not restricted by it.
    if (usage && !(usage.usages & x509.KeyUsageFlags[name])) throw new ZtError('ZT_ERR_CERT_USAGE', `the certificate of ${cert.subject} does not allow ${name}`);
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  for (const oid of required.extendedKeyUsage ?? []) {
    if (eku && !eku.usages.map(String).includes(oid)) throw new ZtError('ZT_ERR_CERT_USAGE', `the certificate of ${cert.subject} does not allow the extended usage ${oid}`);
  }
}
