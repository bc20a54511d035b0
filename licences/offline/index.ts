// Licences away from the registry: the compact form for QR codes (ZTL1:, Base45) and offline verification against
// the CA certificate and a cached status list. docs/licence-offline.md describes both.
export { base45Decode, base45Encode, BASE45_ALPHABET } from './base45.js';
export {
  COMPACT_LICENCE_PREFIX,
  decodeCompactLicence,
  encodeCompactLicence,
  isCompactLicence,
  MAX_COMPACT_LICENCE_LENGTH,
  qrAlphanumericCapacityM,
  qrVersionForAlphanumericM,
  type CompactLicence,
} from './compact.js';
export { MAX_LICENCE_DOCUMENT_BYTES, parseLicenceDocumentJson, readLicenceDocument } from './document.js';
export { verifyLicenceOffline, type OfflineCheck, type OfflineLicenceVerification, type OfflineSignerInfo, type VerifyLicenceOfflineOptions } from './verify-offline.js';
