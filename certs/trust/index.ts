export { REVOCATION_TOPIC, TrustStore, type RevocationEvent, type TrustedCertificate, type TrustStoreOptions } from './trust-store.js';
