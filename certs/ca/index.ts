export { CA_FILES, initPlatformCa, loadPlatformCa, platformCaExists, type InitCaOptions, type PlatformCaMaterial } from './ca-files.js';
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
