// Bitstring status lists of licences (W3C Bitstring Status List v1.0, statusSize 2): the bitstring, the keyed
// permutation that hands out indexes, and the signed list credential. docs/licence-offline.md describes the format.
export {
  decodeEncodedList,
  encodeEncodedList,
  STATUS_LIST_MAX_ENTRIES,
  STATUS_LIST_MIN_ENTRIES,
  STATUS_SIZE,
  StatusBitstring,
  type StatusValue,
} from './bitstring.js';
export { newStatusListKey, STATUS_LIST_KEY_BYTES, statusIndex } from './permutation.js';
export {
  buildStatusListCredential,
  DEFAULT_STATUS_LIST_VALIDITY_MS,
  publishStatusList,
  readStatusListCredential,
  signStatusListCredential,
  STATUS_LIST_CREDENTIAL_TYPE,
  STATUS_LIST_PROOF_TYPE,
  STATUS_MESSAGES,
  statusAt,
  statusListPayload,
  verifyStatusListCredential,
  VC_CONTEXT_V2,
  type BuildStatusListInput,
  type PublishStatusListInput,
  type SignedStatusListCredential,
  type StatusListCredential,
  type StatusListEntryInput,
  type StatusListIssuer,
  type StatusListProof,
  type StatusListSignerInfo,
  type StatusListSubject,
  type StatusMessage,
  type TrustedCertificates,
  type VerifiedStatusList,
  type VerifyStatusListOptions,
} from './credential.js';
