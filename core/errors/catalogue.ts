// Every error zhengtong reports, with its stable code, HTTP status and gRPC status.
// docs/errors.md lists the same codes; a test keeps the two in step.

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), kept here so core imports no gRPC library. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export interface ErrorDefinition {
  readonly http: number;
  readonly grpc: GrpcStatusCode;
  /** Default message; callers may give a more specific one. */
  readonly message: string;
}

function def(http: number, grpc: GrpcStatusCode, message: string): ErrorDefinition {
  return { http, grpc, message };
}

export const errorCatalogue = {
  // Requests that are malformed or do not fit a schema.
  ZT_ERR_REQUEST_MALFORMED_JSON: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request body is not valid JSON.'),
  ZT_ERR_REQUEST_MALFORMED_PROTOBUF: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request message is not valid protobuf.'),
  ZT_ERR_REQUEST_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request does not match the schema of this operation.'),
  ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: def(415, GrpcStatus.INVALID_ARGUMENT, 'The request content type is not supported.'),
  ZT_ERR_REQUEST_TOO_LARGE: def(413, GrpcStatus.RESOURCE_EXHAUSTED, 'The request body exceeds the configured limit.'),
  ZT_ERR_REQUEST_HEADERS_TOO_LARGE: def(431, GrpcStatus.RESOURCE_EXHAUSTED, 'The request line and headers together exceed the server\'s limit (16 KiB).'),
  ZT_ERR_REQUEST_TIMEOUT: def(408, GrpcStatus.DEADLINE_EXCEEDED, 'The request\'s headers or its body did not arrive in time (ZT_HTTP_HEADERS_TIMEOUT_MS, ZT_HTTP_REQUEST_TIMEOUT_MS); the connection is closed.'),
  ZT_ERR_ROUTE_NOT_FOUND: def(404, GrpcStatus.UNIMPLEMENTED, 'No such route.'),
  // Identifiers.
  ZT_ERR_ID_INVALID_USCC: def(400, GrpcStatus.INVALID_ARGUMENT, 'The unified social credit code is malformed or its check character is wrong.'),
  ZT_ERR_ID_INVALID_RESIDENT_ID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The resident ID number is malformed or its check character is wrong.'),
  // Domain records.
  ZT_ERR_DEPARTMENT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No department has this unified social credit code.'),
  ZT_ERR_DEPARTMENT_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'A department with this unified social credit code is already registered.'),
  // Trust layer: keys, signatures, certificates (certs/).
  ZT_ERR_KEY_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The key is not well-formed PEM or DER.'),
  ZT_ERR_KEY_NOT_SM2: def(400, GrpcStatus.INVALID_ARGUMENT, 'The key is not an SM2 key on the sm2p256v1 curve.'),
  ZT_ERR_KEY_PASSPHRASE: def(400, GrpcStatus.INVALID_ARGUMENT, 'The private key is encrypted and the passphrase is missing or wrong.'),
  ZT_ERR_SIGNATURE_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The signature is not a DER-encoded SM2 signature (r, s).'),
  ZT_ERR_SIGNATURE_INVALID: def(401, GrpcStatus.UNAUTHENTICATED, 'The signature does not verify against the signer\'s public key and the message.'),
  ZT_ERR_SIGNATURE_EMPTY_ID: def(401, GrpcStatus.UNAUTHENTICATED, 'The signature was made with an empty user ID; the GM/T 0009 default ID 1234567812345678 is required.'),
  ZT_ERR_SIGNATURE_NOT_SM2: def(401, GrpcStatus.UNAUTHENTICATED, 'The signature is ECDSA over the SM2 curve, or SM2 without ZA, not a standard SM2 signature.'),
  ZT_ERR_CERT_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The certificate is not a well-formed X.509 certificate.'),
  ZT_ERR_CERT_UNKNOWN_ISSUER: def(401, GrpcStatus.UNAUTHENTICATED, 'The certificate was not issued by a certificate authority this platform trusts.'),
  ZT_ERR_CERT_EXPIRED: def(401, GrpcStatus.UNAUTHENTICATED, 'The certificate has expired.'),
  ZT_ERR_CERT_NOT_YET_VALID: def(401, GrpcStatus.UNAUTHENTICATED, 'The certificate is not valid yet.'),
  ZT_ERR_CERT_REVOKED: def(401, GrpcStatus.UNAUTHENTICATED, 'The certificate has been revoked.'),
  ZT_ERR_CERT_CHAIN_INVALID: def(401, GrpcStatus.UNAUTHENTICATED, 'The certificate chain does not validate.'),
  ZT_ERR_CERT_USAGE: def(403, GrpcStatus.PERMISSION_DENIED, 'The certificate\'s key usage does not allow this operation.'),
  ZT_ERR_SIGNER_MISMATCH: def(403, GrpcStatus.PERMISSION_DENIED, 'The signing certificate belongs to another department than the one the request acts for.'),
  ZT_ERR_CERT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No certificate with this serial number was issued by the platform CA.'),
  ZT_ERR_CSR_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The certificate signing request is malformed, not SM2, or its self-signature does not verify.'),
  ZT_ERR_CRL_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The certificate revocation list is malformed or its signature does not verify.'),
  ZT_ERR_CA_NOT_INITIALISED: def(409, GrpcStatus.FAILED_PRECONDITION, 'The platform certificate authority has not been created yet (zhengtong ca init).'),
  ZT_ERR_CA_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'The platform certificate authority already exists.'),
  ZT_ERR_PROOF_INVALID: def(401, GrpcStatus.UNAUTHENTICATED, 'The batch inclusion proof is truncated or does not lead to the signed tree head.'),
  ZT_ERR_ENVELOPE_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The signed envelope is malformed or names an unsupported algorithm.'),
  // Data catalogue, demand lists and the negative-list policy (registry/, policies/).
  ZT_ERR_POLICY_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The policy set is invalid; the message names the file, line and reason, and the previous set stays in force.'),
  ZT_ERR_RESOURCE_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No data resource in the catalogue has this code.'),
  ZT_ERR_RESOURCE_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'A data resource with this code is already in the catalogue.'),
  ZT_ERR_RESOURCE_IN_USE: def(409, GrpcStatus.FAILED_PRECONDITION, 'The revision removes data items that pending, granted or approved demands name; details.items lists them.'),
  ZT_ERR_DATA_ITEM_UNKNOWN: def(400, GrpcStatus.INVALID_ARGUMENT, 'The data resource has no data item of this code.'),
  ZT_ERR_DEMAND_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No demand has this id.'),
  ZT_ERR_DEMAND_STATE: def(409, GrpcStatus.FAILED_PRECONDITION, 'The demand is not in a state that allows this transition.'),
  ZT_ERR_REFUSAL_BASIS_MISSING: def(400, GrpcStatus.INVALID_ARGUMENT, 'A refusal must cite a negative-list entry or a legal basis.'),
  ZT_ERR_TRANSITION_UNSIGNED: def(401, GrpcStatus.UNAUTHENTICATED, 'The transition is not signed by the acting department, or its signature does not verify.'),
  ZT_ERR_IMPORT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The imported file has invalid rows; nothing was imported.'),
  ZT_ERR_TRANSITION_REPLAYED: def(409, GrpcStatus.ALREADY_EXISTS, 'This signed transition has already been recorded; sign a new one.'),
  ZT_ERR_TRANSITION_STALE: def(401, GrpcStatus.UNAUTHENTICATED, 'The transition was signed too long ago (or too far in the future) to be accepted.'),
  // Real-time exchange (exchange/).
  ZT_ERR_REQUEST_UNSIGNED: def(401, GrpcStatus.UNAUTHENTICATED, 'The exchange request is not signed: a timestamp, nonce, certificate or signature is missing.'),
  ZT_ERR_REQUEST_STALE: def(401, GrpcStatus.UNAUTHENTICATED, 'The exchange request was signed too long ago, or too far in the future.'),
  ZT_ERR_REQUEST_REPLAYED: def(409, GrpcStatus.ALREADY_EXISTS, 'The nonce of this signed request has been used before; every request needs a fresh one.'),
  ZT_ERR_NO_GRANT: def(403, GrpcStatus.PERMISSION_DENIED, 'No granted or approved demand of the requesting department covers this resource, these items and this service item today.'),
  ZT_ERR_ACCESS_DENIED: def(403, GrpcStatus.PERMISSION_DENIED, 'The negative list refuses this request; the rule ids and their legal basis say why.'),
  ZT_ERR_QUOTA_EXCEEDED: def(429, GrpcStatus.RESOURCE_EXHAUSTED, 'The daily quota of the grant is used up.'),
  ZT_ERR_SUBJECT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The subject is not a valid resident ID number or unified social credit code for its kind.'),
  ZT_ERR_SUBJECT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'The supplier holds no record about this subject.'),
  ZT_ERR_UPSTREAM_UNAVAILABLE: def(503, GrpcStatus.UNAVAILABLE, 'The supplier\'s system is unavailable (failing repeatedly, or its circuit is open); retry later.'),
  ZT_ERR_UPSTREAM_TIMEOUT: def(504, GrpcStatus.DEADLINE_EXCEEDED, 'The supplier\'s system did not answer in time.'),
  ZT_ERR_UPSTREAM_BAD_RESPONSE: def(502, GrpcStatus.UNAVAILABLE, 'The supplier\'s system answered with something that is not a valid record.'),
  ZT_ERR_EXTRACT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The supplier extract has invalid rows; the message lists them.'),
  // E-licence registry (licences/).
  ZT_ERR_LICENCE_IDENTIFIER_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The licence identifier is not a well-formed GB/T 36904 identifier (prefix, type code, issuer code, serial, version, check).'),
  ZT_ERR_LICENCE_IDENTIFIER_CHECK: def(400, GrpcStatus.INVALID_ARGUMENT, 'The check character of the licence identifier is wrong (ISO/IEC 7064 MOD 37,36).'),
  ZT_ERR_LICENCE_TYPE_UNKNOWN: def(404, GrpcStatus.NOT_FOUND, 'No licence type has this type code.'),
  ZT_ERR_LICENCE_TYPE_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The licence type definition is invalid (type code, holder kind or field schema).'),
  ZT_ERR_LICENCE_TYPE_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'A licence type with this type code is already defined.'),
  ZT_ERR_LICENCE_HOLDER_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The holder code is not a valid resident ID number or unified social credit code for the licence type\'s holder kind.'),
  ZT_ERR_LICENCE_FIELDS_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The licence does not fit its type: a field is missing, unknown, of the wrong kind or too long, or a date is invalid.'),
  ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED: def(403, GrpcStatus.PERMISSION_DENIED, 'The department has no right to issue or change licences of this type.'),
  ZT_ERR_LICENCE_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No licence has this identifier, holder or licence number.'),
  ZT_ERR_LICENCE_NUMBER_TAKEN: def(409, GrpcStatus.ALREADY_EXISTS, 'A licence of this type with this licence number already exists.'),
  ZT_ERR_LICENCE_STATE: def(409, GrpcStatus.FAILED_PRECONDITION, 'The licence is not in a state that allows this transition (e.g. resuming a licence that is not suspended).'),
  ZT_ERR_LICENCE_DOCUMENT_MALFORMED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The presented licence document or its compact encoding is malformed.'),
  ZT_ERR_LICENCE_TAMPERED: def(400, GrpcStatus.INVALID_ARGUMENT, 'The presented licence document does not match its signature: it has been altered, or was not signed by the registry.'),
  ZT_ERR_STATUS_LIST_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The status list is malformed, too short, or its signature does not verify.'),
  ZT_ERR_RATE_LIMITED: def(429, GrpcStatus.RESOURCE_EXHAUSTED, 'Too many anonymous requests from this address; slow down or sign the request as a department.'),
  ZT_ERR_CONVERSION_CONFLICT: def(409, GrpcStatus.ABORTED, 'Another run is converting the same file to the same licence type; let it finish, or run again to resume.'),
  ZT_ERR_AUDIT_FORBIDDEN: def(403, GrpcStatus.PERMISSION_DENIED, 'The signing department may not read the access log this way: it is not a supervisor (ZT_AUDIT_SUPERVISORS) or, for a subject\'s view, a service portal (ZT_AUDIT_PORTALS).'),
  ZT_ERR_AUDIT_QUERY_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'A parameter of the access-log query is missing, malformed, too long or out of range (the time range is required without a subject, case or record filter, and bounded by ZT_AUDIT_MAX_RANGE_DAYS); details.parameter names it.'),
  ZT_ERR_AUDIT_EXPORT_TOO_LARGE: def(413, GrpcStatus.RESOURCE_EXHAUSTED, 'More access records match than one export may hold (ZT_AUDIT_EXPORT_MAX_ROWS); narrow the filters or the time range.'),
  ZT_ERR_AUDIT_RECORD_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No access record has this id.'),
  ZT_ERR_AUDIT_COVERT_CASE_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No covert-case flag in force has this id.'),
  ZT_ERR_AUDIT_COVERT_CASE_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'The case is already flagged covert; lift the flag in force before flagging it again.'),
  ZT_ERR_AUDIT_CHECKPOINT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The access-log checkpoint (signed tree head) does not verify: its signature, its signer\'s certificate chain or USCC, or its statement does not match what it claims.'),
  ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No signed checkpoint of the access log has this tree size (or none has been signed yet).'),
  ZT_ERR_AUDIT_TREE_SIZE_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'A tree size of the access log is malformed or out of range (sizes run from 1 to the latest checkpoint, and the first may not exceed the second); details.parameter names it.'),
  ZT_ERR_AUDIT_RECORD_NOT_LOGGED: def(409, GrpcStatus.FAILED_PRECONDITION, 'The access record is not yet in the tamper-evident log, or not in the checkpoint asked for; retry after the next checkpoint.'),
  ZT_ERR_ARCHIVE_INVALID: def(422, GrpcStatus.DATA_LOSS, 'The access-log archive file does not verify: it is truncated or malformed, a record was altered (the message names its line), or its checkpoint or manifest is not signed by the platform CA given.'),
  ZT_ERR_ARCHIVE_STATE: def(409, GrpcStatus.FAILED_PRECONDITION, 'The access log is not in a state that allows this archive step: the segment is not sealed here, its file is missing or changed, or its records no longer match their leaves.'),
  ZT_ERR_CONVERSION_INPUT: def(400, GrpcStatus.INVALID_ARGUMENT, 'The stock conversion input cannot be read (unknown format, unreadable file, or a header without the required columns).'),
  // Access control (transport/access.ts, registry/roles/).
  ZT_ERR_ACCESS_FORBIDDEN: def(403, GrpcStatus.PERMISSION_DENIED, 'The signing department does not hold the role this route or method needs (docs/access-control.md); details.role names it.'),
  ZT_ERR_NOT_A_PARTY: def(403, GrpcStatus.PERMISSION_DENIED, 'The department is not the party that takes this step: only the supplier of the resource replies to a demand, only the requesting department withdraws it; details.expectedActor names who may.'),
  ZT_ERR_ACTING_FOR_ANOTHER: def(403, GrpcStatus.PERMISSION_DENIED, 'The request acts for another department than the one that signed it (e.g. publishes into another provider\'s supply list).'),
  ZT_ERR_ROLE_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The role change is malformed: an unknown role, a department code that fails its check character, or a reason too long.'),
  ZT_ERR_ROLE_ALREADY_HELD: def(409, GrpcStatus.ALREADY_EXISTS, 'The department holds this role already.'),
  ZT_ERR_ROLE_NOT_HELD: def(409, GrpcStatus.FAILED_PRECONDITION, 'The department does not hold this role, so it cannot be withdrawn.'),
  ZT_ERR_ROLE_LAST_ADMINISTRATOR: def(409, GrpcStatus.FAILED_PRECONDITION, 'The last platform administrator cannot be withdrawn; grant the role to another department first.'),
  ZT_ERR_PURPOSE_REQUIRED: def(400, GrpcStatus.INVALID_ARGUMENT, 'A read of personal data states its purpose: the service item (事项编码) and the case number (办件编号).'),
  ZT_ERR_LICENCE_READ_FORBIDDEN: def(403, GrpcStatus.PERMISSION_DENIED, 'The department may not read this licence: it neither issues its type, nor holds a grant for it, nor has the holder\'s application open for the case.'),
  // The web console's people and sessions (console/, transport/person.ts).
  ZT_ERR_SESSION_REQUIRED: def(401, GrpcStatus.UNAUTHENTICATED, 'This console route needs a signed-in person: no session cookie, or one the console does not know.'),
  ZT_ERR_SESSION_EXPIRED: def(401, GrpcStatus.UNAUTHENTICATED, 'The console session has ended: idle too long, past its absolute lifetime, signed out, or its account disabled; sign in again.'),
  ZT_ERR_CSRF_INVALID: def(403, GrpcStatus.PERMISSION_DENIED, 'A state-changing console call came without the session\'s CSRF token (x-zt-csrf header or the form\'s token field), or with another one.'),
  ZT_ERR_CONSOLE_FORBIDDEN: def(403, GrpcStatus.PERMISSION_DENIED, 'The signed-in person\'s department does not hold the role this console page or action needs; details.role names it.'),
  ZT_ERR_SIGN_IN_FAILED: def(401, GrpcStatus.UNAUTHENTICATED, 'Wrong login or password, or the account is disabled (the answer does not say which).'),
  ZT_ERR_ACCOUNT_LOCKED: def(429, GrpcStatus.RESOURCE_EXHAUSTED, 'Too many failed sign-ins for this account: it is locked for a while (details.retryAfterSeconds); an operator may unlock it with zhengtong operator reset.'),
  ZT_ERR_ACCOUNT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The console account is malformed: a login, name or department that fails its rules, a password too short, or an unknown role; details.field names it.'),
  ZT_ERR_ACCOUNT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No console account has this login.'),
  ZT_ERR_ACCOUNT_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'A console account with this login exists already.'),
  ZT_ERR_CONSOLE_NOT_BUILT: def(503, GrpcStatus.UNAVAILABLE, 'The web console\'s page is not built (dist/web is missing): run npm run build, then reload.'),
  ZT_ERR_OIDC_NOT_CONFIGURED: def(404, GrpcStatus.NOT_FOUND, 'Sign-in through an identity provider is not configured here (ZT_OIDC_ISSUER); use a local account.'),
  ZT_ERR_OIDC_FAILED: def(401, GrpcStatus.UNAUTHENTICATED, 'The identity provider\'s sign-in did not complete: a state or PKCE mismatch, a refused code, an ID token that does not verify, or a claim the configuration needs is missing or maps to no department.'),
  // Application intake (intake/).
  ZT_ERR_SERVICE_ITEM_UNKNOWN: def(404, GrpcStatus.NOT_FOUND, 'No service item (事项) has this code.'),
  ZT_ERR_INTAKE_NOT_AUTHORISED: def(403, GrpcStatus.PERMISSION_DENIED, 'The department does not take applications for this service item.'),
  ZT_ERR_APPLICANT_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The applicant is of the wrong kind for the service item, or its ID number or USCC fails its check character.'),
  ZT_ERR_INTAKE_LOCKED_ALTERED: def(409, GrpcStatus.FAILED_PRECONDITION, 'A submission changed government-verified (locked) fields of its prefill; details.fields names them.'),
  ZT_ERR_INTAKE_CASE_CONFLICT: def(409, GrpcStatus.ALREADY_EXISTS, 'The case number is already open for another applicant or service item.'),
  ZT_ERR_SERVICE_ITEM_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The service item definition is invalid; the message lists every problem with its file and JSON path.'),
  // Service state.
  ZT_ERR_SHUTTING_DOWN: def(503, GrpcStatus.UNAVAILABLE, 'The instance is shutting down; retry on another instance.'),
  ZT_ERR_STORAGE_UNAVAILABLE: def(503, GrpcStatus.UNAVAILABLE, 'The database is not reachable.'),
  ZT_ERR_EVENTS_UNAVAILABLE: def(503, GrpcStatus.UNAVAILABLE, 'The event bus is not reachable or did not confirm delivery.'),
  ZT_ERR_STORAGE_MIGRATION: def(500, GrpcStatus.FAILED_PRECONDITION, 'Database migrations could not be applied.'),
  ZT_ERR_INTERNAL: def(500, GrpcStatus.INTERNAL, 'An internal error occurred; the request id identifies it in the logs.'),
  // Start-up.
  ZT_ERR_CONFIG_INVALID: def(500, GrpcStatus.FAILED_PRECONDITION, 'The configuration is invalid.'),
  ZT_ERR_PORT_IN_USE: def(500, GrpcStatus.FAILED_PRECONDITION, 'A port the service needs is already in use.'),
  ZT_ERR_DATA_DIR_LOCKED: def(500, GrpcStatus.FAILED_PRECONDITION, 'The embedded database directory is in use by another process.'),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalogue;
