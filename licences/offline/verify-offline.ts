// Verifying a presented licence without asking the registry (离线核验): whoever holds the CA certificate, and a cached
// copy of the issuer's status list, can tell whether a licence from a QR code or a file is genuine and still valid.
//
// Genuine: the signer's certificate chains to the platform CA and may sign, and the signature holds over the exact
// document bytes. Valid: the status list (itself signed and chained to the same CA) says active, and today (in China)
// lies within the document's dates. The signer's certificate is checked at the signing time, because licences
// outlive the platform's one-year certificates; current revocation news comes from the status list, which must be
// signed by a certificate valid now.
import { isZtError, ZtError } from '../../core/errors/index.js';
import { decodeEnvelopeJson, assertEnvelope, verifyEnvelope, type EnvelopeJson, type SignedEnvelope } from '../../certs/envelope/index.js';
import { loadSm2PublicKey, sm3 } from '../../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, readUscc, validateChain, type EncodedInput, type x509 } from '../../certs/x509/index.js';
import { parseLicenceIdentifier, type LicenceIdentifier } from '../identifier.js';
import { effectiveStatus, licenceDocumentBytes, type LicenceDocument, type LicenceStatus, type StoredLicenceStatus } from '../licence.js';
import { statusAt, verifyStatusListCredential, type TrustedCertificates, type VerifiedStatusList } from '../status-list/index.js';
import { decodeCompactLicence } from './compact.js';
import { parseLicenceDocumentJson, readLicenceDocument } from './document.js';

const CLOCK_SKEW_MS = 5 * 60_000;

export interface VerifyLicenceOfflineOptions {
  /** A compact licence (ZTL1:…, from a QR code). Give this, or `document` and `envelope`. */
  payload?: string;
  /** The document: parsed, or its JSON text; its canonical JSON is what was signed. */
  document?: LicenceDocument | string | Uint8Array;
  /** The registry's envelope: parsed, its JSON form, or that JSON's text. */
  envelope?: SignedEnvelope | EnvelopeJson | string;
  /** The platform root CA, and the issuing CA. */
  caCertificates: TrustedCertificates;
  /** The issuer's status list credential (parsed JSON or text). Without it the status is 'unknown'. */
  statusList?: unknown;
  /** The signer's certificate (PEM or DER), when neither the envelope nor the status list carries it. */
  signerCertificate?: EncodedInput;
  /** The time of the check; now by default. */
  at?: Date;
  /** Refuse a status list past its validUntil; by default it is used and a warning says it is stale. */
  requireFreshStatusList?: boolean;
  /** The platform's USCC, when the verifier knows it: the signer's certificate must name it. */
  platformUscc?: string;
}

/** What was checked, in order. */
export type OfflineCheck = 'signer-certificate' | 'signature' | 'document' | 'identifier' | 'status-list' | 'status-entry' | 'dates';

export interface OfflineSignerInfo {
  subject: string;
  commonName?: string;
  /** The platform's USCC, as its certificate names it (GM/T 0015 extensions or subject serialNumber). */
  uscc?: string;
  /** SM3 of the certificate DER, hex. */
  fingerprint: string;
  notAfter: Date;
  /** Where the certificate came from. */
  source: 'given' | 'envelope' | 'status-list';
}

export interface OfflineLicenceVerification {
  document: LicenceDocument;
  /** The exact bytes that were signed. */
  documentBytes: Buffer;
  identifier: LicenceIdentifier;
  /** What to act on: 'valid' only when the list says active and the dates hold; 'unknown' without a status list. */
  status: LicenceStatus | 'unknown';
  /** The status the list holds, when a list was given. */
  storedStatus?: StoredLicenceStatus;
  signedAt: Date;
  signer: OfflineSignerInfo;
  statusList?: { url: string; revision: number; validUntil: Date; stale: boolean; signedAt: Date; index: number };
  checks: OfflineCheck[];
  warnings: string[];
}

interface Presented {
  bytes: Buffer;
  envelope: SignedEnvelope;
  value: unknown;
}

