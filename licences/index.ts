// The e-licence registry (电子证照库): GB/T 36904 identifiers, GB/T 36903 documents signed with the platform key,
// lifecycle steps signed by the issuing departments, verification, status lists and stock conversion.
export { LICENCE_IDENTIFIER_PREFIX, formatLicenceIdentifier, isValidIssuerCode, isValidTypeCode, makeLicenceIdentifier, mod3736CheckCharacter, parseLicenceIdentifier, type LicenceIdentifier } from './identifier.js';
export {
  chinaDate,
  effectiveStatus,
  HOLDER_CODE_TYPE,
  LICENCE_DOCUMENT_SCHEMA,
  licenceDocumentBytes,
  STATUS_LIST_MESSAGES,
  STATUS_LIST_VALUE,
  type HolderCodeType,
  type HolderKind,
  type LicenceDocument,
  type LicenceFieldValue,
  type LicenceStatus,
  type StoredLicenceStatus,
} from './licence.js';
export { isValidHolderCode, readLicenceFields, readLicenceType, type LicenceFieldDefinition, type LicenceFieldKind, type LicenceType } from './licence-type.js';
export { LICENCE_STEP_FIELDS, LICENCE_STEP_KINDS, LICENCE_STEP_SCHEMA, LICENCE_TYPE_SCHEMA, licenceStepStatement, licenceTypeStatement, signLicenceStep, signLicenceType, type LicenceStepKind, type LicenceStepToSign } from './licence-steps.js';
export { holderCodeTypeOf, LICENCE_EVENTS_TOPIC, LicenceRegistry, readIssueInput, type IssueInput, type LicenceEvent, type LicenceRegistryOptions, type StepInput } from './licence-registry.js';
export { LICENCE_VERIFICATION_SCHEMA, maskHolderCode, maskName, verifyLicence, type LicenceVerification, type LicenceView, type VerificationTarget } from './verification.js';
export { LICENCE_ACCESS_POLICY, LicenceVerifier, readTarget, type VerificationAnswer } from './verification-service.js';
export { SqlLicenceStore, STATUS_LIST_SIZE, type LicenceTransitionRecord, type StoredLicence } from './sql/sql-licence-store.js';
export { LicenceReads, readLicencePurpose, type LicenceReadPurpose } from './licence-reads.js';
