// The compact signed licence (电子证照二维码): a licence document and the registry's signature over it as one ASCII
// string for a QR code's alphanumeric mode, "ZTL1:" + Base45 (RFC 9285) of a small binary container:
//
//   offset  size  field
//   0       1     flags: bit 0 set = a user ID other than 1234567812345678 follows the signature; other bits 0
//   1       6     signing time, milliseconds since 1970, unsigned big-endian
//   7       32    SM3 of the signer's certificate (DER); the certificate itself is not in the code
//   39      1     L, the length of the signature
//   40      L     the signature, DER SEQUENCE { r, s } (70-72 bytes)
//   [flag 0: 1 byte n, then n bytes of user ID, UTF-8]
//   ...     rest  the canonical document bytes, raw DEFLATE (RFC 1951) with the preset dictionary of
//                 compact-dictionary.ts, to the last byte (nothing may follow the DEFLATE stream)
//
// From it a verifier rebuilds the exact bytes that were signed and the envelope (payloadSm3 = SM3 of those bytes, no
// batch: the registry signs each licence alone so that no audit path is needed here). The signer's certificate comes
// from the issuer's status list, whose proof carries it, or from a file (verify-offline.ts).
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { ZtError } from '../../core/errors/index.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { assertEnvelope, ENVELOPE_ALGORITHM, ENVELOPE_VERSION, type SignedEnvelope } from '../../certs/envelope/index.js';
import { SM2_DEFAULT_USER_ID, sm3 } from '../../certs/sm2/sm2.js';
import { licenceDocumentBytes, type LicenceDocument } from '../licence.js';
import { base45Decode, base45Encode } from './base45.js';
import { COMPACT_DICTIONARY_V1 } from './compact-dictionary.js';
import { MAX_LICENCE_DOCUMENT_BYTES, readLicenceDocument } from './document.js';

export const COMPACT_LICENCE_PREFIX = 'ZTL1:';
/** The most a QR code holds in alphanumeric mode (version 40, level L). */
export const MAX_COMPACT_LICENCE_LENGTH = 4296;
const FLAG_USER_ID = 0x01;
const HEADER = 1 + 6 + 32 + 1;
const MIN_SIGNATURE = 8;
const MAX_SIGNATURE = 72;

export interface CompactLicence {
  document: LicenceDocument;
  /** The exact bytes the registry signed (canonical JSON). */
  documentBytes: Buffer;
  /** The envelope as the registry made it, minus the certificate: signer.certificateSm3 names it. */
  envelope: SignedEnvelope;
}

function malformed(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', message, cause === undefined ? {} : { cause });
}

/**
 * Encodes a signed licence. `document` is the document or the exact bytes that were signed. ZT_ERR_LICENCE_TAMPERED
 * if the envelope is not for these bytes; ZT_ERR_REQUEST_INVALID for an envelope that cannot be made compact (a
 * batch proof, no signer fingerprint).
 */
export function encodeCompactLicence(input: { document: LicenceDocument | Uint8Array; envelope: SignedEnvelope }): string {
  const bytes = input.document instanceof Uint8Array ? Buffer.from(input.document) : licenceDocumentBytes(input.document);
  const { envelope } = input;
  assertEnvelope(envelope);
  if (!sm3(bytes).equals(envelope.payloadSm3)) throw new ZtError('ZT_ERR_LICENCE_TAMPERED', 'the envelope was not made for this licence document (SM3 differs)');
  if (envelope.batch) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'a licence signed in a batch cannot be made compact: its audit path does not fit a QR code; sign each licence alone');
  const fingerprint = envelope.signer.certificateSm3 ?? (envelope.signer.certificate ? sm3(envelope.signer.certificate) : undefined);
  if (!fingerprint) throw new ZtError('ZT_ERR_REQUEST_INVALID', "the envelope names no signer certificate: a compact licence carries the certificate's SM3");
  const ms = envelope.signingTime.getTime();
  if (ms >= 2 ** 48) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the signing time does not fit 48 bits of milliseconds');
  const customId = envelope.userId !== SM2_DEFAULT_USER_ID;
  const userId = Buffer.from(envelope.userId, 'utf8');
  if (customId && userId.length > 255) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'a compact licence carries a user ID of at most 255 bytes');

  const head = Buffer.alloc(HEADER);
  head[0] = customId ? FLAG_USER_ID : 0;
  head.writeUIntBE(ms, 1, 6);
  fingerprint.copy(head, 7);
  head[39] = envelope.signature.length;
  const parts: Buffer[] = [head, envelope.signature];
  if (customId) parts.push(Buffer.from([userId.length]), userId);
  parts.push(deflateRawSync(bytes, { level: 9, memLevel: 9, dictionary: COMPACT_DICTIONARY_V1 }));
  return COMPACT_LICENCE_PREFIX + base45Encode(Buffer.concat(parts));
}

/** True when the text looks like a compact licence (its prefix); it may still be malformed. */
export function isCompactLicence(text: string): boolean {
  return typeof text === 'string' && text.startsWith(COMPACT_LICENCE_PREFIX);
}

/**
 * Decodes a compact licence to the document, the exact signed bytes and the envelope (no certificate). Checks only
 * the form: ZT_ERR_LICENCE_DOCUMENT_MALFORMED for a wrong prefix, bad Base45, a truncated container, a DEFLATE stream
 * that is broken, has bytes after it or inflates beyond 64 KiB, or a document that is not canonical JSON of a licence.
 * Whether the signature holds is verify-offline's question.
 */
