// Certificate revocation lists (RFC 5280 §5), v2, signed with SM2-with-SM3.
// Every entry carries a reason code: @peculiar/x509 gives an entry without one an empty extensions SEQUENCE, which
// RFC 5280 forbids and pkijs rejects (DOMAIN.md, pitfall 5), and it treats reason 0 (unspecified) as "no reason",
// so the reason extension is built here and passed as an entry extension.
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLReason, type CRLReasons, id_ce_cRLNumber, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { type CaSigner } from './certificate.js';
import { encodeUnsignedInteger, isSingleSequence } from './der.js';
import { sameSm2Key, sm2PrivateKey, sm2PublicKey } from './keys.js';
import { sameName } from './names.js';
import { PEM_INPUT_LABELS, toDer, type EncodedInput } from './pem.js';
import { sm2WebCrypto } from './setup.js';
import { SM2_ALGORITHM, SM3_ALGORITHM, toSm2CryptoKey } from './sm2-webcrypto.js';
import { x509 } from './x509-lib.js';

/** RFC 5280 §5.3.1 reason codes. removeFromCRL belongs to delta CRLs only and is not offered. */
export type RevocationReason = Exclude<keyof typeof x509.X509CrlReason, 'removeFromCRL'>;

export interface RevokedCertificateEntry {
  /** Hexadecimal, as X509Certificate.serialNumber gives it. */
  serialNumber: string;
  revocationDate: Date;
  reason: RevocationReason;
}

export interface CreateCrlOptions {
  issuer: CaSigner;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonically increasing per issuer (RFC 5280 §5.2.3). */
  crlNumber: number | bigint;
  entries: readonly RevokedCertificateEntry[];
}

function invalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message, cause === undefined ? {} : { cause });
}

function reasonExtension(reason: RevocationReason): x509.Extension {
  const code = x509.X509CrlReason[reason];
  if (typeof code !== 'number') throw invalid(`unknown revocation reason ${String(reason)}`);
  return new x509.Extension(id_ce_cRLReasons, false, AsnConvert.serialize(new CRLReason(code as number as CRLReasons)));
}

export async function createCrl(options: CreateCrlOptions): Promise<x509.X509Crl> {
  const { issuer } = options;
  if (!(options.thisUpdate instanceof Date) || !(options.nextUpdate instanceof Date) || !(options.nextUpdate.getTime() > options.thisUpdate.getTime())) {
    throw invalid('thisUpdate and nextUpdate must be dates, nextUpdate the later');
  }
  const crlNumber = BigInt(options.crlNumber);
  // RFC 5280 §5.2.3: at most 20 octets.
  if (crlNumber < 0n || crlNumber >= 1n << 159n) throw invalid('crlNumber must be a non-negative integer of at most 20 octets');
  const usage = issuer.certificate.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.cRLSign)) throw new ZtError('ZT_ERR_CERT_USAGE', `the issuer ${issuer.certificate.subject} may not sign CRLs (no cRLSign)`);
  const privateKey = sm2PrivateKey(issuer.privateKey, "issuer's key");
  if (!sameSm2Key(privateKey, sm2PublicKey(issuer.certificate.publicKey))) throw invalid(`the private key given is not the key of the issuer ${issuer.certificate.subject}`);

  const serials = new Set<string>();
  const entries: x509.X509CrlEntryParams[] = options.entries.map((entry) => {
    const serial = entry.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
    if (!/^[0-9a-f]+$/.test(serial)) throw invalid(`the serial number ${entry.serialNumber} is not hexadecimal`);
    if (serials.has(serial)) throw invalid(`the serial number ${entry.serialNumber} is listed twice`);
    serials.add(serial);
    if (!(entry.revocationDate instanceof Date) || Number.isNaN(entry.revocationDate.getTime())) throw invalid(`the revocation date of ${entry.serialNumber} is not a date`);
    return { serialNumber: entry.serialNumber, revocationDate: entry.revocationDate, extensions: [reasonExtension(entry.reason)] };
  });

  const authorityKeyId = issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: x509.Extension[] = [new x509.Extension(id_ce_cRLNumber, false, encodeUnsignedInteger(crlNumber))];
  // RFC 5280 §5.2.1: conforming CRL issuers MUST include the AKI.
  if (authorityKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(authorityKeyId, false));

  try {
    return await x509.X509CrlGenerator.create(
      {
        issuer: issuer.certificate.subjectName,
        thisUpdate: options.thisUpdate,
        nextUpdate: options.nextUpdate,
        extensions,
        entries,
        signingKey: toSm2CryptoKey(privateKey),
        signingAlgorithm: { name: SM2_ALGORITHM, hash: SM3_ALGORITHM },
      },
      sm2WebCrypto,
    );
  } catch (error) {
    if (isZtError(error)) throw error;
    throw invalid(`the CRL cannot be built: ${(error as Error).message}`, error);
  }
}

/** Reads a CRL from PEM (label X509 CRL or CRL) or DER; ZT_ERR_CRL_MALFORMED if it is not one. Not verified here. */
export function parseCrl(input: EncodedInput | x509.X509Crl): x509.X509Crl {
  if (input instanceof x509.X509Crl) return input;
  const der = toDer(input, PEM_INPUT_LABELS.crl);
  if (!der) throw new ZtError('ZT_ERR_CRL_MALFORMED', 'no X509 CRL PEM block, or its body is not base64');
  if (!isSingleSequence(der)) throw new ZtError('ZT_ERR_CRL_MALFORMED', 'the bytes are not one DER SEQUENCE');
  try {
    const crl = new x509.X509Crl(der);
    void [crl.issuer, crl.thisUpdate, crl.nextUpdate, crl.signatureAlgorithm, crl.entries, crl.extensions];
    return crl;
  } catch (error) {
    throw new ZtError('ZT_ERR_CRL_MALFORMED', `the CRL cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
}

/** Checks the CRL's SM2 signature against its issuer's certificate; ZT_ERR_CRL_MALFORMED when it does not verify. */
export async function verifyCrl(crl: x509.X509Crl, issuer: x509.X509Certificate): Promise<void> {
  let ok = false;
  try {
    ok = sameName(crl.issuerName, issuer.subjectName) && (await crl.verify({ publicKey: issuer }, sm2WebCrypto));
  } catch (error) {
    throw new ZtError('ZT_ERR_CRL_MALFORMED', `the CRL's signature cannot be checked: ${(error as Error).message}`, { cause: error });
  }
  if (!ok) throw new ZtError('ZT_ERR_CRL_MALFORMED', `the CRL is not signed by ${issuer.subject}`);
}

/** The CRL number (2.5.29.20), if present. */
export function readCrlNumber(crl: x509.X509Crl): bigint | undefined {
  const extension = crl.getExtension(id_ce_cRLNumber);
  if (!extension) return undefined;
  const value = new Uint8Array(extension.value);
  if (value[0] !== 0x02 || value[1] === undefined || value[1] & 0x80 || value.length !== value[1] + 2) {
    throw new ZtError('ZT_ERR_CRL_MALFORMED', 'the CRL number is not a short DER INTEGER');
  }
  return BigInt(`0x${Buffer.from(value.subarray(2)).toString('hex') || '0'}`);
}