function usage(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

/** The bytes, envelope and parsed document from either form of input. */
function readPresented(options: VerifyLicenceOfflineOptions): Presented {
  if (options.payload !== undefined) {
    if (options.document !== undefined || options.envelope !== undefined) throw usage('give a compact payload, or a document and an envelope, not both');
    const compact = decodeCompactLicence(options.payload);
    return { bytes: compact.documentBytes, envelope: compact.envelope, value: compact.document };
  }
  if (options.document === undefined || options.envelope === undefined) throw usage('give a compact payload, or both a document and its envelope');
  const value = typeof options.document === 'string' || options.document instanceof Uint8Array ? parseLicenceDocumentJson(options.document) : options.document;
  let bytes: Buffer;
  try {
    bytes = licenceDocumentBytes(value as LicenceDocument);
  } catch (error) {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `the licence document cannot be put in canonical form: ${(error as Error).message}`, { cause: error });
  }
  const e = options.envelope;
  let envelope: SignedEnvelope;
  if (typeof e === 'string') envelope = decodeEnvelopeJson(e);
  else if (Buffer.isBuffer((e as SignedEnvelope).signature)) {
    envelope = e as SignedEnvelope;
    assertEnvelope(envelope);
  } else envelope = decodeEnvelopeJson(e as EnvelopeJson);
  return { bytes, envelope, value };
}

/**
 * Verifies a presented licence offline. Throws when it is not shown genuine: ZT_ERR_LICENCE_TAMPERED (the signature
 * does not hold over the document), ZT_ERR_LICENCE_DOCUMENT_MALFORMED, ZT_ERR_LICENCE_IDENTIFIER_*, ZT_ERR_CERT_*
 * (the signer's certificate), ZT_ERR_STATUS_LIST_INVALID or the list's certificate and signature codes, and
 * ZT_ERR_REQUEST_INVALID when the input is incomplete (no certificate for the signer). Otherwise returns the status,
 * which may well be revoked, suspended, superseded or expired.
 */