export function decodeCompactLicence(text: string): CompactLicence {
  if (typeof text !== 'string' || !text.startsWith(COMPACT_LICENCE_PREFIX)) {
    throw malformed(`this is not a zhengtong compact licence: it does not start with ${COMPACT_LICENCE_PREFIX}`);
  }
  if (text.length > MAX_COMPACT_LICENCE_LENGTH) throw malformed(`a compact licence has at most ${MAX_COMPACT_LICENCE_LENGTH} characters (what a QR code holds), not ${text.length}`);
  let container: Buffer;
  try {
    container = base45Decode(text.slice(COMPACT_LICENCE_PREFIX.length));
  } catch (error) {
    throw malformed(`the compact licence is not valid Base45: ${(error as Error).message}`, error);
  }
  if (container.length < HEADER) throw malformed(`the compact licence is truncated: ${container.length} bytes, fewer than its ${HEADER}-byte header`);
  const flags = container[0]!;
  if ((flags & ~FLAG_USER_ID) !== 0) throw malformed(`the compact licence sets unknown flags (0x${flags.toString(16)}): it was made by a newer format`);
  const signingTime = new Date(container.readUIntBE(1, 6));
  const certificateSm3 = Buffer.from(container.subarray(7, 39));
  const signatureLength = container[39]!;
  if (signatureLength < MIN_SIGNATURE || signatureLength > MAX_SIGNATURE) throw malformed(`the compact licence declares a signature of ${signatureLength} bytes; an SM2 signature has ${MIN_SIGNATURE} to ${MAX_SIGNATURE}`);
  let offset = HEADER + signatureLength;
  if (container.length < offset) throw malformed('the compact licence is truncated inside its signature');
  const signature = Buffer.from(container.subarray(HEADER, offset));
  let userId = SM2_DEFAULT_USER_ID;
  if (flags & FLAG_USER_ID) {
    const n = container[offset];
    if (n === undefined || n === 0 || container.length < offset + 1 + n) throw malformed('the compact licence is truncated inside its user ID');
    userId = container.subarray(offset + 1, offset + 1 + n).toString('utf8');
    offset += 1 + n;
  }
  const deflated = container.subarray(offset);
  if (deflated.length === 0) throw malformed('the compact licence is truncated: it holds no document');

  let documentBytes: Buffer;
  try {
    const { buffer, engine } = inflateRawSync(deflated, { dictionary: COMPACT_DICTIONARY_V1, maxOutputLength: MAX_LICENCE_DOCUMENT_BYTES, info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (engine.bytesWritten !== deflated.length) throw malformed(`the compact licence has ${deflated.length - engine.bytesWritten} bytes after its document`);
    documentBytes = buffer;
  } catch (error) {
    if (error instanceof ZtError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw malformed(`the compact licence's document inflates beyond ${MAX_LICENCE_DOCUMENT_BYTES} bytes: refused`, error);
    }
    throw malformed(`the compact licence's document cannot be inflated (truncated or corrupt): ${(error as Error).message}`, error);
  }

  const documentText = documentBytes.toString('utf8');
  if (!Buffer.from(documentText, 'utf8').equals(documentBytes)) throw malformed("the compact licence's document is not UTF-8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(documentText);
  } catch (error) {
    throw malformed(`the compact licence's document is not JSON: ${(error as Error).message}`, error);
  }
  // Only canonical bytes are ever signed; anything else was not made by the registry.
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(parsed);
  } catch {
    canonical = undefined;
  }
  if (canonical !== documentText) throw malformed("the compact licence's document is not in canonical JSON, so it is not what the registry signed");
  const document = readLicenceDocument(parsed);

  const envelope: SignedEnvelope = {
    version: ENVELOPE_VERSION,
    algorithm: ENVELOPE_ALGORITHM,
    signer: { certificateSm3 },
    userId,
    signature,
    signingTime,
    payloadSm3: sm3(documentBytes),
  };
  try {
    assertEnvelope(envelope);
  } catch (error) {
    throw malformed(`the compact licence's signature part is malformed: ${(error as Error).message}`, error);
  }
  return { document, documentBytes, envelope };
}

/** Data codewords per QR version (1-40) at error correction level M (ISO/IEC 18004 table 7). */
const QR_DATA_CODEWORDS_M = [
  16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627, 669, 714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455,
  1541, 1631, 1725, 1812, 1914, 1992, 2102, 2216, 2334,
];

/** Alphanumeric characters a QR code of `version` holds at level M: 11 bits per pair, after the mode and count fields. */
export function qrAlphanumericCapacityM(version: number): number {
  const codewords = QR_DATA_CODEWORDS_M[version - 1];
  if (codewords === undefined) throw new RangeError(`QR versions are 1 to 40, not ${version}`);
  const countBits = version <= 9 ? 9 : version <= 26 ? 11 : 13;
  const bits = codewords * 8 - 4 - countBits;
  const pairs = Math.floor(bits / 11);
  return pairs * 2 + (bits - pairs * 11 >= 6 ? 1 : 0);
}

/** The smallest QR version that holds `length` alphanumeric characters at level M; undefined beyond version 40. */
export function qrVersionForAlphanumericM(length: number): number | undefined {
  for (let version = 1; version <= 40; version++) if (qrAlphanumericCapacityM(version) >= length) return version;
  return undefined;
}
