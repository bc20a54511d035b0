// Certificate path validation (RFC 5280 §6) with pkijs, SM2 signatures verified by the SM2 engine, revocation by
// CRLs. pkijs reports one ambiguous code for several failures (no path: unknown issuer or bad signature; code 8:
// expired or not yet valid), so on failure the path is walked again here to name the precise error.
import * as pkijs from 'pkijs';
import { ZtError } from '../../core/errors/index.js';
import { parseCertificate } from './certificate.js';
import { parseCrl } from './crl.js';
import { sameName } from './names.js';
import type { EncodedInput } from './pem.js';
import { pkijsEngine, sm2WebCrypto } from './setup.js';
import { x509 } from './x509-lib.js';

export interface ValidateChainOptions {
  /** The end-entity certificate. */
  certificate: EncodedInput | x509.X509Certificate;
  /** Untrusted certificates that may complete the path (issuing CAs). */
  intermediates?: readonly (EncodedInput | x509.X509Certificate)[];
  /** Trusted roots: the path must end at one of them. */
  trustAnchors: readonly (EncodedInput | x509.X509Certificate)[];
  crls?: readonly (EncodedInput | x509.X509Crl)[];
  /** The time of the check; now by default. */
  at?: Date;
  /**
   * With CRLs given: 'require' (the default) fails unless every certificate below the anchor is covered by a current
   * CRL of its issuer (fail closed); 'best-effort' checks the CRLs there are. pkijs still requires a CRL when the
   * issuer's own certificate advertises CRL distribution points. Without CRLs, revocation is not checked.
   */
  revocation?: 'require' | 'best-effort';
}

export interface ChainValidationResult {
  ok: true;
  /** From the end-entity certificate up to the trust anchor. */
  chain: x509.X509Certificate[];
  /** The earliest notAfter on the path: when the chain stops validating. */
  notAfter: Date;
}

/** pkijs result codes (CertificateChainValidationEngine). */
const PKIJS = { validity: 8, noRevocationInfo: 11, revoked: 12, noPath: 60, noValidPath: 97, generic: -1 } as const;

interface Material {
  leaf: x509.X509Certificate;
  intermediates: x509.X509Certificate[];
  anchors: x509.X509Certificate[];
  crls: x509.X509Crl[];
  at: Date;
}

function toPkijsCertificate(cert: x509.X509Certificate): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(cert.rawData);
  } catch (error) {
    throw new ZtError('ZT_ERR_CERT_MALFORMED', `the certificate ${cert.subject} cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
}

function toPkijsCrl(crl: x509.X509Crl): pkijs.CertificateRevocationList {
  try {
    return pkijs.CertificateRevocationList.fromBER(crl.rawData);
  } catch (error) {
    throw new ZtError('ZT_ERR_CRL_MALFORMED', `the CRL of ${crl.issuer} cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Validates the certificate's path to a trust anchor at `at`: signatures (SM2 with the default ID, or any algorithm
 * pkijs knows), validity periods, CA constraints and, with CRLs, revocation. Throws the specific ZtError:
 * ZT_ERR_CERT_UNKNOWN_ISSUER, ZT_ERR_CERT_EXPIRED, ZT_ERR_CERT_NOT_YET_VALID, ZT_ERR_CERT_REVOKED (details: serial,
 * date, reason), ZT_ERR_CERT_CHAIN_INVALID (bad signature, constraints, missing revocation information),
 * ZT_ERR_CERT_MALFORMED / ZT_ERR_CRL_MALFORMED for undecodable input.
 */
export async function validateChain(options: ValidateChainOptions): Promise<ChainValidationResult> {
  const at = options.at ?? new Date();
  if (Number.isNaN(at.getTime())) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the time of the check is not a valid date');
  if (options.trustAnchors.length === 0) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'at least one trust anchor is needed');
  const leaf = parseCertificate(options.certificate);
  const material: Material = {
    leaf,
    // pkijs drops repeated certificates and then takes the last one as the leaf: the leaf must not repeat.
    intermediates: (options.intermediates ?? []).map((c) => parseCertificate(c)).filter((c) => !sameCertificate(c, leaf)),
    anchors: options.trustAnchors.map((c) => parseCertificate(c)),
    crls: (options.crls ?? []).map((c) => parseCrl(c)),
    at,
  };

  // pkijs hands back its own objects; remember which of ours each one is.
  const ours = new Map<pkijs.Certificate, x509.X509Certificate>();
  const convert = (cert: x509.X509Certificate): pkijs.Certificate => {
    const converted = toPkijsCertificate(cert);
    ours.set(converted, cert);
    return converted;
  };
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: material.anchors.map(convert),
    // pkijs takes the last certificate of this list as the one to validate.
    certs: [...material.intermediates.map(convert), convert(material.leaf)],
    crls: material.crls.map(toPkijsCrl),
    checkDate: at,
  });
  const result = await engine.verify({ passedWhenNotRevValues: options.revocation === 'best-effort' }, pkijsEngine);
  if (!result.result) throw await explainFailure(material, result);

  const chain = (result.certificatePath ?? []).map((c) => ours.get(c)).filter((c): c is x509.X509Certificate => c !== undefined);
  if (chain.length === 0) throw new ZtError('ZT_ERR_CERT_CHAIN_INVALID', 'the validated path is empty');
  const notAfter = new Date(Math.min(...chain.map((c) => c.notAfter.getTime())));
  return { ok: true, chain, notAfter };
}