export async function verifyLicenceOffline(options: VerifyLicenceOfflineOptions): Promise<OfflineLicenceVerification> {
  const at = options.at ?? new Date();
  const checks: OfflineCheck[] = [];
  const warnings: string[] = [];
  const presented = readPresented(options);
  const { envelope, bytes } = presented;

  // The list first: it may be where the signer's certificate comes from.
  let list: VerifiedStatusList | undefined;
  if (options.statusList !== undefined) {
    list = await verifyStatusListCredential(options.statusList, { caCertificates: options.caCertificates, at, allowStale: options.requireFreshStatusList !== true });
    checks.push('status-list');
    if (list.stale) warnings.push(`the status list expired at ${list.validUntil.toISOString()} (revision ${list.credential.credentialSubject.revision}): a later status change would not show; fetch a current copy from ${list.url}`);
  }

  const { certificate, source } = signerCertificateFor(envelope, options.signerCertificate, list);
  const signingTime = envelope.signingTime;
  if (signingTime.getTime() > at.getTime() + CLOCK_SKEW_MS) {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `the licence says it was signed at ${signingTime.toISOString()}, after the time of the check ${at.toISOString()}: check the clock`);
  }
  await validateChain({ certificate, trustAnchors: options.caCertificates.trustAnchors, intermediates: options.caCertificates.intermediates ?? [], at: signingTime });
  assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
  const uscc = readUscc(certificate);
  if (options.platformUscc !== undefined && uscc !== options.platformUscc) {
    throw new ZtError('ZT_ERR_LICENCE_TAMPERED', `the licence was signed by "${certificate.subject}"${uscc ? ` (USCC ${uscc})` : ''}, not by the platform ${options.platformUscc}`);
  }
  if (!uscc) warnings.push(`the signer's certificate "${certificate.subject}" names no unified social credit code`);
  if (certificate.notAfter.getTime() < at.getTime()) {
    warnings.push(`the signer's certificate expired at ${certificate.notAfter.toISOString()}; it was valid when the licence was signed`);
  }
  checks.push('signer-certificate');

  try {
    await verifyEnvelope(envelope, bytes, { publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)) });
  } catch (error) {
    if (isZtError(error) && (error.code === 'ZT_ERR_SIGNATURE_INVALID' || error.code === 'ZT_ERR_PROOF_INVALID')) {
      throw new ZtError('ZT_ERR_LICENCE_TAMPERED', `the licence does not match the registry's signature: it has been altered, or was not signed by "${certificate.subject}" (${error.message})`, { cause: error });
    }
    throw error;
  }
  checks.push('signature');

  const document = readLicenceDocument(presented.value);
  checks.push('document');
  const identifier = parseLicenceIdentifier(document.identifier, { lenient: true });
  if (identifier.nonStandardCheck) warnings.push(`the identifier's check character ${identifier.check} does not follow ISO/IEC 7064 MOD 37,36 (accepted, as some regions issue such identifiers)`);
  if (identifier.version !== document.version) warnings.push(`the identifier says version ${identifier.version}, the document version ${document.version}`);
  if (identifier.issuerCode !== document.issuer.code) warnings.push(`the identifier names issuer ${identifier.issuerCode}, the document ${document.issuer.code}`);
  checks.push('identifier');

  let status: LicenceStatus | 'unknown';
  let storedStatus: StoredLicenceStatus | undefined;
  if (list) {
    if (list.url !== document.status.list) {
      throw new ZtError('ZT_ERR_STATUS_LIST_INVALID', `the status list given is ${list.url}, but the licence's is ${document.status.list}`, { details: { field: 'id' } });
    }
    if (list.issuer.code !== document.issuer.code) {
      throw new ZtError('ZT_ERR_STATUS_LIST_INVALID', `the status list is issuer ${list.issuer.code}'s, but the licence was issued by ${document.issuer.code}`, { details: { field: 'issuer.code' } });
    }
    storedStatus = statusAt(list, document.status.index);
    checks.push('status-entry');
    status = effectiveStatus(storedStatus, document.validFrom, document.validTo, at);
  } else {
    // Without a list, revocation is unknown, but the dates alone can still rule the licence out.
    const byDates = effectiveStatus('active', document.validFrom, document.validTo, at);
    status = byDates === 'valid' ? 'unknown' : byDates;
    warnings.push('no status list given: whether the licence has been revoked, suspended or superseded is not known');
  }
  checks.push('dates');

  const commonName = certificate.subjectName.getField('2.5.4.3')[0];
  const result: OfflineLicenceVerification = {
    document,
    documentBytes: bytes,
    identifier,
    status,
    signedAt: signingTime,
    signer: {
      subject: certificate.subject,
      ...(commonName ? { commonName } : {}),
      ...(uscc ? { uscc } : {}),
      fingerprint: sm3(Buffer.from(certificate.rawData)).toString('hex'),
      notAfter: certificate.notAfter,
      source,
    },
    checks,
    warnings,
  };
  if (storedStatus !== undefined) result.storedStatus = storedStatus;
  if (list) {
    result.statusList = { url: list.url, revision: list.revision, validUntil: list.validUntil, stale: list.stale, signedAt: list.signedAt, index: document.status.index };
  }
  return result;
}

/** The signer's certificate: given, carried by the envelope, or the status list's when its SM3 is the one the licence names. */
function signerCertificateFor(
  envelope: SignedEnvelope,
  given: EncodedInput | undefined,
  list: VerifiedStatusList | undefined,
): { certificate: x509.X509Certificate; source: OfflineSignerInfo['source'] } {
  const named = envelope.signer.certificateSm3 ?? (envelope.signer.certificate ? sm3(envelope.signer.certificate) : undefined);
  if (given !== undefined) {
    const certificate = parseCertificate(given);
    if (named && !named.equals(sm3(Buffer.from(certificate.rawData)))) {
      throw new ZtError('ZT_ERR_SIGNATURE_INVALID', `the licence names another signer certificate (SM3 ${named.toString('hex')}) than the one given (SM3 ${sm3(Buffer.from(certificate.rawData)).toString('hex')})`);
    }
    return { certificate, source: 'given' };
  }
  if (envelope.signer.certificate) return { certificate: parseCertificate(envelope.signer.certificate), source: 'envelope' };
  if (!named) throw usage("the licence's envelope names no signer certificate: give the signer's certificate");
  if (list) {
    if (named.equals(list.signer.fingerprint)) return { certificate: list.signer.certificate, source: 'status-list' };
    throw usage(
      `the licence was signed with the certificate of SM3 ${named.toString('hex')}, the status list with SM3 ${list.signer.fingerprint.toString('hex')} (the platform's certificate has changed): give the licence's signer certificate`,
    );
  }
  throw usage(`the signer's certificate (SM3 ${named.toString('hex')}) is not in the licence: give the issuer's status list, which carries it, or the certificate itself`);
}
