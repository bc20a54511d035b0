// The exchange client SDK: what a department's system (and the tests, benchmarks and README examples) uses to ask
// the exchange for data and to sign the steps of the demand procedure. Usage: client/exchange-client.ts.
export { ExchangeClient, type ExchangeClientOptions, type ExchangeProtocol, type QueryOptions } from './exchange-client.js';
export { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
export { clientErrorCatalogue, ExchangeClientError, ExchangeError, type ClientErrorCode, type ExchangeErrorInit } from './errors.js';
export {
  encodeQueryJson,
  encodeQueryRequest,
  EXCHANGE_GRPC_PATH,
  EXCHANGE_HTTP_PATH,
  exchangeTypes,
  newNonce,
  queryRequestFields,
  signGrpcRequest,
  signHttpRequest,
  signRequest,
  type QueryInput,
  type QueryRequestFields,
  type SignedGrpcRequest,
  type SignedHttpRequest,
  type SignedRequest,
  type SignRequestInput,
  type SubjectKind,
} from './request-signing.js';
export {
  EXCHANGE_RESULT_SCHEMA,
  ResponseVerifier,
  verifyExchangeResponse,
  type CertificateInput,
  type CrlInput,
  type ExchangeResult,
  type PlatformSignerIdentity,
  type ResponseTrust,
  type VerifiedResult,
} from './response-verification.js';
// The protocol itself (the gateway verifies with the same code), and signing the demand procedure's steps.
export { canonicalRequest, GRPC_METADATA, HTTP_HEADERS, requestDigest, type RequestSignatureParts } from '../transport/request-signature.js';
export { signTransition, transitionStatement, type TransitionToSign } from '../registry/catalogue/signed-transitions.js';
export { envelopeToJson, type EnvelopeJson, type SignedEnvelope } from '../certs/envelope/index.js';
// The e-licence registry's client: types, issue, lookups, signed lifecycle steps, verification, status lists.
export {
  holderCodeType,
  LICENCE_GRPC_SERVICE,
  LICENCE_VERIFY_GRPC_PATH,
  LICENCE_VERIFY_HTTP_PATH,
  LicenceClient,
  type LicenceCallOptions,
  type LicenceChange,
  type LicenceClientOptions,
  type LicenceIssueInput,
  type LicenceRenewal,
  type LicenceStepReason,
  type LicenceTransition,
  type LicenceVerificationTarget,
  type LicenceVerifyOptions,
  type LicenceVersion,
  type VerifiedLicence,
} from './licence-client.js';
export { licenceStepStatement, signLicenceStep, type LicenceStepToSign } from '../licences/licence-steps.js';
// The access-log search's client (supervisors and service portals): search, export, trace, a subject's view, covert flags.
export {
  AUDIT_GRPC_SERVICE,
  AuditClient,
  type AuditCallOptions,
  type AuditClientOptions,
  type AuditCovertFlag,
  type AuditFilters,
  type AuditRecord,
  type AuditSearchInput,
  type AuditSearchPage,
  type AuditSubjectInput,
} from './audit-client.js';
// Analytics of the access log and its anomaly flags, for supervisors.
export {
  AUDIT_ANALYTICS_GRPC_SERVICE,
  AuditAnalyticsClient,
  type AnalyticsCallOptions,
  type AnalyticsRangeInput,
  type AnalyticsReport,
  type AnomalyFlag,
  type AnomalyReport,
  type AuditAnalyticsClientOptions,
  type ReportDimension,
} from './audit-analytics-client.js';
// Application intake's client (intake departments): service items, preview, signed prefill, the submission check.
export { INTAKE_GRPC_SERVICE, IntakeClient, type IntakeCallOptions, type IntakeClientOptions, type IntakeInput, type IntakePrefill, type IntakeSubmission } from './intake-client.js';
export { AdminClient, type AdminClientOptions, type DepartmentRegistration, type RegistryRole, type RoleChange, type RoleHolder } from './admin-client.js';
