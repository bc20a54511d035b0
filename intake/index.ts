// Application intake (受理): the public face of intake/. For now, service item definitions (事项) and their loading.
export {
  APPLICANT_KINDS,
  defaultServiceItemDirectory,
  FIELD_TYPES,
  loadServiceItems,
  LOCAL_CODE,
  readServiceItem,
  SERVICE_ITEM_CODE,
  serviceItemContext,
  type ApplicantKind,
  type FieldSource,
  type FieldType,
  type FormField,
  type Material,
  type MaterialSource,
  type ServiceItem,
  type ServiceItemContext,
  type ServiceItemLegalBasis,
  type ServiceItemProblem,
} from './service-item.js';
// Prefill, the submission check, and the service the gateway offers over HTTP and gRPC.
export { lockedDigest, lockedValues, PREFILL_SCHEMA, PrefillService, type MaterialOutcome, type MaterialReason, type PrefillAnswer, type PrefillInput, type PrefillResult, type PrefilledField, type Provenance } from './prefill.js';
export { checkSubmission, type SubmissionCheck, type SubmissionInput } from './submission.js';
export { IntakeService, loadShippedServiceItems, readPrefillInput, type IntakeCall, type IntakePreview, type IntakeServiceOptions, type MaterialPreview } from './intake-service.js';
