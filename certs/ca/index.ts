export {
  CA_FILES,
  initPlatformCa,
  loadPlatformCa,
  loadRootCaKey,
  platformCaExists,
  ROOT_CRL_DAYS,
  rootKeyBesideIssuingKey,
  writeRootCrl,
  type InitCaOptions,
  type InitialisedPlatformCa,
  type PlatformCaMaterial,
} from './ca-files.js';
export { reviewCaDirectory } from './ca-dir-review.js';
export {
  CERTIFICATE_EVENTS_TOPIC,
  normaliseSerial,
  PlatformCa,
  REVOCATION_REASONS,
  type CertificateStatus,
  type EnrolOptions,
  type IssuedCertificate,
  type PlatformCaOptions,
  type PublishedCrl,
} from './platform-ca.js';