interface Walk {
  path: x509.X509Certificate[];
  error?: ZtError;
}

function sameCertificate(a: x509.X509Certificate, b: x509.X509Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer, signatureOnly: true }, sm2WebCrypto);
  } catch {
    return false;
  }
}

/** Walks from the leaf towards a trust anchor by name and signature, stopping at the first link that fails. */
async function walkPath(m: Material): Promise<Walk> {
  const pool = [...m.anchors, ...m.intermediates];
  const path = [m.leaf];
  let current = m.leaf;
  for (let depth = 0; depth < 16; depth++) {
    if (m.anchors.some((a) => sameCertificate(a, current))) return { path };
    // The issuer is known when a certificate has its name and, where both sides say, its key identifier. A same-named
    // certificate with another key is somebody else: unknown issuer, not a bad signature.
    const authorityKeyId = current.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    const candidates = pool.filter((c) => {
      if (!sameName(c.subjectName, current.issuerName) || sameCertificate(c, current)) return false;
      const subjectKeyId = c.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
      return authorityKeyId === undefined || subjectKeyId === undefined || subjectKeyId === authorityKeyId;
    });
    if (candidates.length === 0) {
      const message = sameName(current.subjectName, current.issuerName)
        ? `the path ends at ${current.subject}, a self-signed certificate that is not a trust anchor`
        : `no certificate of the issuer "${current.issuer}"${authorityKeyId ? ` (key id ${authorityKeyId})` : ''} of "${current.subject}" among the trust anchors and intermediates`;
      return { path, error: new ZtError('ZT_ERR_CERT_UNKNOWN_ISSUER', message) };
    }
    let issuer: x509.X509Certificate | undefined;
    for (const candidate of candidates) {
      if (await signedBy(current, candidate)) {
        issuer = candidate;
        break;
      }
    }
    if (!issuer) {
      return { path, error: new ZtError('ZT_ERR_CERT_CHAIN_INVALID', `the signature on "${current.subject}" does not verify with the key of its issuer "${current.issuer}"`) };
    }
    path.push(issuer);
    current = issuer;
  }
  return { path, error: new ZtError('ZT_ERR_CERT_CHAIN_INVALID', 'the certificate path is too long') };
}

function validityError(path: readonly x509.X509Certificate[], at: Date): ZtError | undefined {
  for (const cert of path) {
    if (at.getTime() > cert.notAfter.getTime()) {
      return new ZtError('ZT_ERR_CERT_EXPIRED', `the certificate "${cert.subject}" expired at ${cert.notAfter.toISOString()}`, {
        details: { subject: cert.subject, serialNumber: cert.serialNumber, notAfter: cert.notAfter.toISOString() },
      });
    }
    if (at.getTime() < cert.notBefore.getTime()) {
      return new ZtError('ZT_ERR_CERT_NOT_YET_VALID', `the certificate "${cert.subject}" is valid from ${cert.notBefore.toISOString()}`, {
        details: { subject: cert.subject, serialNumber: cert.serialNumber, notBefore: cert.notBefore.toISOString() },
      });
    }
  }
  return undefined;
}

/** The first certificate on the path listed in a CRL that its issuer really signed. */
async function revocationError(m: Material, path: readonly x509.X509Certificate[]): Promise<ZtError | undefined> {
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    for (const crl of m.crls) {
      if (!sameName(crl.issuerName, cert.issuerName)) continue;
      const entry = crl.findRevoked(cert.serialNumber);
      if (!entry) continue;
      let signed = false;
      try {
        signed = await crl.verify({ publicKey: issuer }, sm2WebCrypto);
      } catch {
        signed = false;
      }
      if (!signed) continue;
      const reason = entry.reason === undefined ? undefined : x509.X509CrlReason[entry.reason];
      return new ZtError(
        'ZT_ERR_CERT_REVOKED',
        `the certificate "${cert.subject}" (serial ${cert.serialNumber}) was revoked on ${entry.revocationDate.toISOString()}${reason ? `, reason ${reason}` : ''}`,
        { details: { subject: cert.subject, serialNumber: cert.serialNumber, revocationDate: entry.revocationDate.toISOString(), reason } },
      );
    }
  }
  return undefined;
}

async function explainFailure(m: Material, result: pkijs.CertificateChainValidationEngineVerifyResult): Promise<ZtError> {
  const walk = await walkPath(m);
  const fallback = new ZtError('ZT_ERR_CERT_CHAIN_INVALID', `the certificate chain does not validate: ${result.resultMessage}`, {
    cause: result.error,
    details: { pkijsCode: result.resultCode },
  });
  switch (result.resultCode) {
    case PKIJS.validity:
      return validityError(walk.path, m.at) ?? walk.error ?? fallback;
    case PKIJS.revoked:
      return (await revocationError(m, walk.path)) ?? new ZtError('ZT_ERR_CERT_REVOKED', 'a certificate on the path has been revoked');
    case PKIJS.noPath:
    case PKIJS.noValidPath:
    case PKIJS.generic:
      // No path: either nobody issued a link (unknown issuer) or a signature fails (chain invalid).
      return walk.error ?? validityError(walk.path, m.at) ?? fallback;
    case PKIJS.noRevocationInfo:
      return new ZtError('ZT_ERR_CERT_CHAIN_INVALID', `revocation cannot be checked: ${result.resultMessage}`, { details: { pkijsCode: result.resultCode } });
    default:
      return fallback;
  }
}
